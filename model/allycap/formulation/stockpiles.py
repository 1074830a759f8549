"""Stockpiles: stock levels by region, commodity, year and tag, with a cover rule.

stock[r,c,y,k] is the level at the end of model year y. It enters the balance as
(stock carried in - stock carried out) / step, so a level built over a period of `step` years
is paid for by `step` years of surplus. Cover: sum_k stock >= cover(y) * demand(r,c,y) + min_level,
one row `stock_cover[stockpile, year]`. Cost: holding, on the stock level.
"""

from __future__ import annotations

import pyomo.environ as pyo

from allycap.data import ModelData, StockpileData
from allycap.formulation.family import CostTerm, DualSpec, Family, RowSpec, VarSpec, where


def add_stockpiles(m: pyo.ConcreteModel, d: ModelData) -> None:
    m.stock = pyo.Var(d.stock_index, within=pyo.NonNegativeReals, doc="stock level, t")
    piles = {s.id: s for s in d.stockpiles.values()}
    keys = [(s.id, y) for s in d.stockpiles.values() for y in d.years]

    def cover_rule(m, pile, y):
        s = piles[pile]
        need = required(d, s, y)
        if need <= 0:
            return pyo.Constraint.Skip
        return sum(m.stock[s.region, s.commodity, y, k] for k in d.tags(s.region)) >= need

    m.stock_cover = pyo.Constraint(keys, rule=cover_rule)


def required(d: ModelData, s: StockpileData, year: int) -> float:
    """What the cover rule requires in `year`, t: cover * demand + min_level."""
    return s.cover[year] * d.demand.get((s.region, s.commodity, year), 0.0) + s.min_level[year]


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
    ),
    categories=("holding",),
    cost_terms=cost_terms,
)
