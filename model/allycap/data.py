"""Prepare stage: validated `Inputs` -> `ModelData`, the plain tables and sparse index sets the
formulation reads. Nothing here knows about Pyomo; nothing in `formulation/` reads `Inputs`.

Year maps are interpolated linearly between their points and held flat outside them. Index sets
hold only combinations that can carry a value (no dense region x region x commodity grids).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from allycap.errors import InputIssue
from allycap.inputs.schema import Inputs

if TYPE_CHECKING:
    from allycap.chains import ChainInfo
    from allycap.inputs.load import RawInputs

CLEAN, OTHER = "clean", "other"
TAGS = (CLEAN, OTHER)


def interpolate(
    value: float | dict[int, float] | None, years: list[int], default: float = 0.0
) -> dict[int, float]:
    """A scalar holds for every year; a map is linear between points and flat outside them."""
    if value is None:
        return dict.fromkeys(years, default)
    if not isinstance(value, dict):
        return dict.fromkeys(years, float(value))
    points = sorted(value.items())
    xs = [p[0] for p in points]
    out = {}
    for y in years:
        i = bisect.bisect_left(xs, y)
        if i < len(xs) and xs[i] == y:
            out[y] = points[i][1]
        elif i == 0:
            out[y] = points[0][1]
        elif i == len(xs):
            out[y] = points[-1][1]
        else:
            (x0, v0), (x1, v1) = points[i - 1], points[i]
            out[y] = v0 + (v1 - v0) * (y - x0) / (x1 - x0)
    return out


def capital_recovery_factor(rate: float, lifetime: int) -> float:
    """Annual payment per unit of capital over `lifetime` years at `rate` (1/n when rate is 0)."""
    if rate == 0:
        return 1.0 / lifetime
    return rate / (1.0 - (1.0 + rate) ** -lifetime)


def construction_interest(rate: float, lead: int) -> float:
    """IDC(L, r): overnight capex grown by interest during construction, valued when the plant
    enters service (the point the capital annuity repays).

    The capex is spent in equal parts over the `lead` construction years, each part evenly
    through its year, so the part spent i years before service (i = 1..L) is on average
    i - 1/2 years old then: IDC = (1/L) sum_{i=1..L} (1+r)^(i-1/2); 1 for L = 0 (overnight).
    Mid-year spending, as in NREL's ATB construction financing factor, keeps IDC continuous in
    L (about (1+r)^(L/2)); docs/formulation.md compares it with spending at a year's start.
    """
    if lead <= 0:
        return 1.0
    return sum((1.0 + rate) ** (i - 0.5) for i in range(1, lead + 1)) / lead


def period_weight(rate: float, offset: int, step: int) -> float:
    """Present-value weight of a period of `step` years starting `offset` years after the start:
    sum_{j=0..step-1} (1+r)^-(offset+j), each year discounted as of its own start (a single
    term, the plain discount factor, when step is 1)."""
    return sum((1.0 + rate) ** -(offset + j) for j in range(step))


@dataclass
class Vintages:
    """New capacity of one facility: which decision years exist and when each is online."""

    decisions: list[int]
    online: dict[int, list[int]]  # model year -> decision years online then
    added: dict[int, list[int]]  # model year -> decisions that came online since the last year
    removed: dict[int, list[int]]  # model year -> decisions retired since the last year


@dataclass(frozen=True)
class Expansion:
    """What new capacity of a facility costs and how fast it can come."""

    capex: float  # M$ per t/yr
    lead_time: int  # years
    lifetime: int  # years
    max: float | None  # t/yr over the horizon; None: no limit
    ramp: float | None  # t/yr per year; None: no limit


@dataclass(frozen=True)
class Facility:
    """A facility as the model reads it (missing numbers are None, never NaN)."""

    id: str
    name: str
    region: str
    process: str
    stage: str
    output: str  # the process's main output
    status: str
    fixed_om: float  # M$ per t/yr per year
    resource: float | None  # t over the horizon; None: no limit
    expansion: Expansion | None


@dataclass(frozen=True)
class IndependenceRule:
    """An independence rule as the model reads it: its groups and active years."""

    id: str
    kind: str  # "min_clean_share" or "max_origin_share"
    commodity: str
    groups: tuple[tuple[str, ...], ...]  # with each_region, one group per region
    years: tuple[int, ...]  # active years (start to end), whatever the share


@dataclass(frozen=True)
class CleanShareRow:
    """One row of `m.clean_share`: a rule's group, in one year."""

    rule: str
    regions: tuple[str, ...]
    commodity: str
    year: int
    share: float
    demand: float  # the group's demand, t/yr

    @property
    def group(self) -> str:
        """The group's name in row indices and duals.csv: its regions joined by `+`."""
        return "+".join(self.regions)

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.rule, self.group, self.year)


