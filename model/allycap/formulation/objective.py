"""Objective: present value at the start year of all costs, by category.

Each family declares its cost terms (`Family.cost_terms`: category, year, region, a coefficient
in that year's money and a variable); this module adds them up, each model year's flows weighing
w[y] = sum_{j=0..step-1} (1 + r)^-(y + j - start): the model year stands for its period of
`step` years, each discounted as of its own year (data.period_weight; (1 + r)^-(y - start) when
step is 1). `results.costs` reads the same terms, so `costs.csv` and the objective are one
account. The terms:
  capital   sum_{f,y} w[y] * capex[f] * IDC[f] * CRF[f] * online[f,y]           (capacity)
  fixed_om  sum_{f,y} w[y] * fixed_om[f] * (existing[f,y] + online[f,y])         (capacity)
  variable  sum_{f,y,k} w[y] * variable_cost[f,y] * prod[f,y,k]                  (capacity)
  retag     sum w[y] * retag_cost * retag                                        (provenance)
  holding   sum w[y] * holding_cost * stock                                      (stockpiles)
  transport sum w[y] * transport_cost * ship;  tariff  sum w[y] * tariff * ship  (trade)
  curtailment sum w[y] * tranche cost * shortfall (curtailment tranches)          (demand)
  unmet     sum w[y] * penalty[c] * unmet (no sectors)
            + sum w[y] * shortage cost * shortfall (the last tranche)             (demand)
Capital is charged as an annuity, capex * IDC(lead, r) * CRF(r, lifetime), for each year a
vintage is online inside the horizon, so a plant built late is charged only for the years it
serves and end effects vanish. IDC (data.construction_interest) grows the overnight capex by
the interest accrued while it is spent, evenly over the lead-time years before service, so for
the same online years a longer lead time costs more. Budgets count the overnight capex in the
decision year instead (formulation/budgets.py).
"""

from __future__ import annotations

import pyomo.environ as pyo

from allycap.data import ModelData
from allycap.formulation.family import CostTerm
from allycap.formulation.registry import CATEGORIES, FAMILIES, SHORTAGE_CATEGORIES

__all__ = ["CATEGORIES", "add_objective", "cost_terms", "shortage_cost", "shortage_terms"]


def cost_terms(m: pyo.Block, d: ModelData) -> dict[str, list[CostTerm]]:
    """category -> the cost terms every family declares (undiscounted coefficients)."""
    terms: dict[str, list[CostTerm]] = {c: [] for c in CATEGORIES}
    for family in FAMILIES:
        if family.cost_terms is not None:
            for category, found in family.cost_terms(m, d).items():
                terms[category].extend(found)
    return terms


def add_objective(m: pyo.Block, d: ModelData) -> None:
    terms = cost_terms(m, d)
    w = d.weight
    m.cost = pyo.Expression(
        list(CATEGORIES),
        rule=lambda m, cat: sum(
            w[t.year] * t.coef * t.var if t.var is not None else w[t.year] * t.coef
            for t in terms[cat]
        ),
    )
    m.total_cost = pyo.Objective(expr=sum(m.cost[c] for c in CATEGORIES), sense=pyo.minimize)


def shortage_terms(m: pyo.Block, d: ModelData) -> list[CostTerm]:
    """The cost terms of the shortage account (every category in SHORTAGE_CATEGORIES)."""
    terms = cost_terms(m, d)
    return [t for c in SHORTAGE_CATEGORIES for t in terms.get(c, [])]


def shortage_cost(m: pyo.Block, d: ModelData) -> float:
    """The shortage account of a solved model (or block), M$ PV, weighed as the objective weighs
    it; the resource account is the objective minus this."""
    total = 0.0
    for t in shortage_terms(m, d):
        value = 1.0 if t.var is None else (t.var.value or 0.0)
        if abs(value) < 1e-9:  # solver noise, read as 0 as results.py does
            continue
        total += d.weight[t.year] * t.coef * value
    return total
