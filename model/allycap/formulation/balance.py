"""Balance and demand.

Balance, for each region r, commodity c, year y and tag k (free disposal, so a co-product
nobody wants does not make the model infeasible):
  production + imports + (stock carried in - stock carried out) / step + retag in
    >= inputs consumed + exports + deliveries + retag out
Demand, for each (r, c, y) with demand: sum_k deliver + unmet = demand (no unmet in strict mode).
Cost: the unmet-demand penalty.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from allycap.data import CLEAN, OTHER, ModelData
from allycap.formulation.family import CostTerm, DualSpec, Family, RowSpec, ShortfallRow, VarSpec


def add_balance(m: pyo.ConcreteModel, d: ModelData) -> None:
    m.deliver = pyo.Var(d.deliver_index, within=pyo.NonNegativeReals, doc="deliveries, t/yr")
    demand_keys = list(d.demand)
    if not d.strict:
        m.unmet = pyo.Var(demand_keys, within=pyo.NonNegativeReals, doc="unmet demand, t/yr")

    terms: dict[tuple, list] = defaultdict(list)
    constant: dict[tuple, float] = defaultdict(float)
    region_of = {f: facility.region for f, facility in d.facilities.items()}
    for f, y, k in d.prod_index:
        r = region_of[f]
        var = m.prod[f, y, k]
        for c, a in d.outputs[f].items():
            terms[r, c, y, k].append((a, var))
        for c, a in d.inputs_per_unit[f].items():
            terms[r, c, y, k].append((-a, var))
    for c, o, dest, y, k in d.ship_index:
        var = m.ship[c, o, dest, y, k]
        terms[dest, c, y, k].append((1.0, var))
        terms[o, c, y, k].append((-1.0, var))
    for r, c, y, k in d.deliver_index:
        terms[r, c, y, k].append((-1.0, m.deliver[r, c, y, k]))
    inv_step = 1.0 / d.step
    for r, c, y, k in d.stock_index:
        terms[r, c, y, k].append((-inv_step, m.stock[r, c, y, k]))
        prev = d.previous_year(y)
        if prev is None:
            constant[r, c, y, k] += d.stockpiles[r, c].initial[k] * inv_step
        else:
            terms[r, c, y, k].append((inv_step, m.stock[r, c, prev, k]))
    for r, c, y in d.retag_index:
        var = m.retag[r, c, y]
        terms[r, c, y, CLEAN].append((-1.0, var))
        terms[r, c, y, OTHER].append((1.0, var))

    keys = [key for key in d.balance_index if terms.get(key)]

    def balance_rule(m, r, c, y, k):
        key = (r, c, y, k)
        coefs, variables = zip(*terms[key], strict=True)
        body = LinearExpression(constant=0.0, linear_coefs=list(coefs), linear_vars=list(variables))
        return body >= -constant.get(key, 0.0)

    m.balance = pyo.Constraint(keys, rule=balance_rule)

    tags_of: dict[tuple, list[str]] = defaultdict(list)
    for r, c, y, k in d.deliver_index:
        tags_of[r, c, y].append(k)

    def demand_rule(m, r, c, y):
        delivered = sum(m.deliver[r, c, y, k] for k in tags_of[r, c, y])
        if not d.strict:
            delivered += m.unmet[r, c, y]
        return delivered == d.demand[r, c, y]

    m.demand_met = pyo.Constraint(demand_keys, rule=demand_rule)


def cost_terms(m, d: ModelData) -> dict[str, list[CostTerm]]:
    if d.strict:
        return {"unmet": []}
    return {"unmet": [CostTerm(y, r, d.unmet_penalty[c], m.unmet[r, c, y]) for r, c, y in m.unmet]}


def shortfall(m, d: ModelData) -> list[ShortfallRow]:
    """Unmet demand of a solved model (one sector, "all", per demand)."""
    if d.strict:
        return []
    rows = []
    for r, c, y in m.unmet:
        value = m.unmet[r, c, y].value or 0.0
        if value > 1e-9:
            rows.append(ShortfallRow(r, c, "all", y, "unmet", value, d.unmet_penalty[c]))
    return rows


def _demand(index, d) -> tuple:
    return ("demand", index[0], index[1])


def _commodity(index, d) -> tuple:
    return ("commodities", index[1])


def _demand_sentence(c, d: ModelData, best) -> str:
    r, com, y = c.index
    text = (
        f"strict mode: demand for {com} in {r} in {y} is {d.demand[r, com, y]:,.0f} t and "
        "may not go unmet"
    )
    if best is not None:
        text += f"; at most {best:,.0f} t can be delivered"
    return text + "."


FAMILY = Family(
    name="balance",
    build=add_balance,
    variables=(
        VarSpec("deliver", ("region", "commodity", "year", "tag"), _demand, "t/yr"),
        VarSpec("unmet", ("region", "commodity", "year"), _demand, "t/yr"),
    ),
    rows=(
        RowSpec(
            "balance",
            ("region", "commodity", "year", "tag"),
            _commodity,
            doc="supply of a commodity covers its uses, per tag (free disposal)",
        ),
        RowSpec(
            "demand_met",
            ("region", "commodity", "year"),
            _demand,
            doc="deliveries plus unmet demand equal demand",
            policy=True,
            rank=70,
            probe=True,
            sentence=_demand_sentence,
            dual=DualSpec(
                family="demand",
                title="`demand`",
                unit="USD/kg",
                meaning="marginal cost of one more tonne delivered, in that year's money",
                formula="`dual / w_y * 1000`, with "
                "$w_y = \\sum_{j=0}^{\\text{step}-1}(1+r)^{-(y+j-y_0)}$",
                reads_as="marginal cost of one more tonne delivered in the region, in that year's "
                "money (undiscounted); where demand is unmet it equals the unmet penalty",
                where=lambda index, d: ("", index[0], index[1], index[2]),
                value=lambda dual, index, d: dual / d.weight[index[2]] * 1e3,
                explain="price",
            ),
        ),
    ),
    categories=("unmet",),
    cost_terms=cost_terms,
    shortage_categories=("unmet",),
    shortfall=shortfall,
)
