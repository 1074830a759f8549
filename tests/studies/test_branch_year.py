"""allycap solve --robust ... --branch-year Y (studies/robust.py): decide now, adapt later.

A two-stage scenario tree: every decision dated before Y is shared by all scenarios, every later
one is each scenario's own. The hand-solved instance (`write_case`), in one region A with demand
for `good` and no discounting (r = 0, so every year weighs 1):

    years 2030, 2031; demand 0 in 2030 in both scenarios, in 2031 10 (`base`) or 20 (`high`),
    weights 0.5 / 0.5; unmet demand costs U = 10 M$/t.
    slow: capex 1 M$ per t/yr, lead time 1, lifetime 1 (CRF at r = 0 is 1): decided in 2030,
          online in 2031 only (a 2031 decision would be online after the horizon: none).
    fast: capex 1.5, lead time 0, lifetime 1, earliest online year 2031, at most 5 t/yr:
          decided in 2031, online in 2031.

With --branch-year 2031 the slow build S = new[slow, 2030] is shared; each scenario then adds
its own fast capacity F_s <= 5 and leaves the rest unmet. Given S, scenario s with demand d_s
costs R_s(S) = 1.5 * min(5, (d_s - S)+) + 10 * (d_s - S - 5)+, so the expected cost
S + 0.5 R_base(S) + 0.5 R_high(S) has slope in S of
    1 - 0.5*10 - 0.5*10 = -9      on (0, 5)
    1 - 0.5*1.5 - 0.5*10 = -4.75  on (5, 10)
    1 - 0.5*10 = -4               on (10, 15)
    1 - 0.5*1.5 = +0.25           on (15, 20)
so S = 15, a hedge: base alone builds S = 10 (1 < 1.5 per t, cost 10), high alone S = 20
(cost 20). The tree costs 15 + 0.5*0 + 0.5*(1.5*5) = 18.75, with F_high = 5, F_base = 0.
All-shared (S and F both shared, operations per scenario): F costs more than S for the same
2031 tonne, so F = 0 and the cost S + 0.5*10*(10 - S)+ + 0.5*10*(20 - S)+ falls until S = 20:
cost 20. Perfect foresight: 0.5*10 + 0.5*20 = 15. Value of waiting 20 - 18.75 = 1.25, expected
value of perfect information 18.75 - 15 = 3.75; 15 <= 18.75 <= 20.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyomo.environ as pyo
import pytest
import yaml

from allycap.studies.cases import StudyError, parse_cases
from allycap.studies.robust import (
    SHARED,
    robust_study,
    single_portfolio,
    solve_robust,
    summary,
    write_robust,
    year_of,
)
from allycap.trace import family_and_index, label
from tests.studies.test_cli_studies import allycap, error_line

REL = 1e-7

BASE = {
    "horizon": {"start": 2030, "end": 2031, "step": 1},
    "discount_rate": 0.0,
    "regions": {"A": {"bloc": "allied"}},
    "commodities": {"good": {}},
    "processes": {"make": {"stage": "magnet", "output": "good"}},
    "facilities": {
        "slow": {
            "region": "A",
            "process": "make",
            "expansion": {"capex": 1.0, "lead_time": 1, "lifetime": 1},
        },
        "fast": {
            "region": "A",
            "process": "make",
            "expansion": {
                "capex": 1.5,
                "lead_time": 0,
                "lifetime": 1,
                "earliest": 2031,
                "max": 5,
            },
        },
    },
    "demand": {"A": {"good": {2030: 0, 2031: 10}}},
    "options": {"unmet_penalty": 10.0},
}


@pytest.fixture
def case(tmp_path: Path) -> dict[str, str]:
    """base.yaml, high.yaml (2031 demand 20) and early.yaml (also 4 t in 2030)."""
    files = {
        "base": BASE,
        "high": {"demand": {"A": {"good": {2030: 0, 2031: 20}}}},
        "early": {"demand": {"A": {"good": {2030: 4, 2031: 20}}}},
    }
    out = {}
    for name, data in files.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        out[name] = str(path)
    return out


def plan_of(portfolio) -> dict:
    return {(f, v): pytest.approx(q, rel=REL) for f, v, q in portfolio.capacity}


def test_tree_hedges_between_the_single_scenario_plans(case):
    cases = parse_cases([f"base:0.5,{case['high']}:0.5"])
    study = robust_study(case["base"], cases, branch_year=2031)
    result = study.result
    values = result.branch
    assert result.status == "optimal"
    # the shared decision is the hedge, S = 15, unlike either scenario's own plan
    assert plan_of(result.portfolio) == {("slow", 2030): 15.0}
    assert plan_of(single_portfolio(case["base"], cases[0], ())) == {("slow", 2030): 10.0}
    assert plan_of(single_portfolio(case["base"], cases[1], ())) == {("slow", 2030): 20.0}
    # each branch adapts: high adds 5 t/yr of fast capacity, base nothing
    inv = result.tables["investments"]
    rows = {(r.scenario, r.facility, r.decision_year): r.new_capacity_t for r in inv.itertuples()}
    assert rows == {
        (SHARED, "slow", 2030): pytest.approx(15.0, rel=REL),
        ("high", "fast", 2031): pytest.approx(5.0, rel=REL),
    }
    assert values.tree == pytest.approx(18.75, rel=REL)
    assert result.objective == pytest.approx(18.75, rel=REL)
    assert values.all_shared == pytest.approx(20.0, rel=REL)
    assert values.perfect_foresight == pytest.approx(15.0, rel=REL)
    assert values.value_of_waiting == pytest.approx(1.25, rel=REL)
    assert values.evpi == pytest.approx(3.75, rel=REL)
    assert values.perfect_foresight <= values.tree <= values.all_shared
    costs = values.costs.set_index(["plan", "scenario"])["cost_musd_pv"]
    assert costs[("tree", "base")] == pytest.approx(15.0, rel=REL)
    assert costs[("tree", "high")] == pytest.approx(22.5, rel=REL)
    assert costs[("perfect_foresight", "base")] == pytest.approx(10.0, rel=REL)
    assert costs[("perfect_foresight", "high")] == pytest.approx(20.0, rel=REL)
    assert costs[("all_shared", "base")] == pytest.approx(20.0, rel=REL)


def test_every_variable_dated_before_the_branch_year_is_shared(case):
    """The ties cover exactly the variables of the registry dated before Y: new[slow, 2030]
    through the plan, every 2030 operating variable by `nonant`; nothing dated 2031."""
    cases = parse_cases([f"base:0.5,{case['high']}:0.5"])
    m = solve_robust(case["base"], cases, branch_year=2031).model
    second = m.scenario[1]
    dated = {}
    for var in second.component_data_objects(pyo.Var):
        component, index = family_and_index(var)
        dated[label(component, index)] = year_of(component, index)
    early = {name for name, year in dated.items() if year < 2031}
    assert {name for name in early if name.startswith("new[")} == {"new[slow,2030]"}
    tied = {name for (_, name) in m.nonant}
    assert tied == {name for name in early if not name.startswith("new[")}
    assert {"online[slow,2030]", "unmet[A,good,2030]"} <= tied
    assert set(m.plan) == {("slow", 2030)}
    assert all(s == 1 for s, _ in m.nonant)


def test_branching_in_the_first_year_is_perfect_foresight(case):
    """Nothing is dated before 2030: each scenario plans alone, 0.5*10 + 0.5*20 = 15."""
    cases = parse_cases([f"base:0.5,{case['high']}:0.5"])
    result = robust_study(case["base"], cases, branch_year=2030).result
    assert result.objective == pytest.approx(15.0, rel=REL)
    assert result.branch.evpi == pytest.approx(0.0, abs=1e-9)
    assert len(result.model.plan) == 0


def test_all_shared_mode_is_unchanged(case):
    """Without --branch-year every build is shared (S = 20, cost 20, F = 0): no `nonant`
    rows, and the objective is exactly the all-shared value the tree is compared with."""
    cases = parse_cases([f"base:0.5,{case['high']}:0.5"])
    result = solve_robust(case["base"], cases)
    assert result.objective == pytest.approx(20.0, rel=REL)
    assert plan_of(result.portfolio) == {("slow", 2030): 20.0}
    assert not hasattr(result.model, "nonant")
    assert set(result.model.plan) == {("slow", 2030), ("fast", 2031)}
    assert set(result.tables["investments"]["scenario"]) == {"robust"}
    assert result.branch is None and result.branch_year is None
    tree = robust_study(case["base"], cases, branch_year=2031).result
    assert tree.branch.all_shared == result.objective


def test_branch_year_must_be_a_model_year(case):
    cases = parse_cases([f"base:0.5,{case['high']}:0.5"])
    with pytest.raises(StudyError, match=r"2035 is not a model year.*2030, 2031"):
        solve_robust(case["base"], cases, branch_year=2035)
    text = error_line(
        allycap("solve", case["base"], "--robust", f"base,{case['high']}", "--branch-year", "2029")
    )
    assert "--branch-year 2029 is not a model year" in text and "Fix: pick one" in text


def test_scenarios_differing_before_the_branch_year_are_refused(case, tmp_path):
    """`early` has 4 t of demand in 2030, so no 2030 operation can serve both scenarios."""
    out = tmp_path / "tree"
    text = error_line(
        allycap(
            "solve",
            case["base"],
            "--robust",
            f"base,{case['early']}",
            "--branch-year",
            "2031",
            "--out",
            str(out),
        )
    )
    assert "scenario 'early' differs from 'base' before 2031" in text
    assert "in 2030" in text and "(input: demand.A.good)" in text
    assert "Fix: --branch-year 2030" in text
    assert not out.exists()
    # the same two scenarios branching in 2030 share nothing and solve
    cases = parse_cases([f"base,{case['early']}"])
    assert solve_robust(case["base"], cases, branch_year=2030).status == "optimal"


def test_worst_case_tree_and_branch_year_alone_are_refused(case):
    cases = parse_cases([f"base,{case['high']}"])
    with pytest.raises(StudyError, match="expected cost"):
        solve_robust(case["base"], cases, objective="worst", branch_year=2031)
    text = error_line(allycap("solve", case["base"], "--branch-year", "2031"))
    assert "--branch-year needs --robust" in text


def test_run_folder_and_console(case, tmp_path):
    out = tmp_path / "tree"
    proc = allycap(
        "solve",
        case["base"],
        "--robust",
        f"base:0.5,{case['high']}:0.5",
        "--branch-year",
        "2031",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert re.search(r"value of waiting \(all-shared - tree\) +1\.2 M\$", proc.stdout)
    assert "Shared plan (decided before 2031" in proc.stdout
    summary = json.loads((out / "summary.json").read_text())
    branch = summary["robust"]["branch"]
    assert branch["branch_year"] == 2031
    assert branch["expected_cost_musd_pv"]["tree"] == pytest.approx(18.75, rel=REL)
    assert branch["value_of_waiting_musd_pv"] == pytest.approx(1.25, rel=REL)
    assert branch["evpi_musd_pv"] == pytest.approx(3.75, rel=REL)
    assert branch["shared_plan"] == [
        {"facility": "slow", "decision_year": 2030, "new_capacity_t": 15.0}
    ]
    assert branch["branch_plans"] == {
        "base": [],
        "high": [{"facility": "fast", "decision_year": 2031, "new_capacity_t": 5.0}],
    }
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["branch_year"] == 2031
    lines = (out / "branch.csv").read_text().splitlines()
    assert lines[0] == "plan,scenario,weight,cost_musd_pv"
    assert len(lines) == 1 + 3 * 2


def test_a_lead_time_that_differs_before_the_branch_year_is_refused(chain):
    """The studies chain (2025-2040 in five-year steps): `delay` makes US separation's lead
    time 8 years, so capacity decided in 2025 is online in 2030 in `base` but not in `delay`.
    Branching in 2035 would share 2030 operations built on different capacity: refused, naming
    the 2030 capacity row and its facility. Branching in 2030 shares only 2025, where the two
    agree (the 2025 build is the same decision; when it comes online is the branches' business).
    The facility's build limit over the horizon is no 2030 datum and is not compared."""
    cases = parse_cases([f"base,{chain['delay']}"])
    with pytest.raises(StudyError) as err:
        solve_robust(chain["base"], cases, branch_year=2035)
    text = str(err.value)
    assert "scenario 'delay' differs from 'base' before 2035" in text
    assert "in 2030, row online_balance[usa_separation,2030]" in text
    assert "(input: facilities.usa_separation.expansion)" in text
    assert "Fix: an earlier --branch-year, 2030 or before." in text
    result = solve_robust(chain["base"], cases, branch_year=2030)
    assert result.status == "optimal"
    assert {v for _, v in result.model.plan} == {2025}


def test_compare_and_stress_read_a_tree_folder_by_branch(case, tmp_path):
    """`compare` gives each scenario of a tree its shared plan plus its own builds (base: slow
    15; high: slow 15 and fast 5); `stress` refuses the folder, which has no one plan."""
    from allycap.studies.compare import load_folder
    from allycap.studies.stress import read_portfolio

    out = tmp_path / "tree"
    cases = parse_cases([f"base:0.5,{case['high']}:0.5"])
    result = robust_study(case["base"], cases, branch_year=2031).result
    write_robust(out, result, case["base"], [])
    views = {v.label: v for v in load_folder(out)}
    built = {}
    for name, view in views.items():
        inv = view.tables["investments"]
        built[name] = dict(zip(inv["facility"], inv["new_capacity_t"], strict=True))
    assert built == {
        "tree/base": {"slow": pytest.approx(15.0, rel=REL)},
        "tree/high": {"slow": pytest.approx(15.0, rel=REL), "fast": pytest.approx(5.0, rel=REL)},
    }
    with pytest.raises(StudyError, match="scenario tree"):
        read_portfolio(out)
    kpi = summary(result)["kpis"]["new_capacity_t_by_region_stage"]
    assert kpi == {"A": {"magnet": pytest.approx(15.0, rel=REL)}}  # the shared plan only


def test_scenarios_with_different_horizons_are_refused(case, tmp_path):
    longer = tmp_path / "longer.yaml"
    longer.write_text(yaml.safe_dump({"horizon": {"start": 2030, "end": 2032, "step": 1}}))
    cases = parse_cases([f"base,{longer}"])
    with pytest.raises(
        StudyError, match=r"'longer' has model years 2030-2032 every 1.*one horizon"
    ):
        solve_robust(case["base"], cases, branch_year=2031)
