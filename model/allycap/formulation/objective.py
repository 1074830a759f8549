"""Objective: present value at the start year of all costs, by category.

Each year's flows weigh w[y] = step * (1 + r)^-(y - start). Capital is charged as an annuity,
capex * CRF(r, lifetime), for each year a vintage is online inside the horizon, so a plant
built late is charged only for the years it serves and end effects vanish.
  capital   sum_{f,y} w[y] * capex[f] * CRF[f] * online[f,y]
  fixed_om  sum_{f,y} w[y] * fixed_om[f] * (existing[f,y] + online[f,y])
  variable  sum_{f,y,k} w[y] * variable_cost[f,y] * prod[f,y,k]
  transport sum w[y] * transport_cost * ship;  tariff  sum w[y] * tariff * ship
  unmet     sum w[y] * penalty[c] * unmet;     holding sum w[y] * holding_cost * stock
  retag     sum w[y] * retag_cost * retag
"""

from __future__ import annotations

import pyomo.environ as pyo

from allycap.data import ModelData

CATEGORIES = ("capital", "fixed_om", "variable", "transport", "tariff", "unmet", "holding", "retag")


def cost_terms(m: pyo.ConcreteModel, d: ModelData) -> dict[str, list[tuple[float, object]]]:
    """category -> [(present-value coefficient, variable or None for a constant)]."""
    w = d.weight
    fac = d.facilities
    terms: dict[str, list] = {c: [] for c in CATEGORIES}
    for f, y in m.online:
        terms["capital"].append((w[y] * d.annualized_capex[f], m.online[f, y]))
    for f, om in fac["fixed_om"].items():
        om = float(om)
        if om == 0:
            continue
        for y in d.years:
            if d.existing[f, y] > 0:
                terms["fixed_om"].append((w[y] * om * d.existing[f, y], None))
            if f in d.vintages:
                terms["fixed_om"].append((w[y] * om, m.online[f, y]))
    for f, y, k in d.prod_index:
        if d.variable_cost[f, y] != 0:
            terms["variable"].append((w[y] * d.variable_cost[f, y], m.prod[f, y, k]))
    for c, o, dest, y, k in d.ship_index:
        var = m.ship[c, o, dest, y, k]
        if d.transport_cost[c, o, dest, y] != 0:
            terms["transport"].append((w[y] * d.transport_cost[c, o, dest, y], var))
        if d.tariff_cost[c, o, dest, y] != 0:
            terms["tariff"].append((w[y] * d.tariff_cost[c, o, dest, y], var))
    if not d.strict:
        for r, c, y in m.unmet:
            terms["unmet"].append((w[y] * d.unmet_penalty[c], m.unmet[r, c, y]))
    for r, c, y, k in d.stock_index:
        hold = d.stockpiles[r, c].holding_cost
        if hold != 0:
            terms["holding"].append((w[y] * hold, m.stock[r, c, y, k]))
    if d.retag_cost > 0:
        for r, c, y in d.retag_index:
            terms["retag"].append((w[y] * d.retag_cost, m.retag[r, c, y]))
    return terms


def add_objective(m: pyo.ConcreteModel, d: ModelData) -> None:
    terms = cost_terms(m, d)
    m.cost = pyo.Expression(
        list(CATEGORIES),
        rule=lambda m, cat: sum(a * v if v is not None else a for a, v in terms[cat]),
    )
    m.total_cost = pyo.Objective(expr=sum(m.cost[c] for c in CATEGORIES), sense=pyo.minimize)
