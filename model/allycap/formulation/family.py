"""What a constraint family declares beside its index builders and rules.

A family module (`formulation/<family>.py`) ends with one `FAMILY = Family(...)`: its rows and
variables with their index names and the input each comes from, the dual of each row that
`duals.csv` reports (unit, scale, meaning), the sentence `diagnose` writes when the row is in an
infeasible subset, whether a row is an investment or an operating rule, and the family's cost
terms. `formulation/registry.py` lists the families; the build, the objective, `costs.csv`,
`duals.csv`, the IIS trace, `explain`, `stress` and the docs' dual table loop over it.

Row and variable indices are the ids of the inputs they come from (`clean_share[dfars, USD,
2030]`, `budget_total[chips_fund]`), so a row traces back to its input by its name alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    from allycap.data import ModelData

Index = tuple  # a row's index, always a tuple: (facility,) for m.build_max[facility]
# (index, data) -> the inputs key path behind one row or column, e.g. ("independence", "dfars")
InputPath = Callable[[Index, "ModelData"], tuple]


class CostTerm(NamedTuple):
    """One term of the objective, in one year's money (undiscounted).

    The objective adds `weight[year] * coef * var` (`coef` alone when `var` is None, a constant);
    `costs.csv` adds `coef * value(var)` to (year, category, region). `region` is a region id,
    or ((region, share), ...) when the cost is split among payers (co-financed capex).
    """

    year: int
    region: str | tuple[tuple[str, float], ...]
    coef: float
    var: Any


# (model or block, data) -> {category: [CostTerm]}
CostTerms = Callable[[Any, "ModelData"], dict[str, list[CostTerm]]]

# The two accounts every cost is reported in: what is spent (capital, O&M, transport, ...) and
# what demand that goes unserved is worth to its users (curtailment and unmet demand). They are
# added in the objective but never mixed in a printed total without saying so.
RESOURCE, SHORTAGE = "resource", "shortage"


class ShortfallRow(NamedTuple):
    """Demand not served in one year, from a solved model: tonnes by sector and kind.

    `kind` is "curtailment" (a tranche of price-responsive demand given up below the sector's
    shortage cost) or "unmet" (the last tranche, at the sector's shortage cost). `sector` is
    "all" where a demand has no sectors.
    """

    region: str
    commodity: str
    sector: str
    year: int
    kind: str
    tonnes: float  # t/yr in that model year
    cost: float  # M$ per t of this tranche, that year's money


@dataclass(frozen=True)
class DualSpec:
    """How `duals.csv` reports a row's dual.

    `where(index, data)` gives the (rule, region, commodity, year) columns (year None for a row
    without one); `value(dual, index, data)` turns the raw dual into `unit`. `formula` and
    `reads_as` are the docs' dual table (docs/outputs.md), `title` its family column.
    """

    family: str  # the `family` column of duals.csv
    title: str  # the docs table's family cell, e.g. "`independence` (min clean share)"
    unit: str
    meaning: str  # the `meaning` column of duals.csv
    formula: str  # the docs table's `value` cell
    reads_as: str
    where: Callable[[Index, ModelData], tuple]
    value: Callable[[float, Index, ModelData], float]
    summary: bool = False  # listed under summary.json `kpis.shadow_prices`
    # what `allycap explain` reads these rows for: the price of a market, a binding rule of a
    # market (rows with a commodity and year, region empty or a `+`-joined group), a facility
    explain: Literal["price", "market", "facility"] | None = None


# (conflict, data, best) -> one sentence; `best` is how far the rest of the model can go toward
# the row (None when not measured). A conflict has .index, .label, .input_path, .file, .line.
Sentence = Callable[[Any, "ModelData", float | None], str]


@dataclass(frozen=True)
class RowSpec:
    """One constraint component of a family."""

    component: str  # the Pyomo name, m.<component>, also its name in an LP file
    index_names: tuple[str, ...]
    input_path: InputPath
    doc: str  # what one row says, for the docs
    kind: Literal["investment", "operating"] = "operating"  # investment rows: dropped by stress
    policy: bool = False  # a rule a user sets directly (diagnosis names it first)
    rank: int = 0  # order in which diagnosis explains policy rows (user's choices first)
    probe: bool = False  # diagnosis measures how far the rest of the model can go toward it
    dual: DualSpec | None = None
    sentence: Sentence | None = None


@dataclass(frozen=True)
class VarSpec:
    """One variable component of a family."""

    component: str
    index_names: tuple[str, ...]
    input_path: InputPath
    unit: str


@dataclass(frozen=True)
class Family:
    """A constraint family: one module, one unit."""

    name: str  # the module name and the docs section
    build: Callable[[Any, ModelData], None]  # add the family's variables and rows to a block
    rows: tuple[RowSpec, ...] = ()
    variables: tuple[VarSpec, ...] = ()
    categories: tuple[str, ...] = ()  # cost categories of its cost terms, in report order
    cost_terms: CostTerms | None = None
    # categories (of `categories`) in the shortage account; the rest are resource costs
    shortage_categories: tuple[str, ...] = ()
    # (solved model or block, data) -> demand not served, by sector; families with demand only
    shortfall: Callable[[Any, ModelData], list[ShortfallRow]] | None = None


def where(conflict) -> str:
    """` (file:line)` of a conflict's input, or nothing when unknown."""
    return f" ({conflict.file}:{conflict.line})" if conflict.file else ""


def reach(best: float | None, text: str) -> str:
    """`text` with `best` filled in (`{best}`), or nothing when `best` was not measured."""
    return "" if best is None else text.format(best=best)
