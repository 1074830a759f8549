"""The two accounts everywhere (issue 12, item 3): resource cost (what is spent) and shortage
cost (what unserved demand is worth to its users), apart in costs.csv, shortfall.csv,
summary.json and the console summary, and their sum the objective.

Checked three ways:
- a hand-solved instance where the shortage cost is known (docstring of
  `test_hand_solved_accounts`);
- invariants on the default inputs and on `china_export_ban`, read back from the run folder
  with the csv module (not the reader under test): the accounts add up to the objective, each
  account is the sum of its costs.csv rows, and shortfall.csv's tonnes are demand minus
  deliveries in supply_mix.csv, per region, commodity and year;
- an older run folder (costs.csv without `account`, no shortfall.csv) reads the same through
  runfolder and gets the same report.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from allycap.console import format_summary
from allycap.run import manifest_payload, run, summary_payload
from allycap.write import write_run

REPO = Path(__file__).resolve().parents[1]
REL = 1e-6

# One year (2030), no discounting (weight 1), no transport or retag cost. NA needs 10 t of
# magnets and B 5 t. Facility `NA` and facility `nan` cost 2 M$ per t/yr over 10 years (0.2 M$
# per t/yr in the one model year at a 0% rate) plus 0.5 M$/t to run; they are built to their
# limits, 10 and 3 t/yr (0.7 M$/t, below the 5 M$/t shortage cost). A ban stops China's magnets,
# so B's other 2 t go unmet at 5 M$/t:
#   resource cost = capital 13 x 0.2 + variable 13 x 0.5 = 2.6 + 6.5 = 9.1 M$
#   shortage cost = 2 t x 5 M$/t = 10 M$;   objective = 19.1 M$.
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


def rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def solve(inputs, scenarios, out: Path):
    r = run(inputs, [str(s) for s in scenarios])
    assert r.results.status == "optimal", r.results.message
    write_run(r.results, out, summary_payload(r), manifest_payload(r, {}), report=False)
    return r


def by_account(folder: Path) -> dict[str, float]:
    pv: dict[str, float] = defaultdict(float)
    for row in rows(folder / "costs.csv"):
        pv[row["account"]] += float(row["present_value_musd"])
    return pv


def test_hand_solved_accounts(tmp_path):
    """The instance above: resource 9.1, shortage 10 (2 t x 5 M$/t), objective 19.1; one
    shortfall row (B, magnet, sector all, 2030, unmet, 2 t, 5 M$/t); the console prints the
    two accounts on lines of their own and the objective labelled as their sum."""
    case = tmp_path / "case.yaml"
    case.write_text(yaml.safe_dump(CASE, sort_keys=False), encoding="utf-8")
    ban = tmp_path / "ban.yaml"
    ban.write_text(yaml.safe_dump(BAN, sort_keys=False), encoding="utf-8")
    out = tmp_path / "run"
    r = solve(case, [ban], out)
    pv = by_account(out)
    assert pv["resource"] == pytest.approx(9.1, rel=REL)
    assert pv["shortage"] == pytest.approx(10.0, rel=REL)
    k = json.loads((out / "summary.json").read_text())["kpis"]
    assert k["resource_cost_musd_pv"] == pytest.approx(9.1, rel=REL)
    assert k["shortage_cost_musd_pv"] == pytest.approx(10.0, rel=REL)
    assert k["objective_musd_pv"] == pytest.approx(19.1, rel=REL)
    assert k["shortfall_t_by_sector_kind"] == {"all": {"unmet": pytest.approx(2.0)}}
    assert k["shortfall_t_total"] == pytest.approx(2.0)
    assert k["unmet_share"] == pytest.approx(2 / 15)
    (short,) = rows(out / "shortfall.csv")
    assert (short["region"], short["commodity"], short["sector"], short["year"]) == (
        "B",
        "magnet",
        "all",
        "2030",
    )
    assert short["kind"] == "unmet"
    assert float(short["tonnes"]) == pytest.approx(2.0)
    assert float(short["cost_musd_per_t"]) == pytest.approx(5.0)
    text = format_summary(r)
    assert re.search(r"^  resource cost +9\.1$", text, re.M)
    assert re.search(r"^    capital +2\.6$", text, re.M)
    assert re.search(r"^    variable +6\.5$", text, re.M)
    assert re.search(r"^  shortage cost +10\.0$", text, re.M)
    assert re.search(r"^    unmet +10\.0$", text, re.M)
    assert re.search(r"^  objective \(resource \+ shortage\) +19\.1$", text, re.M)
    assert re.search(r"^  all +unmet 2 t$", text, re.M)


def _scenario_run(tmp_path_factory, scenario: str | None):
    out = tmp_path_factory.mktemp("accounts") / (scenario or "base")
    scenarios = [] if scenario is None else [REPO / "inputs" / "scenarios" / f"{scenario}.yaml"]
    r = solve(REPO / "inputs" / "base.yaml", scenarios, out)
    return r, out


@pytest.fixture(scope="module", params=[None, "china_export_ban"], ids=["base", "ban"])
def default_run(request, tmp_path_factory):
    return _scenario_run(tmp_path_factory, request.param)


def test_accounts_add_up_on_the_default_inputs(default_run):
    """resource + shortage = objective (1e-6 relative); each account is its costs.csv rows
    added up; every row's account is the registry's for its category."""
    from allycap.formulation.registry import account_of

    r, out = default_run
    summary = json.loads((out / "summary.json").read_text())
    k = summary["kpis"]
    pv = by_account(out)
    assert set(pv) <= {"resource", "shortage"}
    assert k["resource_cost_musd_pv"] == pytest.approx(pv["resource"], rel=1e-9)
    assert k["shortage_cost_musd_pv"] == pytest.approx(pv.get("shortage", 0.0), rel=1e-9, abs=1e-9)
    both = k["resource_cost_musd_pv"] + k["shortage_cost_musd_pv"]
    assert both == pytest.approx(summary["objective_musd_pv"], rel=REL)
    assert k["objective_musd_pv"] == summary["objective_musd_pv"]
    for row in rows(out / "costs.csv"):
        assert row["account"] == account_of(row["category"])


def test_shortfall_is_demand_minus_deliveries(default_run):
    """shortfall.csv tonnes per (region, commodity, year) = demand_t - delivered_clean_t -
    delivered_other_t of supply_mix.csv, on every row (0 where nothing is short)."""
    r, out = default_run
    short: dict[tuple, float] = defaultdict(float)
    for row in rows(out / "shortfall.csv"):
        short[row["region"], row["commodity"], row["year"]] += float(row["tonnes"])
    missing = {}
    for row in rows(out / "supply_mix.csv"):
        key = (row["region"], row["commodity"], row["year"])
        missing[key] = (
            float(row["demand_t"])
            - float(row["delivered_clean_t"])
            - float(row["delivered_other_t"])
        )
    assert set(short) <= set(missing)
    # abs 1e-4 t: demand_met holds to HiGHS's primal feasibility tolerance (1e-7 on rows of
    # tens of kt), so deliveries may miss demand by a few grams with no shortfall variable set
    for key, q in missing.items():
        assert short.get(key, 0.0) == pytest.approx(q, rel=1e-6, abs=1e-4), key
    k = json.loads((out / "summary.json").read_text())["kpis"]
    assert k["shortfall_t_total"] == pytest.approx(sum(missing.values()), rel=1e-6, abs=1e-3)


def test_the_ban_has_a_shortage_account(default_run):
    """Under china_export_ban part of the magnet demand goes unmet: the shortage account is
    the shortfall rows' tonnes x cost per tonne x the year's weight, and the console prints
    resource and shortage cost on separate lines with the shortfall beside them."""
    r, out = default_run
    k = json.loads((out / "summary.json").read_text())["kpis"]
    text = format_summary(r)
    resource = re.search(r"^  resource cost +([\d,.]+)$", text, re.M)
    shortage = re.search(r"^  shortage cost +([\d,.]+)$", text, re.M)
    assert resource and shortage
    assert float(resource.group(1).replace(",", "")) == pytest.approx(
        k["resource_cost_musd_pv"], abs=0.05
    )
    assert float(shortage.group(1).replace(",", "")) == pytest.approx(
        k["shortage_cost_musd_pv"], abs=0.05
    )
    if r.label == "base":
        assert k["shortage_cost_musd_pv"] == 0.0 and "none: all demand served" in text
        return
    weight = r.data.weight
    pv = sum(
        float(row["tonnes"]) * float(row["cost_musd_per_t"]) * weight[int(row["year"])]
        for row in rows(out / "shortfall.csv")
    )
    assert k["shortage_cost_musd_pv"] > 0
    assert k["shortage_cost_musd_pv"] == pytest.approx(pv, rel=1e-6)
    # every (sector, kind) short in shortfall.csv has its line beside the accounts; US defence
    # (the highest shortage cost) is served in full, so it has none
    short = {(row["sector"], row["kind"]) for row in rows(out / "shortfall.csv")}
    assert short and ("defence", "unmet") not in short and ("defence", "curtailment") not in short
    for sector, kind in short:
        assert re.search(rf"^  {sector} +.*\b{kind} [\d,]+ t", text, re.M), (sector, kind)


def test_an_older_folder_reads_and_reports_the_same(default_run, tmp_path):
    """costs.csv without `account` and no shortfall.csv (as written before the accounts):
    runfolder gives the account from the category and the shortfall from supply_mix.csv, and
    the report prints the same two accounts."""
    import pandas as pd

    from allycap.report import write_report
    from allycap.runfolder import has_table, read_table

    _, out = default_run
    old = tmp_path / "old"
    shutil.copytree(out, old)
    (old / "shortfall.csv").unlink()
    costs = pd.read_csv(out / "costs.csv", keep_default_na=False)
    costs.drop(columns="account").to_csv(old / "costs.csv", index=False)
    summary = json.loads((old / "summary.json").read_text())
    for key in ("resource_cost_musd_pv", "shortage_cost_musd_pv", "account_of_category"):
        del summary["kpis"][key]
    (old / "summary.json").write_text(json.dumps(summary))
    got = read_table(old, "costs")
    assert list(got["account"]) == list(costs["account"])
    assert has_table(old, "shortfall")
    short = read_table(old, "shortfall")
    new = read_table(out, "shortfall")
    assert short["tonnes"].sum() == pytest.approx(new["tonnes"].sum(), rel=1e-6, abs=1e-6)
    write_report(old)
    write_report(out)
    status = []
    for folder in (old, out):
        page = (folder / "report.html").read_text(encoding="utf-8")
        status.append(re.search(r'<p class="status">([^<]*)</p>', page).group(1))
    assert re.match(
        r"optimal: resource cost [\d,.]+ \+ shortage cost [\d,.]+ = objective", status[0]
    )
    assert status[0] == status[1]
    # the shortfall chart is drawn from shortfall.csv, or from supply_mix.csv for the old one
    has_short = bool(rows(out / "shortfall.csv"))
    for folder in (old, out):
        page = (folder / "report.html").read_text(encoding="utf-8")
        assert ('id="chart-shortfall-by-sector"' in page) == has_short
