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
        assert kpi(k, "objective")[label] == summary["objective_musd_pv"]
        # the two accounts: costs.csv rows added by their account column, by hand; together
        # they are the objective
        costs = rows(folder / "costs.csv")
        for account in ("resource", "shortage"):
            pv = sum(float(r["present_value_musd"]) for r in costs if r["account"] == account)
            assert kpi(k, f"{account}_cost")[label] == pytest.approx(pv, rel=1e-9, abs=1e-9)
        both = kpi(k, "resource_cost")[label] + kpi(k, "shortage_cost")[label]
        assert both == pytest.approx(kpi(k, "objective")[label], rel=1e-6)
        # shortfall by sector and kind: shortfall.csv rows added by hand
        short = defaultdict(float)
        for r in rows(folder / "shortfall.csv"):
            short[f"{r['sector']} {r['kind']}"] += float(r["tonnes"])
        for detail, q in short.items():
            assert kpi(k, "shortfall", detail)[label] == pytest.approx(q, rel=1e-9)
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
        capital = sum(float(r["present_value_musd"]) for r in costs if r["category"] == "capital")
        assert kpi(k, "cost", "resource: capital")[label] == pytest.approx(capital)
    # each account's change is the ban's figure minus the base's, in the ban's column
    for name in ("resource_cost", "shortage_cost", "objective"):
        change = kpi(k, f"{name}_change", "vs base")
        assert change["base"] == 0.0
        assert change["ban"] == pytest.approx(kpi(k, name)["ban"] - kpi(k, name)["base"])
    assert kpi(k, "shortage_cost")["base"] == 0.0  # all demand served in the base
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
    for label, scenario in (("robust/base", "base"), ("robust/export_ban", "export_ban")):
        assert kpi(k, "objective")[label] == pytest.approx(costs[scenario])
        both = kpi(k, "resource_cost")[label] + kpi(k, "shortage_cost")[label]
        assert both == pytest.approx(costs[scenario], rel=1e-6)
    news = k[k["kpi"] == "new_capacity"]
    assert (news["robust/base"] == news["robust/export_ban"]).all()  # one plan


@pytest.fixture
def short_run(chain, tmp_path):
    """The export ban with magnet shortage priced at 0.03 M$/t ($30/kg): cheaper than some
    allied magnets, so part of the demand goes unmet and the shortage account is not empty.
    One-year steps, so a year's weight is plainly (1 + r)^-(y - start)."""
    return solve_to_folder(
        chain["base"],
        tmp_path / "runs" / "short",
        scenarios=[chain["export_ban"]],
        overrides=["commodities.magnet.unmet_penalty=0.03", "horizon.step=1"],
    )


def test_accounts_of_a_run_with_a_shortfall(two_runs, short_run):
    """Both accounts and their changes when the ban leaves demand unmet: the shortage cost is
    the shortfall.csv tonnes x cost per t x the year's weight, and the tonnes are what
    supply_mix.csv says was not delivered."""
    base, _ = two_runs
    k = compare([str(base), str(short_run)]).kpis
    summary = json.loads((short_run / "summary.json").read_text())
    short = rows(short_run / "shortfall.csv")
    assert short, "the ban at $30/kg leaves demand unmet"
    assert {r["cost_musd_per_t"] for r in short} == {"0.03"}
    # one-year periods: w[y] = 1.07^-(y - 2025) (r 0.07, start 2025 in this instance)
    pv = sum(float(r["tonnes"]) * 0.03 * 1.07 ** -(int(r["year"]) - 2025) for r in short)
    assert kpi(k, "shortage_cost")["short"] == pytest.approx(pv, rel=1e-6)
    assert kpi(k, "shortage_cost_change", "vs base")["short"] == pytest.approx(pv, rel=1e-6)
    assert kpi(k, "objective")["short"] == summary["objective_musd_pv"]
    mix = rows(short_run / "supply_mix.csv")
    missing = sum(
        float(r["demand_t"]) - float(r["delivered_clean_t"]) - float(r["delivered_other_t"])
        for r in mix
    )
    tonnes = k[k["kpi"] == "shortfall"]["short"].sum()
    assert tonnes == pytest.approx(missing, rel=1e-6) and tonnes > 0


def test_an_older_run_folder_reads_the_same(short_run, tmp_path):
    """A folder written before the two accounts (costs.csv without `account`, no shortfall.csv)
    gives the same accounts and shortfall: runfolder computes them from the category and from
    supply_mix.csv's unmet_t."""
    import shutil

    ban = short_run
    old = tmp_path / "old"
    shutil.copytree(ban, old)
    (old / "shortfall.csv").unlink()
    with open(ban / "costs.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = [c for c in reader.fieldnames if c != "account"]
        lines = [{c: r[c] for c in fields} for r in reader]
    with open(old / "costs.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(lines)
    k = compare([str(ban), str(old)]).kpis
    for name, detail in [
        ("resource_cost", ""),
        ("shortage_cost", ""),
        ("objective", ""),
        ("shortfall", "all unmet"),
    ]:
        assert kpi(k, name, detail)["old"] == pytest.approx(kpi(k, name, detail)["short"])
    assert kpi(k, "shortage_cost")["old"] > 0


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
