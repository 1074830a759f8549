"""Shared fixtures for the report tests: one small solved run, written the way `solve` writes it.

The run is a synthetic instance (4 regions, 4 years, two facilities per region and stage, half
of them candidates, some of which get built), solved once per session and written with
`write_run`, so report.html comes from the real write path.
Tests that change a folder work on a copy (`run_copy`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from allycap.run import manifest_payload, run, summary_payload
from allycap.synthetic import generate, write
from allycap.write import write_run

REPO = Path(__file__).resolve().parents[2]
_BIN = Path(sys.executable).with_name("allycap")
ALLYCAP = str(_BIN) if _BIN.exists() else (shutil.which("allycap") or "allycap")


def allycap(*args: str, cwd: Path = REPO, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    return subprocess.run(
        [ALLYCAP, *args], cwd=cwd, capture_output=True, text=True, timeout=180, env=env, **kwargs
    )


@pytest.fixture(scope="session")
def solved(tmp_path_factory):
    """(inputs path, run folder) of a small optimal synthetic run."""
    root = tmp_path_factory.mktemp("report_run")
    path = write(generate(regions=4, years=4, facilities=2), root / "inputs")
    r = run(path, label="synthetic")
    assert r.results.status == "optimal"
    options = {"strict": r.data.strict, "time_limit": None, "threads": 1}
    out = write_run(r.results, root / "run", summary_payload(r), manifest_payload(r, options))
    return path, out


@pytest.fixture(scope="session")
def run_folder(solved) -> Path:
    return solved[1]


@pytest.fixture
def run_copy(run_folder, tmp_path) -> Path:
    target = tmp_path / "run"
    shutil.copytree(run_folder, target)
    return target


def summary_of(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))
