"""Stockpiles: stock levels by region, commodity, year and tag, a cover rule and a release rule.

stock[r,c,y,k] is the level at the end of model year y. It enters the balance as
(stock carried in - stock carried out) / step, so a level built over a period of `step` years
is paid for by `step` years of surplus, and a release is supply in the year it is drawn.
Cover: sum_k stock >= cover(y) * demand(r,c,y) + min_level, one row `stock_cover[stockpile, year]`,
except in the release window (first release year <= y < refill_by), where the stock may be
below it. Release, in each window year: sum_k (stock carried in - stock carried out) / step
<= max_rate in a release year, <= 0 in a window year that is not one (the stock is held or
refilled), one row `stock_release[stockpile, year]`. Cost: holding, on the stock level.
"""

from __future__ import annotations

import pyomo.environ as pyo

from allycap.data import ModelData, StockpileData
from allycap.formulation.family import CostTerm, DualSpec, Family, RowSpec, VarSpec, where


def add_stockpiles(m: pyo.ConcreteModel, d: ModelData) -> None:
    m.stock = pyo.Var(d.stock_index, within=pyo.NonNegativeReals, doc="stock level, t")
    piles = {s.id: s for s in d.stockpiles.values()}
    keys = [(s.id, y) for s in d.stockpiles.values() for y in d.years]

    def level(s: StockpileData, y: int):
        return sum(m.stock[s.region, s.commodity, y, k] for k in d.tags(s.region))

    def cover_rule(m, pile, y):
        s = piles[pile]
        need = required(d, s, y)
        if need <= 0:
            return pyo.Constraint.Skip
        return level(s, y) >= need

    m.stock_cover = pyo.Constraint(keys, rule=cover_rule)

    release_keys = [
        (s.id, y)
        for s in d.stockpiles.values()
        for y in s.window
        if release_limit(s, y) is not None
    ]

    def release_rule(m, pile, y):
        s = piles[pile]
        prev = d.previous_year(y)
        carried_in = sum(s.initial.values()) if prev is None else level(s, prev)
        # (in - out) / step is what the balance counts as supply from the stock, t/yr.
        return (carried_in - level(s, y)) / d.step <= release_limit(s, y)

    m.stock_release = pyo.Constraint(release_keys, rule=release_rule)


def required(d: ModelData, s: StockpileData, year: int) -> float:
    """What the cover rule requires in `year`, t: cover * demand + min_level, and 0 in the
    release window (no cover row then)."""
    if year in s.window:
        return 0.0
    return s.cover[year] * d.demand.get((s.region, s.commodity, year), 0.0) + s.min_level[year]


def release_limit(s: StockpileData, year: int) -> float | None:
    """Most drawn from the stock in a window year, t/yr: `max_rate` in a release year (None:
    no limit, no row), 0 in the window's other years."""
    return s.max_rate if year in s.release_years else 0.0


def stockpile(d: ModelData, pile: str) -> StockpileData:
    return next(s for s in d.stockpiles.values() if s.id == pile)


def cost_terms(m, d: ModelData) -> dict[str, list[CostTerm]]:
    terms = []
    for r, c, y, k in d.stock_index:
        hold = d.stockpiles[r, c].holding_cost
        if hold != 0:
            terms.append(CostTerm(y, r, hold, m.stock[r, c, y, k]))
    return {"holding": terms}


def _stock_path(index, d: ModelData) -> tuple:
    pile = d.stockpiles.get((index[0], index[1]))
    return ("stockpiles", pile.id) if pile else ("stockpiles",)


def _cover_where(index, d: ModelData) -> tuple:
    s = stockpile(d, index[0])
    return (s.id, s.region, s.commodity, index[1])


def _cover_sentence(c, d: ModelData, best) -> str:
    s = stockpile(d, c.index[0])
    y = c.index[1]
    text = (
        f"stockpile {s.id}{where(c)} requires {required(d, s, y):,.0f} t of {s.commodity} in "
        f"{s.region} in {y}"
    )
    if best is not None:
        text += f"; at most {best:,.0f} t can be held then"
    return text + "."


def _release_where(index, d: ModelData) -> tuple:
    s = stockpile(d, index[0])
    return (s.id, s.region, s.commodity, index[1])


def _release_sentence(c, d: ModelData, best) -> str:
    s = stockpile(d, c.index[0])
    y = c.index[1]
    if y in s.release_years:
        return (
            f"stockpile {s.id}{where(c)} releases at most {release_limit(s, y):,.0f} t/yr of "
            f"{s.commodity} in {y}."
        )
    return (
        f"stockpile {s.id}{where(c)} is not drawn in {y}: it is not a release year and the "
        f"stock is being refilled by {s.refill_by}."
    )


FAMILY = Family(
    name="stockpiles",
    build=add_stockpiles,
    variables=(VarSpec("stock", ("region", "commodity", "year", "tag"), _stock_path, "t"),),
    rows=(
        RowSpec(
            "stock_cover",
            ("stockpile", "year"),
            lambda index, d: ("stockpiles", index[0]),
            doc="the stock level covers cover * demand + min_level",
            policy=True,
            rank=60,
            probe=True,
            sentence=_cover_sentence,
            dual=DualSpec(
                family="stockpile",
                title="`stockpile`",
                unit="USD/kg",
                meaning="cost of requiring one more tonne in the stockpile, in that year's money",
                formula="`dual / w_y * 1000`",
                reads_as="cost of requiring one more tonne in the stockpile, in that year's money",
                where=_cover_where,
                value=lambda dual, index, d: dual / d.weight[index[1]] * 1e3,
                summary=True,
                explain="market",
            ),
        ),
        RowSpec(
            "stock_release",
            ("stockpile", "year"),
            lambda index, d: ("stockpiles", index[0], "release"),
            doc="in the release window the stock is drawn at most max_rate in a release year "
            "and not at all in the window's other years",
            policy=True,
            rank=61,
            sentence=_release_sentence,
            dual=DualSpec(
                family="stock_release",
                title="`stock_release`",
                unit="USD/kg",
                meaning="saving from drawing one more tonne from the stockpile that year, in that "
                "year's money",
                formula="`-dual / w_y * 1000`",
                reads_as="saving from drawing one more tonne from the stockpile that year, in "
                "that year's money: what a faster release (or one in a refill year) is worth",
                where=_release_where,
                value=lambda dual, index, d: -dual / d.weight[index[1]] * 1e3,
                explain="market",
            ),
        ),
    ),
    categories=("holding",),
    cost_terms=cost_terms,
)
