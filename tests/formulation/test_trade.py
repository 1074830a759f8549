"""Known answers for formulation/trade.py: no re-export of imported material."""

from __future__ import annotations

import pytest

REL = 1e-6


def tariff_case() -> dict:
    """China makes magnets at 1 M$/t, Canada at 3 M$/t (100 t/yr); the US needs 10 t/yr and
    charges a 5 M$/t tariff on Chinese magnets. Freight is free."""
    return {
        "horizon": {"start": 2030, "end": 2030},
        "discount_rate": 0.0,
        "regions": {
            "CHN": {"bloc": "restricted"},
            "CAN": {"bloc": "allied"},
            "USA": {"bloc": "allied"},
        },
        "commodities": {"magnet": {}},
        "processes": {"make": {"stage": "magnet", "output": "magnet"}},
        "facilities": {
            "chn": {"region": "CHN", "process": "make", "existing": 100, "variable_cost": 1.0},
            "can": {"region": "CAN", "process": "make", "existing": 100, "variable_cost": 3.0},
        },
        "demand": {"USA": {"magnet": 10}, "CAN": {"magnet": 1}},
        "trade": {
            "transport_cost": {"magnet": 0.0},
            "tariffs": {
                "us_on_chn": {"origins": ["CHN"], "destinations": ["USA"], "per_tonne": 5.0}
            },
        },
        "options": {"retag_cost": 0.0},
    }


def test_imports_cannot_be_re_exported_to_dodge_a_tariff(solve):
    """If Canada could pass Chinese magnets on, the US would pay 1 M$/t (via Canada) and the
    whole 11 t would cost 11. Re-export is not allowed, so the US buys from Canada's own plant
    at 3 (cheaper than 1 + 5 = 6 direct from China), and Canada buys its own 1 t from China at 1:
        cost = 10 * 3 + 1 * 1 = 31."""
    r = solve(tariff_case())
    assert r.results.objective == pytest.approx(31.0, rel=REL)
    flows = r.results.tables["flows"]
    to_usa = flows[flows.destination == "USA"]
    assert set(to_usa.origin) == {"CAN"}
    assert to_usa.quantity_t.sum() == pytest.approx(10.0, rel=REL)


def test_exports_are_bounded_by_own_production(solve):
    """With Canada's plant limited to 4 t/yr, Canada ships at most 4 t to the US; the other
    6 t come from China with the tariff (6 per t); Canada's own 1 t comes from China (1):
        cost = 4 * 3 + 6 * 6 + 1 * 1 = 49."""
    data = tariff_case()
    data["facilities"]["can"]["existing"] = 4
    r = solve(data)
    assert r.results.objective == pytest.approx(49.0, rel=REL)