@dataclass(frozen=True)
class OriginShareRow:
    """One row of `m.origin_share`: a rule's limit on one origin, in one year."""

    rule: str
    regions: tuple[str, ...]
    commodity: str
    year: int
    origin: str
    share: float

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.rule, self.origin, self.year)


@dataclass(frozen=True)
class ExportControlRow:
    """One row of `m.export_control`: a control on one commodity, in one year."""

    control: str
    commodity: str
    year: int
    limit: float
    lanes: tuple[tuple[str, str, str], ...]

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.control, self.commodity, self.year)


@dataclass
class Agreement:
    id: str
    host: str
    commodity: str
    facilities: list[str]
    years: list[int]
    min_share: dict[str, float]
    cofinance: dict[str, float]
    max_market_share: float


@dataclass
class BudgetLimit:
    id: str
    pay_share: dict[str, float]  # facility -> share of its capex counted against this budget
    per_year: dict[int, float] | None
    total: float | None


@dataclass(frozen=True)
class Sector:
    """An end-use sector of demand: what a tonne not served costs its users."""

    id: str
    name: str
    shortage_cost: float  # M$ per t left unmet (the last tranche)
    tranches: tuple[
        tuple[float, float], ...
    ]  # (share of the sector's demand, M$ per t), cheapest first


@dataclass(frozen=True)
class ShortfallTranche:
    """One column of `m.shortfall`: a tranche of one sector's demand that may go unserved.

    Tranches 1..n are the sector's curtailment tranches (kind "curtailment"); tranche n + 1 is
    the rest of its demand, unmet at the sector's shortage cost (kind "unmet").
    """

    region: str
    commodity: str
    sector: str
    year: int
    tranche: int  # 1-based, in order of rising cost
    kind: str  # "curtailment" or "unmet"
    bound: float  # t/yr: the tranche's width times the sector's demand
    cost: float  # M$ per t, that year's money

    @property
    def key(self) -> tuple[str, str, str, int, int]:
        return (self.region, self.commodity, self.sector, self.year, self.tranche)


@dataclass
class StockpileData:
    id: str
    region: str
    commodity: str
    cover: dict[int, float]
    min_level: dict[int, float]
    initial: dict[str, float]  # tag -> tonnes before the first year
    holding_cost: float
    # Release: model years the stock may be drawn below its floor (an export control named in
    # `release.during` is active, or listed in `release.years`), all before `refill_by`.
    release_years: list[int] = field(default_factory=list)
    # Model years with the floor lowered: from the first release year up to, not including,
    # `refill_by`. In a window year the floor is lowered by max_rate * step per release year so
    # far, so in one that is not a release year the stock goes no further below it.
    window: list[int] = field(default_factory=list)
    max_rate: float | None = None  # t/yr below the floor per release year; None: no limit
    refill_by: int | None = None


