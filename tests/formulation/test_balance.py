"""Known answers for formulation/balance.py (and the trade lanes it draws on).

Balance per region, commodity, year and tag is supply >= use (free disposal); demand is
sum_k deliver + unmet = demand; lanes run only from a region that makes a tradable commodity to
a region that uses it (no transshipment).
"""

from __future__ import annotations

import pytest

REL = 1e-6


def transport_problem(supply_p2: float = 35.0) -> dict:
    """Two plants (P1, P2), three markets (M1, M2, M3), one year, no discounting."""
    cost = {
        ("P1", "M1"): 4.0,
        ("P1", "M2"): 6.0,
        ("P1", "M3"): 9.0,
        ("P2", "M1"): 5.0,
        ("P2", "M2"): 3.0,
        ("P2", "M3"): 7.0,
    }
    return {
        "horizon": {"start": 2030, "end": 2030},
        "discount_rate": 0.0,
        "regions": {r: {"bloc": "allied"} for r in ("P1", "P2", "M1", "M2", "M3")},
        "commodities": {"good": {}},
        "processes": {"make": {"stage": "extraction", "output": "good"}},
        "facilities": {
            "plant1": {"region": "P1", "process": "make", "existing": 20},
            "plant2": {"region": "P2", "process": "make", "existing": supply_p2},
        },
        "demand": {"M1": {"good": 10}, "M2": {"good": 25}, "M3": {"good": 15}},
        "trade": {
            "transport_cost": {"good": 0.0},
            "routes": {
                f"{o}_{d}": {"origins": [o], "destinations": [d], "transport_cost": c}
                for (o, d), c in cost.items()
            },
        },
        "options": {"unmet_penalty": 100.0},
    }


def test_two_plant_three_market_transport_problem(solve):
    """Classic transportation problem; supplies P1 = 20, P2 = 35; demands M1 = 10, M2 = 25,
    M3 = 15 (50 < 55, so P2 has 5 t spare in principle). Unit costs (M$/t):

             M1  M2  M3
        P1    4   6   9
        P2    5   3   7

    Each market on its own would buy from its cheapest plant: M1 from P1 (4), M2 and M3 from P2
    (3, 7); P2 would then need 25 + 15 = 40 > 35, so P2 is the binding plant and P1 has slack.
    P2 loses the least by giving up M3 (P1 costs 9 - 7 = 2 more there, against 6 - 3 = 3 more
    at M2), so P1 takes M1 = 10 and M3 = 5, P2 takes M2 = 25 and M3 = 10.
        cost = 4*10 + 9*5 + 3*25 + 7*10 = 40 + 45 + 75 + 70 = 230.
    Optimality (MODI): P1 has slack so u1 = 0; v1 = 4, v3 = 9; u2 = 7 - 9 = -2; v2 = 3 + 2 = 5.
    Reduced costs of the empty cells: (P1,M2) 6 - 0 - 5 = 1 > 0, (P2,M1) 5 + 2 - 4 = 3 > 0, so
    the optimum is unique, and the demand duals (marginal cost of a tonne) are v = (4, 5, 9).
    """
    r = solve(transport_problem())
    res = r.results
    assert res.status == "optimal"
    assert res.objective == pytest.approx(230.0, rel=REL)

    flows = res.tables["flows"]
    shipped = flows.groupby(["origin", "destination"])["quantity_t"].sum().to_dict()
    assert shipped == pytest.approx(
        {("P1", "M1"): 10.0, ("P1", "M3"): 5.0, ("P2", "M2"): 25.0, ("P2", "M3"): 10.0}, rel=REL
    )
    mix = res.tables["supply_mix"].set_index("region")
    assert mix["unmet_t"].sum() == pytest.approx(0.0, abs=1e-9)

    duals = res.tables["duals"]
    demand = duals[duals["family"] == "demand"].set_index("region")["dual"].to_dict()
    assert demand == pytest.approx({"M1": 4.0, "M2": 5.0, "M3": 9.0}, rel=REL)
    # reported in that year's money per kg: 4 M$/t = 4e6 USD / 1000 kg = 4000 USD/kg
    value = duals[duals["family"] == "demand"].set_index("region")["value"].to_dict()
    assert value == pytest.approx({"M1": 4000.0, "M2": 5000.0, "M3": 9000.0}, rel=REL)


