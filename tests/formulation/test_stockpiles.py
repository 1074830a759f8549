"""Known answers for formulation/stockpiles.py.

stock[r,c,y,k] is the level at the end of model year y; sum_k stock >= cover(y) * demand +
min_level(y); it enters the balance as (stock_prev - stock_now) / step, with the initial stock
before the first year; holding costs holding_cost * level * w[y].
"""

from __future__ import annotations

import pytest

REL = 1e-6


def stocked(stockpile: dict, end: int = 2032, step: int = 1, existing: float = 100) -> dict:
    """USA: magnet demand 10 t/yr, a plant at 1 M$/t, and a magnet stockpile."""
    data = {
        "horizon": {"start": 2030, "end": end, "step": step},
        "discount_rate": 0.0,
        "regions": {"USA": {"bloc": "allied"}},
        "commodities": {"magnet": {}},
        "processes": {"make": {"stage": "magnet", "output": "magnet"}},
        "facilities": {},
        "demand": {"USA": {"magnet": 10}},
        "stockpiles": {"reserve": {"region": "USA", "commodity": "magnet", **stockpile}},
        "options": {"unmet_penalty": 100.0},
    }
    if existing:
        data["facilities"]["plant"] = {
            "region": "USA",
            "process": "make",
            "existing": existing,
            "variable_cost": 1.0,
        }
    return data


def levels(r) -> dict:
    m = r.model
    return {
        y: sum(m.stock["USA", "magnet", y, k].value for k in ("clean", "other"))
        for y in r.data.years
    }


def test_cover_target_sets_the_level_and_the_holding_cost(solve):
    """Years 2030-2032, cover 0.5 year of demand -> level >= 5 t at the end of each year, no
    initial stock, holding 0.2 M$ per t per year. Building the stock takes 5 t of extra output
    in 2030; holding more than 5 would only cost more:
        levels   5, 5, 5
        output   15, 10, 10 -> variable 35
        holding  0.2 * 5 * 3 = 3
        total    38
    """
    r = solve(stocked({"cover": 0.5, "holding_cost": 0.2}))
    assert r.results.objective == pytest.approx(38.0, rel=REL)
    assert levels(r) == pytest.approx({2030: 5.0, 2031: 5.0, 2032: 5.0}, rel=REL)
    made = r.results.tables["capacity"].set_index("year")["production_t"].to_dict()
    assert made == pytest.approx({2030: 15.0, 2031: 10.0, 2032: 10.0}, rel=REL)
    by_cat = r.results.tables["costs"].groupby("category")["present_value_musd"].sum()
    assert by_cat["holding"] == pytest.approx(3.0, rel=REL)
    assert by_cat["variable"] == pytest.approx(35.0, rel=REL)


def test_initial_stock_is_drawn_down_to_the_cover(solve):
    """As above with 8 t in stock before 2030 (all clean): 3 t can be drawn in 2030 while
    keeping 5, so 2030 output is 10 - 3 = 7:
        variable = 7 + 10 + 10 = 27; holding = 3; total = 30; supply stays fully clean.
    """
    r = solve(stocked({"cover": 0.5, "holding_cost": 0.2, "initial": 8, "initial_clean_share": 1}))
    assert r.results.objective == pytest.approx(30.0, rel=REL)
    assert levels(r) == pytest.approx({2030: 5.0, 2031: 5.0, 2032: 5.0}, rel=REL)
    assert r.results.tables["capacity"].set_index("year").loc[2030, "production_t"] == (
        pytest.approx(7.0, rel=REL)
    )
    assert r.results.tables["supply_mix"]["clean_share"].tolist() == pytest.approx([1, 1, 1])


def test_min_level_adds_to_the_cover(solve):
    """cover 0.5 (5 t) + min_level 2 t -> level >= 7 t each year; holding 0.2 M$/t/yr; 7 t of
    extra output in 2030 build the stock:
        variable = 17 + 10 + 10 = 37; holding = 0.2 * 7 * 3 = 4.2; total = 41.2.
    """
    r = solve(stocked({"cover": 0.5, "min_level": 2, "holding_cost": 0.2}))
    assert r.results.objective == pytest.approx(41.2, rel=REL)
    assert levels(r) == pytest.approx({2030: 7.0, 2031: 7.0, 2032: 7.0}, rel=REL)


def test_stock_built_over_a_longer_period(solve):
    """Years 2030, 2035, 2040 (step 5, weight 5), cover 0.5 -> 5 t. The balance takes
    (level_prev - level) / step, so building 5 t over the 2030 period needs 5 / 5 = 1 t/yr of
    extra output there:
        output  11, 10, 10 t/yr -> variable = 5 * 1 * 31 = 155
        holding = 5 years * 0.2 * 5 t * 3 periods = 15
        total   = 170
    """
    r = solve(stocked({"cover": 0.5, "holding_cost": 0.2}, end=2040, step=5))
    assert r.results.objective == pytest.approx(170.0, rel=REL)
    assert levels(r) == pytest.approx({2030: 5.0, 2035: 5.0, 2040: 5.0}, rel=REL)
    made = r.results.tables["capacity"].set_index("year")["production_t"].to_dict()
    assert made == pytest.approx({2030: 11.0, 2035: 10.0, 2040: 10.0}, rel=REL)


def test_stock_alone_covers_demand_until_it_runs_out(solve):
    """No plant, 20 t in stock before 2030, no cover, no holding cost, r = 0.1: 30 t are
    demanded and 20 are held, so 10 t go unmet. Discounting makes a late shortfall cheapest
    (weights 1, 1/1.1, 1/1.21), so the stock serves 2030 and 2031 in full and 2032 is short:
        unmet = 10 t * 100 / 1.21 = 826.446...
    """
    data = stocked({"initial": 20}, existing=0)
    data["discount_rate"] = 0.1
    r = solve(data)
    assert r.results.objective == pytest.approx(1000.0 / 1.21, rel=REL)
    unmet = r.results.tables["supply_mix"].set_index("year")["unmet_t"].to_dict()
    assert unmet == pytest.approx({2030: 0.0, 2031: 0.0, 2032: 10.0}, abs=1e-6)
    assert levels(r) == pytest.approx({2030: 10.0, 2031: 0.0, 2032: 0.0}, abs=1e-6)