@dataclass
class ModelData:
    """Everything the formulation needs, as plain Python objects and typed records (no raw
    inputs: each family's records are prepared by its own function below)."""

    years: list[int]
    step: int
    discount: dict[int, float]  # (1 + r)^-(y - start)
    weight: dict[int, float]  # sum of the period's years' discount factors (period_weight)
    regions: list[str]
    bloc: dict[str, str]
    restricted: set[str]
    facilities: dict[str, Facility]
    outputs: dict[str, dict[str, float]]  # facility -> commodity -> t per t of main output
    inputs_per_unit: dict[str, dict[str, float]]  # facility -> commodity -> t per t
    existing: dict[tuple[str, int], float]
    availability: dict[tuple[str, int], float]
    variable_cost: dict[tuple[str, int], float]
    vintages: dict[str, Vintages]
    annualized_capex: dict[str, float]  # facility -> capex * IDC * CRF, M$ per t/yr per year online
    prod_index: list[tuple[str, int, str]]
    lanes: list[tuple[str, str, str]]
    ship_index: list[tuple[str, str, str, int, str]]
    transport_cost: dict[tuple[str, str, str, int], float]
    tariff_cost: dict[tuple[str, str, str, int], float]
    demand: dict[tuple[str, str, int], float]
    deliver_index: list[tuple[str, str, int, str]]
    unmet_penalty: dict[str, float]
    sectors: dict[str, Sector]
    # (region, commodity, year) -> sector -> t/yr, for demands split by sector (demand_sectors)
    sector_demand: dict[tuple[str, str, int], dict[str, float]]
    shortfall_tranches: dict[tuple[str, str, str, int, int], ShortfallTranche]  # by key
    retag_index: list[tuple[str, str, int]]
    stockpiles: dict[tuple[str, str], StockpileData]
    stock_index: list[tuple[str, str, int, str]]
    balance_index: list[tuple[str, str, int, str]]
    independence: dict[str, IndependenceRule]
    clean_share_rows: dict[tuple[str, str, int], CleanShareRow]  # by row key
    origin_share_rows: dict[tuple[str, str, int], OriginShareRow]
    export_control_rows: dict[tuple[str, str, int], ExportControlRow]
    agreements: dict[str, Agreement]
    payers: dict[str, dict[str, float]]  # facility -> region -> share of its capex it pays
    budgets: dict[str, BudgetLimit]
    strict: bool
    retag_cost: float
    notes: list[str] = field(default_factory=list)
    chains: list[ChainInfo] = field(default_factory=list)  # stages in order, headline commodity

    def tags(self, region: str) -> tuple[str, ...]:
        return (OTHER,) if region in self.restricted else TAGS

    def previous_year(self, year: int) -> int | None:
        i = self.years.index(year)
        return self.years[i - 1] if i else None


def _select(items: list[str] | None, inp: Inputs) -> list[str]:
    """Expand a selector (region ids and bloc names) to region ids, in input order."""
    if items is None:
        return list(inp.regions)
    wanted = set(items)
    return [r for r, reg in inp.regions.items() if r in wanted or reg.bloc in wanted]


def _active(year: int, start: int | None, end: int | None) -> bool:
    return (start is None or year >= start) and (end is None or year <= end)


