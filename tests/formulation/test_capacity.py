"""Known answers for formulation/capacity.py: vintages, lead times, lifetimes, availability,
build limits and resource limits.

new[f,v] decided in model year v is online from v + lead_time (inclusive) for `lifetime` years;
decisions whose online year falls before `earliest` or after the horizon end do not exist.
Production <= availability * (existing + online new).
"""

from __future__ import annotations

import pytest

REL = 1e-6
PENALTY = 100.0


def builder(
    lead_time: int = 0,
    lifetime: int = 10,
    start: int = 2030,
    end: int = 2034,
    step: int = 1,
    demand: float = 10.0,
    **expansion,
) -> dict:
    """Region A: demand for `good`, one candidate plant with capex 1 M$ per t/yr, r = 0."""
    return {
        "horizon": {"start": start, "end": end, "step": step},
        "discount_rate": 0.0,
        "regions": {"A": {"bloc": "allied"}},
        "commodities": {"good": {}},
        "processes": {"make": {"stage": "magnet", "output": "good"}},
        "facilities": {
            "plant": {
                "region": "A",
                "process": "make",
                "expansion": {
                    "capex": 1.0,
                    "lead_time": lead_time,
                    "lifetime": lifetime,
                    **expansion,
                },
            }
        },
        "demand": {"A": {"good": demand}},
        "options": {"unmet_penalty": PENALTY},
    }


def by_year(table, column, **where):
    for key, value in where.items():
        table = table[table[key] == value]
    return table.groupby("year")[column].sum().to_dict()


def test_shortfall_until_decision_year_plus_lead_time(solve):
    """Years 2030-2034, demand 10, lead time 2, lifetime 10 (CRF at r = 0 is 1/10), capex 1.
    Decisions exist for v + 2 <= 2034: v = 2030, 2031, 2032. The earliest capacity is decided
    in 2030 and online from exactly 2032, so 2030 and 2031 are short by 10 each:
        unmet    = 100 * (10 + 10) = 2000
        capital  = 10 t/yr * 1 * 1/10 per online year * 3 years (2032-2034) = 3
        total    = 2003.
    Only the 2030 vintage serves 2032, so new[2030] = 10 and nothing else is built.
    """
    r = solve(builder(lead_time=2, lifetime=10))
    res = r.results
    assert res.objective == pytest.approx(2003.0, rel=REL)
    assert sorted(v for _, v in r.model.new) == [2030, 2031, 2032]
    inv = res.tables["investments"]
    assert inv[["decision_year", "online_year", "new_capacity_t"]].values.tolist() == [
        [2030, 2032, 10.0]
    ]
    unmet = res.tables["supply_mix"].set_index("year")["unmet_t"].to_dict()
    assert unmet == pytest.approx({2030: 10, 2031: 10, 2032: 0, 2033: 0, 2034: 0}, abs=1e-6)
    online = res.tables["capacity"].set_index("year")["new_online_t"].to_dict()
    assert online.get(2031, 0.0) == 0.0
    assert online[2032] == pytest.approx(10.0, rel=REL)


def test_earliest_removes_decisions_that_would_come_online_too_soon(solve):
    """As above with expansion.earliest = 2033: decisions need 2033 <= v + 2 <= 2034, so only
    v = 2031 and 2032 exist, and 2030-2032 are short:
        unmet = 100 * 30 = 3000; capital = 10 * 1/10 * 2 years (2033, 2034) = 2; total 3002.
    """
    r = solve(builder(lead_time=2, lifetime=10, earliest=2033))
    assert sorted(v for _, v in r.model.new) == [2031, 2032]
    assert r.results.objective == pytest.approx(3002.0, rel=REL)
    assert r.model.new["plant", 2031].value == pytest.approx(10.0, rel=REL)


def test_vintage_retires_after_its_lifetime(solve):
    """Lead time 2, lifetime 2 (CRF 1/2): the 2030 vintage is online 2032 and 2033 only, so 2034
    needs a second vintage decided in 2032:
        unmet   = 100 * 20 = 2000 (2030, 2031)
        capital = 10 * 1/2 * 2 years + 10 * 1/2 * 1 year (2034 inside the horizon) = 10 + 5
        total   = 2015; new[2030] = new[2032] = 10.
    """
    r = solve(builder(lead_time=2, lifetime=2))
    assert r.results.objective == pytest.approx(2015.0, rel=REL)
    inv = r.results.tables["investments"].set_index("decision_year")["new_capacity_t"]
    assert inv.to_dict() == pytest.approx({2030: 10.0, 2032: 10.0}, rel=REL)
    online = by_year(r.results.tables["capacity"], "new_online_t")
    assert online == pytest.approx({2032: 10.0, 2033: 10.0, 2034: 10.0}, rel=REL)


