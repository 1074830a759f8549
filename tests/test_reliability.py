"""Nothing lost, same answer twice, solver trouble said plainly."""

from __future__ import annotations

import filecmp
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from allycap.data import prepare
from allycap.formulation.build import build_model
from allycap.inputs.load import load_inputs
from allycap.inputs.validate import validate
from allycap.run import run
from allycap.solve import solve_model

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "inputs" / "base.yaml"
TINY = """
horizon: {start: 2025, end: 2026, step: 1}
discount_rate: 0.0
regions:
  A: {bloc: allied}
commodities:
  ore: {}
processes:
  mine: {stage: extraction, output: ore}
facilities:
  m1:
    region: A
    process: mine
    variable_cost: 1.0
    expansion: {capex: 1.0, lifetime: 10}
demand:
  A: {ore: 10}
"""


def _allycap() -> str:
    return str(Path(sys.executable).parent / "allycap")


def test_two_runs_write_byte_identical_csvs(tmp_path: Path) -> None:
    for name in ("one", "two"):
        subprocess.run(
            [_allycap(), "solve", str(BASE), "--out", str(tmp_path / name), "--quiet"],
            check=True,
            capture_output=True,
        )
    csvs = sorted(p.name for p in (tmp_path / "one").glob("*.csv"))
    assert len(csvs) == 10  # tables.TABLES
    match, mismatch, errors = filecmp.cmpfiles(
        tmp_path / "one", tmp_path / "two", csvs, shallow=False
    )
    assert mismatch == [] and errors == []
    assert match == csvs


def test_killed_write_leaves_previous_results_intact(tmp_path: Path) -> None:
    """A real SIGKILL while the new run folder is half written: the old folder survives whole."""
    out = tmp_path / "run"
    subprocess.run(
        [_allycap(), "solve", str(BASE), "--out", str(out), "--quiet"],
        check=True,
        capture_output=True,
    )
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    marker = tmp_path / "writing"
    script = textwrap.dedent(
        f"""
        import time, pandas
        from pathlib import Path
        real = pandas.DataFrame.to_csv
        def slow(self, *args, **kwargs):
            real(self, *args, **kwargs)
            Path({str(marker)!r}).touch()
            time.sleep(30)
        pandas.DataFrame.to_csv = slow
        from allycap.cli import main
        import sys
        sys.argv = ["allycap", "solve", {str(BASE)!r}, "--out", {str(out)!r}, "--set",
                    "discount_rate=0.02", "--quiet"]
        main()
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path)
    deadline = time.time() + 60
    while not marker.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert marker.exists(), "the writer never started writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before
    # The next run cleans up the half-written folder and replaces the results whole.
    subprocess.run(
        [
            _allycap(),
            "solve",
            str(BASE),
            "--out",
            str(out),
            "--quiet",
            "--set",
            "discount_rate=0.02",
        ],
        check=True,
        capture_output=True,
    )
    assert b"discount_rate=0.02" in (out / "manifest.json").read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".run.")]


def _tiny(tmp_path: Path, text: str = TINY):
    path = tmp_path / "tiny.yaml"
    path.write_text(text)
    return prepare(validate(load_inputs(path)))


def test_unbounded_names_the_likely_cause(tmp_path: Path) -> None:
    """Validation forbids negative costs, so reach an unbounded LP by editing prepared data:
    a variable cost of -5 M$/t against an annualized capex of 1/10 M$/t: every extra tonne of
    unlimited new capacity lowers the cost."""
    data = _tiny(tmp_path)
    for key in data.variable_cost:
        data.variable_cost[key] = -5.0
    outcome = solve_model(build_model(data))
    assert outcome.status == "unbounded"
    assert "negative cost" in outcome.message
    assert "prod[m1,2025,clean]" in outcome.message


def test_time_limit_is_reported_plainly() -> None:
    r = run(BASE, time_limit=1e-9)
    assert r.results.status == "time_limit"
    assert "time limit" in r.results.message


def test_infeasible_is_reported_plainly(tmp_path: Path) -> None:
    """Strict mode with 10 t demand and no capacity that can be online: infeasible."""
    text = TINY.replace(
        "expansion: {capex: 1.0, lifetime: 10}", "expansion: {capex: 1.0, lifetime: 10, max: 5}"
    )
    path = tmp_path / "tiny.yaml"
    path.write_text(text)
    r = run(path, strict=True)
    assert r.results.status == "infeasible"
    assert r.results.objective is None
    proc = subprocess.run(
        [_allycap(), "solve", str(path), "--strict", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "infeasible" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not list((tmp_path / "out").glob("*.csv"))  # a diagnosis, but no result tables


def test_threads_option_is_accepted(tmp_path: Path) -> None:
    """HiGHS fixes its thread pool at the first solve in a process, so use a fresh process."""
    proc = subprocess.run(
        [
            _allycap(),
            "solve",
            str(BASE),
            "--threads",
            "2",
            "--out",
            str(tmp_path / "t2"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("optimal")