def prepare(inp: Inputs, strict: bool | None = None) -> ModelData:
    """Turn validated inputs into tables and sparse index sets."""
    h = inp.horizon
    years = list(range(h.start, h.end + 1, h.step))
    rate = inp.discount_rate
    discount = {y: (1.0 + rate) ** -(y - h.start) for y in years}
    # a model year stands for its period y..y+step-1 (the last one too: validation makes step
    # divide end - start), each year of it discounted separately
    weight = {y: period_weight(rate, y - h.start, h.step) for y in years}
    regions = list(inp.regions)
    bloc = {r: reg.bloc for r, reg in inp.regions.items()}
    if inp.restricted_origins is None:
        restricted = {r for r in regions if bloc[r] == "restricted"}
    else:
        restricted = set(_select(inp.restricted_origins, inp))

    cap = _facilities(inp, years, restricted)

    running = {fid for fid, _, _ in cap.prod_index}
    makes: dict[str, set[str]] = defaultdict(set)  # commodity -> regions that make it
    uses: dict[str, set[str]] = defaultdict(set)
    for fid in running:
        r = cap.facilities[fid].region
        for c in cap.outputs[fid]:
            makes[c].add(r)
        for c in cap.per_unit[fid]:
            uses[c].add(r)
    demand = _demand(inp, years)
    sectors, sector_demand, tranches = _sectors(inp, years, demand)
    for r, c, _ in demand:
        uses[c].add(r)
    stockpiles = _stockpiles(inp, years, restricted)
    for r, c in stockpiles:
        makes[c].add(r)
        uses[c].add(r)

    lanes, transport, tariff = _lanes(inp, years, makes, uses)
    ship_index = []
    for c, o, d in lanes:
        tags = TAGS if o not in restricted and d not in restricted else (OTHER,)
        for y in years:
            ship_index.extend((c, o, d, y, k) for k in tags)

    deliver_index = []
    bloc_tags = {r: ((OTHER,) if r in restricted else TAGS) for r in regions}
    for r, c, y in demand:
        deliver_index.extend((r, c, y, k) for k in bloc_tags[r])
    penalty = {
        c: (com.unmet_penalty if com.unmet_penalty is not None else inp.options.unmet_penalty)
        for c, com in inp.commodities.items()
    }
    stock_index = [(r, c, y, k) for (r, c) in stockpiles for y in years for k in bloc_tags[r]]

    present: set[tuple[str, str]] = set()
    for c, rs in makes.items():
        present.update((r, c) for r in rs)
    for c, rs in uses.items():
        present.update((r, c) for r in rs)
    balance_index = [
        (r, c, y, k) for (r, c) in sorted(present) for y in years for k in bloc_tags[r]
    ]
    retag_index = [(r, c, y) for (r, c) in sorted(present) if r not in restricted for y in years]

    rules, clean_rows, origin_rows = _independence(inp, years, demand)
    controls = _export_controls(inp, years, lanes)
    agreements = _agreements(inp, years)
    budgets = _budgets(inp, years, agreements)

    return ModelData(
        years=years,
        step=h.step,
        discount=discount,
        weight=weight,
        regions=regions,
        bloc=bloc,
        restricted=restricted,
        facilities=cap.facilities,
        outputs=cap.outputs,
        inputs_per_unit=cap.per_unit,
        existing=cap.existing,
        availability=cap.availability,
        variable_cost=cap.variable_cost,
        vintages=cap.vintages,
        annualized_capex=cap.annualized,
        prod_index=cap.prod_index,
        lanes=lanes,
        ship_index=ship_index,
        transport_cost=transport,
        tariff_cost=tariff,
        demand=demand,
        deliver_index=deliver_index,
        unmet_penalty=penalty,
        sectors=sectors,
        sector_demand=sector_demand,
        shortfall_tranches=tranches,
        retag_index=retag_index,
        stockpiles=stockpiles,
        stock_index=stock_index,
        balance_index=balance_index,
        independence=rules,
        clean_share_rows={row.key: row for row in clean_rows},
        origin_share_rows={row.key: row for row in origin_rows},
        export_control_rows={row.key: row for row in controls},
        agreements=agreements,
        payers=payer_shares(inp, agreements),
        budgets=budgets,
        strict=inp.options.strict if strict is None else strict,
        retag_cost=inp.options.retag_cost,
        chains=prepare_chains(inp),
    )


def prepare_chains(inp: Inputs) -> list[ChainInfo]:
    """The chains declared in `chains:`, or the one inferred from the processes."""
    from allycap.chains import resolve

    return resolve(inp)


@dataclass
class CapacityRecords:
    """What `_facilities` prepares for the capacity family (fields as in ModelData)."""

    facilities: dict[str, Facility]
    outputs: dict[str, dict[str, float]]
    per_unit: dict[str, dict[str, float]]
    existing: dict[tuple[str, int], float]
    availability: dict[tuple[str, int], float]
    variable_cost: dict[tuple[str, int], float]
    vintages: dict[str, Vintages]
    annualized: dict[str, float]
    prod_index: list[tuple[str, int, str]]


