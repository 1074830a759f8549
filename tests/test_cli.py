"""The command line, run as a user runs it: `allycap` in a subprocess from the repository root.

Solves use the default inputs (about 3 s each); the whole file runs a handful.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_BIN = Path(sys.executable).with_name("allycap")
ALLYCAP = str(_BIN) if _BIN.exists() else (shutil.which("allycap") or "allycap")
TABLES = [
    "investments.csv",
    "capacity.csv",
    "production.csv",
    "flows.csv",
    "supply_mix.csv",
    "costs.csv",
    "shortfall.csv",
    "duals.csv",
]
RUN_FILES = {*TABLES, "summary.json", "manifest.json"}

# Infeasible and short cases run on the small model of the bad-input tests: on the default
# inputs (17 regions, 16 years) the infeasibility diagnosis alone takes more than a minute.
MINIMAL = "tests/bad_inputs/minimal/base.yaml"
STRICT_SHORT = """\
description: Strict mode with metal demand nothing can meet - must be infeasible.
options: {strict: true}
demand:
  USA:
    metal: 1.0e+9
"""


def allycap(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    return subprocess.run(
        [ALLYCAP, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env
    )


def ok(proc: subprocess.CompletedProcess, code: int = 0) -> subprocess.CompletedProcess:
    output = proc.stdout + proc.stderr
    assert proc.returncode == code, output
    assert "Traceback" not in output
    return proc


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def base_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """One solve of the default inputs, shared by the tests that read its run folder."""
    out = tmp_path_factory.mktemp("cli") / "base_run"
    proc = ok(allycap("solve", "inputs/base.yaml", "--out", str(out)))
    return out, proc


# -- help, validate, schema --------------------------------------------------------------------


def test_help():
    proc = ok(allycap("--help"))
    for command in ("validate", "solve", "check", "schema"):
        assert command in proc.stdout
    ok(allycap("solve", "--help"))


def test_no_arguments_prints_help():
    proc = allycap()
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "Usage" in proc.stdout + proc.stderr


def test_validate_default_inputs():
    proc = ok(allycap("validate", "inputs/base.yaml"))
    assert proc.stdout.startswith("ok: inputs/base.yaml is valid (9 file(s); 17 regions")
    assert "warning" not in proc.stderr


def test_validate_with_scenario_and_set():
    proc = ok(
        allycap(
            "validate",
            "inputs/base.yaml",
            "--scenario",
            "inputs/scenarios/us_canada_joint_facility.yaml",
            "--set",
            "discount_rate=0.05",
        )
    )
    assert "(10 file(s)" in proc.stdout


def test_schema_is_json_schema_of_the_inputs():
    proc = ok(allycap("schema"))
    schema = json.loads(proc.stdout)
    assert schema["type"] == "object"
    assert "facilities" in schema["properties"]
    assert {"horizon", "discount_rate", "regions", "commodities", "processes"} <= set(
        schema["required"]
    )
    facility = schema["$defs"]["Facility"]
    assert facility["additionalProperties"] is False  # unknown keys are errors
    assert {"region", "process"} <= set(facility["required"])
    assert "existing" in facility["properties"]


# -- solve -------------------------------------------------------------------------------------


def test_solve_writes_the_run_folder(base_run):
    out, proc = base_run
    assert {p.name for p in out.iterdir()} >= RUN_FILES
    last = proc.stdout.splitlines()[-1]
    assert re.match(r"optimal: resource cost [\d,.]+ \+ shortage cost [\d,.]+ = objective ", last)
    assert f"wrote {out}/" in proc.stdout
    # the two accounts on lines of their own, the objective labelled as their sum, and the
    # shortfall by sector beside them; never a bare "total"
    lines = proc.stdout.splitlines()
    assert any(re.match(r"  resource cost +[\d,.]+$", line) for line in lines)
    assert any(re.match(r"  shortage cost +[\d,.]+$", line) for line in lines)
    assert any(re.match(r"  objective \(resource \+ shortage\) +[\d,.]+$", line) for line in lines)
    assert "  none: all demand served" in lines
    assert not any(re.match(r"\s*total\b", line) for line in lines)
    assert not list(out.parent.glob(".*"))  # no temporary or old folders left beside it
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"] == "base"
    assert summary["status"] == "optimal"
    assert summary["objective_musd_pv"] > 0


def test_every_table_has_the_scenario_column(base_run):
    out, _ = base_run
    for path in sorted(out.glob("*.csv")):
        header, rows = read_csv(path)
        assert header[0] == "scenario", path.name
        assert {row["scenario"] for row in rows} <= {"base"}, path.name
    _, mix = read_csv(out / "supply_mix.csv")
    assert mix, "supply_mix.csv has rows"


def test_manifest_pins_every_input_file(base_run):
    out, _ = base_run
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"] == "base"
    assert manifest["scenarios"] == [] and manifest["overrides"] == []
    files = manifest["input_files"]
    assert set(files) == {
        "inputs/base.yaml",
        "inputs/demand.csv",
        "inputs/parts/candidates.yaml",
        "inputs/parts/chain.yaml",
        "inputs/parts/facilities.yaml",
        "inputs/parts/policy.yaml",
        "inputs/parts/sectors.yaml",
        "inputs/parts/sources.yaml",
        "inputs/parts/trade.yaml",
    }
    for shown in ("inputs/parts/facilities.yaml", "inputs/demand.csv"):
        expected = hashlib.sha256((REPO / shown).read_bytes()).hexdigest()
        assert files[shown] == expected
    # Relative to where allycap ran (the repo root here), so manifests compare across machines.
    assert manifest["inputs_root"] == "inputs"
    assert {"allycap", "python", "pyomo", "highs", "pandas"} <= set(manifest["versions"])


def test_resolve_into_the_same_folder_replaces_it(base_run, tmp_path: Path):
    """A second run replaces the folder whole (no stale files); --write-lp writes the model."""
    first, _ = base_run
    out = tmp_path / "run"
    shutil.copytree(first, out)
    (out / "stale.txt").write_text("from an older run\n")
    lp = tmp_path / "model" / "allycap.lp"
    lp.parent.mkdir()
    ok(
        allycap(
            "solve", "inputs/base.yaml", "--out", str(out), "--name", "again", "--write-lp", str(lp)
        )
    )
    assert {p.name for p in out.iterdir()} == {p.name for p in first.iterdir()}  # no stale.txt
    assert not list(tmp_path.glob(".run*"))
    for path in out.glob("*.csv"):
        _, rows = read_csv(path)
        assert {row["scenario"] for row in rows} <= {"again"}, path.name
    assert json.loads((out / "summary.json").read_text())["scenario"] == "again"
    text = lp.read_text()
    assert "total_cost" in text and text.rstrip().endswith("end")


def test_solve_scenario_with_set_is_labelled(tmp_path: Path):
    """Without --out the run goes to outputs/<scenario> under the working directory."""
    proc = ok(
        allycap(
            "solve",
            str(REPO / "inputs" / "base.yaml"),
            "--scenario",
            str(REPO / "inputs" / "scenarios" / "china_export_ban.yaml"),
            "--set",
            "discount_rate=0.05",
            "--quiet",
            cwd=tmp_path,
        )
    )
    out = tmp_path / "outputs" / "china_export_ban"
    assert {p.name for p in out.iterdir()} >= RUN_FILES
    assert proc.stdout.startswith("optimal: resource cost ")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"] == "china_export_ban"
    assert manifest["scenarios"] == ["china_export_ban"]
    assert manifest["overrides"] == ["discount_rate=0.05"]
    assert "inputs/scenarios/china_export_ban.yaml" in manifest["input_files"]
    for path in out.glob("*.csv"):
        _, rows = read_csv(path)
        assert {row["scenario"] for row in rows} <= {"china_export_ban"}, path.name
    _, costs = read_csv(out / "costs.csv")
    assert costs and {row["scenario"] for row in costs} == {"china_export_ban"}


def test_solve_infeasible_exits_1_and_writes_only_the_diagnosis(tmp_path: Path):
    """An infeasible run explains itself and writes summary, manifest and infeasibility.json,
    but no result tables (there is no solution to tabulate)."""
    scenario = tmp_path / "strict_short.yaml"
    scenario.write_text(STRICT_SHORT)
    out = tmp_path / "out"
    proc = ok(allycap("solve", MINIMAL, "--scenario", str(scenario), "--out", str(out)), 1)
    assert "infeasible" in proc.stderr
    assert "strict mode: demand for metal in USA" in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "infeasibility.json",
        "manifest.json",
        "summary.json",
    ]
    diagnosis = json.loads((out / "infeasibility.json").read_text())
    assert diagnosis["method"] == "iis"
    assert any(c["family"] == "demand_met" for c in diagnosis["conflicts"])


# -- check -------------------------------------------------------------------------------------


def test_check_default_inputs_writes_junit(tmp_path: Path):
    """The JUnit report of `allycap check` (base plus two scenarios here; every scenario is
    checked in tests/test_dataset.py, in-process)."""
    report = tmp_path / "reports" / "r.xml"
    scenarios = ["low_demand", "tariff_war"]
    args = [a for s in scenarios for a in ("-s", f"inputs/scenarios/{s}.yaml")]
    proc = ok(allycap("check", *args, "--junit", str(report)))
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["base", *scenarios]
    assert suite.get("tests") == str(len(cases))
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    for case in cases:
        assert case.find("failure") is None and case.find("error") is None
        assert float(case.get("time")) >= 0
    for name in ["base", *scenarios]:
        assert any(line.startswith("PASS") and name in line for line in proc.stdout.splitlines())


def test_check_infeasible_scenario_exits_1(tmp_path: Path):
    """A scenario that cannot be solved fails the check; one that expects it passes."""
    short = tmp_path / "strict_short.yaml"
    short.write_text(STRICT_SHORT)
    expected = tmp_path / "strict_expected.yaml"
    expected.write_text(STRICT_SHORT + "check: {expect: infeasible}\n")
    report = tmp_path / "r.xml"
    proc = ok(
        allycap(
            "check",
            MINIMAL,
            "--scenario",
            str(short),
            "--scenario",
            str(expected),
            "--json",
            "--junit",
            str(report),
        ),
        1,
    )
    outcomes = {o["name"]: o for o in json.loads(proc.stdout)}
    assert outcomes["strict_short"]["verdict"] == "fail"
    assert outcomes["strict_short"]["status"] == "infeasible"
    assert outcomes["strict_short"]["exit_code"] == 1
    assert outcomes["strict_expected"]["verdict"] == "pass"
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite.get("failures") == "1"
    failed = [c for c in suite.findall("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["strict_short"]


def test_check_invalid_scenario_exits_2(tmp_path: Path):
    bad = tmp_path / "typo.yaml"
    bad.write_text("discount_rate: five percent\n")
    report = tmp_path / "r.xml"
    proc = ok(
        allycap("check", "inputs/base.yaml", "--scenario", str(bad), "--junit", str(report)), 2
    )
    line = next(line for line in proc.stdout.splitlines() if "typo" in line)
    assert line.startswith("INVALID")
    assert "discount_rate: expected a rate, found 'five percent'" in line
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite.get("errors") == "1"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"base", "typo"}  # the base is always checked beside the scenarios
    case = cases["typo"]
    assert case.find("error") is not None
    assert "typo.yaml:1: discount_rate" in case.find("error").text


def test_check_unmet_above_threshold_fails(tmp_path: Path):
    """Unmet demand above the scenario's threshold fails the check (exit 1) though it solved."""
    short = tmp_path / "short.yaml"
    short.write_text(
        STRICT_SHORT.replace("options: {strict: true}", "check: {max_unmet_share: 0.1}")
    )
    proc = ok(allycap("check", MINIMAL, "--scenario", str(short)), 1)
    assert proc.stdout.startswith("PASS    base")
    assert "\nFAIL    short" in proc.stdout
    assert "exceeds the threshold 10.0000%" in proc.stdout
    assert "shortfall (curtailed + unmet)" in proc.stdout
    accounts = r"resource cost [\d,.]+ M\$ \+ shortage cost [\d,.]+ M\$ = objective"
    assert re.search(accounts, proc.stdout)
