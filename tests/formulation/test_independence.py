"""Known answers for formulation/independence.py (min_clean_share rules).

sum_{r in G} deliver[r,c,y,clean] >= share(y) * sum_{r in G} demand[r,c,y], for the group G or,
with each_region, for each of its regions. The rule's dual is the price of independence.
"""

from __future__ import annotations

import pytest

from allycap.solve import solve_model

REL = 1e-6


def market(years=(2030, 2030), independence=None, regions=("USA",), **extra) -> dict:
    """CHN (restricted) makes magnets at 1 M$/t, the USA at 3 M$/t (clean), 100 t/yr each;
    demand 10 t/yr in each of `regions`; shipping is free unless routes say otherwise."""
    data = {
        "horizon": {"start": years[0], "end": years[1]},
        "discount_rate": 0.0,
        "regions": {
            "USA": {"bloc": "allied"},
            "CAN": {"bloc": "allied"},
            "CHN": {"bloc": "restricted"},
        },
        "commodities": {"magnet": {}},
        "processes": {"make": {"stage": "magnet", "output": "magnet"}},
        "facilities": {
            "chn_plant": {"region": "CHN", "process": "make", "existing": 100, "variable_cost": 1},
            "usa_plant": {"region": "USA", "process": "make", "existing": 100, "variable_cost": 3},
        },
        "demand": {r: {"magnet": 10} for r in regions},
        "trade": {"transport_cost": {"magnet": 0.0}},
        "independence": independence or {},
        "options": {"unmet_penalty": 100.0},
    }
    data.update(extra)
    return data


def rule(share, regions=("USA",), **kw) -> dict:
    return {
        "usa_clean": {
            "kind": "min_clean_share",
            "regions": list(regions),
            "commodity": "magnet",
            "share": share,
            **kw,
        }
    }


def test_binding_clean_share_raises_cost_and_has_a_positive_dual(solve):
    """Demand 10 in the USA. Without a rule all comes from CHN: cost 1 * 10 = 10, clean share 0.
    With share 0.6, 6 t must be clean, and the only clean source is the US plant at 3:
        cost = 3 * 6 + 1 * 4 = 22, a rise of 0.6 * 10 * (3 - 1) = 12.
    Dual: one more tonne of required clean supply swaps a CHN tonne for a US one, +2 M$, so the
    dual of the rule is 2; the duals table's value is 2 * 10 t / 100 = 0.2 M$ per point.
    Re-solving with share 0.8 then costs 22 + 2 * (8 - 6) = 26.
    """
    base = solve(market()).results
    assert base.objective == pytest.approx(10.0, rel=REL)
    assert base.tables["supply_mix"]["clean_share"].item() == 0.0

    r = solve(market(independence=rule(0.6)))
    res = r.results
    assert res.objective == pytest.approx(22.0, rel=REL)
    assert res.objective - base.objective == pytest.approx(12.0, rel=REL)
    assert res.tables["supply_mix"]["clean_share"].item() == pytest.approx(0.6, rel=REL)

    duals = res.tables["duals"]
    row = duals[duals["family"] == "independence"]
    assert row["rule"].tolist() == ["usa_clean"]
    assert row["dual"].item() == pytest.approx(2.0, rel=REL)
    assert row["value"].item() == pytest.approx(0.2, rel=REL)

    # The rule is binding in the Pyomo model, and the dual predicts a re-solve: raising the
    # share (a mutable parameter) from 0.6 to 0.8 adds 2 clean tonnes at 2 M$ each, cost 26.
    # The row is named after its input: rule, group, year.
    key = ("usa_clean", "USA", 2030)
    assert list(r.model.clean_share) == [key]
    assert r.model.clean_share[key].lslack() == pytest.approx(0.0, abs=1e-7)
    r.model.clean_share_target[key] = 0.8
    again = solve_model(r.model)
    assert again.objective == pytest.approx(22.0 + 2.0 * (0.8 - 0.6) * 10, rel=REL)


