"""Reading run folders back (allycap.runfolder): ids stay strings, only empty cells are missing,
and compare, explain, stress and report all see a region `NA` and facilities `NA` and `nan`.

pandas' default reader turns `NA`, `nan`, `null`, `None` and `N/A` into NaN: before the shared
reader, compare dropped NA's new capacity, explain could not find region NA or facility NA, and
stress lost every investment of facilities `NA` and `nan`.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from allycap import runfolder
from allycap.runfolder import RunFolderError, read_json, read_manifest, read_summary, read_table

ROOT = Path(__file__).resolve().parents[1]
_BIN = Path(sys.executable).with_name("allycap")
ALLYCAP = str(_BIN) if _BIN.exists() else (shutil.which("allycap") or "allycap")

# ---------------------------------------------------------------------------------------------
# The reader on its own


NASTY = ["NA", "nan", "null", "None", "N/A", "007", "<NA>", "#N/A", ""]


def write_rows(path: Path, header: list[str], rows: list[list]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_ids_stay_strings_and_only_empty_cells_are_missing(tmp_path):
    write_rows(
        tmp_path / "capacity.csv",
        ["facility", "region", "year", "capacity_t"],
        [[f, "NA", 2030 + i, "" if i == 1 else 1.5 * i] for i, f in enumerate(NASTY)],
    )
    df = read_table(tmp_path, "capacity")
    assert df["facility"].tolist()[:-1] == NASTY[:-1]
    assert isinstance(df["facility"].iloc[0], str)
    assert isinstance(df["facility"].iloc[-1], float) and math.isnan(df["facility"].iloc[-1])
    assert df["region"].tolist() == ["NA"] * len(NASTY)
    assert df["year"].tolist() == list(range(2030, 2030 + len(NASTY)))
    assert df["capacity_t"].dtype == float
    assert math.isnan(df["capacity_t"].iloc[1])
    assert df["capacity_t"].iloc[2] == 3.0
    # `007` is a facility id, not the number 7; the same table by file name
    assert read_table(tmp_path, "capacity.csv")["facility"].iloc[5] == "007"


def test_missing_and_empty_tables(tmp_path):
    with pytest.raises(RunFolderError) as err:
        read_table(tmp_path, "flows", needed_by="`allycap explain`")
    message = str(err.value)
    assert str(tmp_path / "flows.csv") in message
    assert "`allycap explain` needs the folder of a solved run" in message

    class Mine(Exception):
        pass

    with pytest.raises(Mine, match="flows.csv not found"):
        read_table(tmp_path, "flows", error=Mine)
    assert read_table(tmp_path, "flows", required=False).empty
    (tmp_path / "stocks.csv").write_text("", encoding="utf-8")
    assert read_table(tmp_path, "stocks").empty
    assert runfolder.has_table(tmp_path, "stocks") and not runfolder.has_table(tmp_path, "flows")


def test_missing_folder(tmp_path):
    with pytest.raises(RunFolderError, match="run folder .*nowhere' not found"):
        runfolder.require_folder(tmp_path / "nowhere")
    assert runfolder.require_folder(str(tmp_path)) == tmp_path


def test_json_files(tmp_path):
    with pytest.raises(RunFolderError, match="summary.json not found: `allycap compare` needs"):
        read_summary(tmp_path, needed_by="`allycap compare`")
    assert read_manifest(tmp_path) == {}
    assert read_summary(tmp_path, required=False) == {}
    (tmp_path / "summary.json").write_text('{"status": "optimal", "region": "NA"}')
    assert read_summary(tmp_path) == {"status": "optimal", "region": "NA"}
    (tmp_path / "manifest.json").write_text('{"tool": "allycap"')
    with pytest.raises(RunFolderError, match=r"manifest.json: cannot be read"):
        read_manifest(tmp_path)
    (tmp_path / "other.json").write_text("[1, 2]")
    with pytest.raises(RunFolderError, match="not a JSON object"):
        read_json(tmp_path, "other.json")


def test_report_reads_through_the_same_reader(tmp_path):
    from allycap.report import read_csv

    path = write_rows(tmp_path / "t.csv", ["region", "v"], [["NA", 1], ["nan", ""]])
    assert read_csv(path)["region"].tolist() == ["NA", "nan"]


READERS = [
    "model/allycap/studies/compare.py",
    "model/allycap/studies/stress.py",
    "model/allycap/explain.py",
    "model/allycap/report/__init__.py",
    "model/allycap/report/excel.py",
]


@pytest.mark.parametrize("module", READERS)
def test_commands_read_folders_only_through_runfolder(module):
    """No command parses a run or study folder's CSV or JSON itself."""
    text = (ROOT / module).read_text(encoding="utf-8")
    for call in ("pd.read_csv(", "pandas.read_csv(", "json.loads(", "json.load("):
        assert call not in text, f"{module} calls {call}: read through allycap.runfolder"