def _facilities(inp: Inputs, years: list[int], restricted: set[str]) -> CapacityRecords:
    """The capacity family's records: facilities, their coefficients and year maps, vintages of
    new capacity, and the production index (facility, year, tag) of those that can run."""
    h = inp.horizon
    rate = inp.discount_rate
    facilities: dict[str, Facility] = {}
    outputs: dict[str, dict[str, float]] = {}
    per_unit: dict[str, dict[str, float]] = {}
    existing, availability, variable_cost = {}, {}, {}
    vintages: dict[str, Vintages] = {}
    annualized: dict[str, float] = {}
    prod_index = []
    for fid, f in inp.facilities.items():
        proc = inp.processes[f.process]
        ins = {**proc.inputs, **(f.inputs or {})}
        cos = {**proc.coproducts, **(f.coproducts or {})}
        per_unit[fid] = {c: a for c, a in ins.items() if a > 0}
        outputs[fid] = {proc.output: 1.0, **{c: a for c, a in cos.items() if a > 0}}
        for y, v in interpolate(f.existing, years).items():
            existing[fid, y] = v
        for y, v in interpolate(f.availability, years, 1.0).items():
            availability[fid, y] = v
        for y, v in interpolate(f.variable_cost, years).items():
            variable_cost[fid, y] = v
        e = f.expansion
        if e is not None:
            vint = _vintages(e.lead_time, e.lifetime, e.earliest, years, h.end, h.step)
            if vint.decisions and (e.max is None or e.max > 0):
                vintages[fid] = vint
                annualized[fid] = (
                    e.capex
                    * construction_interest(rate, e.lead_time)
                    * capital_recovery_factor(rate, e.lifetime)
                )
        facilities[fid] = Facility(
            id=fid,
            name=f.name or fid,
            region=f.region,
            process=f.process,
            stage=proc.stage,
            output=proc.output,
            status=f.status or "",
            fixed_om=float(f.fixed_om),
            resource=None if f.resource is None else float(f.resource),
            expansion=None
            if e is None
            else Expansion(
                capex=float(e.capex),
                lead_time=int(e.lead_time),
                lifetime=int(e.lifetime),
                max=None if e.max is None else float(e.max),
                ramp=None if e.ramp is None else float(e.ramp),
            ),
        )
        can_run = fid in vintages or any(existing[fid, y] > 0 for y in years)
        if not can_run:
            continue
        if f.region in restricted:
            tags = (OTHER,)
        elif not per_unit[fid]:
            tags = (CLEAN,)  # a source outside restricted origins makes clean material only
        else:
            tags = TAGS
        for y in years:
            if fid in vintages or existing[fid, y] > 0:
                prod_index.extend((fid, y, k) for k in tags)
    return CapacityRecords(
        facilities,
        outputs,
        per_unit,
        existing,
        availability,
        variable_cost,
        vintages,
        annualized,
        prod_index,
    )


def _demand(inp: Inputs, years: list[int]) -> dict[tuple[str, str, int], float]:
    """The balance family's demand: (region, commodity, year) -> t/yr, zero demand included."""
    demand: dict[tuple[str, str, int], float] = {}
    for r, by_c in inp.demand.items():
        for c, values in by_c.items():
            for y, v in interpolate(values, years).items():
                demand[r, c, y] = v
    return demand


