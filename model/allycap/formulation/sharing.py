"""Capacity sharing: co-financed plants whose output goes to partners in agreed shares.

For agreement a with host region h, output Q[a,y] = sum of its facilities' main output:
  sum_p alloc[a,p,y] = Q[a,y]                       every tonne goes to a partner
  alloc[a,p,y] >= min_share[p] * Q[a,y]             partner minimums
  alloc[a,p,y] <= max_market_share * Q[a,y]         no single market, host included, over the cap
  sum_a alloc[a,p,y] <= sum_k ship[c,h,p,y,k]       allocations to other regions are shipped
  sum_k ship[c,h,p,y,k] <= sum_a alloc[a,p,y] + other[h,c,y]
                                                    and a partner gets no more of the agreement's
                                                    output than its allocation (other = the
                                                    host's output of c outside any agreement), so
                                                    the host's own allocation cannot be passed on
                                                    to a partner over the single-market cap
Co-financing (each partner's share of the capex) is applied in the budgets family and results.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from allycap.data import TAGS, ModelData
from allycap.formulation.family import Family, RowSpec, VarSpec, where


def add_sharing(m: pyo.ConcreteModel, d: ModelData) -> None:
    keys = [(a.id, p, y) for a in d.agreements.values() for p in a.min_share for y in a.years]
    m.alloc = pyo.Var(keys, within=pyo.NonNegativeReals, doc="agreement output allocated, t/yr")
    prod_tags = defaultdict(list)
    for f, y, k in d.prod_index:
        prod_tags[f, y].append(k)

    def output(m, a, y):
        agreement = d.agreements[a]
        return sum(m.prod[f, y, k] for f in agreement.facilities for k in prod_tags.get((f, y), []))

    ay = [(a.id, y) for a in d.agreements.values() for y in a.years]
    m.sharing_total = pyo.Constraint(
        ay,
        rule=lambda m, a, y: (
            sum(m.alloc[a, p, y] for p in d.agreements[a].min_share) == output(m, a, y)
        ),
    )
    mins = [(a, p, y) for a, p, y in keys if d.agreements[a].min_share[p] > 0]
    m.sharing_min = pyo.Constraint(
        mins,
        rule=lambda m, a, p, y: m.alloc[a, p, y] >= d.agreements[a].min_share[p] * output(m, a, y),
    )
    caps = [(a, p, y) for a, p, y in keys if d.agreements[a].max_market_share < 1]
    m.sharing_max = pyo.Constraint(
        caps,
        rule=lambda m, a, p, y: (
            m.alloc[a, p, y] <= d.agreements[a].max_market_share * output(m, a, y)
        ),
    )
    shipped = defaultdict(list)  # (host, partner, commodity, year) -> agreements
    for a, p, y in keys:
        agreement = d.agreements[a]
        if p != agreement.host:
            shipped[agreement.host, p, agreement.commodity, y].append(a)

    def ship_rule(m, h, p, c, y):
        sent = sum(m.ship[c, h, p, y, k] for k in TAGS if (c, h, p, y, k) in m.ship)
        return sum(m.alloc[a, p, y] for a in shipped[h, p, c, y]) <= sent

    m.sharing_shipped = pyo.Constraint(list(shipped), rule=ship_rule)

    in_agreement = {f for a in d.agreements.values() for f in a.facilities}
    region_of = {f: facility.region for f, facility in d.facilities.items()}
    other = defaultdict(list)  # (host, commodity, year) -> [(t per t, prod var)] outside agreements
    for f, y, k in d.prod_index:
        if f not in in_agreement:
            for c, a in d.outputs[f].items():
                other[region_of[f], c, y].append((a, m.prod[f, y, k]))

    def ship_max_rule(m, h, p, c, y):
        sent = sum(m.ship[c, h, p, y, k] for k in TAGS if (c, h, p, y, k) in m.ship)
        allocated = sum(m.alloc[a, p, y] for a in shipped[h, p, c, y])
        return sent <= allocated + sum(a * v for a, v in other.get((h, c, y), []))

    m.sharing_shipped_max = pyo.Constraint(list(shipped), rule=ship_max_rule)


def _path(index, d: ModelData) -> tuple:
    return ("sharing", index[0])


def _shipped_path(index, d: ModelData) -> tuple:
    host, partner, commodity, year = index
    ids = [
        a.id
        for a in d.agreements.values()
        if a.host == host and partner in a.min_share and a.commodity == commodity
    ]
    return ("sharing", ids[0]) if ids else ("sharing",)


def _sentence(c, d: ModelData, best) -> str:
    have = "" if best is None else f"; the rest of the model can reach at most {best:,.0f}"
    return f"sharing agreement {c.input_path[-1]}{where(c)}: {c.label} cannot hold{have}."


def _row(component, names, path, doc, rank=0) -> RowSpec:
    return RowSpec(component, names, path, doc, policy=rank > 0, rank=rank, sentence=_sentence)


FAMILY = Family(
    name="sharing",
    build=add_sharing,
    variables=(VarSpec("alloc", ("agreement", "partner", "year"), _path, "t/yr"),),
    rows=(
        _row("sharing_total", ("agreement", "year"), _path, "every tonne goes to a partner"),
        _row(
            "sharing_min",
            ("agreement", "partner", "year"),
            _path,
            "a partner gets at least its minimum share",
            rank=40,
        ),
        _row(
            "sharing_max",
            ("agreement", "partner", "year"),
            _path,
            "no single market gets more than the maximum market share",
            rank=41,
        ),
        _row(
            "sharing_shipped",
            ("host", "partner", "commodity", "year"),
            _shipped_path,
            "allocations to other regions are shipped from the host",
            rank=42,
        ),
        _row(
            "sharing_shipped_max",
            ("host", "partner", "commodity", "year"),
            _shipped_path,
            "a partner gets no more of the agreements' output than its allocation",
            rank=43,
        ),
    ),
)
