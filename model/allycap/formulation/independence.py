"""Independence rules.

min_clean_share, for a group G (or each region of G), commodity c, year y:
  sum_{r in G} deliver[r,c,y,clean] >= s(y) * sum_{r in G} demand[r,c,y]
max_origin_share, for each origin o outside G:
  sum_{r in G, k} ship[c,o,r,y,k] <= s(y) * supply(G,c,y), where supply is the group's own
  production of c plus its imports of c from outside the group.
Shares are mutable parameters so that sweeps can change them without rebuilding.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from allycap.data import CLEAN, ModelData


def add_independence(m: pyo.ConcreteModel, d: ModelData) -> None:
    clean_rows = [
        i
        for i, row in enumerate(d.clean_share_rows)
        if sum(d.demand.get((r, row.commodity, row.year), 0.0) for r in row.regions) > 0
    ]
    m.clean_share_target = pyo.Param(
        clean_rows, mutable=True, initialize={i: d.clean_share_rows[i].share for i in clean_rows}
    )

    def clean_rule(m, i):
        row = d.clean_share_rows[i]
        c, y = row.commodity, row.year
        clean = sum(m.deliver[r, c, y, CLEAN] for r in row.regions if (r, c, y, CLEAN) in m.deliver)
        total = sum(d.demand.get((r, c, y), 0.0) for r in row.regions)
        return clean >= m.clean_share_target[i] * total

    m.clean_share = pyo.Constraint(clean_rows, rule=clean_rule)

    made = defaultdict(list)  # (region, commodity, year) -> [(coef, var)]
    region_of = d.facilities["region"].to_dict() if len(d.facilities) else {}
    if d.origin_share_rows:
        for f, y, k in d.prod_index:
            for c, a in d.outputs[f].items():
                made[region_of[f], c, y].append((a, m.prod[f, y, k]))
    inbound = defaultdict(list)  # (commodity, origin, destination, year) -> vars
    into = defaultdict(list)  # (commodity, destination, year) -> [(origin, var)]
    if d.origin_share_rows:
        for c, o, dest, y, k in d.ship_index:
            inbound[c, o, dest, y].append(m.ship[c, o, dest, y, k])
            into[c, dest, y].append((o, m.ship[c, o, dest, y, k]))

    origin_rows = list(range(len(d.origin_share_rows)))
    m.origin_share_limit = pyo.Param(
        origin_rows,
        mutable=True,
        initialize={i: r.share for i, r in enumerate(d.origin_share_rows)},
    )

    def origin_rule(m, i):
        row = d.origin_share_rows[i]
        c, y, group = row.commodity, row.year, set(row.regions)
        from_origin = [v for r in row.regions for v in inbound.get((c, row.origin, r, y), [])]
        if not from_origin:
            return pyo.Constraint.Skip
        supply = sum(a * v for r in row.regions for a, v in made.get((r, c, y), []))
        supply += sum(v for r in row.regions for o, v in into.get((c, r, y), []) if o not in group)
        return sum(from_origin) <= m.origin_share_limit[i] * supply

    m.origin_share = pyo.Constraint(origin_rows, rule=origin_rule)
