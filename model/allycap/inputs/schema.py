"""The input format as pydantic models: the single definition of every key, its type and unit.

Every model forbids unknown keys (a typo must never pass silently) and is frozen. Year maps are
`{year: value}` or a plain number meaning every year; they are interpolated later, in prepare.
Units: quantities in tonnes of the commodity per year, money in million USD (2024 dollars).
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
)

BLOCS_DOC = "free-form bloc name, e.g. allied, partner, restricted, other"

# Ids key every element map and name references. Long enough for descriptive names
# (`lynas_kalgoorlie_expansion`), short enough to print in a message or a CSV column.
MAX_ID_LENGTH = 64
ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_\-]*$"
ID_RULE = (
    "ids are letters, digits, `_` and `-`, starting with a letter, at most "
    f"{MAX_ID_LENGTH} characters; e.g. `wicheeda_mine`"
)


def clean_id(text: str) -> str:
    """A valid id close to `text`, to suggest in a fix: accents dropped, every run of other
    characters made one `_`, a letter in front if needed, cut to MAX_ID_LENGTH."""
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9_\-]+", "_", plain.strip()).strip("_-")
    if not cleaned[:1].isalpha():
        cleaned = "id_" + cleaned if cleaned else "id"
    return cleaned[:MAX_ID_LENGTH].rstrip("_-")


Id = Annotated[
    str,
    StringConstraints(pattern=ID_PATTERN, max_length=MAX_ID_LENGTH),
    Field(description="identifier: a letter, then letters, digits, '_' or '-'"),
]


# Larger than any real quantity (t/yr) or amount (M$) in this domain by many orders of
# magnitude; such a value is a typo or a unit error, and it would wreck the LP's numerics.
MAX_MAGNITUDE = 1e12


def _finite(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected {what}, found {value!r}")
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"expected {what}, found {value!r} (NaN and infinity are not allowed)")
    if abs(value) > MAX_MAGNITUDE:
        raise ValueError(
            f"expected {what}, found {value:g}, which is absurdly large (above {MAX_MAGNITUDE:g}); "
            "quantities are in t/yr and money in million USD"
        )
    return value


def _number(low: float | None, high: float | None, what: str):
    def check(value: Any) -> float:
        value = _finite(value, what)
        if low is not None and value < low:
            raise ValueError(f"expected {what} >= {low:g}, found {value:g}")
        if high is not None and value > high:
            raise ValueError(f"expected {what} <= {high:g}, found {value:g}")
        return value

    return check


def _year_map(low: float | None, high: float | None, what: str):
    scalar = _number(low, high, what)

    def check(value: Any) -> float | dict[int, float]:
        if isinstance(value, dict):
            if not value:
                raise ValueError(f"expected a number or a map {{year: {what}}}, found an empty map")
            out = {}
            for year, item in value.items():
                if isinstance(year, bool) or not isinstance(year, int):
                    raise ValueError(f"year map keys must be years (integers), found {year!r}")
                try:
                    out[year] = scalar(item)
                except ValueError as exc:
                    raise ValueError(f"year {year}: {exc}") from None
            return dict(sorted(out.items()))
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number or a map {{year: {what}}}, found {value!r}")
        return scalar(value)

    return check


def _number_schema(low, high, desc):
    schema: dict = {"type": "number", "description": desc}
    if low is not None:
        schema["minimum"] = low
    if high is not None:
        schema["maximum"] = high
    return schema


def Number(low: float | None = 0.0, high: float | None = None, desc: str = "a number"):  # noqa: N802
    return Annotated[
        float,
        PlainValidator(_number(low, high, desc)),
        WithJsonSchema(_number_schema(low, high, desc)),
    ]


def YearMap(low: float | None = 0.0, high: float | None = None, desc: str = "a number"):  # noqa: N802
    number = _number_schema(low, high, desc)
    return Annotated[
        float | dict[int, float],
        PlainValidator(_year_map(low, high, desc)),
        WithJsonSchema(
            {
                "description": f"{desc}, or a map {{year: value}} interpolated linearly",
                "anyOf": [
                    number,
                    {"type": "object", "patternProperties": {"^-?[0-9]+$": number}},
                ],
            }
        ),
    ]


NonNeg = Number(0.0, None, "a non-negative number")
Share = Number(0.0, 1.0, "a share between 0 and 1")
Year = Annotated[int, Field(ge=1900, le=2300, description="a calendar year")]
SourceRef = Annotated[
    Id | list[Id] | None,
    Field(description="id (or ids) of entries in `sources:` that back this element's numbers"),
]
Selector = Annotated[
    list[Id],
    Field(min_length=1, description="region ids or bloc names (a bloc selects all its regions)"),
]


class Strict(BaseModel):
    """Base of every input model: unknown keys are errors; values are frozen once validated."""

    # strict: `yes`, "5" or 2025.0 are not silently turned into a bool or an int.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Horizon(Strict):
    start: Year = Field(description="first model year")
    end: Year = Field(description="last model year (inclusive)")
    step: int = Field(
        1,
        ge=1,
        le=50,
        description="years between model years; model year y stands for y..y+step-1, each year "
        "discounted",
    )


class Source(Strict):
    title: str = Field(description="title of the publication, dataset or page")
    publisher: str | None = Field(None, description="author or organisation")
    year: int | None = Field(None, ge=1900, le=2100, description="year of publication")
    url: str | None = Field(None, description="web address")
    page: str | None = Field(None, description="page, table or section")
    kind: Literal["publication", "dataset", "news", "company", "derived", "assumption"] = Field(
        "publication", description="what sort of source; `assumption` for a labelled judgement"
    )
    note: str | None = Field(None, description="what was taken from it, or why the assumption")


class Region(Strict):
    name: str | None = Field(None, description="display name")
    bloc: Id = Field(description=BLOCS_DOC)
    source: SourceRef = None


class Commodity(Strict):
    name: str | None = Field(None, description="display name")
    unit: str = Field("t", description="unit of quantity (informative; the model works in tonnes)")
    price: YearMap(0.0, None, "M$ per t") | None = Field(  # type: ignore[valid-type]
        None, description="reference value in M$ per t, used by ad-valorem tariffs"
    )
    unmet_penalty: NonNeg | None = Field(  # type: ignore[valid-type]
        None, description="M$ per t of unmet demand; overrides options.unmet_penalty"
    )
    source: SourceRef = None


class Process(Strict):
    name: str | None = None
    stage: Id = Field(
        description="id of the stage of the chain this process belongs to: a stage declared "
        "in `chains:` (any id when no chain is declared)"
    )
    output: Id = Field(description="main output commodity; capacity is in t/yr of it")
    inputs: dict[Id, Number(0.0, None, "t of input per t of output")] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="t of each input commodity per t of main output"
    )
    coproducts: dict[Id, Number(0.0, None, "t of co-product per t of output")] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="t of each co-product per t of main output"
    )
    source: SourceRef = None


class Expansion(Strict):
    capex: NonNeg = Field(description="overnight capital cost, M$ per t/yr of new capacity")  # type: ignore[valid-type]
    lifetime: int = Field(ge=1, le=200, description="years a vintage stays online")
    lead_time: int = Field(0, ge=0, le=100, description="years from decision to first online year")
    earliest: Year | None = Field(None, description="earliest year new capacity may be online")
    max: NonNeg | None = Field(None, description="cap on total new capacity, t/yr")  # type: ignore[valid-type]
    ramp: NonNeg | None = Field(  # type: ignore[valid-type]
        None, description="cap on new capacity decided per year, t/yr per year"
    )
    source: SourceRef = None


class Facility(Strict):
    name: str | None = None
    region: Id
    process: Id
    status: Literal["operating", "construction", "planned", "candidate", "closed"] | None = None
    existing: YearMap(0.0, None, "t/yr") = Field(
        0.0, description="existing capacity, t/yr of main output"
    )  # type: ignore[valid-type]
    availability: YearMap(0.0, 1.0, "a share") = Field(  # type: ignore[valid-type]
        1.0, description="share of capacity usable in a year"
    )
    inputs: dict[Id, Number(0.0, None, "t per t")] | None = Field(  # type: ignore[valid-type]
        None, description="overrides of the process's input coefficients at this facility"
    )
    coproducts: dict[Id, Number(0.0, None, "t per t")] | None = Field(  # type: ignore[valid-type]
        None, description="overrides of the process's co-product coefficients at this facility"
    )
    fixed_om: NonNeg = Field(0.0, description="M$ per t/yr of capacity per year")  # type: ignore[valid-type]
    variable_cost: YearMap(0.0, None, "M$ per t") = Field(0.0, description="M$ per t of output")  # type: ignore[valid-type]
    resource: NonNeg | None = Field(  # type: ignore[valid-type]
        None, description="cumulative output limit over the horizon, t (a mine's reserve)"
    )
    expansion: Expansion | None = Field(None, description="new capacity this facility may add")
    source: SourceRef = None


class ChainStage(Strict):
    name: str | None = Field(None, description="display name in reports; the id if omitted")
    makes: Id = Field(
        description="commodity this stage makes (its main output); stages that make the same "
        "commodity share a column of the report's chain diagram"
    )


class Chain(Strict):
    name: str | None = Field(None, description="display name in reports; the id if omitted")
    headline: Id = Field(
        description="commodity the chain delivers: what its clean share and unmet demand are "
        "reported for"
    )
    stages: dict[Id, ChainStage] = Field(
        min_length=1, description="stage id -> stage, in chain order (upstream first)"
    )
    source: SourceRef = None


class Route(Strict):
    origins: Selector | None = Field(None, description="regions or blocs; all if omitted")
    destinations: Selector | None = Field(None, description="regions or blocs; all if omitted")
    # min_length=1: an empty list would name nothing yet read like "all" (omit the key for all)
    commodities: list[Id] | None = Field(None, min_length=1, description="all tradable if omitted")
    allowed: bool = Field(True, description="false closes these lanes")
    transport_cost: NonNeg | None = Field(None, description="M$ per t on these lanes")  # type: ignore[valid-type]
    source: SourceRef = None


class Tariff(Strict):
    name: str | None = None
    origins: Selector | None = None
    destinations: Selector | None = None
    commodities: list[Id] | None = Field(None, min_length=1, description="all tradable if omitted")
    ad_valorem: YearMap(0.0, 10.0, "a rate") = Field(  # type: ignore[valid-type]
        0.0, description="rate on the commodity's `price` (0.25 = 25%)"
    )
    per_tonne: YearMap(0.0, None, "M$ per t") = Field(0.0, description="specific duty, M$ per t")  # type: ignore[valid-type]
    source: SourceRef = None


class Trade(Strict):
    transport_cost: dict[Id, NonNeg] = Field(  # type: ignore[valid-type]
        default_factory=dict,
        description="tradable commodities and their default transport cost, M$ per t",
    )
    routes: dict[Id, Route] = Field(default_factory=dict)
    tariffs: dict[Id, Tariff] = Field(default_factory=dict)


class RuleYears(Strict):
    start: Year | None = Field(None, description="first year the rule applies")
    end: Year | None = Field(None, description="last year the rule applies")


class MinCleanShare(RuleYears):
    kind: Literal["min_clean_share"]
    name: str | None = None
    regions: Selector
    commodity: Id
    share: YearMap(0.0, 1.0, "a share") = Field(  # type: ignore[valid-type]
        description="minimum share of demand met with clean (restricted-free) supply"
    )
    each_region: bool = Field(False, description="apply to each region instead of the group")
    source: SourceRef = None


class MaxOriginShare(RuleYears):
    kind: Literal["max_origin_share"]
    name: str | None = None
    regions: Selector
    commodity: Id
    share: YearMap(0.0, 1.0, "a share") = Field(  # type: ignore[valid-type]
        description="maximum share of the group's supply from any single origin region"
    )
    origins: Selector | None = Field(
        None, description="origins checked; all outside the group if omitted"
    )
    source: SourceRef = None


IndependenceRule = Annotated[MinCleanShare | MaxOriginShare, Field(discriminator="kind")]


class ExportControl(RuleYears):
    name: str | None = None
    origins: Selector
    destinations: Selector
    commodities: list[Id] = Field(min_length=1)
    limit: YearMap(0.0, None, "t/yr") = Field(0.0, description="t/yr allowed per commodity; 0 bans")  # type: ignore[valid-type]
    source: SourceRef = None


class Partner(Strict):
    min_share: Share = Field(0.0, description="minimum share of the agreement's output")  # type: ignore[valid-type]
    cofinance: Share = Field(0.0, description="share of the agreement's capex this partner pays")  # type: ignore[valid-type]


class Sharing(RuleYears):
    name: str | None = None
    facilities: list[Id] = Field(
        min_length=1, description="co-financed plants, one region, one output"
    )
    partners: dict[Id, Partner] = Field(min_length=1, description="region id -> terms")
    max_market_share: Share = Field(  # type: ignore[valid-type]
        1.0, description="largest share any one partner market may take, host included"
    )
    source: SourceRef = None


class Budget(Strict):
    name: str | None = None
    payer: Id | None = Field(None, description="region whose share of capex counts")
    facilities: list[Id] | None = Field(
        None, min_length=1, description="eligible facilities; all if omitted"
    )
    regions: Selector | None = Field(None, description="eligible facility regions")
    stages: list[Id] | None = Field(
        None, min_length=1, description="eligible stage ids; all if omitted"
    )
    share: Share = Field(1.0, description="share of eligible capex counted")  # type: ignore[valid-type]
    per_year: YearMap(0.0, None, "M$ per year") | None = Field(None, description="M$ per year")  # type: ignore[valid-type]
    total: NonNeg | None = Field(None, description="M$ over the horizon")  # type: ignore[valid-type]
    source: SourceRef = None


class StockpileRelease(Strict):
    """When a stockpile may be drawn below its floor, how fast, and by when it is refilled."""

    during: list[Id] = Field(
        default_factory=list,
        description="export-control ids: the stock may be drawn below its floor in the years "
        "these controls are active, before `refill_by`",
    )
    years: list[Year] = Field(
        default_factory=list,
        description="further model years the stock may be drawn below its floor (before "
        "`refill_by`)",
    )
    max_rate: NonNeg | None = Field(  # type: ignore[valid-type]
        None,
        description="most drawn below the floor in one release year, t/yr: from the first "
        "release year until `refill_by` the stock may be below its floor by max_rate * step "
        "for each release year so far (stock above the floor is drawn freely); none: no limit",
    )
    refill_by: Year = Field(
        description="the year the floor (cover * demand + min_level) applies again; from the "
        "first release year until then the stock may be below it, by at most what `max_rate` "
        "allows over the release years so far"
    )


class Stockpile(Strict):
    name: str | None = None
    region: Id
    commodity: Id
    cover: YearMap(0.0, 100.0, "years of demand") = Field(  # type: ignore[valid-type]
        0.0, description="minimum stock as a fraction of the year's demand (60 days = 0.164)"
    )
    min_level: YearMap(0.0, None, "t") = Field(0.0, description="minimum stock, t")  # type: ignore[valid-type]
    initial: NonNeg = Field(0.0, description="stock before the first year, t")  # type: ignore[valid-type]
    initial_clean_share: Share = Field(0.0, description="clean share of the initial stock")  # type: ignore[valid-type]
    holding_cost: NonNeg = Field(0.0, description="M$ per t held per year")  # type: ignore[valid-type]
    release: StockpileRelease | None = Field(
        None, description="years the stock may be drawn below its floor, and its refill year"
    )
    source: SourceRef = None


class Tranche(Strict):
    share: Share = Field(  # type: ignore[valid-type]
        description="share of the sector's demand that may be curtailed at this tranche's cost"
    )
    cost: NonNeg = Field(  # type: ignore[valid-type]
        description="M$ per t curtailed: what users give up by doing without (substitution, "
        "deferral); below the sector's shortage_cost"
    )
    note: str | None = Field(None, description="what the tranche stands for")


class Sector(Strict):
    name: str | None = Field(None, description="display name")
    shortage_cost: NonNeg = Field(  # type: ignore[valid-type]
        description="M$ per t of the sector's demand left unmet beyond its tranches (the last "
        "tranche); the highest sector cost is served first in a shortage"
    )
    tranches: list[Tranche] = Field(
        default_factory=list,
        description="price-responsive demand: shares of the sector's demand that may be curtailed "
        "at rising costs, cheapest first; the rest of the demand is unmet at shortage_cost",
    )
    source: SourceRef = None


class Options(Strict):
    unmet_penalty: NonNeg = Field(10.0, description="M$ per t of unmet demand")  # type: ignore[valid-type]
    retag_cost: NonNeg = Field(  # type: ignore[valid-type]
        1e-6, description="M$ per t for re-tagging clean material as other; keeps tags honest"
    )
    strict: bool = Field(False, description="forbid unmet demand: a shortfall is infeasible")


class CleanShareCheck(Strict):
    regions: Selector
    commodity: Id
    share: Share = Field(description="smallest clean share of the group's demand accepted")  # type: ignore[valid-type]
    from_year: Year | None = Field(None, description="first year checked; all years if omitted")


class Check(Strict):
    max_unmet_share: Share = Field(  # type: ignore[valid-type]
        0.0,
        description="largest share of total demand not served (curtailed + unmet) that "
        "`allycap check` accepts",
    )
    min_clean_share: dict[Id, CleanShareCheck] = Field(
        default_factory=dict,
        description="clean-share thresholds `allycap check` enforces on the solution",
    )
    expect: Literal["feasible", "infeasible"] = Field(
        "feasible", description="what `allycap check` expects of this scenario"
    )


class Inputs(Strict):
    """The whole model input after includes, scenarios and overrides are merged."""

    description: str | None = Field(None, description="what these inputs (or this scenario) answer")
    horizon: Horizon
    discount_rate: Number(0.0, 1.0, "a rate") = Field(description="real discount rate per year")  # type: ignore[valid-type]
    restricted_origins: Selector | None = Field(
        None,
        description="regions or blocs whose material is never clean; default bloc `restricted`",
    )
    sources: dict[Id, Source] = Field(default_factory=dict)
    regions: dict[Id, Region] = Field(min_length=1)
    commodities: dict[Id, Commodity] = Field(min_length=1)
    chains: dict[Id, Chain] = Field(
        default_factory=dict,
        description="the supply chains: stages in order and headline commodity; when omitted, "
        "one chain is inferred from the processes",
    )
    processes: dict[Id, Process] = Field(min_length=1)
    facilities: dict[Id, Facility] = Field(default_factory=dict)
    demand: dict[Id, dict[Id, YearMap(0.0, None, "t/yr")]] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="region -> commodity -> t/yr"
    )
    sectors: dict[Id, Sector] = Field(
        default_factory=dict,
        description="end-use sectors of demand (defence, EV traction, ...), each with its own "
        "shortage cost and curtailment tranches",
    )
    demand_sectors: dict[
        Id,
        dict[Id, dict[Id, YearMap(0.0, 1.0, "a share")]],  # type: ignore[valid-type]
    ] = Field(
        default_factory=dict,
        description="region -> commodity -> sector -> share of that demand (shares sum to 1 in "
        "every model year); a demand not split here is one sector, `all`, at the commodity's "
        "unmet_penalty",
    )
    trade: Trade = Field(default_factory=Trade)
    independence: dict[Id, IndependenceRule] = Field(default_factory=dict)
    export_controls: dict[Id, ExportControl] = Field(default_factory=dict)
    sharing: dict[Id, Sharing] = Field(default_factory=dict)
    budgets: dict[Id, Budget] = Field(default_factory=dict)
    stockpiles: dict[Id, Stockpile] = Field(default_factory=dict)
    options: Options = Field(default_factory=Options)
    check: Check = Field(default_factory=Check)


# -- element maps ----------------------------------------------------------------------------
# Every map keyed by element id, by key path, with the name of one element in messages. Within
# the base inputs (the main file and its includes) an id may be defined in one place only; a
# scenario or `--set` that names an id absent so far adds a new element, which must be complete.
ELEMENT_MAPS: dict[tuple[str, ...], str] = {
    ("sources",): "source",
    ("regions",): "region",
    ("commodities",): "commodity",
    ("sectors",): "sector",
    ("chains",): "chain",
    ("processes",): "process",
    ("facilities",): "facility",
    ("independence",): "independence rule",
    ("export_controls",): "export control",
    ("sharing",): "sharing agreement",
    ("budgets",): "budget",
    ("stockpiles",): "stockpile",
    ("trade", "routes"): "route",
    ("trade", "tariffs"): "tariff",
    ("check", "min_clean_share"): "clean-share check",
}

# Keyed by commodity id with a number per id: defined twice in the base is a duplicate too, but
# a scenario may add a commodity here (validation checks that it exists).
VALUE_MAPS: dict[tuple[str, ...], str] = {("trade", "transport_cost"): "transport cost"}

# What a new element added by a scenario or `--set` needs beyond the schema's required keys:
# groups of keys of which at least one must be given. An element whose omitted keys mean "all"
# would otherwise apply to the whole world: `budgets: {canada_public_capitl: {total: 10000}}`,
# a typo, would be a new fund over every facility. The base inputs may define such elements (a
# world fund, a tariff on every lane); an overlay must say so explicitly.
NEW_ELEMENT_NEEDS: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {
    ("budgets",): (("per_year", "total"), ("payer", "facilities", "regions")),
    ("trade", "routes"): (("origins", "destinations", "commodities"),),
    ("trade", "tariffs"): (("origins", "destinations", "commodities"),),
}