# ---------------------------------------------------------------------------------------------
# The commands, through the CLI, on a run with a region `NA`
#
# One year, no discounting, no transport or retag cost. Region NA needs 10 t of magnets and B 5 t;
# China sells at 1 M$/t. Facility `NA` (in NA) and facility `nan` (in B) cost 2 M$ per t/yr over
# 10 years (0.2 M$ per t/yr in the one model year) plus 0.5 M$/t to run: 0.7 < 1, so both are built
# to their limits, 10 and 3 t/yr; facility `null` (in B, capex 10: 1.0 + 0.5 > 1) is not. China
# sells B the other 2 t. Cost: capital 13 * 0.2 = 2.6, variable 13 * 0.5 + 2 * 1 = 8.5, total 11.1.
# Under a ban on Chinese magnets B's 2 t go unmet at 5 M$/t: 2.6 + 6.5 + 10 = 19.1.

CASE = {
    "horizon": {"start": 2030, "end": 2030},
    "discount_rate": 0.0,
    "regions": {"NA": {"bloc": "allied"}, "B": {"bloc": "allied"}, "CHN": {"bloc": "restricted"}},
    "commodities": {"magnet": {"unmet_penalty": 5}},
    "processes": {"make": {"stage": "magnet", "output": "magnet"}},
    "facilities": {
        "china": {"region": "CHN", "process": "make", "existing": 100, "variable_cost": 1},
        "NA": {
            "region": "NA",
            "process": "make",
            "variable_cost": 0.5,
            "expansion": {"capex": 2, "lifetime": 10, "max": 10},
        },
        "nan": {
            "region": "B",
            "process": "make",
            "variable_cost": 0.5,
            "expansion": {"capex": 2, "lifetime": 10, "max": 3},
        },
        "null": {
            "region": "B",
            "process": "make",
            "variable_cost": 0.5,
            "expansion": {"capex": 10, "lifetime": 10},
        },
    },
    "demand": {"NA": {"magnet": 10}, "B": {"magnet": 5}},
    "trade": {"transport_cost": {"magnet": 0.0}},
    "options": {"retag_cost": 0.0},
}
BAN = {
    "export_controls": {
        "ban": {
            "origins": ["CHN"],
            "destinations": ["allied"],
            "commodities": ["magnet"],
            "limit": 0,
        }
    }
}


