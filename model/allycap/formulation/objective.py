"""Objective: present value at the start year of all costs, by category.

Each family declares its cost terms (`Family.cost_terms`: category, year, region, a coefficient
in that year's money and a variable); this module adds them up, each year's flows weighing
w[y] = step * (1 + r)^-(y - start). `results.costs` reads the same terms, so `costs.csv` and the
objective are one account. The terms:
  capital   sum_{f,y} w[y] * capex[f] * CRF[f] * online[f,y]                     (capacity)
  fixed_om  sum_{f,y} w[y] * fixed_om[f] * (existing[f,y] + online[f,y])         (capacity)
  variable  sum_{f,y,k} w[y] * variable_cost[f,y] * prod[f,y,k]                  (capacity)
  retag     sum w[y] * retag_cost * retag                                        (provenance)
  holding   sum w[y] * holding_cost * stock                                      (stockpiles)
  transport sum w[y] * transport_cost * ship;  tariff  sum w[y] * tariff * ship  (trade)
  curtailment sum w[y] * tranche cost * shortfall (curtailment tranches)          (demand)
  unmet     sum w[y] * penalty[c] * unmet (no sectors)
            + sum w[y] * shortage cost * shortfall (the last tranche)             (demand)
Capital is charged as an annuity, capex * CRF(r, lifetime), for each year a vintage is online
inside the horizon, so a plant built late is charged only for the years it serves and end
effects vanish.
"""

from __future__ import annotations

import pyomo.environ as pyo

from allycap.data import ModelData
from allycap.formulation.family import CostTerm
from allycap.formulation.registry import CATEGORIES, FAMILIES

__all__ = ["CATEGORIES", "add_objective", "cost_terms"]


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