def test_step_five_capacity_online_in_the_period_holding_its_ready_year(solve):
    """Years 2030, 2035, 2040 (step 5, each weighs 5 years at r = 0; the last period covers
    2040-2044), lead time 3, lifetime 20 (CRF 1/20). Decisions: ready v + 3 <= 2044, so
    v = 2030, 2035 and 2040. The 2030 vintage is ready in 2033, inside the 2030 period, so it
    is online in 2030 and in every model year before 2030 + 20 (2030, 2035, 2040):
        unmet   = 0
        capital = 10 * 1/20 * (5 + 5 + 5) = 7.5
        total   = 7.5.
    (Before periods were rounded this way, the vintage waited for 2035 and 2030 was short.)
    """
    r = solve(builder(lead_time=3, lifetime=20, end=2040, step=5))
    assert sorted(v for _, v in r.model.new) == [2030, 2035, 2040]
    assert r.results.objective == pytest.approx(7.5, rel=REL)
    assert r.model.new["plant", 2030].value == pytest.approx(10.0, rel=REL)
    unmet = r.results.tables["supply_mix"].set_index("year")["unmet_t"].to_dict()
    assert unmet == pytest.approx({2030: 0.0, 2035: 0.0, 2040: 0.0}, abs=1e-6)


def test_build_max_caps_total_new_capacity(solve):
    """Lead 0, lifetime 10, years 2030-2032, expansion.max = 7: build 7 in 2030, 3 t/yr short
    every year:
        unmet = 100 * 3 * 3 = 900; capital = 7 * 1/10 * 3 = 2.1; total = 902.1.
    """
    res = solve(builder(end=2032, max=7)).results
    assert res.objective == pytest.approx(902.1, rel=REL)
    assert res.tables["investments"]["new_capacity_t"].sum() == pytest.approx(7.0, rel=REL)


def test_ramp_caps_new_capacity_per_year(solve):
    """Lead 0, lifetime 10, years 2030-2032, ramp 3 t/yr per year: build 3 each year, so
    capacity is 3, 6, 9 and the shortfall 7, 4, 1:
        unmet = 100 * 12 = 1200; capital = 3 * 1/10 * (3 + 2 + 1) = 1.8; total = 1201.8.
    """
    res = solve(builder(end=2032, ramp=3)).results
    assert res.objective == pytest.approx(1201.8, rel=REL)
    unmet = res.tables["supply_mix"].set_index("year")["unmet_t"].to_dict()
    assert unmet == pytest.approx({2030: 7.0, 2031: 4.0, 2032: 1.0}, rel=REL)


def existing_plant(availability, resource=None, step=1, end=2032) -> dict:
    data = builder(end=end, step=step)
    plant = {"region": "A", "process": "make", "existing": 10, "variable_cost": 1.0}
    plant["availability"] = availability
    if resource is not None:
        plant["resource"] = resource
    data["facilities"] = {"plant": plant}
    return data


def test_availability_is_interpolated_and_limits_output(solve):
    """Existing 10 t/yr, availability {2030: 0.5, 2032: 0.9} -> 0.5, 0.7, 0.9 (linear), demand
    10, variable cost 1: output 5, 7, 9 and unmet 5, 3, 1:
        cost = 1 * 21 + 100 * 9 = 921.
    """
    res = solve(existing_plant({2030: 0.5, 2032: 0.9})).results
    assert res.objective == pytest.approx(921.0, rel=REL)
    made = res.tables["capacity"].set_index("year")["production_t"].to_dict()
    assert made == pytest.approx({2030: 5.0, 2031: 7.0, 2032: 9.0}, rel=REL)


def test_resource_limit_counts_every_year_of_a_period(solve):
    """Existing 10 t/yr, reserve (resource) 100 t, years 2030/2035/2040 (step 5), demand 10.
    The limit is 5 * sum_y prod[y] <= 100, so sum_y prod[y] <= 20 t/yr-periods out of 30:
        variable = 5 * 1 * 20 = 100; unmet = 5 * 100 * (30 - 20) = 5000; total = 5100.
    """
    res = solve(existing_plant(1.0, resource=100, step=5, end=2040)).results
    assert res.objective == pytest.approx(5100.0, rel=REL)
    assert res.tables["capacity"]["production_t"].sum() == pytest.approx(20.0, rel=REL)
