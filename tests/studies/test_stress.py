"""allycap stress (studies/stress.py): a fixed portfolio's operations under disruption scenarios.

The reference is a fresh solve of the scenario's model in which every `m.new` is fixed by hand
to the capacities read from the run folder's investments.csv: stress must give the same cost and
the same shortfall.
"""

from __future__ import annotations

import csv
import json
import math

import pytest

from allycap.data import prepare
from allycap.formulation.build import build_model
from allycap.run import load_and_validate
from allycap.solve import solve_model
from allycap.studies.cases import StudyError, parse_cases
from allycap.studies.stress import read_portfolio, robustness_table, stress
from tests.studies.conftest import solve_to_folder


def fixed_by_hand(base, scenario, investments_csv):
    """Solve base + scenario with m.new fixed to investments.csv, using only the Pyomo API."""
    with open(investments_csv, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    built = {}
    for row in rows:
        key = (row["facility"], int(row["decision_year"]))
        built[key] = built.get(key, 0.0) + float(row["new_capacity_t"])
    _, inputs, _ = load_and_validate(base, [scenario] if scenario else [])
    data = prepare(inputs)
    m = build_model(data)
    for key, var in m.new.items():
        var.fix(built.get(key, 0.0))
    outcome = solve_model(m)
    unmet = sum(v.value for v in m.unmet.values())
    return outcome, unmet, sum(data.demand.values())


def test_base_portfolio_under_export_ban_equals_a_fresh_solve_with_investments_fixed(
    chain, tmp_path
):
    """The base plan builds no allied separation; under the ban China's oxide and magnets stop
    from 2030 and allied magnet plants starve: a shortfall, priced at the unmet penalty. The
    stress row and the hand-fixed solve agree on cost and shortfall."""
    run_dir = solve_to_folder(chain["base"], tmp_path / "runs" / "base")
    portfolio = read_portfolio(run_dir)
    assert portfolio.capacity  # the base plan builds something (allied magnet plants)
    frame = stress(chain["base"], [portfolio], parse_cases([str(chain["export_ban"])]))
    row = frame.iloc[0]
    assert (row["portfolio"], row["scenario"], row["status"]) == ("base", "export_ban", "optimal")
    outcome, unmet, demand = fixed_by_hand(
        chain["base"], chain["export_ban"], run_dir / "investments.csv"
    )
    assert outcome.status == "optimal"
    assert row["objective_musd_pv"] == pytest.approx(outcome.objective, rel=1e-9)
    assert row["unmet_t"] == pytest.approx(unmet, rel=1e-9, abs=1e-6)
    assert row["unmet_share"] == pytest.approx(unmet / demand, rel=1e-9, abs=1e-12)
    assert row["unmet_t"] > 1000  # the ban bites
    assert row["missing_decisions"] == 0


def test_a_portfolio_under_its_own_scenario_costs_its_optimum(chain, tmp_path):
    """Re-optimizing operations around a plan's own investments gives back its objective (up
    to the 9 significant digits of investments.csv)."""
    run_dir = solve_to_folder(
        chain["base"], tmp_path / "runs" / "export_ban", scenarios=[chain["export_ban"]]
    )
    frame = stress(
        chain["base"], [read_portfolio(run_dir)], parse_cases([str(chain["export_ban"])])
    )
    objective = json.loads((run_dir / "summary.json").read_text())["objective_musd_pv"]
    assert frame["objective_musd_pv"].iloc[0] == pytest.approx(objective, rel=1e-7)
    assert frame["unmet_t"].iloc[0] == pytest.approx(0.0, abs=0.01)


def test_decisions_the_scenario_cannot_make_are_reported(chain, tmp_path):
    """The export-ban plan decides US separation in 2035; with a ten-year lead time that
    decision could not be ready by 2044, the end of the last period (2040-2044), so the delay
    scenario's model lacks it."""
    run_dir = solve_to_folder(
        chain["base"], tmp_path / "runs" / "export_ban", scenarios=[chain["export_ban"]]
    )
    portfolio = read_portfolio(run_dir)
    late = [(f, v, q) for f, v, q in portfolio.capacity if f == "usa_separation" and v + 10 > 2044]
    assert late
    frame = stress(chain["base"], [portfolio], parse_cases([str(chain["delay"])]))
    assert frame["missing_decisions"].iloc[0] == len(late)
    assert frame["missing_capacity_t"].iloc[0] == pytest.approx(sum(q for _, _, q in late))


def test_robustness_table_has_expected_and_worst_columns():
    import pandas as pd

    frame = pd.DataFrame(
        [
            {"portfolio": "a", "scenario": "s1", "weight": 0.25, "objective_musd_pv": 10.0},
            {"portfolio": "a", "scenario": "s2", "weight": 0.75, "objective_musd_pv": 20.0},
            {"portfolio": "b", "scenario": "s1", "weight": 0.25, "objective_musd_pv": 12.0},
            {"portfolio": "b", "scenario": "s2", "weight": 0.75, "objective_musd_pv": math.nan},
        ]
    )
    table = robustness_table(frame).set_index("portfolio")
    assert list(table.columns) == ["s1", "s2", "expected", "worst"]
    assert table.loc["a", "expected"] == pytest.approx(0.25 * 10 + 0.75 * 20)
    assert table.loc["a", "worst"] == 20
    assert table.loc["b", "expected"] == math.inf  # no solution in s2 counts as infinitely bad
    assert table.loc["b", "worst"] == math.inf


def test_bad_portfolios_and_scenarios_are_clear_errors(chain, tmp_path):
    with pytest.raises(StudyError, match="run folder .* not found"):
        read_portfolio(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(StudyError, match="no investments.csv"):
        read_portfolio(tmp_path / "empty")
    with pytest.raises(StudyError, match="scenario file not found"):
        parse_cases(["nope.yaml"])
    with pytest.raises(StudyError, match="sum to 0.9"):
        parse_cases([f"base:0.5,{chain['export_ban']}:0.4"])
    with pytest.raises(StudyError, match="to every scenario or to none"):
        parse_cases([f"base:0.5,{chain['export_ban']}"])
    with pytest.raises(StudyError, match="given twice"):
        parse_cases(["base", "base"])