def test_transport_problem_with_short_supply_leaves_unmet_demand(solve):
    """Same problem with P2's supply cut to 20: supply 40 against demand 50, so 10 t are unmet
    at 100 M$/t wherever they fall; all 40 t are shipped and routed at least cost.
    Candidate: P2 -> M2 20 (3), P1 -> M1 10 (4), P1 -> M2 5 (6), P1 -> M3 5 (9); M3 short 10.
        cost = 3*20 + 4*10 + 6*5 + 9*5 + 100*10 = 60 + 40 + 30 + 45 + 1000 = 1175.
    Proof by duals (market price v_j, plant rent p_i >= 0, basic cells c_ij = v_j - p_i):
    M3 is short, so v3 = 100 (the penalty); p1 = 100 - 9 = 91; v1 = 4 + 91 = 95;
    v2 = 6 + 91 = 97; p2 = 97 - 3 = 94. Reduced costs of the rest: (P2,M1) 5 + 94 - 95 = 4,
    (P2,M3) 7 + 94 - 100 = 1, unmet at M1 100 - 95 = 5, unmet at M2 100 - 97 = 3: all > 0, so
    the optimum is unique.
    """
    r = solve(transport_problem(supply_p2=20.0))
    res = r.results
    assert res.objective == pytest.approx(1175.0, rel=REL)
    mix = res.tables["supply_mix"].set_index("region")
    assert mix["unmet_t"].to_dict() == pytest.approx({"M1": 0.0, "M2": 0.0, "M3": 10.0}, abs=1e-6)
    shipped = res.tables["flows"].groupby(["origin", "destination"])["quantity_t"].sum().to_dict()
    assert shipped == pytest.approx(
        {("P1", "M1"): 10.0, ("P1", "M2"): 5.0, ("P1", "M3"): 5.0, ("P2", "M2"): 20.0}, rel=REL
    )


def one_region(existing: float, demand: float, **options) -> dict:
    """Region A with one source plant of `existing` t/yr and a demand, one year, r = 0."""
    return {
        "horizon": {"start": 2030, "end": 2030},
        "discount_rate": 0.0,
        "regions": {"A": {"bloc": "allied"}},
        "commodities": {"good": {}},
        "processes": {"make": {"stage": "extraction", "output": "good"}},
        "facilities": {
            "plant": {"region": "A", "process": "make", "existing": existing, "variable_cost": 1}
        },
        "demand": {"A": {"good": demand}},
        "options": {"unmet_penalty": 100.0, **options},
    }


def test_shortfall_is_priced_at_the_commodity_penalty(solve):
    """Capacity 6, demand 10, variable cost 1: deliver 6, unmet 4. The commodity's own
    unmet_penalty (30) overrides options.unmet_penalty (100):
        cost = 1*6 + 30*4 = 126   (with the option's 100 it would be 6 + 400 = 406).
    The demand dual is the penalty, 30: one more tonne of demand is one more tonne unmet.
    """
    data = one_region(existing=6, demand=10)
    data["commodities"]["good"] = {"unmet_penalty": 30.0}
    res = solve(data).results
    assert res.objective == pytest.approx(126.0, rel=REL)
    mix = res.tables["supply_mix"].iloc[0]
    assert mix["unmet_t"] == pytest.approx(4.0, rel=REL)
    assert mix["delivered_clean_t"] == pytest.approx(6.0, rel=REL)
    assert mix["unmet_share"] == pytest.approx(0.4, rel=REL)
    duals = res.tables["duals"]
    assert duals.loc[duals["family"] == "demand", "dual"].item() == pytest.approx(30.0, rel=REL)

    res = solve(one_region(existing=6, demand=10)).results
    assert res.objective == pytest.approx(406.0, rel=REL)


def test_strict_mode_turns_a_shortfall_into_infeasibility(solve):
    """Capacity 6 < demand 10 with no unmet variable (strict): no feasible point. With capacity
    10 the same strict run is optimal at cost 1*10 = 10."""
    assert solve(one_region(existing=6, demand=10), strict=True).results.status == "infeasible"
    res = solve(one_region(existing=10, demand=10, strict=True)).results
    assert res.status == "optimal"
    assert res.objective == pytest.approx(10.0, rel=REL)


