"""Budgets: capital spent by a payer, per year and in total.

spend[b,y] = sum_f pay_share[b,f] * capex[f] * new[f,y], in undiscounted M$ at decision time;
pay_share is the payer's co-financing share (or 1 for a fund's eligible facilities) times the
budget's `share`. Per period: spend[b,y] <= step * per_year(y). Total: sum_y spend[b,y] <= total.
"""

from __future__ import annotations

import pyomo.environ as pyo

from allycap.data import ModelData
from allycap.formulation.family import DualSpec, Family, RowSpec, where


def spend(m: pyo.ConcreteModel, d: ModelData, budget: str, year: int):
    b = d.budgets[budget]
    fac = d.facilities
    return sum(
        share * fac[f].expansion.capex * m.new[f, year]
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


def _limit(d: ModelData, index) -> tuple[float, str]:
    b = d.budgets[index[0]]
    if len(index) == 1:
        return b.total, "in total"
    return d.step * b.per_year[index[1]], f"in {index[1]}"


def _sentence(c, d: ModelData, best) -> str:
    limit, when = _limit(d, c.index)
    text = f"budget {c.index[0]}{where(c)} allows {limit:,.1f} M$ {when}"
    if best is not None:
        text += f"; the other rules need at least {best:,.1f} M$ of its spending"
    return text + "."


def _path(index, d) -> tuple:
    return ("budgets", index[0])


FAMILY = Family(
    name="budgets",
    build=add_budgets,
    rows=(
        RowSpec(
            "budget_per_year",
            ("budget", "year"),
            _path,
            doc="capex decided in a year is at most step * per_year",
            kind="investment",
            policy=True,
            rank=50,
            probe=True,
            sentence=_sentence,
            dual=DualSpec(
                family="budget",
                title="`budget` (per year)",
                unit="M$ PV per M$/yr",
                meaning="value of one more M$ a year in this budget",
                formula="`-dual * step`",
                reads_as="value of one more M$ a year in this budget",
                where=lambda index, d: (index[0], "", "", index[1]),
                value=lambda dual, index, d: -dual * d.step,
                summary=True,
            ),
        ),
        RowSpec(
            "budget_total",
            ("budget",),
            _path,
            doc="capex decided over the horizon is at most total",
            kind="investment",
            policy=True,
            rank=51,
            probe=True,
            sentence=_sentence,
            dual=DualSpec(
                family="budget",
                title="`budget` (total)",
                unit="M$ PV per M$",
                meaning="value of one more M$ in this budget's total",
                formula="`-dual`",
                reads_as="value of one more M$ in the budget's total",
                where=lambda index, d: (index[0], "", "", None),
                value=lambda dual, index, d: -dual,
                summary=True,
            ),
        ),
    ),
)
