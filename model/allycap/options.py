"""How to solve, and how to run a batch: one object each, built once (by the CLI or the caller)
and passed whole through `run`, `check`, sweep, stress, robust and compare.

Both are frozen and pickle cheaply: batch tasks carry a `SolveOptions` to worker processes.
Light on purpose (no pandas, Pyomo or HiGHS): the CLI builds them before any heavy import.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True)
class SolveOptions:
    """What every solve of a model takes.

    strict: forbid unmet demand (None: the inputs' `options.strict`).
    time_limit: HiGHS time limit per solve, seconds (None: no limit).
    threads: HiGHS threads, fixed (1 by default) so that two runs give the same solution.
    explain: on infeasibility, compute an IIS and explain it in the inputs' terms.
    write_lp: also write the model to this .lp/.mps file before solving.
    """

    strict: bool | None = None
    time_limit: float | None = None
    threads: int = 1
    explain: bool = True
    write_lp: str | None = None

    def with_(self, **changes) -> SolveOptions:
        """A copy with `changes` applied."""
        return replace(self, **changes) if changes else self

    def manifest(self) -> dict:
        """The options a run folder's manifest.json records."""
        return {"strict": self.strict, "time_limit": self.time_limit, "threads": self.threads}

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class BatchOptions:
    """Where a batch of independent solves runs (`allycap.studies.batch.run_batch`).

    workers: local worker processes (None or 1: in this process, one after the other).
    scheduler: a Dask scheduler address, e.g. tcp://host:8786 (overrides `workers`).
    """

    workers: int | None = None
    scheduler: str | None = None

    @property
    def serial(self) -> bool:
        return self.workers in (None, 1) and not self.scheduler

    def manifest(self) -> dict:
        return {"workers": self.workers, "scheduler": self.scheduler}


DEFAULT = SolveOptions()
SERIAL = BatchOptions()


def solve_options(options: SolveOptions | None = None, **legacy) -> SolveOptions:
    """`options` (or the defaults) with any keyword among SolveOptions's fields applied: the
    convenience form `run(path, strict=True)` of the public API."""
    given = {k: v for k, v in legacy.items() if v is not _UNSET}
    unknown = set(given) - set(SolveOptions.__dataclass_fields__)
    if unknown:
        raise TypeError(f"unknown solve option(s): {', '.join(sorted(unknown))}")
    return (options or DEFAULT).with_(**given)


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


_UNSET = _Unset()
UNSET = _UNSET
