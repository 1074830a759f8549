"""Capacity: vintages of new capacity, production limits, build limits, resources.

new[f,v] is capacity decided in model year v, ready in v + lead_time and online from the model
year whose period contains that year, for the periods overlapping `lifetime` years from there
(data._vintages; with step 1, exactly v + lead_time .. v + lead_time + lifetime - 1). The
capacity online from new builds is carried as a running sum, online[f,y], so each decision
enters at most two rows (when it comes online and when it retires): O(years) non-zeros per
facility instead of a double sum over years.

Costs: capital (annuity capex * IDC * CRF on capacity online, split among payers; IDC is the
interest during construction, data.construction_interest), fixed O&M (on existing and new
capacity), variable cost (on output).
"""

from __future__ import annotations

import pyomo.environ as pyo

from allycap.data import ModelData
from allycap.formulation.family import CostTerm, DualSpec, Family, RowSpec, VarSpec, where


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

    fac = d.facilities
    with_max = [f for f in d.vintages if fac[f].expansion.max is not None]
    m.build_max = pyo.Constraint(
        with_max,
        rule=lambda m, f: sum(m.new[f, v] for v in d.vintages[f].decisions) <= fac[f].expansion.max,
    )
    ramp_keys = [(f, v) for f, v in build if fac[f].expansion.ramp is not None]
    m.build_ramp = pyo.Constraint(
        ramp_keys, rule=lambda m, f, v: m.new[f, v] <= fac[f].expansion.ramp * d.step
    )

    years_of: dict[str, list[int]] = {}
    for f, y in by_fy:
        years_of.setdefault(f, []).append(y)
    with_resource = sorted(f for f in years_of if fac[f].resource is not None)
    m.resource_limit = pyo.Constraint(
        with_resource,
        rule=lambda m, f: (
            d.step * sum(m.prod[f, y, k] for y in years_of[f] for k in by_fy[f, y])
            <= fac[f].resource
        ),
    )


def cost_terms(m, d: ModelData) -> dict[str, list[CostTerm]]:
    fac = d.facilities
    payers = {f: tuple(d.payers[f].items()) for f in d.vintages}
    capital = [CostTerm(y, payers[f], d.annualized_capex[f], m.online[f, y]) for f, y in m.online]
    fixed_om = []
    for f, facility in fac.items():
        om = facility.fixed_om
        if om == 0:
            continue
        r = facility.region
        for y in d.years:
            if d.existing[f, y] > 0:
                fixed_om.append(CostTerm(y, r, om * d.existing[f, y], None))
            if f in d.vintages:
                fixed_om.append(CostTerm(y, r, om, m.online[f, y]))
    variable = [
        CostTerm(y, fac[f].region, d.variable_cost[f, y], m.prod[f, y, k])
        for f, y, k in d.prod_index
        if d.variable_cost[f, y] != 0
    ]
    return {"capital": capital, "fixed_om": fixed_om, "variable": variable}


def late_candidates(d: ModelData, commodity: str, year: int) -> list[str]:
    """Plants outside restricted origins that make `commodity` but cannot be online by `year`."""
    notes = []
    for f, facility in d.facilities.items():
        if facility.output != commodity or facility.region in d.restricted:
            continue
        if facility.expansion is None:
            continue
        lead = facility.expansion.lead_time
        vint = d.vintages.get(f)
        # the first model year any vintage counts as online (its period holds the ready year)
        first = next((y for y in d.years if vint.online[y]), None) if vint else None
        if first is None or first > year:
            when = f"from {first}" if first else "never inside the horizon"
            notes.append(f"{f} (lead time {lead} years) could be online {when}")
    return notes


def _expansion(index, d) -> tuple:
    return ("facilities", index[0], "expansion")


def _facility(index, d) -> tuple:
    return ("facilities", index[0])


def _build_where(index, d: ModelData) -> tuple:
    f = index[0]
    return (f, d.facilities[f].region, d.facilities[f].output, None)


def _max_sentence(c, d: ModelData, best) -> str:
    f = c.index[0]
    cap = d.facilities[f].expansion.max
    return f"new capacity at {f}{where(c)} is capped at {cap:,.0f} t/yr (expansion.max)."


def _resource_sentence(c, d: ModelData, best) -> str:
    f = c.index[0]
    cap = d.facilities[f].resource
    return f"{f}{where(c)} may produce at most {cap:,.0f} t over the horizon (resource)."


FAMILY = Family(
    name="capacity",
    build=add_capacity,
    variables=(
        VarSpec("new", ("facility", "decision_year"), _expansion, "t/yr"),
        VarSpec("online", ("facility", "year"), _expansion, "t/yr"),
        VarSpec("prod", ("facility", "year", "tag"), _facility, "t/yr"),
    ),
    rows=(
        RowSpec(
            "online_balance",
            ("facility", "year"),
            _expansion,
            doc="new capacity online is the running sum of vintages",
        ),
        RowSpec(
            "capacity_limit",
            ("facility", "year"),
            _facility,
            doc="output is at most available existing and new capacity",
        ),
        RowSpec(
            "build_max",
            ("facility",),
            lambda index, d: ("facilities", index[0], "expansion", "max"),
            doc="new capacity over the horizon is at most expansion.max",
            kind="investment",
            policy=True,
            rank=80,
            sentence=_max_sentence,
            dual=DualSpec(
                family="build",
                title="`build` (expansion max)",
                unit="M$ PV per t/yr",
                meaning="saving from allowing one more t/yr of new capacity (max)",
                formula="`-dual`",
                reads_as="saving from allowing one more t/yr of new capacity at the facility "
                "(`expansion.max`)",
                where=_build_where,
                value=lambda dual, index, d: -dual,
                explain="facility",
            ),
        ),
        RowSpec(
            "build_ramp",
            ("facility", "decision_year"),
            _expansion,
            doc="new capacity decided in one year is at most step * expansion.ramp",
            kind="investment",
        ),
        RowSpec(
            "resource_limit",
            ("facility",),
            lambda index, d: ("facilities", index[0], "resource"),
            doc="output over the horizon is at most the facility's resource",
            policy=True,
            rank=90,
            sentence=_resource_sentence,
            dual=DualSpec(
                family="build",
                title="`build` (resource)",
                unit="M$ PV per t",
                meaning="saving from one more tonne of resource",
                formula="`-dual`",
                reads_as="saving from one more tonne of the facility's `resource` (its output "
                "over the horizon)",
                where=_build_where,
                value=lambda dual, index, d: -dual,
                explain="facility",
            ),
        ),
    ),
    categories=("capital", "fixed_om", "variable"),
    cost_terms=cost_terms,
)
