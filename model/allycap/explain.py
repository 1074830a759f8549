"""`allycap explain RUN`: why a facility was built (or not), and what sets a market, read from a
run folder alone (no re-solve): marginals.csv, duals.csv, investments.csv, capacity.csv,
supply_mix.csv and flows.csv.

Money is in that year's million USD per tonne unless a figure says "PV" (present value at the
start year). Shadow prices of a degenerate LP are not unique: read them as one valid set.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from allycap.runfolder import read_table


class ExplainError(Exception):
    """The run folder or the element asked about is missing; the message says which."""


def _read(run: Path, name: str) -> pd.DataFrame:
    """A table of the run folder (ids as strings: a region `NA` stays `NA`)."""
    return read_table(run, name, needed_by="`allycap explain`", error=ExplainError)


def _families(explain: str) -> list[str]:
    """duals.csv families that `explain` reads for `explain` ("price", "market", "facility"), as
    each family declares (`DualSpec.explain`)."""
    from allycap.formulation.registry import dual_families

    return dual_families(explain=explain)


def _kusd(musd_per_t: float) -> str:
    """M$ per tonne as USD per kg (1 M$/t = 1,000 USD/kg)."""
    return f"{musd_per_t * 1e3:,.2f} USD/kg"


def explain_facility(run: Path, facility: str) -> str:
    marg = _read(run, "marginals")
    rows = marg[marg.facility == facility]
    if rows.empty:
        known = ", ".join(sorted(marg.facility.unique())[:12])
        raise ExplainError(
            f"facility {facility!r} has no rows in {run}/marginals.csv "
            f"(it never had capacity). Facilities there: {known}, ..."
        )
    inv = _read(run, "investments")
    built = inv[inv.facility == facility]
    first = rows.iloc[0]
    lines = [f"{facility}: {first.stage} stage, making {first.commodity}, in {first.region}."]
    if len(built):
        for b in built.itertuples():
            lines.append(
                f"  Built {b.new_capacity_t:,.0f} t/yr decided in {b.decision_year}, online "
                f"{b.online_year}-{b.retire_year - 1}, capex {b.capex_musd:,.1f} M$ "
                f"(paid by {b.payers})."
            )
    else:
        lines.append("  No new capacity was built.")
    lines.append(
        f"  Annual cost of one t/yr of new capacity (capital annuity + fixed O&M): "
        f"{_kusd(first.annual_cost_musd_per_t_yr)} of capacity per year."
    )
    lines.append("")
    lines.append(
        "  year tag    produced   capacity  output value  inputs + variable  margin   capacity rent"
    )
    for r in rows.itertuples():
        lines.append(
            f"  {r.year} {r.tag:<5} {r.production_t:>10,.0f} {r.capacity_t:>10,.0f}  "
            f"{r.output_value_musd_per_t * 1e3:>10,.2f}  "
            f"{(r.input_cost_musd_per_t + r.variable_cost_musd_per_t) * 1e3:>17,.2f}  "
            f"{r.margin_musd_per_t * 1e3:>6,.2f}   {r.capacity_rent_musd_per_t_yr * 1e3:>10,.2f}"
        )
    lines.append(
        "  (USD/kg of output in that year's money; capacity rent in USD/kg of capacity per year)"
    )
    lines.append("")
    decisions = rows.dropna(subset=["new_capacity_reduced_cost_musd_pv"])
    decisions = decisions.groupby("year")["new_capacity_reduced_cost_musd_pv"].first()
    if len(decisions):
        rejected = decisions[decisions > 1e-9]
        if len(built) and len(rejected) < len(decisions):
            lines.append(
                "  Why built: in the years it was built its margins over its life pay "
                "for the capacity (reduced cost 0)."
            )
        if not len(built) and not len(rejected):
            lines.append(
                "  Why not built: at the margin it is exactly as costly as the supply the "
                "optimum chose (reduced cost 0); another optimum might build some."
            )
        if len(rejected):
            year, rc = rejected.index[0], rejected.iloc[0]
            lines.append(
                f"  Why not built (more): one more t/yr decided in {year} would add "
                f"{rc:,.4f} M$ PV to the total cost; its capex would have to fall by about "
                "that much (in present value) for the optimum to build it."
            )
    else:
        lines.append(
            "  It cannot add capacity (no expansion, or none that can be online in the horizon)."
        )
    duals = _read(run, "duals")
    own = duals[duals.family.isin(_families("facility")) & (duals.rule == facility)]
    for d in own.itertuples():
        lines.append(f"  Binding: {d.meaning}: {d.value:,.4f} {d.unit}.")
    scarce = rows[(rows.capacity_rent_musd_per_t_yr > 1e-9) & (rows.production_t > 0)]
    if len(scarce):
        years = ", ".join(str(y) for y in sorted(scarce.year.unique())[:8])
        lines.append(f"  Binding: its capacity limit in {years} (positive capacity rent).")
    return "\n".join(lines)


def explain_market(run: Path, region: str, commodity: str, year: int) -> str:
    mix = _read(run, "supply_mix")
    row = mix[(mix.region == region) & (mix.commodity == commodity) & (mix.year == year)]
    lines = [f"{commodity} in {region}, {year}:"]
    if row.empty:
        lines.append("  No demand is set for it there that year.")
    else:
        r = row.iloc[0]
        lines.append(
            f"  Demand {r.demand_t:,.0f} t: clean {r.delivered_clean_t:,.0f} t, other "
            f"{r.delivered_other_t:,.0f} t, unmet {r.unmet_t:,.0f} t "
            f"(clean share {r.clean_share:.1%})."
        )
    duals = _read(run, "duals")
    price = duals[
        duals.family.isin(_families("price"))
        & (duals.region == region)
        & (duals.commodity == commodity)
        & (duals.year == year)
    ]
    if len(price):
        lines.append(
            f"  Marginal cost of one more tonne delivered: {price.iloc[0].value:,.2f} "
            "USD/kg (that year's money)."
        )
    elif not row.empty:
        lines.append(
            "  The demand row's shadow price is 0: a binding rule below carries the marginal "
            "cost (its requirement grows with demand), or the LP is degenerate."
        )
    flows = _read(run, "flows")
    inbound = flows[
        (flows.destination == region) & (flows.commodity == commodity) & (flows.year == year)
    ]
    if len(inbound):
        lines.append("  Imports:")
        for f in inbound.groupby(["origin", "tag"])["quantity_t"].sum().items():
            (origin, tag), q = f
            lines.append(f"    from {origin} ({tag}): {q:,.0f} t")
    cap = _read(run, "capacity")
    local = cap[(cap.region == region) & (cap.commodity == commodity) & (cap.year == year)]
    if len(local):
        lines.append("  Made here:")
        for c in local.itertuples():
            lines.append(f"    {c.facility}: {c.production_t:,.0f} t of {c.capacity_t:,.0f} t/yr")
    rules = duals[
        duals.family.isin(_families("market"))
        & (duals.year == year)
        & (duals.commodity == commodity)
    ]
    # a rule binds this market when its region (a group joined by `+`) includes it, or when it
    # names no region (an export control: all its destinations)
    regions = rules.region.fillna("")
    rules = rules[regions.str.split("+").map(lambda rs: region in rs) | (regions == "")]
    for d in rules.itertuples():
        lines.append(f"  Binding rule {d.family} {d.rule}: {d.meaning}: {d.value:,.4f} {d.unit}.")
    return "\n".join(lines)
