"""Hostile output paths and real signals, through the real CLI in a scratch copy of the project.

Every case hashes the scratch tree before and after and asserts that nothing outside the run
folder the command was meant to write changed: a command never deletes or replaces what it did
not create. Signals are sent for real while the named stage runs ($ALLYCAP_TRACE_STAGES makes
the CLI append each stage's name to a file as it starts it). No case asserts wall-clock time.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLYCAP = str(Path(sys.executable).parent / "allycap")

TINY = """\
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
# demand 10 t, new capacity capped at 1 t/yr, no unmet demand allowed: infeasible by hand
INFEASIBLE = ["--strict", "--set", "facilities.m1.expansion.max=1", "--no-explain"]


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A scratch copy of what a user's checkout holds: inputs, docs, README, outputs/."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copytree(ROOT / "inputs", root / "inputs")
    shutil.copytree(ROOT / "docs", root / "docs")
    shutil.copy(ROOT / "README.md", root / "README.md")
    (root / "outputs").mkdir()
    (root / "outputs" / "README.md").write_text("run folders go here\n")
    (root / "tiny.yaml").write_text(TINY)
    return root


def snapshot(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Relative path -> sha256 of every file (link target for links, `dir` for folders)."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if any(rel == s or rel.startswith(s + "/") for s in skip):
            continue
        if path.is_symlink():
            found[rel] = "link:" + os.readlink(path)
        elif path.is_dir():
            found[rel] = "dir"
        else:
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def cli(project: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ALLYCAP, *args],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def assert_clean_refusal(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "optimal" not in proc.stdout  # refused before any solve
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


# ---- output paths that are not allycap's: refused before the solve, tree byte-identical ----

REFUSED = [
    # (arguments after `solve`, words the one-line error must contain)
    (["--name", "../inputs"], ["--name '../inputs' is not a plain label"]),
    (["--name", "../../x"], ["not a plain label"]),
    (["--name", ""], ["--name '' is not a plain label"]),
    (["--name", ".."], ["not a plain label"]),
    (["--name", "a/b"], ["not a plain label"]),
    (["--name", ".hidden"], ["not starting with a dot"]),
    (["--out", "docs"], ["--out docs is an existing folder that allycap did not write"]),
    (["--out", "inputs"], ["did not write", "Fix:"]),
    (["--out", "."], ["did not write"]),
    (["--out", "outputs"], ["did not write"]),
    (["--out", "inputs/demand.csv"], ["--out inputs/demand.csv is an existing file"]),
    (["--out", "README.md"], ["--out README.md is an existing file"]),
    (["--out", "README.md/run"], ["README.md is a file, not a folder"]),
    (["--out", "/proc/allycap-no/run"], ["cannot write in /proc/allycap-no"]),
    (["--write-lp", "missing/m.lp"], ["the folder missing does not exist"]),
    (["--write-lp", "README.md"], ["must end in .lp or .mps"]),
    (["--write-lp", "docs"], ["must end in .lp or .mps"]),
    (["--time-limit", "-1"], ["--time-limit -1 is not a positive number of seconds"]),
    (["--time-limit", "0"], ["not a positive number"]),
    (["--time-limit", "nan"], ["not a positive number"]),
]


@pytest.mark.parametrize("args,needles", REFUSED, ids=[" ".join(a) or "empty" for a, _ in REFUSED])
def test_solve_refuses_paths_it_may_not_replace(project, args, needles) -> None:
    before = snapshot(project)
    proc = cli(project, "solve", "tiny.yaml", *args)
    assert_clean_refusal(proc, *needles)
    assert snapshot(project) == before


def test_threads_zero_is_a_usage_error(project) -> None:
    before = snapshot(project)
    proc = cli(project, "solve", "tiny.yaml", "--threads", "0")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert snapshot(project) == before


def test_write_lp_never_replaces_a_foreign_file(project) -> None:
    (project / "notes.lp").write_text("my own notes, not an LP file\n")
    before = snapshot(project)
    proc = cli(project, "solve", "tiny.yaml", "--write-lp", "notes.lp", "--out", "outputs/t")
    assert_clean_refusal(proc, "notes.lp exists and is not an LP/MPS file that allycap wrote")
    assert snapshot(project) == before


def test_write_lp_replaces_its_own_file(project) -> None:
    args = ("solve", "tiny.yaml", "--write-lp", "m.lp", "--out", "outputs/t", "--quiet")
    assert cli(project, *args).returncode == 0
    assert cli(project, *args).returncode == 0  # the second run replaces the LP it wrote
    assert "Source Pyomo model" in (project / "m.lp").read_text()


def test_symlink_to_a_run_folder_is_refused(project) -> None:
    assert cli(project, "solve", "tiny.yaml", "--out", "outputs/t", "--quiet").returncode == 0
    (project / "link").symlink_to(project / "outputs" / "t")
    before = snapshot(project)
    proc = cli(project, "solve", "tiny.yaml", "--out", "link")
    assert_clean_refusal(proc, "is a symbolic link")
    assert snapshot(project) == before


def test_read_only_location_is_refused_before_the_solve(project) -> None:
    """Root ignores permission bits, so as root the folder is made immutable instead."""
    locked = project / "locked"
    locked.mkdir()
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(locked)], capture_output=True).returncode:
            pytest.skip("chattr +i is not available here")
    else:
        locked.chmod(0o555)
    try:
        before = snapshot(project)
        proc = cli(project, "solve", "tiny.yaml", "--out", "locked/run")
        assert_clean_refusal(proc, "--out locked/run: cannot write in")
        assert snapshot(project) == before
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(locked)], capture_output=True)
        else:
            locked.chmod(0o755)


