"""The family registry (formulation/registry.py): every component of the LP is declared by its
family, rows are named after their inputs (in Pyomo and in the LP file), duals and the trace
route back by name, costs.csv and the objective are one account, and the docs follow the
declarations.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyomo.environ as pyo
import pytest

from allycap.formulation.registry import (
    CATEGORIES,
    FAMILIES,
    INVESTMENT_ONLY,
    POLICY,
    ROWS,
    VARIABLES,
    dual_table,
)
from allycap.trace import family_and_index, input_path

DOCS = Path(__file__).resolve().parents[2] / "docs"
REL = 1e-9


def every_rule() -> dict:
    """CAN, USA, JPN (allied) and CHN (restricted); one magnet plant each (CAN's can expand),
    a sharing agreement on the CAN plant, two clean-share rules (one per region, one for a
    group), an origin-share rule, an export control, a budget with both limits, a stockpile,
    a tariff, fixed O&M, holding and discounting, so that every family has rows and most cost
    categories a cost (no shortfall, no re-tagging)."""
    return {
        "horizon": {"start": 2030, "end": 2031},
        "discount_rate": 0.05,
        "regions": {
            "CAN": {"bloc": "allied"},
            "USA": {"bloc": "allied"},
            "JPN": {"bloc": "allied"},
            "CHN": {"bloc": "restricted"},
        },
        "commodities": {"magnet": {"price": 2.0}},
        "processes": {"make": {"stage": "magnet", "output": "magnet"}},
        "facilities": {
            "can_plant": {
                "region": "CAN",
                "process": "make",
                "existing": 20,
                "variable_cost": 1,
                "fixed_om": 0.1,
                "expansion": {"capex": 2.0, "lead_time": 0, "lifetime": 10, "max": 100},
            },
            "usa_plant": {"region": "USA", "process": "make", "existing": 100, "variable_cost": 5},
            "chn_plant": {
                "region": "CHN",
                "process": "make",
                "existing": 100,
                "variable_cost": 0.5,
            },
        },
        "demand": {
            "CAN": {"magnet": 10},
            "USA": {"magnet": 40},
            "JPN": {"magnet": 10},
            "CHN": {"magnet": 10},
        },
        "trade": {
            "transport_cost": {"magnet": 0.5},
            "tariffs": {
                "us_duty": {"origins": ["CHN"], "destinations": ["USA"], "ad_valorem": 0.25}
            },
        },
        "independence": {
            "usa_clean": {
                "kind": "min_clean_share",
                "regions": ["USA", "JPN"],
                "each_region": True,
                "commodity": "magnet",
                "share": 0.5,
            },
            "north_clean": {
                "kind": "min_clean_share",
                "regions": ["CAN", "USA"],
                "commodity": "magnet",
                "share": 0.3,
            },
            "chn_cap": {
                "kind": "max_origin_share",
                "regions": ["USA"],
                "origins": ["CHN"],
                "commodity": "magnet",
                "share": 0.4,
            },
        },
        "export_controls": {
            "chn_ban": {
                "origins": ["CHN"],
                "destinations": ["JPN"],
                "commodities": ["magnet"],
                "limit": 2,
            }
        },
        "sharing": {
            "can_deal": {
                "facilities": ["can_plant"],
                "partners": {"CAN": {"min_share": 0.2}, "USA": {"min_share": 0.2}},
                "max_market_share": 0.8,
            }
        },
        "budgets": {"can_fund": {"regions": ["CAN"], "per_year": 50, "total": 80}},
        "stockpiles": {
            "usa_reserve": {
                "region": "USA",
                "commodity": "magnet",
                "min_level": 5,
                "holding_cost": 0.01,
            }
        },
        "options": {"unmet_penalty": 100.0},
    }


@pytest.fixture
def solved(solve, tmp_path):
    lp = tmp_path / "model.lp"
    r = solve(every_rule(), write_lp=str(lp))
    assert r.results.status == "optimal"
    return r, lp.read_text(encoding="utf-8")


def components(m, ctype):
    return {c.local_name: c for c in m.component_objects(ctype, descend_into=False)}


def test_every_component_of_the_lp_is_declared_by_its_family(solved):
    r, _ = solved
    m = r.model
    rows = components(m, pyo.Constraint)
    assert set(rows) == set(ROWS)
    assert set(components(m, pyo.Var)) == set(VARIABLES)
    assert set(m.cost) == set(CATEGORIES)
    for name, spec in [*ROWS.items(), *VARIABLES.items()]:
        for index in getattr(m, name):
            key = index if isinstance(index, tuple) else (index,)
            assert len(key) == len(spec.index_names), name
    assert set(INVESTMENT_ONLY) == {"build_max", "build_ramp", "budget_per_year", "budget_total"}
    assert set(POLICY) <= set(ROWS)


def test_every_row_and_column_traces_to_an_input_that_exists(solved):
    """The input path of each row and variable, read off its name, is a key path of the inputs
    (a prefix of one: `facilities.<f>.expansion.max`)."""
    r, _ = solved
    m = r.model
    inputs = every_rule()
    for ctype in (pyo.Constraint, pyo.Var):
        for component in components(m, ctype).values():
            for item in component.values():
                path = input_path(*family_and_index(item), r.data)
                assert path, item.name
                node = inputs
                for key in path:
                    assert isinstance(node, dict) and key in node, (item.name, path)
                    node = node[key]


def test_policy_rows_are_named_after_their_inputs_in_pyomo_and_the_lp_file(solved):
    r, lp = solved
    m = r.model
    assert set(m.clean_share) == {
        ("usa_clean", "USA", 2030),
        ("usa_clean", "USA", 2031),
        ("usa_clean", "JPN", 2030),
        ("usa_clean", "JPN", 2031),
        ("north_clean", "CAN+USA", 2030),
        ("north_clean", "CAN+USA", 2031),
    }
    assert set(m.origin_share) == {("chn_cap", "CHN", 2030), ("chn_cap", "CHN", 2031)}
    assert set(m.export_control) == {("chn_ban", "magnet", 2030), ("chn_ban", "magnet", 2031)}
    assert set(m.stock_cover) == {("usa_reserve", 2030), ("usa_reserve", 2031)}
    assert set(m.budget_total) == {"can_fund"}
    assert set(m.budget_per_year) == {("can_fund", 2030), ("can_fund", 2031)}
    assert ("can_deal", "USA", 2030) in m.sharing_min

    # LP rows: sense prefix, component, the index with Pyomo's symbolic labels (non-word
    # characters become `_`)
    names = set(re.findall(r"^c_[elu]_(\w+\([^)]*\))_:", lp, flags=re.M))
    for row in [
        "clean_share(usa_clean_USA_2030)",
        "clean_share(usa_clean_JPN_2031)",
        "clean_share(north_clean_CAN_USA_2030)",
        "origin_share(chn_cap_CHN_2030)",
        "export_control(chn_ban_magnet_2031)",
        "stock_cover(usa_reserve_2030)",
        "budget_per_year(can_fund_2030)",
        "budget_total(can_fund)",
        "sharing_total(can_deal_2030)",
        "sharing_min(can_deal_USA_2030)",
        "sharing_max(can_deal_CAN_2031)",
        "sharing_shipped(CAN_USA_magnet_2030)",
        "sharing_shipped_max(CAN_USA_magnet_2030)",
    ]:
        assert row in names, row
    # no policy row is numbered by position
    policy = ("clean_share", "origin_share", "export_control", "stock_cover", "budget", "sharing")
    assert not [n for n in names if n.startswith(policy) and re.search(r"\(\d+\)$", n)]


def test_duals_route_back_by_name(solved):
    """duals.csv's rule, region, commodity and year are the row's own index."""
    r, _ = solved
    m = r.model
    duals = r.results.tables["duals"]
    clean = duals[duals.family == "independence"]
    keys = {(row.rule, row.region, int(row.year)) for row in clean.itertuples()}
    assert keys <= set(m.clean_share) | set(m.origin_share)
    stock = duals[duals.family == "stockpile"]
    assert set(stock.rule) <= {"usa_reserve"}
    assert set(stock.region) <= {"USA"}


def test_costs_csv_and_the_objective_are_one_account(solved):
    """costs.csv's present values add up, category by category, to the objective's own cost
    expressions, and in total to the objective."""
    r, _ = solved
    m = r.model
    costs = r.results.tables["costs"]
    by_cat = costs.groupby("category")["present_value_musd"].sum().to_dict()
    for cat in CATEGORIES:
        assert by_cat.get(cat, 0.0) == pytest.approx(pyo.value(m.cost[cat]), rel=REL, abs=1e-9)
    assert costs["present_value_musd"].sum() == pytest.approx(r.results.objective, rel=REL)
    # every category of this instance has a cost, so the check above is not vacuous
    assert {c for c, v in by_cat.items() if v > 0} >= {
        "capital",
        "fixed_om",
        "variable",
        "transport",
        "tariff",
        "holding",
    }
    # present value = annual * step * (1 + r)^-(y - start)
    for row in costs.itertuples():
        w = 1.05 ** -(row.year - 2030)
        assert row.present_value_musd == pytest.approx(row.annual_musd * w, rel=REL)


def test_docs_dual_table_is_the_registry():
    """docs/outputs.md's dual table is generated from the dual declarations
    (`registry.dual_table()`); regenerate it there when a family changes."""
    text = (DOCS / "outputs.md").read_text(encoding="utf-8")
    assert dual_table() in text


def test_docs_formulation_lists_the_families_in_registry_order():
    text = (DOCS / "formulation.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## \d+\. (\w+)$", text, flags=re.M)
    assert sections == [f.name for f in FAMILIES] + ["objective"]
    for family in FAMILIES:
        for row in family.rows:
            assert f"`m.{row.component}[" in text, row.component
