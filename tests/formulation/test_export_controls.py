"""Known answers for formulation/export_controls.py.

For each control, commodity and year: sum of shipments over the listed origins and
destinations (both tags) <= limit; limit 0 is a ban.
"""

from __future__ import annotations

import pytest

REL = 1e-6


def market(aus_capacity: float, controls: dict | None = None, end: int = 2030) -> dict:
    """CHN (restricted) magnets at 1 M$/t, AUS (allied) at 2 M$/t with `aus_capacity`; the USA
    demands 10 t/yr; shipping is free; unmet demand costs 100 M$/t."""
    return {
        "horizon": {"start": 2030, "end": end},
        "discount_rate": 0.0,
        "regions": {
            "USA": {"bloc": "allied"},
            "AUS": {"bloc": "allied"},
            "CHN": {"bloc": "restricted"},
        },
        "commodities": {"magnet": {}},
        "processes": {"make": {"stage": "magnet", "output": "magnet"}},
        "facilities": {
            "chn_plant": {"region": "CHN", "process": "make", "existing": 100, "variable_cost": 1},
            "aus_plant": {
                "region": "AUS",
                "process": "make",
                "existing": aus_capacity,
                "variable_cost": 2,
            },
        },
        "demand": {"USA": {"magnet": 10}},
        "trade": {"transport_cost": {"magnet": 0.0}},
        "export_controls": controls or {},
        "options": {"unmet_penalty": 100.0},
    }


def ban(limit=0.0, **kw) -> dict:
    return {
        "chn_ban": {
            "origins": ["restricted"],
            "destinations": ["allied"],
            "commodities": ["magnet"],
            "limit": limit,
            **kw,
        }
    }


def shipped_from(res, origin: str) -> float:
    flows = res.tables["flows"]
    return float(flows.loc[flows["origin"] == origin, "quantity_t"].sum())


def test_ban_shifts_supply_to_an_allied_source(solve):
    """No control: all 10 t from CHN at 1, cost 10. A ban on restricted -> allied magnets moves
    them to AUS (capacity 100) at 2:
        cost = 2 * 10 = 20; nothing ships from CHN.
    """
    res = solve(market(aus_capacity=100)).results
    assert res.objective == pytest.approx(10.0, rel=REL)
    assert shipped_from(res, "CHN") == pytest.approx(10.0, rel=REL)

    res = solve(market(aus_capacity=100, controls=ban())).results
    assert res.objective == pytest.approx(20.0, rel=REL)
    assert shipped_from(res, "CHN") == 0.0
    assert shipped_from(res, "AUS") == pytest.approx(10.0, rel=REL)


def test_ban_leaves_demand_short_and_reports_its_cost(solve):
    """AUS capacity only 6. With the ban: 6 t from AUS at 2 and 4 t unmet at 100:
        cost = 12 + 400 = 412.
    One more tonne allowed through the control would replace an unmet tonne (100) with a CHN
    tonne (1), a saving of 99 M$/t. A ban is degenerate (the shipment sits at its bound 0 and at
    the limit 0), so any dual <= -99 is valid (CHN's balance price may be anything in [0, 1]);
    only the bound is asserted here, the exact figure in the quota test below.
    """
    res = solve(market(aus_capacity=6, controls=ban())).results
    assert res.objective == pytest.approx(412.0, rel=REL)
    assert shipped_from(res, "CHN") == 0.0
    assert res.tables["supply_mix"]["unmet_t"].item() == pytest.approx(4.0, rel=REL)
    duals = res.tables["duals"]
    row = duals[duals["family"] == "export_control"]
    assert row["rule"].tolist() == ["chn_ban"]
    assert row["dual"].item() <= -99.0 + 1e-6
    assert row["value"].item() >= 99_000.0 - 1e-3


def test_quota_caps_shipments_at_the_limit(solve):
    """Limit 3 t/yr instead of a ban, AUS capacity 6: CHN 3 at 1, AUS 6 at 2, 1 t unmet:
        cost = 3 + 12 + 100 = 115.
    Not degenerate (CHN ships 3 > 0), so the dual is exactly -(100 - 1) = -99 M$/t: the
    duals table reports a saving of 99 M$/t = 99,000 USD/kg (one year, weight 1).
    """
    res = solve(market(aus_capacity=6, controls=ban(limit=3.0))).results
    assert res.objective == pytest.approx(115.0, rel=REL)
    assert shipped_from(res, "CHN") == pytest.approx(3.0, rel=REL)
    duals = res.tables["duals"]
    row = duals[duals["family"] == "export_control"]
    assert row["dual"].item() == pytest.approx(-99.0, rel=REL)
    assert row["value"].item() == pytest.approx(99_000.0, rel=REL)


def test_control_applies_only_in_its_years(solve):
    """Years 2030-2031, ban from 2031 on, AUS capacity 6: 2030 costs 10 (all CHN), 2031 costs
    412 as above: total 422; CHN ships 10 in 2030 and nothing in 2031."""
    res = solve(market(aus_capacity=6, controls=ban(start=2031), end=2031)).results
    assert res.objective == pytest.approx(422.0, rel=REL)
    flows = res.tables["flows"]
    chn = flows[flows["origin"] == "CHN"].groupby("year")["quantity_t"].sum().to_dict()
    assert chn == pytest.approx({2030: 10.0}, rel=REL)
