"""allycap solve --robust (studies/robust.py): one plan for several weighted scenarios.

The robust plan minimizes the expected cost over the scenarios with operations chosen per
scenario, so no single-scenario plan, evaluated the same way (stress: plan fixed, operations
re-optimized in every scenario, weighted by the same weights), can have a lower expected cost.
"""

from __future__ import annotations

import pyomo.environ as pyo
import pytest

from allycap.studies.cases import parse_cases
from allycap.studies.robust import evaluate, solve_robust
from allycap.studies.stress import robustness_table


def cases_of(chain, spec):
    return parse_cases([spec.format(**{k: str(v) for k, v in chain.items()})])


def test_robust_expected_cost_is_no_worse_than_any_single_scenario_plan(chain):
    cases = cases_of(chain, "base:0.5,{export_ban}:0.3,{demand_shock}:0.2")
    result = solve_robust(chain["base"], cases)
    assert result.status == "optimal"
    table = robustness_table(evaluate(result, chain["base"])).set_index("portfolio")
    assert list(table.index) == ["robust", "base only", "export_ban only", "demand_shock only"]
    robust = table.loc["robust", "expected"]
    # evaluating the robust plan by stress gives back the robust objective
    assert robust == pytest.approx(result.objective, rel=1e-7)
    for single in ["base only", "export_ban only", "demand_shock only"]:
        assert robust <= table.loc[single, "expected"] * (1 + 1e-9)
    # and the hedge is worth something against the plan made for the base alone
    assert robust < table.loc["base only", "expected"] * (1 - 1e-3)
    # the per-scenario costs of the robust model, weighted, are its objective
    weighted = sum(result.scenarios["weight"] * result.scenarios["cost_musd_pv"])
    assert weighted == pytest.approx(result.objective, rel=1e-9)


def test_one_plan_for_every_scenario(chain):
    """Each scenario block that can make a decision makes the plan's; the separation delay
    block lacks the late US separation decisions and ignores them."""
    cases = cases_of(chain, "base:0.6,{delay}:0.4")
    result = solve_robust(chain["base"], cases)
    m = result.model
    for s in range(len(cases)):
        for key, var in m.scenario[s].new.items():
            assert var.value == pytest.approx(m.plan[key].value, abs=1e-7)
    delay_keys = set(m.scenario[1].new)
    assert ("usa_separation", 2035) in set(m.scenario[0].new) - delay_keys
    inv = result.tables["investments"]
    assert set(inv["scenario"]) == {"robust"}
    assert {tuple(k) for k in inv[["facility", "decision_year"]].values} == {
        (f, v) for (f, v), var in m.plan.items() if var.value > 1e-9
    }
    assert set(result.tables["supply_mix"]["scenario"]) == {"base", "delay"}


def test_worst_case_plan_minimizes_the_largest_cost(chain):
    cases = cases_of(chain, "base,{export_ban}")
    result = solve_robust(chain["base"], cases, objective="worst")
    assert result.status == "optimal"
    assert result.objective == pytest.approx(max(result.scenarios["cost_musd_pv"]), rel=1e-9)
    table = robustness_table(evaluate(result, chain["base"])).set_index("portfolio")
    for single in ["base only", "export_ban only"]:
        assert table.loc["robust", "worst"] <= table.loc[single, "worst"] * (1 + 1e-9)
    assert pyo.value(result.model.worst_case) == pytest.approx(result.objective)
    # no weights given: every scenario weighs the same
    assert list(result.scenarios["weight"]) == [0.5, 0.5]
