"""Budgets: capital spent by a payer, per year and in total.

spend[b,y] = sum_f pay_share[b,f] * capex[f] * new[f,y], in undiscounted M$ at decision time;
pay_share is the payer's co-financing share (or 1 for a fund's eligible facilities) times the
budget's `share`. Per period: spend[b,y] <= step * per_year(y). Total: sum_y spend[b,y] <= total.
"""

from __future__ import annotations

import pyomo.environ as pyo

from allycap.data import ModelData


def spend(m: pyo.ConcreteModel, d: ModelData, budget: str, year: int):
    b = d.budgets[budget]
    capex = d.facilities["capex"]
    return sum(
        share * float(capex[f]) * m.new[f, year]
        for f, share in b.pay_share.items()
        if f in d.vintages and year in d.vintages[f].decisions
    )


def add_budgets(m: pyo.ConcreteModel, d: ModelData) -> None:
    yearly = [(b.id, y) for b in d.budgets.values() if b.per_year is not None for y in d.years]

    def yearly_rule(m, b, y):
        expr = spend(m, d, b, y)
        if isinstance(expr, int | float):
            return pyo.Constraint.Skip
        return expr <= d.step * d.budgets[b].per_year[y]

    m.budget_per_year = pyo.Constraint(yearly, rule=yearly_rule)
    totals = [b.id for b in d.budgets.values() if b.total is not None]

    def total_rule(m, b):
        expr = sum(spend(m, d, b, y) for y in d.years)
        if isinstance(expr, int | float):
            return pyo.Constraint.Skip
        return expr <= d.budgets[b].total

    m.budget_total = pyo.Constraint(totals, rule=total_rule)
