"""Parallel batches (studies/batch.py) give exactly what a serial run gives.

Local worker processes (`workers=2`) and a Dask LocalCluster on loopback (two worker
processes, reached through its tcp:// address as `--scheduler` would be) run a sweep cut into
chunks and a stress table; every cell must equal the serial result, not just approximately.
"""

from __future__ import annotations

import pytest

from allycap.options import BatchOptions
from allycap.studies.batch import BatchError, chunks, run_batch
from allycap.studies.cases import parse_cases
from allycap.studies.stress import read_portfolio, stress
from allycap.studies.sweep import plan_sweep, run_sweep
from tests.studies.conftest import solve_to_folder

KEY = "independence.allied_clean.share"


def square(x: int) -> int:
    return x * x


def test_chunks_are_contiguous_balanced_and_complete():
    assert chunks(range(7), 3) == [[0, 1, 2], [3, 4], [5, 6]]
    assert chunks(range(2), 5) == [[0], [1]]
    assert chunks([], 3) == []


def test_run_batch_keeps_task_order_and_reports_progress():
    seen = []
    tasks = [(square, (i,)) for i in range(6)]
    assert run_batch(tasks, progress=seen.append) == [0, 1, 4, 9, 16, 25]
    assert seen == list(range(6))
    with pytest.raises(BatchError, match="at least 1"):
        run_batch(tasks, workers=0)


def test_unreachable_scheduler_is_a_clear_error(monkeypatch):
    monkeypatch.setattr("allycap.studies.batch.CONNECT_TIMEOUT", "1s")
    with pytest.raises(BatchError, match="cannot reach the Dask scheduler"):
        run_batch([(square, (1,))], scheduler="tcp://127.0.0.1:9")


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as c:
        yield c


def test_sweep_in_processes_and_on_dask_equals_serial(chain, cluster):
    """Seven points cut into chunks; each chunk builds its own persistent model and solves each
    of its points from the first point's basis, so the rows are identical to the serial ones."""
    plan = plan_sweep(chain["base"], [], [], [f"{KEY}=0:0.9:0.15"])
    serial = run_sweep(plan).frame
    local = run_sweep(plan, BatchOptions(workers=2)).frame
    dask = run_sweep(plan, BatchOptions(scheduler=cluster.scheduler_address)).frame
    assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
    assert serial.equals(local)
    assert serial.equals(dask)


def test_stress_in_processes_and_on_dask_equals_serial(chain, cluster, tmp_path):
    base = read_portfolio(solve_to_folder(chain["base"], tmp_path / "runs" / "base"))
    cases = parse_cases(["base", str(chain["export_ban"]), str(chain["delay"])])
    serial = stress(chain["base"], [base], cases)
    seen = []
    local = stress(
        chain["base"], [base], cases, batch=BatchOptions(workers=2), progress=seen.append
    )
    dask = stress(
        chain["base"], [base], cases, batch=BatchOptions(scheduler=cluster.scheduler_address)
    )
    assert serial.equals(local)
    assert serial.equals(dask)
    assert len(seen) == len(cases)  # one progress step per finished case
