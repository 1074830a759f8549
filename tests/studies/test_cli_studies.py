"""The study commands as a user runs them (`allycap` in a subprocess): exit codes, one-line
errors without tracebacks, and the files each command writes."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.studies.conftest import solve_to_folder

REPO = Path(__file__).resolve().parents[2]
_BIN = Path(sys.executable).with_name("allycap")
ALLYCAP = str(_BIN) if _BIN.exists() else (shutil.which("allycap") or "allycap")


def allycap(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    return subprocess.run(
        [ALLYCAP, *args], cwd=REPO, capture_output=True, text=True, timeout=120, env=env
    )


def ok(proc: subprocess.CompletedProcess, code: int = 0) -> subprocess.CompletedProcess:
    output = proc.stdout + proc.stderr
    assert proc.returncode == code, output
    assert "Traceback" not in output
    return proc


def error_line(proc) -> str:
    """Usage errors are exit code 2 and one `error:` line on stderr, no traceback."""
    ok(proc, 2)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines and lines[0].startswith("error:"), proc.stderr
    return proc.stderr


def test_sweep_writes_the_agreed_columns(chain, tmp_path):
    out = tmp_path / "sweep"
    proc = ok(
        allycap(
            "sweep",
            str(chain["base"]),
            "--vary",
            "share=0:1:0.5",
            "--rule",
            "allied_clean",
            "--out",
            str(out),
        )
    )
    assert "persistent HiGHS model" in proc.stdout + proc.stderr
    assert f"wrote {out}/sweep.csv: 3 point(s) (optimal 3)" in proc.stdout
    with open(out / "sweep.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames[:10] == [
        "point",
        "independence.allied_clean.share",
        "status",
        "resource_cost_musd_pv",
        "shortage_cost_musd_pv",
        "objective_musd_pv",
        "marginal_musd_per_point",
        "shortfall_t",
        "unmet_t",
        "clean_share_min",
    ]
    assert [r["independence.allied_clean.share"] for r in rows] == ["0", "0.5", "1"]
    for r in rows:  # the objective is the two accounts added, to the 9 digits written
        both = float(r["resource_cost_musd_pv"]) + float(r["shortage_cost_musd_pv"])
        assert both == pytest.approx(float(r["objective_musd_pv"]), rel=1e-6)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["mode"] == "persistent" and manifest["rule"] == "allied_clean"


def test_sweep_usage_errors(chain):
    base = str(chain["base"])
    assert "has no '='" in error_line(allycap("sweep", base, "--vary", "share"))
    assert "START:STOP:STEP" in error_line(allycap("sweep", base, "--vary", "discount_rate=0:1"))
    text = error_line(allycap("sweep", base, "--vary", "independence.nope.share=0:1:0.5"))
    assert "no independence rule 'nope'" in text and "allied_clean" in text
    text = error_line(allycap("sweep", base, "--vary", "discount_rat=0.05,0.07"))
    assert "unknown key 'discount_rat'" in text and "discount_rate" in text
    assert "--vary" in error_line(allycap("sweep", base))


def test_stress_and_compare_need_existing_run_folders(chain, tmp_path):
    missing = str(tmp_path / "no_such_run")
    text = error_line(allycap("stress", missing, "-s", "base", "--input", str(chain["base"])))
    assert "not found" in text
    assert "not found" in error_line(allycap("compare", missing))


def test_stress_table_with_weights(chain, tmp_path):
    run_dir = solve_to_folder(chain["base"], tmp_path / "runs" / "base")
    out = tmp_path / "stress"
    proc = ok(
        allycap(
            "stress",
            str(run_dir),
            "--input",
            str(chain["base"]),
            "-s",
            "base:0.7",
            "-s",
            f"{chain['export_ban']}:0.3",
            "--out",
            str(out),
        )
    )
    assert "expected" in proc.stdout and "export_ban" in proc.stdout
    with open(out / "stress_table.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert [r["portfolio"] for r in table] == ["base"]
    row = table[0]
    expected = 0.7 * float(row["base"]) + 0.3 * float(row["export_ban"])
    assert abs(float(row["expected"]) - expected) <= 1e-6 * expected


def test_robust_usage_errors(chain):
    base, ban = str(chain["base"]), str(chain["export_ban"])
    assert "sum to 0.9" in error_line(allycap("solve", base, "--robust", f"base:0.5,{ban}:0.4"))
    text = error_line(allycap("solve", base, "--robust", f"base,{ban}", "--robust-objective", "x"))
    assert "expected or worst" in text
    assert "at least two" in error_line(allycap("solve", base, "--robust", "base"))
