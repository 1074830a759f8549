"""Run a batch of independent tasks: serially, in local worker processes, or on a Dask cluster.

Owns only the execution. A task is `(function, args)`: a function defined at module level and
arguments that pickle cheaply (file paths, override strings, numbers, small dicts), never a
model. Results come back in task order whatever the order of completion, and each task fixes its
own HiGHS thread count, so a batch returns what a serial run returns.

- `workers` None or 1 and no `scheduler`: in this process, one after the other.
- `workers` > 1: a `concurrent.futures.ProcessPoolExecutor` of that many processes, started with
  `spawn` (fresh interpreters: no HiGHS threads inherited through `fork`).
- `scheduler` (e.g. `tcp://host:8786`): a `dask.distributed.Client` on that scheduler; the
  workers need allycap installed and the input files at the same paths (a shared file system).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Task = tuple[Callable[..., Any], tuple]
CONNECT_TIMEOUT = "10s"  # how long to try reaching a Dask scheduler


class BatchError(Exception):
    """The batch could not be started (bad worker count, no Dask, scheduler unreachable)."""


def run_batch(
    tasks: Sequence[Task],
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Any]:
    """Run `tasks` and return their results in task order; `progress(i)` once task i is done."""
    tasks = list(tasks)
    if workers is not None and workers < 1:
        raise BatchError(f"--workers must be at least 1, not {workers}.")
    if scheduler:
        return _on_dask(tasks, scheduler, progress)
    if workers in (None, 1) or len(tasks) <= 1:
        results = []
        for i, (fn, args) in enumerate(tasks):
            results.append(fn(*args))
            if progress:
                progress(i)
        return results
    return _in_processes(tasks, workers, progress)


def _in_processes(tasks: list[Task], workers: int, progress) -> list[Any]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    results: list[Any] = [None] * len(tasks)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context) as pool:
        futures = {pool.submit(fn, *args): i for i, (fn, args) in enumerate(tasks)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if progress:
                progress(futures[future])
    return results


def require_dask() -> None:
    """Raise BatchError when dask.distributed (the `parallel` extra) is not installed."""
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        raise BatchError(
            "--scheduler needs dask.distributed, which is not installed. "
            "Fix: pip install 'allycap[parallel]'."
        ) from None


def _client(scheduler: str):
    require_dask()
    from dask.distributed import Client

    try:
        # the default client while the batch runs: dask's as_completed looks it up
        return Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise BatchError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None


def _on_dask(tasks: list[Task], scheduler: str, progress) -> list[Any]:
    client = _client(scheduler)
    from dask.distributed import as_completed

    try:
        futures = [client.submit(fn, *args, pure=False) for fn, args in tasks]
        index = {f.key: i for i, f in enumerate(futures)}
        for future in as_completed(futures):
            if progress:
                progress(index[future.key])
        return client.gather(futures)
    finally:
        client.close()


def cluster_workers(scheduler: str) -> int:
    """How many workers the Dask cluster at `scheduler` has now (at least 1)."""
    client = _client(scheduler)
    try:
        return max(1, len(client.nthreads()))
    finally:
        client.close()


def chunks(indices: Sequence[int], parts: int) -> list[list[int]]:
    """`indices` cut into at most `parts` contiguous runs of near-equal length, in order."""
    indices = list(indices)
    parts = max(1, min(parts, len(indices)))
    size, extra = divmod(len(indices), parts)
    out, start = [], 0
    for k in range(parts):
        end = start + size + (1 if k < extra else 0)
        out.append(indices[start:end])
        start = end
    return [c for c in out if c]
