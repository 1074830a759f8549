"""The constraint families, in the order of docs/formulation.md (and of the build).

Everything that needs to know what a family means loops over `FAMILIES`: the build, the
objective and `costs.csv` (cost terms), `duals.csv` (dual specs), the IIS trace and diagnosis
(input paths, policy rows, sentences), `explain`, `stress` (investment rows) and the dual table
of docs/outputs.md (`dual_table`, checked by tests/formulation/test_registry.py).

Stockpiles come before trade because the trade family's `no_reexport` rows read the stock
variables; balance comes after both.
"""

from __future__ import annotations

from allycap.formulation import (
    balance,
    budgets,
    capacity,
    demand,
    export_controls,
    independence,
    provenance,
    sharing,
    stockpiles,
    trade,
)
from allycap.formulation.family import (
    RESOURCE,
    SHORTAGE,
    Family,
    RowSpec,
    ShortfallRow,
    VarSpec,
)

FAMILIES: tuple[Family, ...] = (
    capacity.FAMILY,
    provenance.FAMILY,
    stockpiles.FAMILY,
    trade.FAMILY,
    balance.FAMILY,
    demand.FAMILY,
    independence.FAMILY,
    export_controls.FAMILY,
    sharing.FAMILY,
    budgets.FAMILY,
)

ROWS: dict[str, RowSpec] = {r.component: r for f in FAMILIES for r in f.rows}
VARIABLES: dict[str, VarSpec] = {v.component: v for f in FAMILIES for v in f.variables}
FAMILY_OF: dict[str, Family] = {
    spec.component: f for f in FAMILIES for spec in (*f.rows, *f.variables)
}
# cost categories, in the order of the families that declare them
CATEGORIES: tuple[str, ...] = tuple(c for f in FAMILIES for c in f.categories)
# categories in the shortage account (curtailed and unmet demand); every other is a resource cost
SHORTAGE_CATEGORIES: tuple[str, ...] = tuple(c for f in FAMILIES for c in f.shortage_categories)
# rows a user sets directly, in the order diagnosis explains them
POLICY: tuple[str, ...] = tuple(
    r.component for r in sorted((r for r in ROWS.values() if r.policy), key=lambda r: r.rank)
)
# rows that involve nothing but investment decisions
INVESTMENT_ONLY: tuple[str, ...] = tuple(
    r.component for r in ROWS.values() if r.kind == "investment"
)
DUAL_ROWS: tuple[RowSpec, ...] = tuple(r for r in ROWS.values() if r.dual is not None)


def account_of(category: str) -> str:
    """The account a cost category belongs to: "resource" or "shortage"."""
    return SHORTAGE if category in SHORTAGE_CATEGORIES else RESOURCE


def shortfall_rows(m, d) -> list[ShortfallRow]:
    """Demand not served in a solved model, by region, commodity, sector, year and kind."""
    rows: list[ShortfallRow] = []
    for family in FAMILIES:
        if family.shortfall is not None:
            rows.extend(family.shortfall(m, d))
    return rows


def spec_of(component: str) -> RowSpec | VarSpec | None:
    """The declaration of a row or variable component, by its Pyomo name."""
    return ROWS.get(component) or VARIABLES.get(component)


def dual_families(**flags) -> list[str]:
    """duals.csv `family` values whose dual spec has every given flag, e.g. summary=True."""
    out = []
    for r in DUAL_ROWS:
        if all(getattr(r.dual, k) == v for k, v in flags.items()) and r.dual.family not in out:
            out.append(r.dual.family)
    return out


def dual_table() -> str:
    """The dual table of docs/outputs.md, from the dual specs, in the order of duals.csv (by
    family)."""
    lines = [
        "| family | constraint | `value` | unit | reads as |",
        "|---|---|---|---|---|",
    ]
    for r in sorted(DUAL_ROWS, key=lambda r: r.dual.family):
        d = r.dual
        constraint = f"`m.{r.component}[{','.join(r.index_names)}]`"
        lines.append(f"| {d.title} | {constraint} | {d.formula} | {d.unit} | {d.reads_as} |")
    return "\n".join(lines)
