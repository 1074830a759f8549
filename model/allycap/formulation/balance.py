"""Balance.

Balance, for each region r, commodity c, year y and tag k (free disposal, so a co-product
nobody wants does not make the model infeasible):
  production + imports + (stock carried in - stock carried out) / step + retag in
    >= inputs consumed + exports + deliveries + retag out
Deliveries meet demand in formulation/demand.py.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from allycap.data import CLEAN, OTHER, ModelData
from allycap.formulation.family import Family, RowSpec, VarSpec


def add_balance(m: pyo.ConcreteModel, d: ModelData) -> None:
    m.deliver = pyo.Var(d.deliver_index, within=pyo.NonNegativeReals, doc="deliveries, t/yr")

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


def _commodity(index, d) -> tuple:
    return ("commodities", index[1])


def _demand(index, d) -> tuple:
    return ("demand", index[0], index[1])


FAMILY = Family(
    name="balance",
    build=add_balance,
    variables=(VarSpec("deliver", ("region", "commodity", "year", "tag"), _demand, "t/yr"),),
    rows=(
        RowSpec(
            "balance",
            ("region", "commodity", "year", "tag"),
            _commodity,
            doc="supply of a commodity covers its uses, per tag (free disposal)",
        ),
    ),
)
