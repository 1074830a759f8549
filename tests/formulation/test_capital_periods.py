"""Known answers for capital with interest during construction (IDC) and multi-year periods.

IDC. Overnight capex I is spent in equal parts over the L lead-time years before the plant
enters service, each part evenly through its year, so at service the part spent in the i-th
year before it has grown by (1 + r)^(i - 1/2):

    IDC(L, r) = (1/L) * sum_{i=1..L} (1 + r)^(i - 1/2) = (1 + r)^(1/2) * ((1 + r)^L - 1) / (r L)
    IDC(0, r) = 1 (overnight);  IDC(L, 0) = 1.

The capital annuity is I * IDC * CRF(r, lifetime) per online year. For L = 7, r = 0.07:
    1.07^7 = 1.6057815, (1.6057815 - 1) / 0.07 / 7 = 1.2362887, 1.07^(1/2) = 1.0344080,
    IDC = 1.2362887 * 1.0344080 = 1.2788270
(spending at the start of each year instead would give 1.07 * 1.2362887 = 1.3228289, at its
end 1.2362887; docs/formulation.md says why mid-year). Budgets still count I, undiscounted, in
the decision year.

Periods. With step S a model year y stands for y..y+S-1 (the last one too) and weighs
w[y] = sum_{j=0..S-1} (1 + r)^-(y + j - start). At r = 0.05, S = 5:
    w[start] = 1 + 1/1.05 + 1/1.05^2 + 1/1.05^3 + 1/1.05^4
             = 1 + 0.9523810 + 0.9070295 + 0.8638376 + 0.8227025 = 4.5459505 (was 5).
A vintage decided in model year v is ready in v + L and online from the model year p whose
period holds v + L, in the model years p <= y < p + lifetime; a decision exists when v + L
falls inside the horizon's periods (v + L <= end + S - 1).
"""

from __future__ import annotations

import pytest

from allycap.data import _vintages, construction_interest, period_weight

REL = 1e-6
PENALTY = 100.0


def plant_case(
    lead: int,
    earliest: int | None = None,
    rate: float = 0.07,
    start: int = 2030,
    end: int = 2040,
    step: int = 1,
    demand: float | dict = 10.0,
    lifetime: int = 10,
    **extra,
) -> dict:
    """Region A demands `good`; one candidate plant (capex 1 M$ per t/yr, no other cost)."""
    expansion = {"capex": 1.0, "lead_time": lead, "lifetime": lifetime, **extra}
    if earliest is not None:
        expansion["earliest"] = earliest
    return {
        "horizon": {"start": start, "end": end, "step": step},
        "discount_rate": rate,
        "regions": {"A": {"bloc": "allied"}},
        "commodities": {"good": {}},
        "processes": {"make": {"stage": "magnet", "output": "good"}},
        "facilities": {"plant": {"region": "A", "process": "make", "expansion": expansion}},
        "demand": {"A": {"good": demand}},
        "options": {"unmet_penalty": PENALTY},
    }


def capital_pv(run) -> float:
    costs = run.results.tables["costs"]
    return float(costs[costs["category"] == "capital"]["present_value_musd"].sum())


# -- interest during construction -------------------------------------------------------------


def test_idc_factor_hand_figures():
    """IDC(7, 0.07) = 1.2788270 (module docstring); IDC(1, r) = (1 + r)^(1/2), half a year of
    interest on a one-year build; no lead time or no interest rate: 1."""
    assert construction_interest(0.07, 7) == pytest.approx(1.2788270, rel=1e-7)
    assert construction_interest(0.07, 1) == pytest.approx(1.0344080, rel=1e-7)
    assert construction_interest(0.07, 0) == 1.0
    assert construction_interest(0.0, 7) == 1.0
    # the closed form, from the geometric sum
    assert construction_interest(0.05, 4) == pytest.approx(
        1.05**0.5 * (1.05**4 - 1) / 0.05 / 4, rel=1e-12
    )