def _sectors(inp: Inputs, years: list[int], demand: dict[tuple[str, str, int], float]):
    """The demand family's sector records: sectors, each split demand's tonnes by sector, and
    the shortfall tranches (keyed (region, commodity, sector, year, tranche)).

    A sector's tranche j (share s_j, cost p_j) may leave s_j of the sector's demand unserved at
    p_j; the last tranche, the rest (1 - sum_j s_j), goes unmet at the shortage cost. Tranches of
    zero width (a zero share, zero demand) are left out.
    """
    sectors = {
        sid: Sector(
            id=sid,
            name=s.name or sid,
            shortage_cost=float(s.shortage_cost),
            tranches=tuple((float(t.share), float(t.cost)) for t in s.tranches),
        )
        for sid, s in inp.sectors.items()
    }
    sector_demand: dict[tuple[str, str, int], dict[str, float]] = {}
    tranches: dict[tuple[str, str, str, int, int], ShortfallTranche] = {}
    for r, by_c in inp.demand_sectors.items():
        for c, shares in by_c.items():
            split = {sid: interpolate(share, years) for sid, share in shares.items()}
            for y in years:
                total = demand.get((r, c, y), 0.0)
                sector_demand[r, c, y] = {sid: total * split[sid][y] for sid in split}
                for sid, tonnes in sector_demand[r, c, y].items():
                    sector = sectors[sid]
                    steps = [(share, cost, "curtailment") for share, cost in sector.tranches]
                    rest = max(0.0, 1.0 - sum(share for share, _ in sector.tranches))
                    steps.append((rest, sector.shortage_cost, "unmet"))
                    for j, (share, cost, kind) in enumerate(steps, start=1):
                        bound = share * tonnes
                        if bound > 0:
                            t = ShortfallTranche(r, c, sid, y, j, kind, bound, cost)
                            tranches[t.key] = t
    return sectors, sector_demand, tranches


def _stockpiles(
    inp: Inputs, years: list[int], restricted: set[str]
) -> dict[tuple[str, str], StockpileData]:
    """The stockpiles family's records, by (region, commodity)."""
    stockpiles: dict[tuple[str, str], StockpileData] = {}
    for kid, k in inp.stockpiles.items():
        clean_share = 0.0 if k.region in restricted else k.initial_clean_share
        release_years: list[int] = []
        window: list[int] = []
        if k.release is not None:
            rel = k.release
            controls = [inp.export_controls[x] for x in rel.during]
            release_years = [
                y
                for y in years
                if y < rel.refill_by
                and (y in rel.years or any(_active(y, x.start, x.end) for x in controls))
            ]
            if release_years:
                window = [y for y in years if release_years[0] <= y < rel.refill_by]
        stockpiles[k.region, k.commodity] = StockpileData(
            id=kid,
            region=k.region,
            commodity=k.commodity,
            cover=interpolate(k.cover, years),
            min_level=interpolate(k.min_level, years),
            initial={CLEAN: k.initial * clean_share, OTHER: k.initial * (1 - clean_share)},
            holding_cost=k.holding_cost,
            release_years=release_years,
            window=window,
            max_rate=k.release.max_rate if k.release else None,
            refill_by=k.release.refill_by if k.release else None,
        )
    return stockpiles


