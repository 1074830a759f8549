"""Known answers for formulation/budgets.py.

spend[b,y] = sum_f payer share * capex[f] * new[f,y] (M$, undiscounted, in the decision year);
spend[b,y] <= step * per_year(y) and sum_y spend[b,y] <= total. A budget's dual is the value of
one more M$ in it.
"""

from __future__ import annotations

import pytest

REL = 1e-6


def plant_in(region: str = "A", end: int = 2032, step: int = 1, lifetime: int = 10, **extra):
    """Demand 10 t/yr in `region`, one candidate plant there: capex 1 M$ per t/yr, lead time 0,
    `lifetime` years (CRF 1/lifetime at r = 0); unmet demand costs 100 M$/t."""
    data = {
        "horizon": {"start": 2030, "end": end, "step": step},
        "discount_rate": 0.0,
        "regions": {"A": {"bloc": "allied"}, "B": {"bloc": "allied"}},
        "commodities": {"good": {}},
        "processes": {"make": {"stage": "magnet", "output": "good"}},
        "facilities": {
            "plant": {
                "region": region,
                "process": "make",
                "expansion": {"capex": 1.0, "lead_time": 0, "lifetime": lifetime},
            }
        },
        "demand": {region: {"good": 10}},
        "options": {"unmet_penalty": 100.0},
    }
    data.update(extra)
    return data


def built(res) -> dict:
    return res.tables["investments"].set_index("decision_year")["new_capacity_t"].to_dict()


def test_unconstrained_build(solve):
    """No budget: build 10 in 2030, online 2030-2032: capital 10 * 1/10 * 3 = 3."""
    res = solve(plant_in()).results
    assert res.objective == pytest.approx(3.0, rel=REL)
    assert built(res) == pytest.approx({2030: 10.0}, rel=REL)


def test_per_year_budget_spreads_the_build_over_later_years(solve):
    """Budget of 4 M$ a year on region A's capex: at most 4 t/yr can be decided each year.
    Build 4 (2030), 4 (2031), 2 (2032); capacity 4, 8, 10; shortfall 6, 2, 0:
        unmet   = 100 * 8 = 800
        capital = 1/10 * (4 * 3 + 4 * 2 + 2 * 1) = 2.2
        total   = 802.2
    Duals: one more M$ in 2030 builds 5, 4, 1 (unmet 6 t-years: 600; capital 2.4): 602.4, a
    saving of 199.8; one more in 2031 builds 4, 5, 1 (700 + 2.3 = 702.3): 99.9; 2032 is slack.
    Removing a M$ costs the same amounts (4 -> 3 gives 1002.0 and 902.1), so the duals are
    unique: -199.8 and -99.9.
    """
    budget = {"a_fund": {"payer": "A", "per_year": 4.0}}
    res = solve(plant_in(budgets=budget)).results
    assert res.objective == pytest.approx(802.2, rel=REL)
    assert built(res) == pytest.approx({2030: 4.0, 2031: 4.0, 2032: 2.0}, rel=REL)
    unmet = res.tables["supply_mix"].set_index("year")["unmet_t"].to_dict()
    assert unmet == pytest.approx({2030: 6.0, 2031: 2.0, 2032: 0.0}, abs=1e-6)
    duals = res.tables["duals"]
    rows = duals[duals["family"] == "budget"].set_index("year")
    assert rows["dual"].to_dict() == pytest.approx({2030: -199.8, 2031: -99.9}, rel=REL)
    assert rows["value"].to_dict() == pytest.approx({2030: 199.8, 2031: 99.9}, rel=REL)


def test_total_budget_makes_the_build_smaller(solve):
    """Total budget 7 M$: 7 t/yr built in 2030 (earliest is best), 3 t/yr short each year:
        unmet = 100 * 9 = 900; capital = 7 * 1/10 * 3 = 2.1; total = 902.1.
    One more M$ builds one more t/yr for 3 years: saves 300 - 0.3 = 299.7 (dual -299.7).
    """
    res = solve(plant_in(budgets={"cap": {"payer": "A", "total": 7.0}})).results
    assert res.objective == pytest.approx(902.1, rel=REL)
    assert built(res) == pytest.approx({2030: 7.0}, rel=REL)
    duals = res.tables["duals"]
    row = duals[duals["family"] == "budget"]
    assert row["dual"].item() == pytest.approx(-299.7, rel=REL)


def test_per_year_budget_is_per_year_of_a_longer_period(solve):
    """Years 2030, 2035, 2040 (step 5), lifetime 20 (CRF 1/20), 1 M$ a year: 5 M$ per period,
    so 5 t/yr in 2030 and 5 more in 2035:
        capital = 1/20 * (5 * 5 years * 3 periods + 5 * 5 * 2) = 3.75 + 2.5 = 6.25
        unmet   = 5 t/yr * 5 years * 100 (2030 period) = 2500
        total   = 2506.25
    """
    data = plant_in(end=2040, step=5, lifetime=20, budgets={"f": {"payer": "A", "per_year": 1}})
    res = solve(data).results
    assert res.objective == pytest.approx(2506.25, rel=REL)
    assert built(res) == pytest.approx({2030: 5.0, 2035: 5.0}, rel=REL)


def cofinanced(payer: str) -> dict:
    """The plant in A is co-financed 25% by A and 75% by B; `payer`'s budget is 3 M$ a year."""
    return plant_in(
        sharing={
            "deal": {
                "facilities": ["plant"],
                "partners": {"A": {"cofinance": 0.25}, "B": {"cofinance": 0.75}},
            }
        },
        budgets={"fund": {"payer": payer, "per_year": 3.0}},
    )


def test_cofinancing_share_counts_against_each_payer(solve):
    """B pays 75%: 0.75 * new <= 3 -> new <= 4 a year, the same build as the 4 M$ case above:
    cost 802.2. A pays 25%: 0.25 * new <= 3 -> new <= 12, not binding: cost 3.
    Capital is reported by payer: B's budget case, 2030 annual capital 0.1 * 4 split 0.1 / 0.3.
    """
    res = solve(cofinanced("B")).results
    assert res.objective == pytest.approx(802.2, rel=REL)
    assert built(res) == pytest.approx({2030: 4.0, 2031: 4.0, 2032: 2.0}, rel=REL)
    assert res.tables["investments"]["payers"].unique().tolist() == ["A:0.25;B:0.75"]
    costs = res.tables["costs"]
    capital = costs[(costs["category"] == "capital") & (costs["year"] == 2030)]
    assert capital.set_index("region")["annual_musd"].to_dict() == pytest.approx(
        {"A": 0.1, "B": 0.3}, rel=REL
    )

    res = solve(cofinanced("A")).results
    assert res.objective == pytest.approx(3.0, rel=REL)


def test_budget_for_other_regions_does_not_bind(solve):
    """A budget of 0 M$ on facilities in region B leaves the plant in A free: cost 3."""
    res = solve(plant_in(budgets={"b_only": {"regions": ["B"], "per_year": 0.0}})).results
    assert res.objective == pytest.approx(3.0, rel=REL)
