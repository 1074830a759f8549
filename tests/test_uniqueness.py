"""Is the least-cost plan unique? (results.alternative_builds, summary.json
kpis.alternative_optima, the console line and the top of report.html; issue 14 item 4.)

Hand case: years 2030-2031, discount rate 0, region A demands 10 t/yr of `good` in each year;
plant_a in A and plant_b in B (both allied) can be built with capex 1 M$ per t/yr, lead time 0,
lifetime 10 (CRF at r = 0 is 1/10, so 0.1 M$ per t/yr per online year); shipping B -> A costs 0.
  - Identical plants: 10 t/yr decided in 2030 in A costs 10 x 0.1 x 2 years = 2.0 M$, and the
    same 10 t/yr in B costs the same 2.0 M$, as does any split: the plan is not unique. The
    alternative that maximizes the unbuilt zero-cost builds takes plant_b 2030 from 0 to 10 and
    plant_a 2030 from 10 to 0 (2030 demand needs 10 t/yr decided in 2030, and building more or
    later only adds cost): 2 build decisions change, at no change in cost.
  - plant_b at capex 1.5: B costs 3.0 M$ against A's 2.0, the only least-cost plan is A's: no
    zero-cost alternative build.
The test cannot pass by accident: the same code path reports both answers on instances that
differ in one number, and the alternative's numbers are checked against the hand derivation.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from allycap.console import format_summary
from allycap.report import run_report
from allycap.run import manifest_payload, run, summary_payload
from allycap.write import write_run

ROOT = Path(__file__).resolve().parents[1]


def two_plants(capex_b: float) -> dict:
    def plant(region: str, capex: float) -> dict:
        return {
            "region": region,
            "process": "make",
            "expansion": {"capex": capex, "lead_time": 0, "lifetime": 10},
        }

    return {
        "horizon": {"start": 2030, "end": 2031},
        "discount_rate": 0.0,
        "regions": {"A": {"bloc": "allied"}, "B": {"bloc": "allied"}},
        "commodities": {"good": {}},
        "processes": {"make": {"stage": "magnet", "output": "good"}},
        "facilities": {"plant_a": plant("A", 1.0), "plant_b": plant("B", capex_b)},
        "demand": {"A": {"good": 10.0}},
        "trade": {"transport_cost": {"good": 0.0}},
        "options": {"unmet_penalty": 100.0},
    }


def solved(tmp_path: Path, capex_b: float):
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(two_plants(capex_b), sort_keys=False), encoding="utf-8")
    r = run(path, label="two_plants")
    assert r.results.status == "optimal"
    assert r.results.objective == pytest.approx(2.0, abs=1e-9)
    return r


def written(r, folder: Path) -> Path:
    options = {"strict": r.data.strict, "time_limit": None, "threads": 1}
    out = write_run(r.results, folder, summary_payload(r), manifest_payload(r, options))
    run_report(out)
    return out


def test_identical_plants_in_two_regions_are_not_unique(tmp_path):
    r = solved(tmp_path, capex_b=1.0)
    entry = r.results.summary["alternative_optima"]
    assert entry["status"] == "not_unique"
    assert entry["zero_cost_builds"] == 2
    moves = {
        (x["facility"], x["decision_year"]): (x["optimum_t"], x["alternative_t"])
        for x in entry["examples"]
    }
    built = r.results.tables["investments"].set_index("facility")["new_capacity_t"].to_dict()
    # the optimum builds one of the two (HiGHS's pick); the alternative builds the other
    ((chosen, q),) = built.items()
    other = "plant_b" if chosen == "plant_a" else "plant_a"
    assert q == pytest.approx(10.0)
    assert moves[chosen, 2030] == pytest.approx((10.0, 0.0), abs=1e-6)
    assert moves[other, 2030] == pytest.approx((0.0, 10.0), abs=1e-6)
    assert abs(entry["cost_change_musd_pv"]) <= 1e-9
    assert entry["statement"].startswith(
        "The least-cost plan is not unique: 2 build decisions could change at no extra cost"
    )
    assert "allycap alternatives" in entry["statement"]
    assert entry["statement"] in format_summary(r).splitlines()[1]

    folder = written(r, tmp_path / "run")
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["kpis"]["alternative_optima"]["status"] == "not_unique"
    page = (folder / "report.html").read_text(encoding="utf-8")
    # at the top: before the key-figures table
    assert 'data-uniqueness="not_unique"' in page
    assert page.index('data-uniqueness="not_unique"') < page.index('data-table="kpis"')
    assert "The least-cost plan is not unique: 2 build decisions" in page


def test_distinct_costs_give_a_unique_plan(tmp_path):
    r = solved(tmp_path, capex_b=1.5)
    built = r.results.tables["investments"][["facility", "decision_year", "new_capacity_t"]]
    assert built.values.tolist() == [["plant_a", 2030, 10.0]]
    entry = r.results.summary["alternative_optima"]
    assert entry["status"] == "none_found"
    assert entry["zero_cost_builds"] == 0
    assert entry["examples"] == []
    assert "not unique" not in format_summary(r)
    folder = written(r, tmp_path / "run")
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "not unique" not in page
    assert 'data-uniqueness="none_found"' in page


@pytest.mark.parametrize("scenario", [None, "china_export_ban"])
def test_default_inputs_status_is_recorded(scenario):
    """Measured (issue 14): on the default inputs and with china_export_ban, no build decision
    can change at no extra cost (since issue 13's regional economics the generic candidates of
    different regions no longer tie exactly). Their near-ties, plans within a small cost slack,
    are what `allycap alternatives` measures; this check only finds exact ties."""
    scenarios = [ROOT / "inputs" / "scenarios" / f"{scenario}.yaml"] if scenario else None
    r = run(ROOT / "inputs" / "base.yaml", scenarios=scenarios)
    assert r.results.status == "optimal"
    entry = r.results.summary["alternative_optima"]
    assert entry["status"] == "none_found"
    assert entry["zero_cost_builds"] == 0
    # the face LP was solved (there are unbuilt zero-reduced-cost builds to test) and its point
    # costs what the optimum costs
    assert entry["unbuilt_zero_reduced_cost"] > 0
    assert abs(entry["cost_change_musd_pv"]) <= 1e-6