def test_no_transshipment_through_a_region_that_only_uses(solve):
    """A makes, B and C only use (demand 10 each). Lanes: A->B at 1, A->C at 10. A route B->C
    at 1 is declared, but B makes nothing, so no B->C lane exists and C cannot be served via B
    (which would cost 1 + 1 = 2):
        cost = 1*10 + 10*10 = 110.
    """
    data = {
        "horizon": {"start": 2030, "end": 2030},
        "discount_rate": 0.0,
        "regions": {r: {"bloc": "allied"} for r in ("A", "B", "C")},
        "commodities": {"good": {}},
        "processes": {"make": {"stage": "extraction", "output": "good"}},
        "facilities": {"plant": {"region": "A", "process": "make", "existing": 100}},
        "demand": {"B": {"good": 10}, "C": {"good": 10}},
        "trade": {
            "transport_cost": {"good": 1.0},
            "routes": {
                "a_c": {"origins": ["A"], "destinations": ["C"], "transport_cost": 10.0},
                "b_c": {"origins": ["B"], "destinations": ["C"], "transport_cost": 1.0},
            },
        },
        "options": {"unmet_penalty": 100.0},
    }
    r = solve(data)
    assert r.results.objective == pytest.approx(110.0, rel=REL)
    assert sorted(r.data.lanes) == [("good", "A", "B"), ("good", "A", "C")]
    shipped = r.results.tables["flows"].groupby(["origin", "destination"])["quantity_t"].sum()
    assert shipped.to_dict() == pytest.approx({("A", "B"): 10.0, ("A", "C"): 10.0}, rel=REL)


def test_closed_route_removes_the_lane(solve):
    """The transport problem with P1 -> M1 closed (allowed: false): M1 must buy from P2 at 5.
    P2 (35) now serves M1 10 and M2 25 (cost 5 and 3, its best uses: moving a P2 tonne from
    M2 to M3 and a P1 tonne from M3 to M2 costs (7 - 3) + (6 - 9) = +1), P1 serves M3 15:
        cost = 5*10 + 3*25 + 9*15 = 50 + 75 + 135 = 260.
    """
    data = transport_problem()
    data["trade"]["routes"]["closed"] = {
        "origins": ["P1"],
        "destinations": ["M1"],
        "allowed": False,
    }
    r = solve(data)
    assert ("good", "P1", "M1") not in r.data.lanes
    assert r.results.objective == pytest.approx(260.0, rel=REL)
    shipped = r.results.tables["flows"].groupby(["origin", "destination"])["quantity_t"].sum()
    assert shipped.to_dict() == pytest.approx(
        {("P2", "M1"): 10.0, ("P2", "M2"): 25.0, ("P1", "M3"): 15.0}, rel=REL
    )


def test_coproduct_enters_the_balance_and_surplus_is_disposed(solve):
    """A smelter makes metal with 0.5 t of scrap per t (co-product), no inputs, variable cost 1,
    capacity 100. Demand: metal 10, scrap 8. Scrap needs 8 / 0.5 = 16 t of metal output, which
    costs 16 < the penalty on 8 - 5 = 3 t unmet scrap (300), so output is 16 and the 6 t of
    surplus metal are disposed (balance is >=):
        cost = 1*16 = 16; production 16 metal + 8 scrap.
    """
    data = {
        "horizon": {"start": 2030, "end": 2030},
        "discount_rate": 0.0,
        "regions": {"A": {"bloc": "allied"}},
        "commodities": {"metal": {}, "scrap": {}},
        "processes": {"smelt": {"stage": "metal", "output": "metal", "coproducts": {"scrap": 0.5}}},
        "facilities": {
            "smelter": {"region": "A", "process": "smelt", "existing": 100, "variable_cost": 1}
        },
        "demand": {"A": {"metal": 10, "scrap": 8}},
        "options": {"unmet_penalty": 100.0},
    }
    res = solve(data).results
    assert res.objective == pytest.approx(16.0, rel=REL)
    made = res.tables["production"].set_index(["commodity", "role"])["quantity_t"]
    assert made[("metal", "output")] == pytest.approx(16.0, rel=REL)
    assert made[("scrap", "coproduct")] == pytest.approx(8.0, rel=REL)
    assert res.tables["supply_mix"]["unmet_t"].sum() == pytest.approx(0.0, abs=1e-9)
