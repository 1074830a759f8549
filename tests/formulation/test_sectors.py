"""Known answers for formulation/demand.py: demand by sector and price-responsive demand.

A demand split by sector (`demand_sectors`) may go short in tranches: each sector's curtailment
tranches (share of the sector's demand, cost), then the rest of its demand at its shortage cost.
Each tranche is a variable bounded by share * sector share * demand, so a sector with a higher
shortage cost is served first. A demand without sectors keeps one unmet variable at the
commodity's penalty (sector "all").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from allycap.formulation.registry import SHORTAGE_CATEGORIES, account_of, shortfall_rows
from allycap.run import run

REL = 1e-6
ROOT = Path(__file__).resolve().parents[2]


def two_markets(sectors: bool) -> dict:
    """One plant in P (capacity 10, no cost) serves a defence market D (demand 4) and a civilian
    market C (demand 10); shipping P->D costs 2, P->C costs 1 (M$/t); one year, r = 0."""
    data = {
        "horizon": {"start": 2030, "end": 2030},
        "discount_rate": 0.0,
        "regions": {r: {"bloc": "allied"} for r in ("P", "D", "C")},
        "commodities": {"magnet": {}},
        "processes": {"make": {"stage": "magnet", "output": "magnet"}},
        "facilities": {"plant": {"region": "P", "process": "make", "existing": 10}},
        "demand": {"D": {"magnet": 4}, "C": {"magnet": 10}},
        "trade": {
            "transport_cost": {"magnet": 1.0},
            "routes": {"to_d": {"destinations": ["D"], "transport_cost": 2.0}},
        },
        "options": {"unmet_penalty": 20.0},
    }
    if sectors:
        data["sectors"] = {
            "defence": {"shortage_cost": 50.0},
            "civil": {"shortage_cost": 20.0},
        }
        data["demand_sectors"] = {
            "D": {"magnet": {"defence": 1.0}},
            "C": {"magnet": {"civil": 1.0}},
        }
    return data


def test_without_sectors_the_dearer_market_goes_short(solve):
    """Uniform penalty 20 M$/t: 14 t of demand, 10 t of supply, 4 t short wherever it is cheapest
    to leave them. A tonne to D costs 2, to C 1, so D (defence) goes unmet, as the default
    inputs did for USD:
        cost = 1*10 (P->C) + 20*4 (D unmet) = 90."""
    r = solve(two_markets(sectors=False))
    assert r.results.objective == pytest.approx(90.0, rel=REL)
    rows = shortfall_rows(r.model, r.data)
    assert [(x.region, x.sector, x.kind, x.cost) for x in rows] == [("D", "all", "unmet", 20.0)]
    assert rows[0].tonnes == pytest.approx(4.0, rel=REL)


def test_defence_is_served_first_in_a_shortage(solve):
    """Sectors: defence (D) 50 M$/t, civil (C) 20 M$/t. Leaving a D tonne short costs 50 - 2 =
    48 net of its shipping, a C tonne 20 - 1 = 19, so C goes short by 4 and D is served:
        cost = 2*4 (P->D) + 1*6 (P->C) + 20*4 (C unmet) = 8 + 6 + 80 = 94.
    Duals (M$/t): C's demand price is its shortage cost, 20; the plant's rent is 20 - 1 = 19;
    D's price is 19 + 2 = 21 (below its 50: D is not short)."""
    r = solve(two_markets(sectors=True))
    res = r.results
    assert res.objective == pytest.approx(94.0, rel=REL)
    rows = shortfall_rows(r.model, r.data)
    assert [(x.region, x.sector, x.kind, x.cost) for x in rows] == [("C", "civil", "unmet", 20.0)]
    assert rows[0].tonnes == pytest.approx(4.0, rel=REL)
    shipped = res.tables["flows"].groupby("destination")["quantity_t"].sum().to_dict()
    assert shipped == pytest.approx({"D": 4.0, "C": 6.0}, rel=REL)
    duals = res.tables["duals"]
    demand = duals[duals["family"] == "demand"].set_index("region")["dual"].to_dict()
    assert demand == pytest.approx({"C": 20.0, "D": 21.0}, rel=REL)
    # the shortage account: 80 of the 94 (costs.csv and the objective are one account)
    costs = res.tables["costs"].groupby("category")["present_value_musd"].sum()
    assert costs["unmet"] == pytest.approx(80.0, rel=REL)
    assert costs.get("curtailment", 0.0) == pytest.approx(0.0, abs=1e-9)
    assert costs.sum() == pytest.approx(94.0, rel=REL)


def test_defence_goes_short_only_after_civil_demand_is_gone(solve):
    """Plant capacity cut to 2: 12 t short of 14. C (10 t) can only give up its whole demand,
    then D gives up 2:  cost = 2*2 (P->D) + 20*10 + 50*2 = 4 + 200 + 100 = 304.
    D's demand dual is then its shortage cost, 50."""
    data = two_markets(sectors=True)
    data["facilities"]["plant"]["existing"] = 2
    r = solve(data)
    assert r.results.objective == pytest.approx(304.0, rel=REL)
    got = {(x.region, x.sector): x.tonnes for x in shortfall_rows(r.model, r.data)}
    assert got == pytest.approx({("C", "civil"): 10.0, ("D", "defence"): 2.0}, rel=REL)
    duals = r.results.tables["duals"]
    demand = duals[duals["family"] == "demand"].set_index("region")["dual"].to_dict()
    assert demand["D"] == pytest.approx(50.0, rel=REL)


