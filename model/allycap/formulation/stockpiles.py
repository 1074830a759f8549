"""Stockpiles: stock levels by region, commodity, year and tag, with a cover rule.

stock[r,c,y,k] is the level at the end of model year y. It enters the balance as
(stock carried in - stock carried out) / step, so a level built over a period of `step` years
is paid for by `step` years of surplus. Cover: sum_k stock >= cover(y) * demand(r,c,y) + min_level.
"""

from __future__ import annotations

import pyomo.environ as pyo

from allycap.data import ModelData


def add_stockpiles(m: pyo.ConcreteModel, d: ModelData) -> None:
    m.stock = pyo.Var(d.stock_index, within=pyo.NonNegativeReals, doc="stock level, t")
    keys = [(r, c, y) for (r, c) in d.stockpiles for y in d.years]

    def cover_rule(m, r, c, y):
        s = d.stockpiles[r, c]
        need = s.cover[y] * d.demand.get((r, c, y), 0.0) + s.min_level[y]
        if need <= 0:
            return pyo.Constraint.Skip
        return sum(m.stock[r, c, y, k] for k in d.tags(r)) >= need

    m.stock_cover = pyo.Constraint(keys, rule=cover_rule)