def test_share_map_is_interpolated_year_by_year(solve):
    """Years 2030-2032, share {2030: 0.2, 2032: 0.6} -> 0.2, 0.4, 0.6. Each year's clean tonnes
    (2, 4, 6) cost 2 M$ more than CHN's, on top of the 10 a year of the unconstrained case:
        cost = 3 * 10 + 2 * (2 + 4 + 6) = 30 + 24 = 54; dual 2 in each year.
    """
    res = solve(market(years=(2030, 2032), independence=rule({2030: 0.2, 2032: 0.6}))).results
    assert res.objective == pytest.approx(54.0, rel=REL)
    share = res.tables["supply_mix"].set_index("year")["clean_share"].to_dict()
    assert share == pytest.approx({2030: 0.2, 2031: 0.4, 2032: 0.6}, rel=REL)
    duals = res.tables["duals"]
    ind = duals[duals["family"] == "independence"].set_index("year")["dual"].to_dict()
    assert ind == pytest.approx({2030: 2.0, 2031: 2.0, 2032: 2.0}, rel=REL)


def test_rule_years_limit_where_it_binds(solve):
    """Years 2030-2032, share 0.5 with start 2031, end 2031: only 2031 pays for clean magnets,
    0.5 * 10 * (3 - 1) = 10 on top of 10 a year from CHN:
        cost = 3 * 10 + 10 = 40.
    """
    res = solve(market(years=(2030, 2032), independence=rule(0.5, start=2031, end=2031))).results
    assert res.objective == pytest.approx(40.0, rel=REL)
    share = res.tables["supply_mix"].set_index("year")["clean_share"].to_dict()
    assert share == pytest.approx({2030: 0.0, 2031: 0.5, 2032: 0.0}, abs=1e-9)


def test_group_rule_versus_each_region(solve):
    """USA and CAN each demand 10. Clean magnets come only from the US plant (3 M$/t) and cost
    1 M$/t more to ship to Canada (route USA -> CAN at 1); CHN magnets cost 1 anywhere.
    Group rule, share 0.5 over USA + CAN: 10 clean tonnes, all delivered in the USA where they
    are cheapest (3 < 3 + 1):
        cost = 3 * 10 + 1 * 10 = 40.
    each_region: 5 clean in each: 3 * 5 + (3 + 1) * 5 + 1 * 10 = 15 + 20 + 10 = 45.
    """
    routes = {"us_ca": {"origins": ["USA"], "destinations": ["CAN"], "transport_cost": 1.0}}
    kw = {"regions": ("USA", "CAN"), "trade": {"transport_cost": {"magnet": 0.0}, "routes": routes}}
    res = solve(market(independence=rule(0.5, regions=("USA", "CAN")), **kw)).results
    assert res.objective == pytest.approx(40.0, rel=REL)
    share = res.tables["supply_mix"].set_index("region")["clean_share"].to_dict()
    assert share == pytest.approx({"USA": 1.0, "CAN": 0.0}, abs=1e-9)

    each = rule(0.5, regions=("USA", "CAN"), each_region=True)
    res = solve(market(independence=each, **kw)).results
    assert res.objective == pytest.approx(45.0, rel=REL)
    share = res.tables["supply_mix"].set_index("region")["clean_share"].to_dict()
    assert share == pytest.approx({"USA": 0.5, "CAN": 0.5}, rel=REL)


def test_max_origin_share_splits_imports_between_origins(solve):
    """max_origin_share 0.5 for the USA: no origin outside the group may supply more than half
    of the group's supply (own output + imports). AUS (allied) makes magnets at 2 M$/t.
    Unconstrained, CHN supplies all 10 at 1. With the rule, CHN imports x and AUS imports y
    need x <= 0.5 (x + y + US output) and y <= 0.5 (...); the cheapest 10 t are x = 5 (1) and
    y = 5 (2), with no US output (3):
        cost = 5 + 10 = 15.
    """
    data = market(
        independence={
            "diverse": {
                "kind": "max_origin_share",
                "regions": ["USA"],
                "commodity": "magnet",
                "share": 0.5,
            }
        }
    )
    data["regions"]["AUS"] = {"bloc": "allied"}
    data["facilities"]["aus_plant"] = {
        "region": "AUS",
        "process": "make",
        "existing": 100,
        "variable_cost": 2,
    }
    res = solve(data).results
    assert res.objective == pytest.approx(15.0, rel=REL)
    flows = res.tables["flows"].groupby("origin")["quantity_t"].sum().to_dict()
    assert flows == pytest.approx({"CHN": 5.0, "AUS": 5.0}, rel=REL)
