"""Known answers for stockpile releases (formulation/stockpiles.py, `stockpiles.<id>.release`).

The floor F(y) = cover * demand + min_level. Outside the release window [first release year,
refill_by) one row stock_cover[pile, year]: sum_k stock >= F(y). In each window year one row
stock_release[pile, year]: sum_k stock >= F(y) - max_rate * step * n(y), n(y) the release years
<= y (no row without max_rate, none where the right-hand side is not positive). A release only
lowers the floor, so stock above it is drawn freely in every year, as without a release, and a
release can never make a run dearer. From refill_by the floor is back.

The instances: the USA demands 10 t/yr of magnets; a plant makes 12 t/yr at 1 M$/t, only 6 t in
a disrupted year (availability 0.5); a stockpile with floor (min_level) 5 t, 5 t to start with,
holding 0.1 M$ per t per year; unmet demand costs 100 M$/t; no discounting, step 1, so every
weight is 1 and a dual in M$/t reads as USD/kg / 1000.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from tests.crosscheck.generate import instances

from allycap.run import run

REL = 1e-6
TAGS = ("clean", "other")


def instance(release: dict | None, end: int = 2033, disrupted: tuple[int, ...] = (2031,)) -> dict:
    years = range(2030, end + 1)
    pile = {"region": "USA", "commodity": "magnet", "min_level": 5, "initial": 5}
    pile["holding_cost"] = 0.1
    if release is not None:
        pile["release"] = release
    return {
        "horizon": {"start": 2030, "end": end, "step": 1},
        "discount_rate": 0.0,
        "regions": {"USA": {"bloc": "allied"}},
        "commodities": {"magnet": {}},
        "processes": {"make": {"stage": "magnet", "output": "magnet"}},
        "facilities": {
            "plant": {
                "region": "USA",
                "process": "make",
                "existing": 12,
                "availability": {y: (0.5 if y in disrupted else 1.0) for y in years},
                "variable_cost": 1.0,
            }
        },
        "demand": {"USA": {"magnet": 10}},
        "stockpiles": {"reserve": pile},
        "options": {"unmet_penalty": 100.0},
    }


def levels(r) -> dict:
    m = r.model
    return {y: sum(m.stock["USA", "magnet", y, k].value for k in TAGS) for y in r.data.years}


def unmet(r) -> dict:
    return r.results.tables["supply_mix"].set_index("year")["unmet_t"].to_dict()


def release_duals(r) -> dict:
    duals = r.results.tables["duals"]
    rows = duals[duals["family"] == "stock_release"]
    return dict(zip(rows["year"].astype(int), rows["value"], strict=True))


def test_floor_holds_without_a_release(solve):
    """The baseline the release is measured against. Years 2030-2033, 2031 disrupted (6 t made,
    10 demanded), floor 5 t every year. The only stock usable in 2031 is what was put above the
    floor in 2030, at most 12 - 10 = 2 t, so 2 t go unmet:
        levels   7, 5, 5, 5            holding 0.1 * 22 = 2.2
        output   12, 6, 10, 10 = 38    unmet 2 * 100 = 200
        total    240.2
    """
    r = solve(instance(None))
    assert r.results.objective == pytest.approx(240.2, rel=REL)
    assert levels(r) == pytest.approx({2030: 7, 2031: 5, 2032: 5, 2033: 5}, rel=REL)
    assert unmet(r)[2031] == pytest.approx(2.0, rel=REL)


def required_t(r) -> dict:
    return r.results.tables["stocks"].groupby("year")["required_t"].first().to_dict()


def test_stock_drawn_in_a_release_year_and_refilled_by_the_deadline(solve):
    """As above, with release years [2031] and refill_by 2033, no max_rate: no floor in 2031
    and 2032. In 2031 the stock is drawn by 4 t (6 made + 4 drawn = 10), leaving 1 t; it must
    be back at 5 t at the end of 2033, and the plant has 2 t/yr to spare in 2032 and 2033, so
    the refill is 2 + 2 (level 3 in 2032 is forced: at most 1 + 2, at least 5 - 2). Drawing more
    than 4 t would only add refill; stocking above 5 in 2030 only adds holding.
        levels   5, 1, 3, 5            holding 0.1 * 14 = 1.4
        output   10, 6, 12, 12 = 40    unmet 0
        total    41.4
    The cover rows exist in 2030 and 2033 only, and no release row (no max_rate).
    """
    r = solve(instance({"years": [2031], "refill_by": 2033}))
    assert r.results.objective == pytest.approx(41.4, rel=REL)
    assert levels(r) == pytest.approx({2030: 5, 2031: 1, 2032: 3, 2033: 5}, rel=REL)
    assert sum(unmet(r).values()) == pytest.approx(0.0, abs=1e-6)
    made = r.results.tables["capacity"].set_index("year")["production_t"].to_dict()
    assert made == pytest.approx({2030: 10, 2031: 6, 2032: 12, 2033: 12}, rel=REL)
    assert sorted(r.model.stock_cover) == [("reserve", 2030), ("reserve", 2033)]
    assert len(r.model.stock_release) == 0
    assert required_t(r) == {2030: 5.0, 2031: 0.0, 2032: 0.0, 2033: 5.0}


def test_max_rate_lowers_the_floor_and_stock_above_it_adds_to_the_release(solve):
    """max_rate 3 t/yr: the release rows are 2031: level >= 5 - 3 = 2 and 2032 (a window year
    that is not a release year, so the allowance stays at one year's): level >= 2. The stock
    put above the floor in 2030 is drawn on top of the release, as without a release: the plant
    stocks 1 t above the floor in 2030 (11 made) and 2031 draws 6 - 2 = 4 t, nothing unmet.
    2033 refills at most 2 t, so level 3 in 2032:
        levels   6, 2, 3, 5            holding 0.1 * 16 = 1.6
        output   11, 6, 11, 12 = 40    unmet 0
        total    41.6  (no max_rate: 41.4; no release: 240.2)
    The 2031 row binds; lowering it by 1 t lets 2030 and 2031 hold 1 t less (the tonne is made
    in 2032 instead, at the same 1 M$/t): dual 2 * 0.1 = 0.2 M$/t = 200 USD/kg.
    """
    r = solve(instance({"years": [2031], "max_rate": 3, "refill_by": 2033}))
    assert r.results.objective == pytest.approx(41.6, rel=REL)
    assert levels(r) == pytest.approx({2030: 6, 2031: 2, 2032: 3, 2033: 5}, rel=REL)
    assert sum(unmet(r).values()) == pytest.approx(0.0, abs=1e-6)
    assert sorted(r.model.stock_release) == [("reserve", 2031), ("reserve", 2032)]
    assert required_t(r) == {2030: 5.0, 2031: 2.0, 2032: 2.0, 2033: 5.0}
    assert release_duals(r)[2031] == pytest.approx(200.0, rel=1e-6)


def test_max_rate_binds(solve):
    """max_rate 1 t/yr: rows 2031 and 2032: level >= 5 - 1 = 4. At most 7 t can be held at the
    end of 2030 (12 made, 10 used), so 2031 draws at most 3 t and 1 t goes unmet. 2032 is not a
    release year: the allowance does not grow, the level stays >= 4 (the refill alone would
    allow 3):
        levels   7, 4, 4, 5            holding 0.1 * 20 = 2.0
        output   12, 6, 10, 11 = 39    unmet 1 * 100 = 100
        total    141.0
    Duals: one more tonne below the floor in 2031 serves 1 t more (saves 100), holds 1 t less in
    2031 (0.1) and is made again in 2032 (1): 99.1 M$/t = 99,100 USD/kg. In 2032, 1 t less held
    (0.1), made in 2033 instead of 2032 (0): 100 USD/kg.
    """
    r = solve(instance({"years": [2031], "max_rate": 1, "refill_by": 2033}))
    assert r.results.objective == pytest.approx(141.0, rel=REL)
    assert levels(r) == pytest.approx({2030: 7, 2031: 4, 2032: 4, 2033: 5}, rel=REL)
    assert unmet(r)[2031] == pytest.approx(1.0, rel=REL)
    assert release_duals(r) == pytest.approx({2031: 99_100.0, 2032: 100.0}, rel=1e-6)


def test_window_year_that_is_not_a_release_year(solve):
    """Release years [2031], max_rate 1, refill_by 2033, but the disruption is in 2032, a window
    year that is not a release year. Its row is level >= 5 - 1 = 4 (the allowance of 2031, not
    grown), so 2032 may draw the stock down to 4 t, no further, even though the refill alone
    would allow 3. No unmet: 2032 draws 8 - 4 = 4 t, stocked in 2030 and 2031 (2 t/yr spare):
        levels   6, 8, 4, 5            holding 0.1 * 23 = 2.3
        output   11, 12, 6, 11 = 40    unmet 0
        total    42.3
    (2030 must hold 6 for 2031 to reach 8.) Without a release the 2032 floor is 5, so 2031 holds
    9 and 2030 holds 7: holding 2.6, total 42.6 -- the release saves 0.3. (The earlier rule,
    which forbade any draw in such a year, gave 437.6 here: dearer than no release.) The 2032
    row's dual: 1 t lower lets 2030, 2031 and 2032 hold 1 t less: 0.3 M$/t = 300 USD/kg.
    """
    r = solve(instance({"years": [2031], "max_rate": 1, "refill_by": 2033}, disrupted=(2032,)))
    assert r.results.objective == pytest.approx(42.3, rel=REL)
    assert levels(r) == pytest.approx({2030: 6, 2031: 8, 2032: 4, 2033: 5}, rel=REL)
    assert sum(unmet(r).values()) == pytest.approx(0.0, abs=1e-6)
    assert release_duals(r) == pytest.approx({2032: 300.0}, rel=1e-6)
    none = solve(instance(None, disrupted=(2032,)))
    assert none.results.objective == pytest.approx(42.6, rel=REL)


def test_unused_allowance_carries_over(solve):
    """The rule bounds how far below its floor the stock is, not each year's draw below it (that
    would be a disjunction -- was the stock carried in above or below the floor? -- beyond an
    LP). Release years [2031, 2032], max_rate 1, refill_by 2034, horizon 2030-2034, the
    disruption in 2032 only. Rows: 2031 level >= 4, 2032 and 2033 level >= 5 - 2 = 3. 2031's
    allowance is not used; 2032 draws 4 t, 2 above the floor and 2 below it, from 7 to 3:
        levels   5, 7, 3, 3, 5            holding 0.1 * 23 = 2.3
        output   10, 12, 6, 10, 12 = 50   unmet 0
        total    52.3
    (2031 reaches 7 from 5 with the plant's 2 t spare; 2033 holds 3, the refill of 2034 is 2.)
    """
    r = solve(
        instance(
            {"years": [2031, 2032], "max_rate": 1, "refill_by": 2034}, end=2034, disrupted=(2032,)
        )
    )
    assert r.results.objective == pytest.approx(52.3, rel=REL)
    assert levels(r) == pytest.approx({2030: 5, 2031: 7, 2032: 3, 2033: 3, 2034: 5}, rel=REL)
    assert required_t(r) == {2030: 5.0, 2031: 4.0, 2032: 3.0, 2033: 3.0, 2034: 5.0}


def test_floor_that_changes_in_the_window_and_refill_past_the_horizon(solve):
    """The floor is cover * demand = 0.5 * 10 = 5 t in 2030-2031 and 0.7 * 10 = 7 t in
    2032-2033 (min_level 0); release years [2031], max_rate 3, refill_by 2040 (past the
    horizon: the floor never comes back). Rows: 2031 level >= 5 - 3 = 2, 2032 and 2033 level >=
    7 - 3 = 4: the allowance is tonnes below each year's floor, so the floor's rise in 2032 (not
    a release year) is a refill of 2 t. 2031 draws 4 t, 1 of them stocked above the floor in 2030:
        levels   6, 2, 4, 4            holding 0.1 * 16 = 1.6
        output   11, 6, 12, 10 = 39    unmet 0
        total    40.6
    """
    data = instance({"years": [2031], "max_rate": 3, "refill_by": 2040})
    pile = data["stockpiles"]["reserve"]
    pile["min_level"] = 0
    pile["cover"] = {2030: 0.5, 2031: 0.5, 2032: 0.7, 2033: 0.7}
    r = solve(data)
    assert r.results.objective == pytest.approx(40.6, rel=REL)
    assert levels(r) == pytest.approx({2030: 6, 2031: 2, 2032: 4, 2033: 4}, rel=REL)
    assert sorted(r.model.stock_cover) == [("reserve", 2030)]
    assert required_t(r) == pytest.approx({2030: 5, 2031: 2, 2032: 4, 2033: 4}, rel=REL)


def test_release_in_a_period_of_several_years(solve):
    """step 5: model years 2030, 2035, 2040, each a period of 5 years (weight 5, no
    discounting); disruption in 2035 (6 t/yr made); release years [2035], max_rate 0.5 t/yr,
    refill_by 2040. A release year is 5 years of release, so the 2035 row is level >= 5 - 0.5 *
    5 = 2.5. 2030 can stock 5 years of 2 t/yr spare: level 15. 2035 draws (15 - 2.5) / 5 = 2.5
    t/yr, so 1.5 t/yr go unmet; 2040 refills 2.5 t (0.5 t/yr, output 10.5):
        output   5 * (12 + 6 + 10.5) = 142.5
        holding  5 * 0.1 * (15 + 2.5 + 5) = 11.25
        unmet    5 * 1.5 * 100 = 750
        total    903.75
    (An allowance of max_rate, not max_rate * step, would leave 1.9 t/yr unmet.)
    """
    data = instance({"years": [2035], "max_rate": 0.5, "refill_by": 2040}, end=2040)
    data["horizon"]["step"] = 5
    data["facilities"]["plant"]["availability"] = {2030: 1.0, 2035: 0.5, 2040: 1.0}
    r = solve(data)
    assert r.results.objective == pytest.approx(903.75, rel=REL)
    assert levels(r) == pytest.approx({2030: 15, 2035: 2.5, 2040: 5}, rel=REL)
    assert unmet(r) == pytest.approx({2030: 0, 2035: 1.5, 2040: 0}, abs=1e-6)


def test_floor_is_back_from_refill_by(solve):
    """Years 2030-2034, disruptions in 2031 (released) and 2034 (after refill_by 2033, so the
    floor holds again). Capacity 12 + 6 + 12 + 12 + 6 = 48 t for 50 t of demand and a final
    level of at least 5 t, so 2 t go unmet somewhere; holding decides where. Stock 2 t above
    the floor in 2030, draw 4 in 2031, refill 2 + 2, and carry 2 t above the floor into 2034:
        levels   7, 3, 5, 7, 5         holding 0.1 * 27 = 2.7
        output   12, 6, 12, 12, 6 = 48 unmet 2 (in 2034) * 100 = 200
        total    250.7
    (2 t unmet in 2031 instead would need level 9 in 2033: holding 3.3.) Were the floor not
    back in 2034, the stock would be drawn to 3 t then and nothing would go unmet.
    """
    r = solve(instance({"years": [2031], "refill_by": 2033}, end=2034, disrupted=(2031, 2034)))
    assert r.results.objective == pytest.approx(250.7, rel=REL)
    assert levels(r) == pytest.approx({2030: 7, 2031: 3, 2032: 5, 2033: 7, 2034: 5}, rel=REL)
    assert unmet(r) == pytest.approx({2030: 0, 2031: 0, 2032: 0, 2033: 0, 2034: 2}, abs=1e-6)
    assert ("reserve", 2034) in r.model.stock_cover


def test_release_during_an_export_control(solve):
    """`during: [ban]`: the stock may be drawn in the years a named export control is active.
    CHN makes magnets (20 t/yr at 1 M$/t, only 10 in 2030 so nothing can be stocked ahead;
    shipping free), the USA has no plant and demands 10 t/yr; a ban on CHN -> USA in 2031 only.
    Stockpile in the USA: floor 5, 5 to start, holding 0.1, release during the ban, refill_by
    2033. In 2031 the whole stock is drawn (5 t) and 5 t go unmet; the level stays 0 in 2032 (no
    floor in the window without max_rate) and is refilled in 2033, the latest (cheapest to hold)
    year, from CHN's spare 10 t/yr:
        levels   5, 0, 0, 5            holding 0.1 * 10 = 1
        output   10, 0, 10, 15 = 35    unmet 5 * 100 = 500
        total    536
    """
    data = {
        "horizon": {"start": 2030, "end": 2033},
        "discount_rate": 0.0,
        "regions": {"USA": {"bloc": "allied"}, "CHN": {"bloc": "restricted"}},
        "commodities": {"magnet": {}},
        "processes": {"make": {"stage": "magnet", "output": "magnet"}},
        "facilities": {
            "chn_plant": {
                "region": "CHN",
                "process": "make",
                "existing": 20,
                "availability": {2030: 0.5, 2031: 1.0},
                "variable_cost": 1,
            }
        },
        "demand": {"USA": {"magnet": 10}},
        "trade": {"transport_cost": {"magnet": 0.0}},
        "export_controls": {
            "ban": {
                "origins": ["CHN"],
                "destinations": ["USA"],
                "commodities": ["magnet"],
                "start": 2031,
                "end": 2031,
            }
        },
        "stockpiles": {
            "reserve": {
                "region": "USA",
                "commodity": "magnet",
                "min_level": 5,
                "initial": 5,
                "holding_cost": 0.1,
                "release": {"during": ["ban"], "refill_by": 2033},
            }
        },
        "options": {"unmet_penalty": 100.0},
    }
    r = solve(data)
    assert r.results.objective == pytest.approx(536.0, rel=REL)
    assert levels(r) == pytest.approx({2030: 5, 2031: 0, 2032: 0, 2033: 5}, abs=1e-6)
    assert unmet(r) == pytest.approx({2030: 0, 2031: 5, 2032: 0, 2033: 0}, abs=1e-6)
    assert r.data.stockpiles["USA", "magnet"].release_years == [2031]
    assert r.data.stockpiles["USA", "magnet"].window == [2031, 2032]


# Each release above, with its instance: (release, instance keyword arguments).
HAND = [
    ({"years": [2031], "refill_by": 2033}, {}),
    ({"years": [2031], "max_rate": 3, "refill_by": 2033}, {}),
    ({"years": [2031], "max_rate": 1, "refill_by": 2033}, {}),
    ({"years": [2031], "max_rate": 1, "refill_by": 2033}, {"disrupted": (2032,)}),
    ({"years": [2031], "refill_by": 2033}, {"disrupted": (2032,)}),
    (
        {"years": [2031, 2032], "max_rate": 1, "refill_by": 2034},
        {"end": 2034, "disrupted": (2032,)},
    ),
    ({"years": [2031], "max_rate": 0, "refill_by": 2033}, {}),
    ({"years": [2031], "max_rate": 3, "refill_by": 2040}, {"disrupted": (2033,)}),
    ({"years": [2031], "refill_by": 2033}, {"end": 2034, "disrupted": (2031, 2034)}),
]


@pytest.mark.parametrize(("release", "kwargs"), HAND)
def test_a_release_never_costs_more_than_none(solve, release, kwargs):
    """A release only lowers the floor (by an allowance >= 0, in its window), so every plan
    feasible without it stays feasible with it: objective with <= objective without. The hand
    values: no release 240.2 (2031 disrupted), 42.6 (2032 disrupted), and with a release the
    figures of the tests above; max_rate 0 changes nothing (240.2 both)."""
    without = solve(instance(None, **kwargs)).results
    with_ = solve(instance(release, **kwargs)).results
    assert with_.status == without.status == "optimal"
    assert with_.objective <= without.objective * (1 + REL) + REL
    if release.get("max_rate") == 0:
        assert with_.objective == pytest.approx(without.objective, rel=REL)


def _solve_dict(inst: dict):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.yaml"
        path.write_text(yaml.safe_dump(inst, sort_keys=False))
        return run(path, explain=False).results


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
@given(instances())
def test_a_release_never_costs_more_than_none_on_random_instances(inst: dict) -> None:
    """The same property on the cross-check's random instances (tests/crosscheck/generate.py)
    that have a release: drop every `release` and solve again. If the run without releases is
    optimal, the run with them is optimal too and costs no more."""
    assume(any("release" in s for s in inst.get("stockpiles", {}).values()))
    bare = copy.deepcopy(inst)
    for s in bare["stockpiles"].values():
        s.pop("release", None)
    without = _solve_dict(bare)
    assume(without.status == "optimal")
    with_ = _solve_dict(inst)
    assert with_.status == "optimal"
    assert with_.objective <= without.objective + 1e-6 * max(1.0, abs(without.objective))