def test_scheduler_without_dask_is_refused_before_the_solve(project, tmp_path) -> None:
    shim = tmp_path / "no_dask"
    shim.mkdir()
    (shim / "dask.py").write_text("raise ImportError('dask is not installed here')\n")
    before = snapshot(project)
    proc = cli(
        project,
        "solve",
        "tiny.yaml",
        "--robust",
        "base,base",
        "--scheduler",
        "tcp://127.0.0.1:8786",
        env={"PYTHONPATH": str(shim)},
    )
    assert_clean_refusal(proc, "--scheduler needs dask.distributed", "pip install")
    assert snapshot(project) == before


@pytest.mark.parametrize(
    "command",
    [
        ["sweep", "tiny.yaml", "--vary", "discount_rate=0.0,0.1", "--out", "docs"],
        ["compare", "base", "--input", "tiny.yaml", "--out", "docs"],
        ["generate", "--out", "inputs"],
        ["check", "tiny.yaml", "--junit", "README.md"],
        ["report", "docs"],
    ],
    ids=["sweep", "compare", "generate", "check-junit", "report"],
)
def test_study_commands_refuse_foreign_targets(project, command) -> None:
    before = snapshot(project)
    proc = cli(project, *command)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("error:")
    assert snapshot(project) == before


def test_stress_refuses_a_foreign_target(project) -> None:
    assert cli(project, "solve", "tiny.yaml", "--out", "outputs/t", "--quiet").returncode == 0
    before = snapshot(project)
    proc = cli(
        project, "stress", "outputs/t", "-s", "base", "--input", "tiny.yaml", "--out", "docs"
    )
    assert proc.returncode == 2 and "did not write" in proc.stderr
    assert snapshot(project) == before


def test_junit_replaces_only_its_own_file(project) -> None:
    (project / "foreign.xml").write_text("<project>mine</project>\n")
    before = snapshot(project)
    proc = cli(project, "check", "tiny.yaml", "--junit", "foreign.xml")
    assert proc.returncode == 2 and "not a JUnit file that allycap wrote" in proc.stderr
    assert snapshot(project) == before
    assert cli(project, "check", "tiny.yaml", "--junit", "ci.xml").returncode == 0
    assert cli(project, "check", "tiny.yaml", "--junit", "ci.xml").returncode == 0


def test_generate_replaces_only_what_it_generated(project) -> None:
    args = ("generate", "--out", "synthetic", "--regions", "3", "--years", "2")
    assert cli(project, *args).returncode == 0
    assert cli(project, *args).returncode == 0
    assert sorted(p.name for p in (project / "synthetic").iterdir()) == ["base.yaml"]


# ---- run folders: replaced only by a solved run, whole or not at all ----


def test_solved_run_replaces_its_own_folder(project) -> None:
    assert cli(project, "solve", "tiny.yaml", "--out", "outputs/t", "--quiet").returncode == 0
    before = snapshot(project, skip=("outputs/t",))
    proc = cli(project, "solve", "tiny.yaml", "--out", "outputs/t", "--set", "discount_rate=0.1")
    assert proc.returncode == 0, proc.stderr
    assert "discount_rate=0.1" in (project / "outputs/t/manifest.json").read_text()
    assert json.loads((project / "outputs/t/manifest.json").read_text())["tool"] == "allycap"
    assert snapshot(project, skip=("outputs/t",)) == before


def test_infeasible_run_never_replaces_a_solved_folder(project) -> None:
    assert cli(project, "solve", "tiny.yaml", "--out", "outputs/t", "--quiet").returncode == 0
    before = snapshot(project)
    proc = cli(project, "solve", "tiny.yaml", "--out", "outputs/t", *INFEASIBLE[:-1])
    assert proc.returncode == 1, proc.stderr
    assert "outputs/t/ holds an earlier solved run and is kept as it was" in proc.stderr
    assert snapshot(project, skip=("outputs/t.infeasible",)) == before
    written = sorted(p.name for p in (project / "outputs/t.infeasible").iterdir())
    assert written == ["infeasibility.json", "manifest.json", "summary.json"]
    # once more: the diagnosis folder is allycap's own, so it may be replaced
    assert (
        cli(project, "solve", "tiny.yaml", "--out", "outputs/t", *INFEASIBLE[:-1]).returncode == 1
    )
    assert snapshot(project, skip=("outputs/t.infeasible",)) == before