def test_longer_lead_time_costs_more_by_the_idc_factor(solve):
    """Same plant, same online years 2037-2040, lead 0 versus lead 7 (r = 0.07, lifetime 10,
    capex 1, demand 10 t/yr from 2037 only, so 10 t/yr is built once):
      lead 0: decided 2037 (earliest 2037 keeps it from coming earlier);
      lead 7: decided 2030, ready 2037.
    Capital PV at 2030, lead 0:
        10 * 1 * CRF(0.07, 10) * sum_{y=2037..2040} 1.07^-(y-2030)
        CRF = 0.07 / (1 - 1.07^-10) = 0.1423775
        sum = 1.07^-7 + 1.07^-8 + 1.07^-9 + 1.07^-10 = 0.6227497 + 0.5820091 + 0.5439337
              + 0.5083493 = 2.2570418
        PV0 = 10 * 0.1423775 * 2.2570418 = 3.2135199
    Lead 7: PV7 = PV0 * IDC(7, 0.07) = 3.2135199 * 1.2788270 = 4.1095360, ratio 1.2788270.
    (Before IDC the two were equal, and a lead time counted from a fixed decision year made
    the slow plant cheaper.)
    """
    demand = {2036: 0.0, 2037: 10.0}
    fast = solve(plant_case(lead=0, earliest=2037, demand=demand))
    slow = solve(plant_case(lead=7, demand=demand))
    assert fast.results.tables["investments"]["decision_year"].tolist() == [2037]
    assert slow.results.tables["investments"]["decision_year"].tolist() == [2030]
    assert slow.results.tables["investments"]["online_year"].tolist() == [2037]
    crf = 0.07 / (1 - 1.07**-10)
    assert crf == pytest.approx(0.1423775, rel=1e-6)
    assert capital_pv(fast) == pytest.approx(3.2135199, rel=1e-6)
    assert capital_pv(slow) == pytest.approx(4.1095360, rel=1e-6)
    assert capital_pv(slow) / capital_pv(fast) == pytest.approx(1.2788270, rel=1e-6)
    assert slow.results.objective > fast.results.objective


def test_budget_counts_overnight_capex_in_the_decision_year(solve):
    """Lead 7 as above with a budget of total 10 M$: overnight capex of 10 t/yr at 1 M$ per
    t/yr is exactly 10, so the full 10 t/yr is built. Had the budget counted the capex with
    IDC (12.788 M$), only 10 / 1.2788270 = 7.82 t/yr would fit and 2.18 t/yr would go unmet.
    investments.csv reports the overnight capex, 10 M$."""
    data = plant_case(lead=7, demand={2036: 0.0, 2037: 10.0})
    data["budgets"] = {"fund": {"total": 10.0}}
    res = solve(data).results
    inv = res.tables["investments"]
    assert inv["new_capacity_t"].sum() == pytest.approx(10.0, rel=REL)
    assert inv["capex_musd"].sum() == pytest.approx(10.0, rel=REL)
    assert res.summary["cost_by_category_musd_pv"].get("unmet", 0.0) == pytest.approx(0.0, abs=1e-6)


# -- periods -----------------------------------------------------------------------------------


def test_five_year_period_weight():
    """w = sum_{j=0..4} 1.05^-j = 4.5459505 for the first period, 1.05^-5 * 4.5459505 =
    3.5618712 for the second; step 1 keeps the plain discount factor, bit for bit."""
    assert period_weight(0.05, 0, 5) == pytest.approx(4.5459505, rel=1e-7)
    assert period_weight(0.05, 5, 5) == pytest.approx(3.5618712, rel=1e-7)
    for offset in range(0, 16):
        assert period_weight(0.07, offset, 1) == (1.0 + 0.07) ** -offset
    assert period_weight(0.0, 10, 5) == 5.0


def existing_plant(step: int, end: int) -> dict:
    """An existing plant in A (20 t/yr, variable cost 1 M$/t) serves demand 10: 10 M$ a year."""
    return {
        "horizon": {"start": 2030, "end": end, "step": step},
        "discount_rate": 0.05,
        "regions": {"A": {"bloc": "allied"}},
        "commodities": {"good": {}},
        "processes": {"make": {"stage": "magnet", "output": "good"}},
        "facilities": {
            "plant": {"region": "A", "process": "make", "existing": 20, "variable_cost": 1.0}
        },
        "demand": {"A": {"good": 10}},
    }


def test_step_five_discounts_like_step_one_over_the_same_years(solve):
    """10 M$ a year for 2030-2039: step 5 with model years 2030 and 2035 (the second period
    covers 2035-2039) and step 1 with 2030-2039 both give
        10 * sum_{j=0..9} 1.05^-j = 10 * 8.1078217 = 81.078217.
    (With the old weight 5 * 1.05^-(y-start) step 5 gave 10 * 5 * (1 + 1.05^-5) = 89.176 M$,
    10% more.)"""
    coarse = solve(existing_plant(step=5, end=2035))
    fine = solve(existing_plant(step=1, end=2039))
    assert coarse.results.objective == pytest.approx(81.078217, rel=1e-7)
    assert fine.results.objective == pytest.approx(81.078217, rel=1e-7)
    assert coarse.data.weight[2030] == pytest.approx(4.5459505, rel=1e-7)


