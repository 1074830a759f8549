"""Demand: deliveries, demand by sector and price-responsive demand (elastic-demand steps).

For each (r, c, y) with demand D (no shortfall variables at all in strict mode):
  demand_met[r,c,y]:        sum_k deliver[r,c,y,k] + unmet[r,c,y] = D[r,c,y]
A demand not split by sector (sector "all") costs unmet[r,c,y] at the commodity's penalty.
A demand split by sector (demand_sectors) gives sector s the share a[r,c,s,y] of D; its
shortfall is taken in tranches, each bounded as a variable (no rows):
  0 <= shortfall[r,c,s,y,j] <= sh[s,j] * a[r,c,s,y] * D[r,c,y]       j = 1..n_s  (curtailment)
  0 <= shortfall[r,c,s,y,n_s+1] <= (1 - sum_j sh[s,j]) * a * D              (unmet, the rest)
  sector_shortfall[r,c,y]:  unmet[r,c,y] = sum_{s,j} shortfall[r,c,s,y,j]
so unmet[r,c,y] is all demand not served, whatever its kind. Costs (that year's money):
  curtailment  sum p[s,j] * shortfall[r,c,s,y,j]  over j <= n_s
  unmet        sum P[c] * unmet[r,c,y] (no sectors) + sum P[s] * shortfall[r,c,s,y,n_s+1]
Because each sector's shortfall is bounded by its own demand, the LP leaves short the tranches
with the lowest cost first: a sector with a higher shortage cost (defence) is served first.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from allycap.data import ModelData
from allycap.formulation.family import CostTerm, DualSpec, Family, RowSpec, ShortfallRow, VarSpec

# the sector of a demand that is not split by sector (ShortfallRow.sector)
ALL = "all"


def add_demand(m: pyo.ConcreteModel, d: ModelData) -> None:
    demand_keys = list(d.demand)
    if not d.strict:
        m.unmet = pyo.Var(demand_keys, within=pyo.NonNegativeReals, doc="demand not served, t/yr")
        tranches = d.shortfall_tranches
        m.shortfall = pyo.Var(
            list(tranches),
            within=pyo.NonNegativeReals,
            bounds=lambda m, *key: (0.0, tranches[key].bound),
            doc="demand of a sector not served, by tranche, t/yr",
        )
        parts: dict[tuple, list] = defaultdict(list)
        for key in tranches:
            r, c, _, y, _ = key
            parts[r, c, y].append(m.shortfall[key])
        # split demands only; a split demand whose sectors are all zero has no tranche and
        # its unmet variable is fixed to zero by the row
        split = [key for key in demand_keys if key in d.sector_demand]
        m.sector_shortfall = pyo.Constraint(
            split,
            rule=lambda m, r, c, y: m.unmet[r, c, y] == sum(parts.get((r, c, y), [])),
        )

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
        return {"curtailment": [], "unmet": []}
    curtailment, unmet = [], []
    for r, c, y in m.unmet:
        if (r, c, y) not in d.sector_demand:
            unmet.append(CostTerm(y, r, d.unmet_penalty[c], m.unmet[r, c, y]))
    for key, t in d.shortfall_tranches.items():
        term = CostTerm(t.year, t.region, t.cost, m.shortfall[key])
        (curtailment if t.kind == "curtailment" else unmet).append(term)
    return {"curtailment": curtailment, "unmet": unmet}


def shortfall(m, d: ModelData) -> list[ShortfallRow]:
    """Demand not served in a solved model: one row per tranche that is used, sector "all"
    (kind "unmet", at the commodity's penalty) for a demand without sectors."""
    if d.strict:
        return []
    rows = []
    for r, c, y in m.unmet:
        if (r, c, y) in d.sector_demand:
            continue
        value = m.unmet[r, c, y].value or 0.0
        if value > 1e-9:
            rows.append(ShortfallRow(r, c, ALL, y, "unmet", value, d.unmet_penalty[c]))
    for key, t in d.shortfall_tranches.items():
        value = m.shortfall[key].value or 0.0
        if value > 1e-9:
            rows.append(
                ShortfallRow(t.region, t.commodity, t.sector, t.year, t.kind, value, t.cost)
            )
    return rows


def _demand(index, d) -> tuple:
    return ("demand", index[0], index[1])


def _demand_sectors(index, d) -> tuple:
    return ("demand_sectors", index[0], index[1], index[2])


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
    name="demand",
    build=add_demand,
    variables=(
        VarSpec("unmet", ("region", "commodity", "year"), _demand, "t/yr"),
        VarSpec(
            "shortfall",
            ("region", "commodity", "sector", "year", "tranche"),
            _demand_sectors,
            "t/yr",
        ),
    ),
    rows=(
        RowSpec(
            "demand_met",
            ("region", "commodity", "year"),
            _demand,
            doc="deliveries plus demand not served equal demand",
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
                "money (undiscounted); where demand goes short it equals the cost of the marginal "
                "tranche (a sector's curtailment or shortage cost, or the unmet penalty)",
                where=lambda index, d: ("", index[0], index[1], index[2]),
                value=lambda dual, index, d: dual / d.weight[index[2]] * 1e3,
                explain="price",
            ),
        ),
        RowSpec(
            "sector_shortfall",
            ("region", "commodity", "year"),
            _demand,
            doc="demand not served is the sum of the sectors' shortfall tranches",
        ),
    ),
    categories=("curtailment", "unmet"),
    cost_terms=cost_terms,
    shortage_categories=("curtailment", "unmet"),
    shortfall=shortfall,
)
