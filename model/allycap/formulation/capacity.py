"""Capacity: vintages of new capacity, production limits, build limits, resources.

new[f,v] is capacity decided in year v, online from v + lead_time for `lifetime` years. The
capacity online from new builds is carried as a running sum, online[f,y], so each decision
enters at most two rows (when it comes online and when it retires): O(years) non-zeros per
facility instead of a double sum over years.
"""

from __future__ import annotations

import pyomo.environ as pyo

from allycap.data import ModelData


def add_capacity(m: pyo.ConcreteModel, d: ModelData) -> None:
    build = [(f, v) for f, vint in d.vintages.items() for v in vint.decisions]
    m.new = pyo.Var(build, within=pyo.NonNegativeReals, doc="new capacity decided, t/yr")
    online_keys = [(f, y) for f in d.vintages for y in d.years]
    m.online = pyo.Var(online_keys, within=pyo.NonNegativeReals, doc="new capacity online, t/yr")

    def online_rule(m, f, y):
        vint = d.vintages[f]
        prev = d.previous_year(y)
        expr = m.online[f, y] - sum(m.new[f, v] for v in vint.added[y])
        expr += sum(m.new[f, v] for v in vint.removed[y])
        if prev is not None:
            expr -= m.online[f, prev]
        return expr == 0

    m.online_balance = pyo.Constraint(online_keys, rule=online_rule)

    m.prod = pyo.Var(d.prod_index, within=pyo.NonNegativeReals, doc="output by tag, t/yr")
    by_fy: dict[tuple[str, int], list[str]] = {}
    for f, y, k in d.prod_index:
        by_fy.setdefault((f, y), []).append(k)

    def limit_rule(m, f, y):
        used = sum(m.prod[f, y, k] for k in by_fy[f, y])
        avail = d.availability[f, y]
        if f in d.vintages:
            return used - avail * m.online[f, y] <= avail * d.existing[f, y]
        return used <= avail * d.existing[f, y]

    m.capacity_limit = pyo.Constraint(list(by_fy), rule=limit_rule)

    # plain dicts: pandas .at in a per-row rule costs more than the row itself
    max_new = d.facilities["max_new"].to_dict()
    ramp = d.facilities["ramp"].to_dict()
    resource = d.facilities["resource"].to_dict()
    with_max = [f for f in d.vintages if _given(max_new[f])]
    m.build_max = pyo.Constraint(
        with_max,
        rule=lambda m, f: sum(m.new[f, v] for v in d.vintages[f].decisions) <= float(max_new[f]),
    )
    ramp_keys = [(f, v) for f, v in build if _given(ramp[f])]
    m.build_ramp = pyo.Constraint(
        ramp_keys, rule=lambda m, f, v: m.new[f, v] <= float(ramp[f]) * d.step
    )

    years_of: dict[str, list[int]] = {}
    for f, y in by_fy:
        years_of.setdefault(f, []).append(y)
    with_resource = sorted(f for f in years_of if _given(resource[f]))
    m.resource_limit = pyo.Constraint(
        with_resource,
        rule=lambda m, f: (
            d.step * sum(m.prod[f, y, k] for y in years_of[f] for k in by_fy[f, y])
            <= float(resource[f])
        ),
    )


def _given(value) -> bool:
    return value is not None and value == value  # pandas stores a missing number as NaN