def test_vintage_with_lead_two_and_step_five_is_online_in_its_decision_period(solve):
    """Years 2030, 2035, 2040 (step 5, the last period 2040-2044), lead 2, lifetime 10, r = 0,
    capex 1 (CRF 1/10), demand 10.
      decided 2030: ready 2032, in the 2030 period -> online 2030, 2035 (2030 <= y < 2040);
      decided 2035: ready 2037 -> online 2035, 2040;
      decided 2040: ready 2042, inside the last period -> online 2040 (a decision exists).
    Cheapest cover of 2030, 2035 and 2040: 2030's vintage plus 2040's,
        capital = 10 * 0.1 * (5 + 5) + 10 * 0.1 * 5 = 15, no unmet demand
    (2030 + 2035 would cost 10 + 10 = 20). Before the rounding rule the 2030 vintage waited for
    2035 and 2030 went short: 10 * 5 * 100 = 5000 M$ of penalty.
    The lead time (2) is shorter than the step (5), so the run warns, naming the plant.
    """
    r = solve(plant_case(lead=2, rate=0.0, end=2040, step=5))
    vint = r.data.vintages["plant"]
    assert vint.decisions == [2030, 2035, 2040]
    assert vint.online == {2030: [2030], 2035: [2030, 2035], 2040: [2035, 2040]}
    assert r.results.objective == pytest.approx(15.0, rel=REL)
    built = r.results.tables["investments"].set_index("decision_year")["new_capacity_t"]
    assert built.to_dict() == pytest.approx({2030: 10.0, 2040: 10.0}, rel=REL)
    unmet = r.results.tables["supply_mix"].set_index("year")["unmet_t"].to_dict()
    assert unmet == pytest.approx({2030: 0.0, 2035: 0.0, 2040: 0.0}, abs=1e-6)
    texts = [w.format() for w in r.warnings]
    assert len(texts) == 1
    assert "horizon.step" in texts[0] and "plant (2 y)" in texts[0]
    assert "as if its lead time were 0" in texts[0]


@pytest.mark.parametrize(
    ("lead", "first"),
    [(0, 2030), (4, 2030), (5, 2035), (7, 2035), (10, 2040), (14, 2040)],
)
def test_ready_year_rounded_to_the_period_that_holds_it(lead, first):
    """Step 5, model years 2030, 2035, 2040: the vintage decided in 2030 is ready in 2030 + L
    and first online in the model year whose period holds that year: 2030-2034 -> 2030,
    2035-2039 -> 2035, 2040-2044 -> 2040. Lifetime 10 keeps it for two periods."""
    vint = _vintages(lead, 10, None, [2030, 2035, 2040], 2040, 5)
    assert 2030 in vint.decisions
    online = [y for y, vs in vint.online.items() if 2030 in vs]
    assert online == [y for y in (first, first + 5) if y <= 2040]


def test_no_decision_ready_after_the_last_period():
    """Step 5, end 2040: the last period covers 2040-2044, so with lead 5 the 2040 decision
    (ready 2045) does not exist; with lead 4 it does (ready 2044)."""
    assert _vintages(5, 10, None, [2030, 2035, 2040], 2040, 5).decisions == [2030, 2035]
    assert _vintages(4, 10, None, [2030, 2035, 2040], 2040, 5).decisions == [2030, 2035, 2040]


def test_step_one_vintages_unchanged():
    """With step 1 the rule is the old one: decisions v + L <= end (and >= earliest), online
    v + L <= y < v + L + lifetime, written out here independently."""
    years = list(range(2025, 2041))
    for lead in (0, 1, 3, 7):
        for life in (1, 5, 25):
            for earliest in (None, 2030):
                vint = _vintages(lead, life, earliest, years, 2040, 1)
                want = [
                    v
                    for v in years
                    if v + lead <= 2040 and (earliest is None or v + lead >= earliest)
                ]
                assert vint.decisions == want
                for y in years:
                    assert vint.online[y] == [v for v in want if v + lead <= y < v + lead + life]


def test_no_warning_when_lead_times_are_zero_or_at_least_the_step(solve):
    """Lead 0 is no delay to lose; lead 5 = step 5 comes online a period later as it should;
    step 1 never warns."""
    for lead, step in ((0, 5), (5, 5), (3, 1)):
        r = solve(plant_case(lead=lead, rate=0.0, end=2040, step=step))
        assert not [w for w in r.warnings if "horizon.step" in w.format()], (lead, step)
