"""allycap compare (studies/compare.py): the KPI numbers, checked against the run folders'
own files read with the csv module, and the facility-by-facility investment differences."""

from __future__ import annotations

import csv
import json
from collections import defaultdict

import pytest

from allycap.studies.cases import StudyError, parse_cases
from allycap.studies.compare import compare, load_folder
from allycap.studies.robust import solve_robust, write_robust
from tests.studies.conftest import solve_to_folder


def rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def two_runs(chain, tmp_path):
    base = solve_to_folder(chain["base"], tmp_path / "runs" / "base")
    ban = solve_to_folder(chain["base"], tmp_path / "runs" / "ban", scenarios=[chain["export_ban"]])
    return base, ban


def kpi(frame, name, detail=""):
    hit = frame[(frame["kpi"] == name) & (frame["detail"] == detail)]
    assert len(hit) == 1, (name, detail)
    return hit.iloc[0]


def test_kpis_of_two_runs_match_their_files(two_runs):
    base, ban = two_runs
    c = compare([str(base), str(ban)])
    k = c.kpis
    assert list(k.columns) == ["kpi", "detail", "unit", "base", "ban"]
    assert c.years == [2025, 2035, 2040]  # first, middle and last model years
    for folder, label in [(base, "base"), (ban, "ban")]:
        summary = json.loads((folder / "summary.json").read_text())
        assert kpi(k, "status")[label] == "optimal"
        assert kpi(k, "total_cost")[label] == summary["objective_musd_pv"]
        inv = rows(folder / "investments.csv")
        # total new capacity by hand, then by region and stage
        total = sum(float(r["new_capacity_t"]) for r in inv)
        new = k[k["kpi"] == "new_capacity"][label].sum()
        assert new == pytest.approx(total, rel=1e-12)
        by = defaultdict(float)
        for r in inv:
            by[f"{r['region']}/{r['stage']}"] += float(r["new_capacity_t"])
        for detail, q in by.items():
            assert kpi(k, "new_capacity", detail)[label] == pytest.approx(q, rel=1e-12)
        capex = sum(float(r["capex_musd"]) for r in inv)
        assert k[k["kpi"] == "capex_by_payer"][label].sum() == pytest.approx(capex, rel=1e-12)
        flows = rows(folder / "flows.csv")
        from_china = defaultdict(float)
        for r in flows:
            if r["origin"] == "CHN" and r["destination"] != "CHN":
                from_china[r["commodity"]] += float(r["quantity_t"])
        for commodity, q in from_china.items():
            assert kpi(k, "restricted_imports", commodity)[label] == pytest.approx(q)
        mix = rows(folder / "supply_mix.csv")
        unmet = sum(float(r["unmet_t"]) for r in mix)
        assert kpi(k, "unmet_demand")[label] == pytest.approx(unmet, abs=1e-9)
        for r in mix:
            if r["commodity"] == "magnet" and r["region"] == "USA" and r["year"] == "2035":
                share = float(r["delivered_clean_t"]) / float(r["demand_t"])
                assert kpi(k, "clean_share", "USA 2035")[label] == pytest.approx(share)
        costs = rows(folder / "costs.csv")
        capital = sum(float(r["present_value_musd"]) for r in costs if r["category"] == "capital")
        assert kpi(k, "cost", "capital")[label] == pytest.approx(capital)
    # the ban stops Chinese oxide and magnets from 2030: less comes from China under it
    assert (
        kpi(k, "restricted_imports", "magnet")["ban"]
        < kpi(k, "restricted_imports", "magnet")["base"]
    )
    assert not (k["detail"] == "CHN 2035").any()  # restricted regions are left out


def test_investment_diff_facility_by_facility(two_runs):
    base, ban = two_runs
    diff = compare([str(base), str(ban)], years=[2030]).investments
    assert list(diff.columns) == ["facility", "region", "stage", "base", "ban", "diff_ban"]
    totals = {}
    for label, folder in [("base", base), ("ban", ban)]:
        t = defaultdict(float)
        for r in rows(folder / "investments.csv"):
            t[r["facility"]] += float(r["new_capacity_t"])
        totals[label] = t
    for _, row in diff.iterrows():
        f = row["facility"]
        assert row["base"] == pytest.approx(totals["base"].get(f, 0.0))
        assert row["ban"] == pytest.approx(totals["ban"].get(f, 0.0))
        assert row["diff_ban"] == pytest.approx(row["ban"] - row["base"], abs=1e-3)
    # the ban makes the allies build separation, which the base plan does not
    usa_sep = diff.set_index("facility").loc["usa_separation"]
    assert usa_sep["base"] == 0 and usa_sep["diff_ban"] > 0


def test_scenario_files_are_solved_first(chain, two_runs):
    """A scenario YAML among the sources is solved over --input: its column equals the run
    folder made from the same scenario."""
    _, ban = two_runs
    c = compare([str(ban), str(chain["export_ban"])], input=chain["base"], years=[2030, 2040])
    k = c.kpis
    assert list(k.columns)[3:] == ["ban", "export_ban"]
    numbers = k[k["kpi"] != "status"]
    assert numbers["ban"].astype(float).values == pytest.approx(
        numbers["export_ban"].astype(float).values, rel=1e-6, abs=1e-3
    )


def test_a_robust_folder_gives_one_column_per_scenario(chain, tmp_path):
    cases = parse_cases([f"base:0.5,{chain['export_ban']}:0.5"])
    result = solve_robust(chain["base"], cases)
    folder = write_robust(tmp_path / "robust", result, chain["base"], [], {})
    views = load_folder(folder)
    assert [v.label for v in views] == ["robust/base", "robust/export_ban"]
    k = compare([str(folder)]).kpis
    costs = dict(zip(result.scenarios["scenario"], result.scenarios["cost_musd_pv"], strict=True))
    assert kpi(k, "total_cost")["robust/base"] == pytest.approx(costs["base"])
    news = k[k["kpi"] == "new_capacity"]
    assert (news["robust/base"] == news["robust/export_ban"]).all()  # one plan


def test_errors(two_runs, tmp_path):
    base, _ = two_runs
    with pytest.raises(StudyError, match="not found"):
        compare([str(tmp_path / "missing_run")])
    with pytest.raises(StudyError, match="not a model year"):
        compare([str(base)], years=[2031])
    summary = json.loads((base / "summary.json").read_text())
    del summary["kpis"]["restricted_origins"]
    (base / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(StudyError, match="--restricted"):
        compare([str(base)])
    assert compare([str(base)], restricted=["CHN"]).kpis is not None


def test_stock_levels_by_stockpile_and_year(chain, tmp_path):
    """A US magnet reserve of 10% of demand from 2030: stock_level is stocks.csv's level_t
    summed over the tags, in the chosen years."""
    reserve = (
        "stockpiles.usa_reserve={region: USA, commodity: magnet, cover: {2025: 0, 2030: 0.1}, "
        "holding_cost: 0.001}"
    )
    folder = solve_to_folder(chain["base"], tmp_path / "runs" / "reserve", overrides=[reserve])
    k = compare([str(folder)], years=[2030, 2040]).kpis
    levels = defaultdict(float)
    for r in rows(folder / "stocks.csv"):
        levels[r["year"]] += float(r["level_t"])
    assert kpi(k, "stock_level", "usa_reserve 2030")["reserve"] == pytest.approx(levels["2030"])
    assert kpi(k, "stock_level", "usa_reserve 2040")["reserve"] == pytest.approx(levels["2040"])
    assert levels["2040"] > 0
