"""Stockpiles: stock levels by region, commodity, year and tag, a cover rule and a release rule.

stock[r,c,y,k] is the level at the end of model year y. It enters the balance as
(stock carried in - stock carried out) / step, so a level built over a period of `step` years
is paid for by `step` years of surplus, and a release is supply in the year it is drawn.
Cover: sum_k stock >= floor(y) = cover(y) * demand(r,c,y) + min_level(y), one row
`stock_cover[stockpile, year]`, in every year outside the release window (first release year
<= y < refill_by). Release, in each window year: the floor less what could have been released
so far, sum_k stock >= floor(y) - max_rate * step * (release years <= y), one row
`stock_release[stockpile, year]` (none without max_rate: the stock may then go to 0). A release
only lowers the floor: stock above it is drawn freely in every year, as without a release.
Cost: holding, on the stock level.
"""

from __future__ import annotations

import pyomo.environ as pyo

from allycap.data import ModelData, StockpileData
from allycap.formulation.family import CostTerm, DualSpec, Family, RowSpec, VarSpec, where


def add_stockpiles(m: pyo.ConcreteModel, d: ModelData) -> None:
    m.stock = pyo.Var(d.stock_index, within=pyo.NonNegativeReals, doc="stock level, t")
    piles = {s.id: s for s in d.stockpiles.values()}

    def level(s: StockpileData, y: int):
        return sum(m.stock[s.region, s.commodity, y, k] for k in d.tags(s.region))

    def row(m, pile, y):
        # One rule for both families: required() is the floor outside the window and the
        # relaxed floor inside it; a row whose right-hand side is not positive says nothing.
        need = required(d, piles[pile], y)
        if need <= 0:
            return pyo.Constraint.Skip
        return level(piles[pile], y) >= need

    cover_keys = [(s.id, y) for s in d.stockpiles.values() for y in d.years if y not in s.window]
    m.stock_cover = pyo.Constraint(cover_keys, rule=row)
    release_keys = [
        (s.id, y) for s in d.stockpiles.values() if s.max_rate is not None for y in s.window
    ]
    m.stock_release = pyo.Constraint(release_keys, rule=row)


def floor(d: ModelData, s: StockpileData, year: int) -> float:
    """The cover requirement without any release, t: cover * demand + min_level."""
    return s.cover[year] * d.demand.get((s.region, s.commodity, year), 0.0) + s.min_level[year]


def allowance(d: ModelData, s: StockpileData, year: int) -> float | None:
    """How far below its floor the stock may be in `year`, t: 0 outside the release window;
    in it, max_rate * step for each release year up to and including `year` (what could have
    been released so far), None (no limit) without max_rate."""
    if year not in s.window:
        return 0.0
    if s.max_rate is None:
        return None
    return s.max_rate * d.step * sum(1 for r in s.release_years if r <= year)


def required(d: ModelData, s: StockpileData, year: int) -> float:
    """What the stock must hold at the end of `year`, t: the floor less the release allowance,
    not below 0 (0: no row that year)."""
    room = allowance(d, s, year)
    if room is None:
        return 0.0
    return max(floor(d, s, year) - room, 0.0)


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
    text = (
        f"stockpile {s.id}{where(c)} may be at most {allowance(d, s, y):,.0f} t below its "
        f"floor of {floor(d, s, y):,.0f} t of {s.commodity} in {s.region} in {y} (max_rate "
        f"{s.max_rate:,.0f} t/yr over the release years so far), so it must hold "
        f"{required(d, s, y):,.0f} t"
    )
    if best is not None:
        text += f"; at most {best:,.0f} t can be held then"
    return text + "."


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
            doc="in the release window the stock holds at least the floor less max_rate * step "
            "for each release year so far",
            policy=True,
            rank=61,
            probe=True,
            sentence=_release_sentence,
            dual=DualSpec(
                family="stock_release",
                title="`stock_release`",
                unit="USD/kg",
                meaning="saving from allowing the stockpile one more tonne below its floor that "
                "year, in that year's money",
                formula="`dual / w_y * 1000`",
                reads_as="saving from allowing the stockpile one more tonne below its floor that "
                "year, in that year's money: what a larger or earlier release is worth",
                where=_release_where,
                value=lambda dual, index, d: dual / d.weight[index[1]] * 1e3,
                explain="market",
            ),
        ),
    ),
    categories=("holding",),
    cost_terms=cost_terms,
)