def allycap(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    proc = subprocess.run(
        [ALLYCAP, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "Traceback" not in output
    return proc


def rows(path: Path) -> list[dict]:
    """A CSV as plain strings (the csv module, not the reader under test)."""
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def na_run(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("na")
    case = root / "case.yaml"
    case.write_text(yaml.safe_dump(CASE, sort_keys=False), encoding="utf-8")
    ban = root / "ban.yaml"
    ban.write_text(yaml.safe_dump(BAN, sort_keys=False), encoding="utf-8")
    run = root / "run"
    proc = allycap("solve", str(case), "--out", str(run), "--quiet")
    assert "resource cost 11.1 + shortage cost 0.0 = objective 11.1 M$" in proc.stdout
    return {"root": root, "case": case, "ban": ban, "run": run}


def test_the_run_folder_holds_the_ids_as_written(na_run):
    inv = {r["facility"]: r for r in rows(na_run["run"] / "investments.csv")}
    assert set(inv) == {"NA", "nan"}
    assert inv["NA"]["region"] == "NA" and float(inv["NA"]["new_capacity_t"]) == 10
    assert inv["nan"]["region"] == "B" and float(inv["nan"]["new_capacity_t"]) == 3


def test_compare_shows_region_NA(na_run):
    """A run folder beside the same inputs solved in memory (`base`): identical KPIs."""
    out = na_run["root"] / "compare"
    proc = allycap(
        "compare", str(na_run["run"]), "base", "--input", str(na_run["case"]), "--out", str(out)
    )
    assert re.search(r"new_capacity +NA/magnet +t/yr +10\.0 +10\.0", proc.stdout), proc.stdout
    assert re.search(r"clean_share +NA 2030 +share +100\.0% +100\.0%", proc.stdout)
    assert "0 facilities invested differently" in proc.stdout
    kpis = {(r["kpi"], r["detail"]): r for r in rows(out / "compare.csv")}
    expected = {
        ("resource_cost", ""): 11.1,
        ("shortage_cost", ""): 0.0,
        ("objective", ""): 11.1,
        ("new_capacity", "NA/magnet"): 10.0,
        ("new_capacity", "B/magnet"): 3.0,
        ("capex_by_payer", "NA"): 20.0,  # 2 M$ per t/yr x 10 t/yr
        ("capex_by_payer", "B"): 6.0,
        ("clean_share", "NA 2030"): 1.0,
        ("clean_share", "B 2030"): 0.6,  # 3 of 5 t from facility `nan`
        ("clean_share", "all 2030"): 13 / 15,
        ("restricted_imports", "magnet"): 2.0,
    }
    for key, value in expected.items():
        for label in ("run", "base"):
            assert float(kpis[key][label]) == pytest.approx(value, rel=1e-6), (key, label)
    assert not any("nan" in detail.lower() for _, detail in kpis)
    diff = {r["facility"]: r for r in rows(out / "investment_diff.csv")}
    assert diff["NA"]["region"] == "NA" and float(diff["NA"]["run"]) == 10
    assert float(diff["NA"]["diff_base"]) == 0 and float(diff["nan"]["diff_base"]) == 0


def test_explain_a_facility_and_a_market_in_NA(na_run):
    run = str(na_run["run"])
    proc = allycap("explain", run, "--facility", "NA")
    assert proc.stdout.startswith("NA: magnet stage, making magnet, in NA.\n")
    assert "Built 10 t/yr decided in 2030, online 2030-2039, capex 20.0 M$ (paid by NA:1)" in (
        proc.stdout
    )
    proc = allycap("explain", run, "--facility", "nan")
    assert proc.stdout.startswith("nan: magnet stage, making magnet, in B.\n")
    assert "Built 3 t/yr decided in 2030" in proc.stdout
    proc = allycap("explain", run, "--region", "NA", "--commodity", "magnet", "--year", "2030")
    assert "Demand 10 t: clean 10 t, other 0 t, unmet 0 t (clean share 100.0%)." in proc.stdout
    assert "    NA: 10 t of 10 t/yr" in proc.stdout
    # B's price is China's 1 M$/t = 1,000 USD/kg
    proc = allycap("explain", run, "--region", "B", "--commodity", "magnet", "--year", "2030")
    assert "Marginal cost of one more tonne delivered: 1,000.00 USD/kg" in proc.stdout
    assert "from CHN (other): 2 t" in proc.stdout


def test_stress_keeps_the_investments_of_facilities_NA_and_nan(na_run):
    out = na_run["root"] / "stress"
    allycap(
        "stress",
        str(na_run["run"]),
        "-s",
        "base",
        "-s",
        str(na_run["ban"]),
        "--input",
        str(na_run["case"]),
        "--out",
        str(out),
        "--quiet",
    )
    got = {r["scenario"]: r for r in rows(out / "stress.csv")}
    assert float(got["base"]["new_capacity_t"]) == 13  # 10 at `NA` + 3 at `nan`
    assert got["base"]["missing_decisions"] == "0"
    assert float(got["base"]["objective_musd_pv"]) == pytest.approx(11.1, rel=1e-6)
    assert float(got["ban"]["objective_musd_pv"]) == pytest.approx(19.1, rel=1e-6)
    assert float(got["ban"]["unmet_t"]) == pytest.approx(2.0, rel=1e-6)


def test_report_shows_NA(na_run, tmp_path):
    pytest.importorskip("openpyxl")
    from openpyxl import load_workbook

    run = tmp_path / "run"
    shutil.copytree(na_run["run"], run)
    allycap("report", str(run), "--excel")
    page = (run / "report.html").read_text(encoding="utf-8")
    # the investments table: facility, name and region all `NA`, then stage
    assert "<tr><td>NA</td><td>NA</td><td>NA</td><td>magnet</td>" in page
    assert '<tr><td>NA</td><td class="num">100.0%</td></tr>' in page  # clean share
    sheet = load_workbook(run / "tables.xlsx")["investments"]
    table = list(sheet.iter_rows(values_only=True))
    facility = table[0].index("facility")
    region = table[0].index("region")
    assert sorted((r[facility], r[region]) for r in table[1:]) == [("NA", "NA"), ("nan", "B")]
    summary = {
        r[0]: r[1]
        for r in load_workbook(run / "tables.xlsx")["summary"].iter_rows(values_only=True)
    }
    assert summary["status"] == "optimal"
    assert json.loads((run / "summary.json").read_text())["status"] == "optimal"


def test_report_of_a_comparison_shows_NA(na_run, tmp_path):
    out = tmp_path / "compare"
    allycap("compare", str(na_run["run"]), "--out", str(out), "--quiet")
    allycap("report", str(out))
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<td>new_capacity</td><td>NA/magnet</td>" in page
