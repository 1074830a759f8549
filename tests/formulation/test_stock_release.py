"""Known answers for stockpile releases (formulation/stockpiles.py, `stockpiles.<id>.release`).

The floor sum_k stock >= cover * demand + min_level holds outside the release window
[first release year, refill_by). In each window year one row stock_release[pile, year]:
(level carried in - level carried out) / step <= max_rate in a release year, <= 0 in a window year
that is not one (the stock is held or refilled, never drawn). From refill_by the floor is back.

The instances: the USA demands 10 t/yr of magnets; a plant makes 12 t/yr at 1 M$/t, only 6 t in
a disrupted year (availability 0.5); a stockpile with floor (min_level) 5 t, 5 t to start with,
holding 0.1 M$ per t per year; unmet demand costs 100 M$/t; no discounting, step 1, so every
weight is 1 and a dual in M$/t reads as USD/kg / 1000.
"""

from __future__ import annotations

import pytest

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


def test_stock_drawn_in_a_release_year_and_refilled_by_the_deadline(solve):
    """As above, with release years [2031] and refill_by 2033: the floor is off in 2031 and
    2032. In 2031 the stock is drawn by 4 t (6 made + 4 drawn = 10), leaving 1 t; it must be
    back at 5 t at the end of 2033, and the plant has 2 t/yr to spare in 2032 and 2033, so the
    refill is 2 + 2 (level 3 in 2032 is forced: at most 1 + 2, at least 5 - 2). Drawing more
    than 4 t would only add refill; stocking above 5 in 2030 only adds holding.
        levels   5, 1, 3, 5            holding 0.1 * 14 = 1.4
        output   10, 6, 12, 12 = 40    unmet 0
        total    41.4
    The cover rows exist in 2030 and 2033 only; the release rows in 2031 (no max_rate: none)
    and 2032 (not a release year: rate 0) -> only 2032.
    """
    r = solve(instance({"years": [2031], "refill_by": 2033}))
    assert r.results.objective == pytest.approx(41.4, rel=REL)
    assert levels(r) == pytest.approx({2030: 5, 2031: 1, 2032: 3, 2033: 5}, rel=REL)
    assert sum(unmet(r).values()) == pytest.approx(0.0, abs=1e-6)
    made = r.results.tables["capacity"].set_index("year")["production_t"].to_dict()
    assert made == pytest.approx({2030: 10, 2031: 6, 2032: 12, 2033: 12}, rel=REL)
    assert sorted(r.model.stock_cover) == [("reserve", 2030), ("reserve", 2033)]
    assert sorted(r.model.stock_release) == [("reserve", 2032)]
    stocks = r.results.tables["stocks"].groupby("year")["required_t"].first().to_dict()
    assert stocks == {2030: 5.0, 2031: 0.0, 2032: 0.0, 2033: 5.0}


def test_max_rate_binds(solve):
    """As above with max_rate 3 t/yr: 2031 draws 3 t (the limit counts all that is drawn, so
    stocking above the floor in 2030 does not help), 1 t goes unmet. Refill from 2 t: level 3 in
    2032 is the least the 2033 refill (at most 2 t) allows.
        levels   5, 2, 3, 5            holding 0.1 * 15 = 1.5
        output   10, 6, 11, 12 = 39    unmet 1 * 100 = 100
        total    140.5
    The release row's dual: one more t/yr of rate serves 1 t more in 2031 (saves 100), is
    refilled at 1 M$/t in 2032 (level 3 still reachable from 1) and is 1 t less held in 2031
    (saves 0.1): 100 - 1 + 0.1 = 99.1 M$/t = 99,100 USD/kg.
    """
    r = solve(instance({"years": [2031], "max_rate": 3, "refill_by": 2033}))
    assert r.results.objective == pytest.approx(140.5, rel=REL)
    assert levels(r) == pytest.approx({2030: 5, 2031: 2, 2032: 3, 2033: 5}, rel=REL)
    assert unmet(r)[2031] == pytest.approx(1.0, rel=REL)
    assert release_duals(r)[2031] == pytest.approx(99_100.0, rel=1e-6)


def test_no_draw_in_a_window_year_that_is_not_a_release_year(solve):
    """Release years [2031], refill_by 2033, but the disruption is in 2032 (a window year that
    is not a release year): the stock may not be drawn in 2032, so 4 t go unmet there even
    though the floor is off. The 2033 refill (at most 2 t) needs level >= 3 at the end of 2032,
    and 2032 cannot draw, so level 2031 = level 2032 = 3: 2031 draws 2 t (output 8) to save
    holding.
        levels   5, 3, 3, 5            holding 0.1 * 16 = 1.6
        output   10, 8, 6, 12 = 36     unmet 4 * 100 = 400
        total    437.6
    Without the rule, stock carried above 3 t into 2032 could be drawn there and nothing would
    go unmet. The 2032 release row's dual: allowing 1 t drawn in 2032 saves 100 of unmet, costs
    1 t more output in 2031 and 0.1 more holding (level 4 in 2031): 98.9 M$/t = 98,900 USD/kg.
    """
    r = solve(instance({"years": [2031], "refill_by": 2033}, disrupted=(2032,)))
    assert r.results.objective == pytest.approx(437.6, rel=REL)
    assert levels(r) == pytest.approx({2030: 5, 2031: 3, 2032: 3, 2033: 5}, rel=REL)
    assert unmet(r)[2032] == pytest.approx(4.0, rel=REL)
    assert release_duals(r)[2032] == pytest.approx(98_900.0, rel=1e-6)


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
    2033. In 2031 the whole stock is drawn (5 t) and 5 t go unmet; 2032 is in the window but not
    a release year, so the level stays 0 and is refilled in 2033, the latest (cheapest to hold)
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