def test_infeasible_run_without_diagnosis_writes_nothing(project) -> None:
    assert cli(project, "solve", "tiny.yaml", "--out", "outputs/t", "--quiet").returncode == 0
    before = snapshot(project)
    proc = cli(project, "solve", "tiny.yaml", "--out", "outputs/t", *INFEASIBLE)
    assert proc.returncode == 1
    assert "No run folder was written" in proc.stderr and "kept as it was" not in proc.stderr
    assert snapshot(project) == before


def test_only_allycap_temporary_folders_are_cleaned_up(project) -> None:
    """A dead writer's temporary folder (it carries allycap's mark) is removed by the next run;
    a user's folder that only looks like one, and a foreign `.t.old`, are left alone."""
    dead = 2**22 + 12345  # above the default pid_max of 4,194,304: no such process
    ours = project / "outputs" / f".t.tmp-{dead}"
    ours.mkdir()
    (ours / ".allycap-tmp").write_text("")
    theirs = project / "outputs" / f".t.tmp-{dead + 1}"
    theirs.mkdir()
    (theirs / "thesis.txt").write_text("mine")
    old = project / "outputs" / ".t.old"
    old.mkdir()
    (old / "data.txt").write_text("mine too")
    before = snapshot(project, skip=(f"outputs/.t.tmp-{dead}", "outputs/t"))
    assert cli(project, "solve", "tiny.yaml", "--out", "outputs/t", "--quiet").returncode == 0
    assert not ours.exists()
    assert snapshot(project, skip=("outputs/t",)) == before


# ---- real signals at each stage ----


def interrupt_at(project: Path, stage: str, signum: int, *args: str, delay: float = 0.0):
    """Start `allycap solve ARGS`, send `signum` once `stage` has started, return the process
    result and the stages it reached."""
    trace = project / "stages.txt"
    trace.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [ALLYCAP, "solve", *args],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "ALLYCAP_TRACE_STAGES": str(trace)},
    )
    sent = False
    deadline = time.monotonic() + 600
    while proc.poll() is None and time.monotonic() < deadline:
        if trace.exists() and stage in trace.read_text().splitlines():
            time.sleep(delay)
            proc.send_signal(signum)
            sent = True
            break
        time.sleep(0.005)
    out, err = proc.communicate(timeout=600)
    reached = trace.read_text().splitlines() if trace.exists() else []
    trace.unlink(missing_ok=True)
    return proc.returncode, out, err, reached, sent


def _assert_one_line(code, out, err, expected_code: int, stage_words: str) -> None:
    assert code == expected_code, err
    assert "Traceback" not in out + err and "ERROR" not in out + err, out + err
    assert "HiGHS reported an error" not in err
    lines = [line for line in err.splitlines() if not line.startswith("warning:")]
    assert len(lines) == 1, err
    assert lines[0].startswith("interrupted by ") and f"during {stage_words}" in lines[0]


SIGNAL_CASES = [
    # (stage in the trace, signal, seconds after the stage starts, words in the message, exit)
    ("load and validation", signal.SIGINT, 0.0, "load and validation", 130),
    ("build", signal.SIGINT, 0.0, "build", 130),
    ("build", signal.SIGTERM, 0.0, "build", 143),
    ("highs", signal.SIGINT, 0.1, "the HiGHS solve", 130),
    ("highs", signal.SIGTERM, 0.1, "the HiGHS solve", 143),
    ("result extraction", signal.SIGINT, 0.0, "result extraction", 130),
    ("writing the run folder", signal.SIGTERM, 0.0, "writing the run folder", 143),
    ("writing the run folder", signal.SIGINT, 0.03, "writing the run folder", 130),
]


@pytest.mark.parametrize(
    "stage,signum,delay,words,code",
    SIGNAL_CASES,
    ids=[f"{c[0]}-{c[1].name}" for c in SIGNAL_CASES],
)
def test_signal_at_each_stage_of_the_default_solve(
    project, stage, signum, delay, words, code
) -> None:
    """On the default inputs (the stages last long enough to be hit) with a solved run folder
    in place: the process stops with one line, and every file is as it was."""
    assert cli(project, "solve", "--out", "outputs/base", "--quiet").returncode == 0
    before = snapshot(project)
    result = interrupt_at(
        project,
        stage,
        signum,
        "--out",
        "outputs/base",
        "--set",
        "discount_rate=0.05",
        delay=delay,
    )
    returncode, out, err, reached, sent = result
    assert sent, f"the run ended before {stage!r}: {reached}"
    _assert_one_line(returncode, out, err, code, words)
    assert snapshot(project) == before
    leftovers = [p.name for p in (project / "outputs").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_ctrl_c_during_the_default_infeasibility_diagnosis(project) -> None:
    """The acceptance case: strict demand under the export ban is infeasible on the default
    inputs, and the IIS search is under way when Ctrl-C comes (it ran > 1 s here)."""
    before = snapshot(project)
    returncode, out, err, reached, sent = interrupt_at(
        project,
        "the infeasibility diagnosis",
        signal.SIGINT,
        "--strict",
        "-s",
        "inputs/scenarios/china_export_ban.yaml",
        delay=0.5,
    )
    assert sent
    _assert_one_line(returncode, out, err, 130, "the infeasibility diagnosis")
    assert "nothing was written" in err
    assert snapshot(project) == before