def tranche_curve(capacity: float) -> dict:
    """One region, demand 10, all in sector `ev`: shortage cost 10, tranches 20% at 1 and 30% at
    4 (M$/t); a plant of `capacity` at variable cost 0.5; one year, r = 0."""
    return {
        "horizon": {"start": 2030, "end": 2030},
        "discount_rate": 0.0,
        "regions": {"A": {"bloc": "allied"}},
        "commodities": {"magnet": {}},
        "processes": {"make": {"stage": "magnet", "output": "magnet"}},
        "facilities": {
            "plant": {"region": "A", "process": "make", "existing": capacity, "variable_cost": 0.5}
        },
        "demand": {"A": {"magnet": 10}},
        "sectors": {
            "ev": {
                "shortage_cost": 10.0,
                "tranches": [{"share": 0.2, "cost": 1.0}, {"share": 0.3, "cost": 4.0}],
            }
        },
        "demand_sectors": {"A": {"magnet": {"ev": 1.0}}},
        "options": {"unmet_penalty": 100.0},
    }


def test_a_tranche_curve_costs_its_steps_in_order(solve):
    """Capacity 2, demand 10: 8 t short. The steps, cheapest first: tranche 1 is 0.2*10 = 2 t at
    1, tranche 2 is 0.3*10 = 3 t at 4, the rest 5 t at 10. Eight tonnes take 2 + 3 + 3:
        curtailment = 2*1 + 3*4 = 14;  unmet = 3*10 = 30;  resource = 0.5*2 = 1;
        objective = 45.
    The demand dual is the marginal step's cost, 10 (the commodity penalty 100 plays no part)."""
    r = solve(tranche_curve(capacity=2))
    res = r.results
    assert res.objective == pytest.approx(45.0, rel=REL)
    rows = sorted(shortfall_rows(r.model, r.data), key=lambda x: x.cost)
    assert [(x.kind, x.cost) for x in rows] == [
        ("curtailment", 1.0),
        ("curtailment", 4.0),
        ("unmet", 10.0),
    ]
    assert [x.tonnes for x in rows] == pytest.approx([2.0, 3.0, 3.0], rel=REL)
    costs = res.tables["costs"].groupby("category")["present_value_musd"].sum()
    assert costs["curtailment"] == pytest.approx(14.0, rel=REL)
    assert costs["unmet"] == pytest.approx(30.0, rel=REL)
    shortage = sum(v for cat, v in costs.items() if account_of(cat) == "shortage")
    assert shortage == pytest.approx(44.0, rel=REL)
    assert {"curtailment", "unmet"} <= set(SHORTAGE_CATEGORIES)
    duals = res.tables["duals"]
    assert duals.loc[duals["family"] == "demand", "dual"].item() == pytest.approx(10.0, rel=REL)


def test_a_smaller_shortage_stops_on_a_curtailment_step(solve):
    """Capacity 6: 4 t short, 2 t at 1 and 2 t at 4 (tranche 2 part used):
        objective = 0.5*6 + 2*1 + 2*4 = 3 + 2 + 8 = 13;
    the demand price is tranche 2's cost, 4 M$/t = 4,000 USD/kg: demand responds to price."""
    r = solve(tranche_curve(capacity=6))
    assert r.results.objective == pytest.approx(13.0, rel=REL)
    kinds = {x.kind for x in shortfall_rows(r.model, r.data)}
    assert kinds == {"curtailment"}
    duals = r.results.tables["duals"]
    demand = duals[duals["family"] == "demand"]
    assert demand["dual"].item() == pytest.approx(4.0, rel=REL)
    assert demand["value"].item() == pytest.approx(4000.0, rel=REL)


def test_tranche_bounds_follow_interpolated_sector_shares(solve):
    """Demand 10 in 2030-2032; `ev`'s share {2030: 0.2, 2032: 0.4} is 0.3 in 2031 and `other`
    (no tranches, shortage cost 5) takes the rest. Bounds in 2031: ev tranche 1 = 0.2 * 0.3 * 10
    = 0.6, tranche 2 = 0.3 * 3 = 0.9, rest = 0.5 * 3 = 1.5; other's single tranche = 7."""
    data = tranche_curve(capacity=10)
    data["horizon"]["end"] = 2032
    data["sectors"]["other"] = {"shortage_cost": 5.0}
    data["demand_sectors"]["A"]["magnet"] = {
        "ev": {2030: 0.2, 2032: 0.4},
        "other": {2030: 0.8, 2032: 0.6},
    }
    r = solve(data)
    bounds = {
        (t.sector, t.tranche): t.bound for t in r.data.shortfall_tranches.values() if t.year == 2031
    }
    assert bounds == pytest.approx(
        {("ev", 1): 0.6, ("ev", 2): 0.9, ("ev", 3): 1.5, ("other", 1): 7.0}, rel=REL
    )
    m = r.model
    assert m.shortfall["A", "magnet", "ev", 2031, 2].ub == pytest.approx(0.9, rel=REL)


def test_default_inputs_serve_us_defence_first_under_the_export_ban():
    """The default inputs under china_export_ban: the allies are short of magnets in 2026, yet
    USD (US defence, all `defence` at 10 M$/t, the highest shortage cost) is served in full, and
    the shortfall falls on civilian sectors. Before sectors, USD's 643 t went unmet in 2026."""
    r = run(
        ROOT / "inputs" / "base.yaml", [ROOT / "inputs" / "scenarios" / "china_export_ban.yaml"]
    )
    assert r.results.status == "optimal"
    rows = [x for x in shortfall_rows(r.model, r.data) if x.year == 2026]
    assert sum(x.tonnes for x in rows) > 10_000  # a real shortage
    assert not [x for x in rows if x.region == "USD" or x.sector == "defence"]
    assert r.data.demand["USD", "magnet", 2026] == pytest.approx(643.0)
