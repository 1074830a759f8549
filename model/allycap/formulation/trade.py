"""Trade: shipments on lanes (commodity, origin, destination), by year and tag.

Lanes come from `data.prepare`: tradable commodities, from a region that makes or stocks the
commodity to one that uses it, minus closed routes. Costs: transport and tariffs on each
shipment, charged to the destination.

No re-export: a region ships out at most what it makes plus the stock it carried in, so
imported material cannot pass through a third country (tariffs and export controls follow the
origin, as rules of origin do):
  sum_{d,k} ship[c,r,d,y,k] <= sum_{f in r,k} out[f,c] * prod[f,y,k] + sum_k stock[r,c,y-1,k] / step
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from allycap.data import ModelData
from allycap.formulation.family import CostTerm, Family, RowSpec, VarSpec


def add_trade(m: pyo.ConcreteModel, d: ModelData) -> None:
    m.ship = pyo.Var(d.ship_index, within=pyo.NonNegativeReals, doc="shipments, t/yr")

    outbound = defaultdict(list)  # (region, commodity, year) -> shipment vars
    for c, o, dest, y, k in d.ship_index:
        outbound[o, c, y].append(m.ship[c, o, dest, y, k])
    made = defaultdict(list)  # (region, commodity, year) -> [(t per t, prod var)]
    region_of = {f: facility.region for f, facility in d.facilities.items()}
    for f, y, k in d.prod_index:
        for c, a in d.outputs[f].items():
            if (region_of[f], c, y) in outbound:
                made[region_of[f], c, y].append((a, m.prod[f, y, k]))

    def no_reexport_rule(m, r, c, y):
        own = sum(a * v for a, v in made.get((r, c, y), []))
        carried = 0.0
        if (r, c) in d.stockpiles:
            prev = d.previous_year(y)
            if prev is None:
                carried = sum(d.stockpiles[r, c].initial.values()) / d.step
            else:
                carried = sum(m.stock[r, c, prev, k] for k in d.tags(r)) / d.step
        return sum(outbound[r, c, y]) <= own + carried

    m.no_reexport = pyo.Constraint(list(outbound), rule=no_reexport_rule)


def cost_terms(m, d: ModelData) -> dict[str, list[CostTerm]]:
    transport, tariff = [], []
    for c, o, dest, y, k in d.ship_index:
        var = m.ship[c, o, dest, y, k]
        if d.transport_cost[c, o, dest, y] != 0:
            transport.append(CostTerm(y, dest, d.transport_cost[c, o, dest, y], var))
        if d.tariff_cost[c, o, dest, y] != 0:
            tariff.append(CostTerm(y, dest, d.tariff_cost[c, o, dest, y], var))
    return {"transport": transport, "tariff": tariff}


def _trade(index, d) -> tuple:
    return ("trade",)


FAMILY = Family(
    name="trade",
    build=add_trade,
    variables=(
        VarSpec("ship", ("commodity", "origin", "destination", "year", "tag"), _trade, "t/yr"),
    ),
    rows=(
        RowSpec(
            "no_reexport",
            ("region", "commodity", "year"),
            _trade,
            doc="a region ships out at most what it makes plus the stock it carried in",
        ),
    ),
    categories=("transport", "tariff"),
    cost_terms=cost_terms,
)