def _vintages(
    lead: int, life: int, earliest: int | None, years: list[int], end: int, step: int = 1
) -> Vintages:
    """Decision years and online periods of one facility's new capacity.

    A vintage decided in period v is ready in year v + lead; it comes online in the period that
    contains that year, p0, and stays online for the periods that overlap [p0, p0 + life), so it
    counts ceil(life / step) whole periods. A decision exists when the vintage is ready inside
    the horizon (its last period covers end..end+step-1) and not before `earliest`. With step 1
    this is v + lead <= y < v + lead + life and v + lead <= end.
    """
    last = end + step - 1
    decisions = [
        v for v in years if v + lead <= last and (earliest is None or v + lead >= earliest)
    ]
    first = {v: years[0] + (v + lead - years[0]) // step * step for v in decisions}
    online = {y: [v for v in decisions if first[v] <= y < first[v] + life] for y in years}
    added, removed = {}, {}
    previous: set[int] = set()
    for y in years:
        now = set(online[y])
        added[y] = sorted(now - previous)
        removed[y] = sorted(previous - now)
        previous = now
    return Vintages(decisions, online, added, removed)


def period_warnings(inp: Inputs, raw: RawInputs | None = None) -> list[InputIssue]:
    """A warning when horizon.step is longer than some expansions' lead times (0 < L < step).

    Such a vintage is ready inside the period it is decided in, so it counts as online for that
    whole period (`_vintages`): its lead time delays nothing.
    """
    step = inp.horizon.step
    short = [
        (fid, f.expansion.lead_time)
        for fid, f in inp.facilities.items()
        if f.expansion is not None
        and (f.expansion.max is None or f.expansion.max > 0)
        and 0 < f.expansion.lead_time < step
    ]
    if not short:
        return []
    path = ("horizon", "step")
    origin = raw.locate(path) if raw is not None else None
    listed = ", ".join(f"{fid} ({lead} y)" for fid, lead in short)
    return [
        InputIssue(
            f"step {step} is longer than the lead time of {len(short)} expansion(s): {listed}. "
            "New capacity decided in a period is ready inside that period and counts as "
            "online for the whole period, as if its lead time were 0.",
            path,
            origin.file if origin else None,
            origin.line if origin else None,
            fix="use a step no longer than the shortest lead time (step 1 models every year).",
        )
    ]


def _lanes(inp: Inputs, years: list[int], makes, uses):
    """Lanes run from a region that makes (or stocks) a tradable commodity to one that uses it.

    A lane leaves only a region that makes or stocks the commodity; re-export of imports is also
    barred by formulation/trade.py (no_reexport). Routes apply in order, later ones winning;
    tariffs on a lane add up.
    """
    trade = inp.trade
    routes = [
        (
            set(_select(r.origins, inp)),
            set(_select(r.destinations, inp)),
            set(r.commodities) if r.commodities else None,
            r,
        )
        for r in trade.routes.values()
    ]
    tariffs = [
        (
            set(_select(t.origins, inp)),
            set(_select(t.destinations, inp)),
            set(t.commodities) if t.commodities else None,
            interpolate(t.ad_valorem, years),
            interpolate(t.per_tonne, years),
        )
        for t in trade.tariffs.values()
    ]
    prices = {c: interpolate(com.price, years) for c, com in inp.commodities.items()}
    lanes, transport, tariff = [], {}, {}
    for c, base_cost in trade.transport_cost.items():
        for o in sorted(makes.get(c, ())):
            for d in sorted(uses.get(c, ())):
                if o == d:
                    continue
                cost, allowed = base_cost, True
                for os_, ds, cs, route in routes:
                    if o in os_ and d in ds and (cs is None or c in cs):
                        allowed = route.allowed
                        if route.transport_cost is not None:
                            cost = route.transport_cost
                if not allowed:
                    continue
                lanes.append((c, o, d))
                for y in years:
                    transport[c, o, d, y] = cost
                    duty = 0.0
                    for os_, ds, cs, adv, spec in tariffs:
                        if o in os_ and d in ds and (cs is None or c in cs):
                            duty += adv[y] * prices[c][y] + spec[y]
                    tariff[c, o, d, y] = duty
    return lanes, transport, tariff


def group_demand(demand: dict, regions, commodity: str, year: int) -> float:
    """Demand of a group of regions for `commodity` in `year` (t/yr): what a clean share of the
    group is a share of."""
    return sum(demand.get((r, commodity, year), 0.0) for r in regions)


def _independence(inp: Inputs, years: list[int], demand: dict):
    rules: dict[str, IndependenceRule] = {}
    clean_rows, origin_rows = [], []
    for rid, rule in inp.independence.items():
        group = _select(rule.regions, inp)
        shares = interpolate(rule.share, years)
        active = [y for y in years if _active(y, rule.start, rule.end)]
        if rule.kind == "min_clean_share":
            groups = [(r,) for r in group] if rule.each_region else [tuple(group)]
            rules[rid] = IndependenceRule(
                rid, rule.kind, rule.commodity, tuple(groups), tuple(active)
            )
            for g in groups:
                for y in active:
                    if shares[y] > 0:
                        total = group_demand(demand, g, rule.commodity, y)
                        clean_rows.append(
                            CleanShareRow(rid, g, rule.commodity, y, shares[y], total)
                        )
        else:
            rules[rid] = IndependenceRule(
                rid, rule.kind, rule.commodity, (tuple(group),), tuple(active)
            )
            origins = (
                _select(rule.origins, inp)
                if rule.origins
                else [r for r in inp.regions if r not in group]
            )
            for y in active:
                for o in origins:
                    if o not in group:
                        origin_rows.append(
                            OriginShareRow(rid, tuple(group), rule.commodity, y, o, shares[y])
                        )
    return rules, clean_rows, origin_rows


def _export_controls(inp: Inputs, years: list[int], lanes) -> list[ExportControlRow]:
    rows = []
    for xid, x in inp.export_controls.items():
        origins, dests = set(_select(x.origins, inp)), set(_select(x.destinations, inp))
        limits = interpolate(x.limit, years)
        for c in x.commodities:
            hit = [(cc, o, d) for (cc, o, d) in lanes if cc == c and o in origins and d in dests]
            for y in years:
                if _active(y, x.start, x.end):
                    rows.append(ExportControlRow(xid, c, y, limits[y], tuple(hit)))
    return rows


def _agreements(inp: Inputs, years: list[int]) -> dict[str, Agreement]:
    out = {}
    for sid, s in inp.sharing.items():
        first = inp.facilities[s.facilities[0]]
        out[sid] = Agreement(
            id=sid,
            host=first.region,
            commodity=inp.processes[first.process].output,
            facilities=list(s.facilities),
            years=[y for y in years if _active(y, s.start, s.end)],
            min_share={p: t.min_share for p, t in s.partners.items()},
            cofinance={p: t.cofinance for p, t in s.partners.items()},
            max_market_share=s.max_market_share,
        )
    return out


def payer_shares(inp: Inputs, agreements: dict[str, Agreement]) -> dict[str, dict[str, float]]:
    """facility -> region -> share of its capex that region pays (co-financing splits it)."""
    shares: dict[str, dict[str, float]] = {
        fid: {f.region: 1.0} for fid, f in inp.facilities.items()
    }
    for a in agreements.values():
        if sum(a.cofinance.values()) > 0:
            for fid in a.facilities:
                shares[fid] = {p: s for p, s in a.cofinance.items() if s > 0}
    return shares


def _budgets(inp: Inputs, years: list[int], agreements) -> dict[str, BudgetLimit]:
    payers = payer_shares(inp, agreements)
    out = {}
    for bid, b in inp.budgets.items():
        eligible_regions = set(_select(b.regions, inp)) if b.regions else None
        chosen = set(b.facilities) if b.facilities else None
        stages = set(b.stages) if b.stages else None
        pay: dict[str, float] = {}
        for fid, f in inp.facilities.items():
            if chosen is not None and fid not in chosen:
                continue
            if eligible_regions is not None and f.region not in eligible_regions:
                continue
            if stages is not None and inp.processes[f.process].stage not in stages:
                continue
            share = b.share * (payers[fid].get(b.payer, 0.0) if b.payer else 1.0)
            if share > 0:
                pay[fid] = share
        out[bid] = BudgetLimit(
            id=bid,
            pay_share=pay,
            per_year=interpolate(b.per_year, years) if b.per_year is not None else None,
            total=b.total,
        )
    return out


def describe(data: ModelData) -> dict[str, Any]:
    """Sizes of the main index sets, for logs and the manifest."""
    return {
        "years": len(data.years),
        "facilities": len(data.facilities),
        "production_vars": len(data.prod_index),
        "lanes": len(data.lanes),
        "shipment_vars": len(data.ship_index),
        "balance_rows": len(data.balance_index),
    }
