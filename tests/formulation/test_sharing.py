"""Known answers for formulation/sharing.py (capacity-sharing agreements).

The agreement's output Q (its facilities' main output) is split into allocations among the
partners: sum_p alloc_p = Q, alloc_p >= min_share_p * Q, alloc_p <= max_market_share * Q, and
what is allocated to a partner other than the host is what the host ships to it, so no single
market (the host's own included) takes more than max_market_share * Q of the plant's output.
"""

from __future__ import annotations

import pytest

REL = 1e-6


def deal(sharing: dict | None = None) -> dict:
    """Host CAN: a magnet plant at 1 M$/t (100 t/yr). The USA has its own plant at 5 M$/t.
    Demand: CAN 10, USA 40, JPN 10. Every lane costs 0.5 M$/t."""
    return {
        "horizon": {"start": 2030, "end": 2030},
        "discount_rate": 0.0,
        "regions": {
            "CAN": {"bloc": "allied"},
            "USA": {"bloc": "allied"},
            "JPN": {"bloc": "allied"},
        },
        "commodities": {"magnet": {}},
        "processes": {"make": {"stage": "magnet", "output": "magnet"}},
        "facilities": {
            "can_plant": {"region": "CAN", "process": "make", "existing": 100, "variable_cost": 1},
            "usa_plant": {"region": "USA", "process": "make", "existing": 100, "variable_cost": 5},
        },
        "demand": {"CAN": {"magnet": 10}, "USA": {"magnet": 40}, "JPN": {"magnet": 10}},
        "trade": {"transport_cost": {"magnet": 0.5}},
        "sharing": sharing or {},
        "options": {"unmet_penalty": 100.0},
    }


AGREEMENT = {
    "can_deal": {
        "facilities": ["can_plant"],
        "partners": {
            "CAN": {"min_share": 0.2},
            "USA": {"min_share": 0.2},
            "JPN": {"min_share": 0.2},
        },
        "max_market_share": 0.5,
    }
}


def shipped(res) -> dict:
    flows = res.tables["flows"]
    return flows.groupby(["origin", "destination"])["quantity_t"].sum().to_dict()


def test_without_agreement_the_cheap_plant_serves_everyone(solve):
    """No agreement: the CAN plant (1 + 0.5 shipping < 5 at the US plant) serves all 60 t,
    50 of them shipped:
        cost = 1 * 60 + 0.5 * (40 + 10) = 85.
    """
    res = solve(deal()).results
    assert res.objective == pytest.approx(85.0, rel=REL)
    assert shipped(res) == pytest.approx({("CAN", "USA"): 40.0, ("CAN", "JPN"): 10.0}, rel=REL)


def test_partner_minimums_and_single_market_cap_hold(solve):
    """Agreement on the CAN plant: partners CAN, USA, JPN each at least 20% of Q; no market more
    than 50% of Q. Shipments CAN->USA = a_USA <= 0.5 Q and CAN->JPN = a_JPN >= 0.2 Q; the host
    keeps a_CAN = Q - a_USA - a_JPN (>= 0.2 Q), using 10 and disposing of the rest.
    For 50 <= Q <= 80, with a_USA = 0.5 Q (the cap) and a_JPN = 0.2 Q (the minimum), the cost is
        Q * 1 + 0.5 * (0.5 Q + 0.2 Q) + 5 * (40 - 0.5 Q) = 200 - 1.15 Q,
    falling in Q until the USA's 40 t are all served: Q = 80. Beyond 80 nothing more is saved.
        Q = 80; a_USA = 40 (cap), a_JPN = 16 (minimum; 6 t surplus in JPN), a_CAN = 24
        cost = 80 + 0.5 * (40 + 16) = 108 (23 more than without the agreement).
    Without the cap on flows the plant would make only 62.5 t and still ship the USA 40 t, 64%
    of its output, through the host's own allocation.
    """
    r = solve(deal(AGREEMENT))
    res = r.results
    assert res.objective == pytest.approx(108.0, rel=REL)
    q = res.tables["capacity"].set_index("facility").loc["can_plant", "production_t"]
    assert q == pytest.approx(80.0, rel=REL)
    alloc = {p: r.model.alloc["can_deal", p, 2030].value for p in ("CAN", "USA", "JPN")}
    assert alloc == pytest.approx({"CAN": 24.0, "USA": 40.0, "JPN": 16.0}, rel=REL)
    assert sum(alloc.values()) == pytest.approx(q, rel=REL)
    assert shipped(res) == pytest.approx({("CAN", "USA"): 40.0, ("CAN", "JPN"): 16.0}, rel=REL)
    for partner, flow in shipped(res).items():
        assert flow <= 0.5 * q + 1e-6, partner  # no single market over the cap
        assert flow >= 0.2 * q - 1e-6, partner  # every partner its minimum
    mix = res.tables["supply_mix"].set_index("region")["unmet_t"]
    assert mix.sum() == pytest.approx(0.0, abs=1e-9)


def test_agreement_outside_its_years_does_not_bind(solve):
    """Years 2030-2031 with the agreement from 2031: 2030 is the free case (85), 2031 the
    agreement case (108): total 193."""
    data = deal({"can_deal": {**AGREEMENT["can_deal"], "start": 2031}})
    data["horizon"]["end"] = 2031
    res = solve(data).results
    assert res.objective == pytest.approx(85.0 + 108.0, rel=REL)


def test_host_output_outside_the_agreement_may_still_be_shipped(solve):
    """The cap binds the agreement plant's output only. CAN also has a second plant outside the
    agreement (O, 1.5 M$/t). Demand CAN 10, USA 40 (no JPN). Partners CAN and USA, no minimums,
    cap 0.5: with two partners, a_CAN = Q - a_USA <= 0.5 Q forces a_USA = 0.5 Q.
    CAN -> USA shipments s: a_USA <= s <= a_USA + O, i.e. 0.5 Q <= s <= 0.5 Q + O; the host
    also needs Q + O >= 10 + s. Cost Q + 1.5 O + 0.5 s + 5 (40 - s) (the US plant fills the
    rest). For s > 10 the cheapest (Q, O) is Q = 20, O = s - 10, so the cost is
    20 + 1.5 (s - 10) + 0.5 s + 200 - 5 s = 205 - 3 s, lowest at s = 40:
        Q = 20, O = 30, a_USA = a_CAN = 10, s = 40; cost = 20 + 45 + 20 = 85.
    (If the partner could take no more than its allocation even from the other plant, the cost
    would be 100; if the host could pass its own allocation on, it would be 50 + 20 = 70.)
    """
    data = deal(
        {
            "can_deal": {
                "facilities": ["can_plant"],
                "partners": {"CAN": {}, "USA": {}},
                "max_market_share": 0.5,
            }
        }
    )
    del data["demand"]["JPN"]
    data["facilities"]["can_other"] = {
        "region": "CAN",
        "process": "make",
        "existing": 100,
        "variable_cost": 1.5,
    }
    r = solve(data)
    res = r.results
    assert res.objective == pytest.approx(85.0, rel=REL)
    made = res.tables["capacity"].set_index("facility")["production_t"].to_dict()
    assert made == pytest.approx({"can_plant": 20.0, "can_other": 30.0, "usa_plant": 0.0})
    alloc = {p: r.model.alloc["can_deal", p, 2030].value for p in ("CAN", "USA")}
    assert alloc == pytest.approx({"CAN": 10.0, "USA": 10.0}, rel=REL)
    assert shipped(res) == pytest.approx({("CAN", "USA"): 40.0}, rel=REL)
