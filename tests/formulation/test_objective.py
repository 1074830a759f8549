"""Known answers for formulation/objective.py: present value at the start year of all costs.

Model year y weighs w[y] = sum_{j=0..step-1} (1 + r)^-(y + j - start): every year of its period
discounted as of that year. Capital is capex * IDC(lead, r) * CRF(r, lifetime),
CRF = r / (1 - (1 + r)^-n), charged for each online model year inside the horizon (IDC = 1 at
lead 0, as here; tests/formulation/test_capital_periods.py covers lead times).
"""

from __future__ import annotations

import pytest

REL = 1e-6


def one_plant(rate: float, lifetime: int, fixed_om: float = 0.0) -> dict:
    """Years 2030-2032, demand 10 in A, one candidate plant: capex 2 M$ per t/yr, lead 0."""
    return {
        "horizon": {"start": 2030, "end": 2032},
        "discount_rate": rate,
        "regions": {"A": {"bloc": "allied"}},
        "commodities": {"good": {}},
        "processes": {"make": {"stage": "magnet", "output": "good"}},
        "facilities": {
            "plant": {
                "region": "A",
                "process": "make",
                "fixed_om": fixed_om,
                "expansion": {"capex": 2.0, "lead_time": 0, "lifetime": lifetime},
            }
        },
        "demand": {"A": {"good": 10}},
        "options": {"unmet_penalty": 100.0},
    }


def test_annuity_over_the_whole_lifetime_repays_capex_with_interest(solve):
    """r = 0.1, lifetime 3 = the horizon: build 10 t/yr in 2030 (capex 20 M$), online 2030-2032.
        CRF = 0.1 / (1 - 1.1^-3) = 0.1 / 0.2486852 = 0.4021148
        PV  = 20 * CRF * (1 + 1/1.1 + 1/1.21)
    Payments start in the year of the build (beginning-of-year annuity), so the PV is the capex
    grown by one year of interest: CRF * sum_{t=0}^{2} 1.1^-t = 1.1 exactly, PV = 22.
    """
    res = solve(one_plant(rate=0.1, lifetime=3)).results
    assert res.objective == pytest.approx(22.0, rel=REL)
    crf = 0.1 / (1 - 1.1**-3)
    assert crf == pytest.approx(0.4021148, rel=1e-6)  # the figure quoted above
    costs = res.tables["costs"]
    annual = costs.set_index("year")["annual_musd"].to_dict()
    assert annual == pytest.approx({y: 20 * crf for y in (2030, 2031, 2032)}, rel=REL)
    pv = costs.set_index("year")["present_value_musd"].to_dict()
    assert pv == pytest.approx(
        {2030: 20 * crf, 2031: 20 * crf / 1.1, 2032: 20 * crf / 1.21}, rel=REL
    )


def test_capital_charged_only_inside_the_horizon(solve):
    """r = 0.1, lifetime 10 but only 3 horizon years: the end effect vanishes because only the
    3 online years inside the horizon are charged; fixed O&M 0.05 M$ per t/yr per year on the
    10 t/yr built:
        CRF(0.1, 10) = 0.1 / (1 - 1.1^-10) = 0.1627454
        capital  = 10 * 2 * 0.1627454 * (1 + 1/1.1 + 1/1.21) = 3.2549080 * 2.7355372 = 8.9039...
        fixed_om = 10 * 0.05 * 2.7355372 = 1.3677686
    """
    res = solve(one_plant(rate=0.1, lifetime=10, fixed_om=0.05)).results
    factor = 1 + 1 / 1.1 + 1 / 1.21
    crf = 0.1 / (1 - 1.1**-10)
    assert crf == pytest.approx(0.1627454, rel=1e-6)
    capital = 10 * 2 * crf * factor
    fixed_om = 10 * 0.05 * factor
    assert res.objective == pytest.approx(capital + fixed_om, rel=REL)
    by_cat = res.tables["costs"].groupby("category")["present_value_musd"].sum().to_dict()
    assert by_cat == pytest.approx({"capital": capital, "fixed_om": fixed_om}, rel=REL)


def test_every_cost_category_with_step_and_discounting(solve):
    """Years 2030, 2035, 2040 (step 5, the last period covering 2040-2044), r = 0.05: each
    year of a period is discounted, so w[2030] = sum_{j=0..4} 1.05^-j = 4.5459505,
    w[2035] = w[2030] / 1.05^5, w[2040] = w[2030] / 1.05^10, and
    W = sum w = sum_{j=0..14} 1.05^-j = (1 - 1.05^-15) / (1 - 1/1.05) = 10.8986409.
    Plant in A: existing 20 t/yr, fixed O&M 0.1 M$ per t/yr, variable cost 1 M$/t. Market B
    demands 10 t/yr, shipped A -> B at 0.5 M$/t; tariff 0.2 M$/t plus 10% of a price of 3 M$/t
    (0.3), so 0.5 M$/t. One year costs
        fixed_om 0.1 * 20 = 2; variable 1 * 10 = 10; transport 0.5 * 10 = 5; tariff 0.5 * 10 = 5
    22 M$ a year, so objective = 22 * W = 239.7701.
    """
    data = {
        "horizon": {"start": 2030, "end": 2040, "step": 5},
        "discount_rate": 0.05,
        "regions": {"A": {"bloc": "allied"}, "B": {"bloc": "allied"}},
        "commodities": {"good": {"price": 3.0}},
        "processes": {"make": {"stage": "magnet", "output": "good"}},
        "facilities": {
            "plant": {
                "region": "A",
                "process": "make",
                "existing": 20,
                "fixed_om": 0.1,
                "variable_cost": 1.0,
            }
        },
        "demand": {"B": {"good": 10}},
        "trade": {
            "transport_cost": {"good": 0.5},
            "tariffs": {
                "duty": {
                    "origins": ["A"],
                    "destinations": ["B"],
                    "ad_valorem": 0.1,
                    "per_tonne": 0.2,
                }
            },
        },
        "options": {"unmet_penalty": 100.0},
    }
    res = solve(data).results
    first = 1 + 1 / 1.05 + 1 / 1.05**2 + 1 / 1.05**3 + 1 / 1.05**4
    assert first == pytest.approx(4.5459505, rel=1e-7)
    weights = {2030: first, 2035: first / 1.05**5, 2040: first / 1.05**10}
    total_w = sum(weights.values())
    assert total_w == pytest.approx(10.8986409, rel=1e-7)
    assert res.objective == pytest.approx(22 * total_w, rel=REL)
    costs = res.tables["costs"]
    by_cat = costs.groupby("category")["present_value_musd"].sum().to_dict()
    assert by_cat == pytest.approx(
        {
            "fixed_om": 2 * total_w,
            "variable": 10 * total_w,
            "transport": 5 * total_w,
            "tariff": 5 * total_w,
        },
        rel=REL,
    )
    tariff = costs[costs["category"] == "tariff"].set_index("year")["annual_musd"].to_dict()
    assert tariff == pytest.approx({2030: 5.0, 2035: 5.0, 2040: 5.0}, rel=REL)
    assert costs["present_value_musd"].sum() == pytest.approx(res.objective, rel=REL)
    assert res.summary["cost_by_category_musd_pv"]["tariff"] == pytest.approx(5 * total_w, REL)
