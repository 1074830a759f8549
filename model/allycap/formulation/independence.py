"""Independence rules.

min_clean_share, for a group G (or each region of G), commodity c, year y:
  sum_{r in G} deliver[r,c,y,clean] >= s(y) * sum_{r in G} demand[r,c,y]
max_origin_share, for each origin o outside G:
  sum_{r in G, k} ship[c,o,r,y,k] <= s(y) * supply(G,c,y), where supply is the group's own
  production of c plus its imports of c from outside the group.
Shares are mutable parameters so that sweeps can change them without rebuilding.

Rows are named after their inputs: `clean_share[rule, group, year]` (the group is its regions
joined by `+`, one region with `each_region`), `origin_share[rule, origin, year]`.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from allycap.data import CLEAN, ModelData
from allycap.formulation.capacity import late_candidates
from allycap.formulation.family import DualSpec, Family, RowSpec, where


def add_independence(m: pyo.ConcreteModel, d: ModelData) -> None:
    rows = d.clean_share_rows
    clean_keys = [key for key, row in rows.items() if row.demand > 0]
    m.clean_share_target = pyo.Param(
        clean_keys, mutable=True, initialize={key: rows[key].share for key in clean_keys}
    )

    def clean_rule(m, rule, group, y):
        row = rows[rule, group, y]
        c = row.commodity
        clean = sum(m.deliver[r, c, y, CLEAN] for r in row.regions if (r, c, y, CLEAN) in m.deliver)
        return clean >= m.clean_share_target[rule, group, y] * row.demand

    m.clean_share = pyo.Constraint(clean_keys, rule=clean_rule)

    made = defaultdict(list)  # (region, commodity, year) -> [(coef, var)]
    region_of = {f: facility.region for f, facility in d.facilities.items()}
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

    origin_rows = d.origin_share_rows
    m.origin_share_limit = pyo.Param(
        list(origin_rows),
        mutable=True,
        initialize={key: row.share for key, row in origin_rows.items()},
    )

    def origin_rule(m, rule, origin, y):
        row = origin_rows[rule, origin, y]
        c, group = row.commodity, set(row.regions)
        from_origin = [v for r in row.regions for v in inbound.get((c, origin, r, y), [])]
        if not from_origin:
            return pyo.Constraint.Skip
        supply = sum(a * v for r in row.regions for a, v in made.get((r, c, y), []))
        supply += sum(v for r in row.regions for o, v in into.get((c, r, y), []) if o not in group)
        return sum(from_origin) <= m.origin_share_limit[rule, origin, y] * supply

    m.origin_share = pyo.Constraint(list(origin_rows), rule=origin_rule)


def _clean_sentence(c, d: ModelData, best: float | None) -> str:
    row = d.clean_share_rows[c.index]
    text = (
        f"independence rule {row.rule}{where(c)} requires {row.share:.0%} of {row.commodity} "
        f"demand in {row.group} in {row.year} to be clean: {row.share * row.demand:,.0f} t"
    )
    if best is not None:
        text += f"; clean {row.commodity} that can be delivered there in {row.year} is at most "
        text += f"{best:,.0f} t"
    late = late_candidates(d, row.commodity, row.year)
    if late:
        text += ". Candidate plants too late for it: " + "; ".join(late[:4])
    return text + "."


def _clean_where(index, d: ModelData) -> tuple:
    row = d.clean_share_rows[index]
    return (row.rule, row.group, row.commodity, row.year)


def _origin_where(index, d: ModelData) -> tuple:
    row = d.origin_share_rows[index]
    return (row.rule, row.origin, row.commodity, row.year)


FAMILY = Family(
    name="independence",
    build=add_independence,
    rows=(
        RowSpec(
            "clean_share",
            ("rule", "group", "year"),
            lambda index, d: ("independence", index[0]),
            doc="clean deliveries to a group cover a share of its demand",
            policy=True,
            rank=10,
            probe=True,
            sentence=_clean_sentence,
            dual=DualSpec(
                family="independence",
                title="`independence` (min clean share)",
                unit="M$ PV per percentage point",
                meaning="cost of raising the required clean share by one point",
                formula="`dual * group demand / 100`",
                reads_as="the price of independence: cost of raising the required clean share "
                "by one point",
                where=_clean_where,
                value=lambda dual, index, d: dual * d.clean_share_rows[index].demand / 100,
                summary=True,
                explain="market",
            ),
        ),
        RowSpec(
            "origin_share",
            ("rule", "origin", "year"),
            lambda index, d: ("independence", index[0]),
            doc="shipments from one origin into a group are at most a share of its supply",
            policy=True,
            rank=20,
            dual=DualSpec(
                family="independence",
                title="`independence` (max origin share)",
                unit="M$ PV per t/yr",
                meaning="saving from one more tonne allowed from this origin",
                formula="`-dual`",
                reads_as="saving from allowing one more t/yr from this origin in that model year",
                where=_origin_where,
                value=lambda dual, index, d: -dual,
                summary=True,
                explain="market",
            ),
        ),
    ),
)
