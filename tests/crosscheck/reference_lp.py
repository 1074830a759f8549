"""A second, deliberately plain formulation of allycap's LP, built straight from an input dict.

It shares no code with `allycap.data` or `allycap.formulation`: it reads the raw input dict (as
written to YAML, defaults applied here), builds every row with Python loops into a small
row-wise matrix, and hands that to HiGHS through `highspy.Highs.passModel`. Where allycap keeps
sparse index sets or running sums, this builds the plainest equivalent:

- new capacity enters each year's capacity row directly (a double sum over decisions and
  online years), and its capital and fixed O&M costs are folded into one objective coefficient
  per decision, instead of allycap's `online` running-sum variables;
- production variables exist in every model year for a facility that can ever run (a year
  without capacity simply bounds them to 0);
- rules whose row would be empty are still written (trivially true) or, when impossible,
  make the answer "infeasible" directly.

The conventions followed (from docs, design.md and the docstrings of allycap.formulation):
- model years start..end by step; model year y stands for the years y..y+step-1 (the last one
  too) and its flows weigh w[y] = sum_{j<step} (1 + r)^-(y + j - start);
- year maps: a scalar holds every year; a map is linear between points, flat outside;
- new[f,v] exists for decision years v with v + lead <= end + step - 1 (ready inside the last
  period) and v + lead >= earliest, unless max == 0; with p the model year whose period holds
  v + lead, it is online in the model years y with p <= y < p + lifetime;
- capital = capex * IDC * CRF(r, lifetime) * w[y] for each online year, IDC = (1/L) *
  sum_{i=1..L} (1 + r)^(i - 1/2) for lead L > 0 (capex spent evenly over the construction
  years, grown to the online year), 1 for L = 0; fixed O&M on existing plus
  online capacity; variable cost on output; transport plus tariffs (ad_valorem * price +
  per_tonne, tariffs on a lane add up) on shipments; penalty on unmet demand; holding cost on
  stock levels; retag cost on clean material re-tagged other;
- a demand split by sector (demand_sectors, shares interpolated like year maps) has no unmet
  variable: each sector's curtailment tranches and the rest of its demand are variables bounded
  by tranche share * sector share * demand, costing the tranche cost or the sector's
  shortage_cost (docs/formulation.md, family 6); none in strict mode;
- tags: restricted regions hold 'other' only; a facility without inputs (coefficient > 0)
  outside restricted regions makes 'clean' only; clean never moves into or out of a restricted
  region; clean may be re-tagged other in any non-restricted region where the commodity is
  present (made, used, demanded or stocked);
- balance per (region, commodity, year, tag): supply >= use, with stock levels entering as
  (previous - current) / step and the initial stock (split by initial_clean_share, 0 in
  restricted regions) as the previous level of the first year;
- optional filter lists (route, tariff and budget `commodities`, `facilities`, `stages`) match
  everything when omitted and only what they list otherwise, so an empty list matches nothing;
- lanes (c, o, d): c tradable (in trade.transport_cost), o makes or stocks c, d uses c (input
  of a facility that can run, demand, stockpile), o != d, routes applied in order (later wins);
- no re-export: what a region ships of c in a year is at most its output of c (co-products
  included, all tags) plus its stock level of c carried in, divided by step;
- stockpile releases as in docs/formulation.md (family 3): in each year of the release window
  the cover row's right-hand side is lowered by max_rate * step per release year so far (a
  stock_release row; none without max_rate);
- rules as in the docstrings of formulation/independence.py, export_controls.py, sharing.py,
  budgets.py and stockpiles.py; in particular a sharing host ships a partner at least its
  allocation and at most its allocation plus the host's output of the commodity from
  facilities outside any agreement.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import highspy
import numpy as np

CLEAN, OTHER = "clean", "other"
# the row families (named as allycap names its constraints), plus the ramp bound
FAMILIES = (
    "capacity_limit",
    "build_max",
    "build_ramp",
    "resource_limit",
    "no_reexport",
    "balance",
    "demand_met",
    "stock_cover",
    "stock_release",
    "min_clean_share",
    "max_origin_share",
    "export_control",
    "sharing_total",
    "sharing_min",
    "sharing_max",
    "sharing_shipped",
    "sharing_shipped_max",
    "budget_per_year",
    "budget_total",
)
INF = highspy.kHighsInf


# -- small helpers ------------------------------------------------------------------------------


def year_values(value, years: list[int], default: float = 0.0) -> dict[int, float]:
    """Scalar -> every year; map -> linear between its points, flat before and after."""
    if value is None:
        return {y: float(default) for y in years}
    if not isinstance(value, dict):
        return {y: float(value) for y in years}
    points = sorted((int(k), float(v)) for k, v in value.items())
    out = {}
    for y in years:
        if y <= points[0][0]:
            out[y] = points[0][1]
        elif y >= points[-1][0]:
            out[y] = points[-1][1]
        else:
            for (x0, v0), (x1, v1) in zip(points, points[1:], strict=False):
                if x0 <= y <= x1:
                    out[y] = v0 + (v1 - v0) * (y - x0) / (x1 - x0)
                    break
    return out


def listed(items: list | None, item) -> bool:
    """An optional filter list: omitted (None) matches everything; a list, only its items (so an
    empty list matches nothing)."""
    return items is None or item in items


def crf(rate: float, life: int) -> float:
    if rate == 0:
        return 1.0 / life
    return rate / (1.0 - (1.0 + rate) ** -life)


def idc(rate: float, lead: int) -> float:
    """Interest during construction: capex spent in equal parts over `lead` years, each part
    mid-year, grown at `rate` until the plant enters service."""
    if lead == 0:
        return 1.0
    return sum((1.0 + rate) ** (i - 0.5) for i in range(1, lead + 1)) / lead


def period_weights(start: int, end: int, step: int, rate: float) -> dict[int, float]:
    """Model year -> sum of the discount factors of the years its period covers."""
    return {
        y: sum((1.0 + rate) ** -(y + j - start) for j in range(step))
        for y in range(start, end + 1, step)
    }


def vintage_online(v: int, lead: int, life: int, years: list[int], step: int) -> list[int]:
    """Model years a vintage decided in v is online: from the model year whose period contains
    the ready year v + lead, for the model years within `life` years of that one."""
    ready = v + lead
    first = max(y for y in years if y <= ready)
    return [y for y in years if first <= y < first + life]


def in_years(y: int, rule: dict) -> bool:
    """Whether a rule with optional `start` and `end` (inclusive) applies in year y."""
    start, end = rule.get("start"), rule.get("end")
    return (start is None or y >= start) and (end is None or y <= end)


@dataclass
class Answer:
    status: str  # "optimal", "infeasible" or HiGHS's word for anything else
    objective: float | None
    num_vars: int = 0
    num_rows: int = 0
    values: dict | None = field(default=None, repr=False)  # variable name -> optimal value


class LinearProgram:
    """Variables by name, rows as {name: coefficient} with bounds, a constant in the objective."""

    def __init__(self, skip: frozenset[str] = frozenset()) -> None:
        self.skip = skip  # row families left out (to measure what each family changes)
        self.index: dict[tuple, int] = {}
        self.cost: list[float] = []
        self.upper: list[float] = []
        self.rows: list[tuple[dict[tuple, float], float, float, str]] = []
        self.offset = 0.0
        self.impossible: list[str] = []

    def var(self, name: tuple, cost: float = 0.0, upper: float = INF) -> tuple:
        assert name not in self.index, name
        self.index[name] = len(self.cost)
        self.cost.append(cost)
        self.upper.append(upper)
        return name

    def has(self, name: tuple) -> bool:
        return name in self.index

    def row(self, coefs: dict[tuple, float], low: float, high: float, label: str) -> None:
        if label in self.skip:
            return
        coefs = {k: a for k, a in coefs.items() if a != 0}
        if not coefs:
            if low > 1e-9 or high < -1e-9:
                self.impossible.append(label)
            return
        self.rows.append((coefs, low, high, label))

    def solve(self) -> Answer:
        n, m = len(self.cost), len(self.rows)
        if self.impossible:
            return Answer("infeasible", None, n, m)
        lp = highspy.HighsLp()
        lp.num_col_ = n
        lp.num_row_ = m
        lp.col_cost_ = np.array(self.cost, dtype=float)
        lp.col_lower_ = np.zeros(n)
        lp.col_upper_ = np.array(self.upper, dtype=float)
        lp.row_lower_ = np.array([r[1] for r in self.rows], dtype=float)
        lp.row_upper_ = np.array([r[2] for r in self.rows], dtype=float)
        starts, index, values = [0], [], []
        for coefs, _, _, _ in self.rows:
            for name, a in coefs.items():
                index.append(self.index[name])
                values.append(a)
            starts.append(len(index))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(values, dtype=float)
        lp.offset_ = self.offset
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        h.passModel(lp)
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kUnboundedOrInfeasible:
            h.setOptionValue("presolve", "off")
            h.run()
            status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            x = h.getSolution().col_value
            values = {name: x[i] for name, i in self.index.items()}
            return Answer("optimal", h.getInfo().objective_function_value, n, m, values)
        if status == highspy.HighsModelStatus.kInfeasible:
            return Answer("infeasible", None, n, m)
        return Answer(h.modelStatusToString(status), None, n, m)


# -- the model ----------------------------------------------------------------------------------


def build(inst: dict, skip: frozenset[str] = frozenset()) -> LinearProgram:
    """The LP of one input dict (the YAML format, without includes or {value:} wrappers).

    `skip` names row families to leave out (see FAMILIES); the cross-check uses it only to show
    that the generated instances make every family matter.
    """
    lp = LinearProgram(skip)
    hz = inst["horizon"]
    start, end, step = hz["start"], hz["end"], hz.get("step", 1)
    years = list(range(start, end + 1, step))
    rate = float(inst["discount_rate"])
    w = period_weights(start, end, step, rate)

    regions = inst["regions"]
    bloc = {r: regions[r]["bloc"] for r in regions}

    def select(items) -> set[str]:  # a selector: region ids and bloc names; None = all
        if items is None:
            return set(regions)
        return {r for r in regions if r in items or bloc[r] in items}

    if inst.get("restricted_origins") is not None:
        restricted = select(inst["restricted_origins"])
    else:
        restricted = {r for r in regions if bloc[r] == "restricted"}

    def tags_in(r: str) -> tuple[str, ...]:
        return (OTHER,) if r in restricted else (CLEAN, OTHER)

    commodities = inst["commodities"]
    processes = inst["processes"]
    facilities = inst.get("facilities", {})
    options = inst.get("options", {})
    strict = bool(options.get("strict", False))
    retag_cost = float(options.get("retag_cost", 1e-6))
    default_penalty = float(options.get("unmet_penalty", 10.0))

    # -- facilities: coefficients, capacity, vintages ----------------------------------------------
    region_of, stage_of, main_of = {}, {}, {}
    makes_per_t: dict[str, dict[str, float]] = {}  # facility -> commodity -> t per t output
    needs_per_t: dict[str, dict[str, float]] = {}
    existing, avail, varcost = {}, {}, {}
    decisions: dict[str, list[int]] = {}
    online_in: dict[tuple[str, int], list[int]] = {}  # (facility, v) -> online model years
    runs: list[str] = []
    for fid, f in facilities.items():
        proc = processes[f["process"]]
        region_of[fid] = f["region"]
        stage_of[fid] = proc["stage"]
        main_of[fid] = proc["output"]
        needs = dict(proc.get("inputs") or {})
        needs.update(f.get("inputs") or {})
        needs_per_t[fid] = {c: float(a) for c, a in needs.items() if a > 0}
        co = dict(proc.get("coproducts") or {})
        co.update(f.get("coproducts") or {})
        outs = {proc["output"]: 1.0}
        for c, a in co.items():
            if a > 0:
                outs[c] = outs.get(c, 0.0) + float(a)
        makes_per_t[fid] = outs
        existing[fid] = year_values(f.get("existing"), years)
        avail[fid] = year_values(f.get("availability"), years, 1.0)
        varcost[fid] = year_values(f.get("variable_cost"), years)
        e = f.get("expansion")
        decisions[fid] = []
        if e is not None and e.get("max", None) != 0:
            lead, life = e.get("lead_time", 0), e["lifetime"]
            earliest = e.get("earliest")
            for v in years:
                if v + lead <= end + step - 1 and (earliest is None or v + lead >= earliest):
                    decisions[fid].append(v)
                    online_in[fid, v] = vintage_online(v, lead, life, years, step)
        if decisions[fid] or any(existing[fid][y] > 0 for y in years):
            runs.append(fid)

    def prod_tags(fid: str) -> tuple[str, ...]:
        if region_of[fid] in restricted:
            return (OTHER,)
        if not needs_per_t[fid]:
            return (CLEAN,)
        return (CLEAN, OTHER)

    # new capacity: capital and fixed O&M folded into one cost per decision
    for fid in facilities:
        f = facilities[fid]
        om = float(f.get("fixed_om", 0.0))
        lp.offset += sum(w[y] * om * existing[fid][y] for y in years)
        e = f.get("expansion")
        for v in decisions[fid]:
            lead = e.get("lead_time", 0)
            annual = float(e["capex"]) * idc(rate, lead) * crf(rate, e["lifetime"])
            cost = sum(w[y] * (annual + om) for y in online_in[fid, v])
            ramp = e.get("ramp") is not None and "build_ramp" not in skip
            upper = float(e["ramp"]) * step if ramp else INF
            lp.var(("new", fid, v), cost, upper)
        if decisions[fid] and e.get("max") is not None:
            coefs = {("new", fid, v): 1.0 for v in decisions[fid]}
            lp.row(coefs, -INF, float(e["max"]), "build_max")

    for fid in runs:
        for y in years:
            for k in prod_tags(fid):
                lp.var(("prod", fid, y, k), w[y] * varcost[fid][y])
            coefs = {("prod", fid, y, k): 1.0 for k in prod_tags(fid)}
            for v in decisions[fid]:
                if y in online_in[fid, v]:
                    coefs["new", fid, v] = -avail[fid][y]
            lp.row(coefs, -INF, avail[fid][y] * existing[fid][y], "capacity_limit")
        resource = facilities[fid].get("resource")
        if resource is not None:
            coefs = {("prod", fid, y, k): float(step) for y in years for k in prod_tags(fid)}
            lp.row(coefs, -INF, float(resource), "resource_limit")

    # -- where each commodity is made and used --------------------------------------------------
    makers: dict[str, set[str]] = defaultdict(set)
    users: dict[str, set[str]] = defaultdict(set)
    for fid in runs:
        for c in makes_per_t[fid]:
            makers[c].add(region_of[fid])
        for c in needs_per_t[fid]:
            users[c].add(region_of[fid])
    demand = {}
    for r, per_c in (inst.get("demand") or {}).items():
        for c, values in per_c.items():
            users[c].add(r)
            demand[r, c] = year_values(values, years)
    stockpiles = {}
    for s in (inst.get("stockpiles") or {}).values():
        stockpiles[s["region"], s["commodity"]] = s
        makers[s["commodity"]].add(s["region"])
        users[s["commodity"]].add(s["region"])

    # -- lanes, transport and tariffs -------------------------------------------------------------
    trade = inst.get("trade") or {}
    prices = {c: year_values((commodities[c] or {}).get("price"), years) for c in commodities}
    lanes = {}  # (c, o, d) -> {year: M$ per t}
    for c, base in (trade.get("transport_cost") or {}).items():
        for o in makers.get(c, ()):
            for d in users.get(c, ()):
                if o == d:
                    continue
                open_, cost = True, float(base)
                for route in (trade.get("routes") or {}).values():
                    if (
                        o in select(route.get("origins"))
                        and d in select(route.get("destinations"))
                        and listed(route.get("commodities"), c)
                    ):
                        open_ = route.get("allowed", True)
                        if route.get("transport_cost") is not None:
                            cost = float(route["transport_cost"])
                if not open_:
                    continue
                per_t = {}
                for y in years:
                    duty = 0.0
                    for t in (trade.get("tariffs") or {}).values():
                        if (
                            o in select(t.get("origins"))
                            and d in select(t.get("destinations"))
                            and listed(t.get("commodities"), c)
                        ):
                            adv = year_values(t.get("ad_valorem"), years)[y]
                            duty += adv * prices[c][y] + year_values(t.get("per_tonne"), years)[y]
                    per_t[y] = cost + duty
                lanes[c, o, d] = per_t

    def ship_tags(o: str, d: str) -> tuple[str, ...]:
        return (OTHER,) if o in restricted or d in restricted else (CLEAN, OTHER)

    for (c, o, d), per_t in lanes.items():
        for y in years:
            for k in ship_tags(o, d):
                lp.var(("ship", c, o, d, y, k), w[y] * per_t[y])

    # no re-export: a region ships out at most what it makes plus the stock it carried in
    for o in regions:
        for c in sorted(set(commodities)):
            outbound = [(cc, oo, d) for (cc, oo, d) in lanes if cc == c and oo == o]
            if not outbound:
                continue
            for yi, y in enumerate(years):
                coefs: dict[tuple, float] = defaultdict(float)
                for _, oo, d in outbound:
                    for k in ship_tags(oo, d):
                        coefs["ship", c, o, d, y, k] += 1.0
                for fid in runs:
                    if region_of[fid] == o and c in makes_per_t[fid]:
                        for k in prod_tags(fid):
                            coefs["prod", fid, y, k] -= makes_per_t[fid][c]
                carried = 0.0
                if (o, c) in stockpiles:
                    if yi == 0:
                        carried = float(stockpiles[o, c].get("initial", 0.0)) / step
                    else:
                        for k in tags_in(o):
                            coefs["stock", o, c, years[yi - 1], k] -= 1.0 / step
                lp.row(dict(coefs), -INF, carried, "no_reexport")

    def shipped(c: str, o: str, d: str, y: int) -> dict[tuple, float]:
        if (c, o, d) not in lanes:
            return {}
        return {("ship", c, o, d, y, k): 1.0 for k in ship_tags(o, d)}

    # -- demand, deliveries, unmet -----------------------------------------------------------------
    # A demand split by sector (demand_sectors) goes short in tranches instead of one unmet
    # variable: sector s takes share a[y] of the demand; its tranche j (share h, cost p) is a
    # variable bounded by h * a[y] * D[y] at cost p, and the rest of its demand, (1 - sum h),
    # a last variable at the sector's shortage_cost. Written straight into the demand row.
    sectors = inst.get("sectors") or {}
    split = inst.get("demand_sectors") or {}
    for (r, c), values in demand.items():
        com = commodities.get(c) or {}
        penalty = com.get("unmet_penalty")
        penalty = default_penalty if penalty is None else float(penalty)
        shares = {s: year_values(v, years) for s, v in (split.get(r) or {}).get(c, {}).items()}
        for y in years:
            coefs = {}
            for k in tags_in(r):
                coefs[lp.var(("deliver", r, c, y, k))] = 1.0
            if not strict and not shares:
                coefs[lp.var(("unmet", r, c, y), w[y] * penalty)] = 1.0
            elif not strict:
                for s, a in shares.items():
                    steps = [
                        (float(t["share"]), float(t["cost"]))
                        for t in sectors[s].get("tranches") or []
                    ]
                    rest = max(0.0, 1.0 - sum(h for h, _ in steps))
                    steps.append((rest, float(sectors[s]["shortage_cost"])))
                    for j, (h, p) in enumerate(steps):
                        name = ("short", r, c, s, y, j)
                        coefs[lp.var(name, w[y] * p, upper=h * a[y] * values[y])] = 1.0
            lp.row(coefs, values[y], values[y], "demand_met")

    # -- stock levels, cover and release ----------------------------------------------------------
    # docs/formulation.md, family 3: release years R = model years before refill_by in which a
    # control named in `during` is active or that `years` lists; window W = [min R, refill_by).
    # Outside W: S_y >= cover * D + min_level (stock_cover). In W: S_y >= cover * D + min_level -
    # max_rate * step * |{x in R : x <= y}| (stock_release; no row when max_rate is absent).
    for (r, c), s in stockpiles.items():
        hold = float(s.get("holding_cost", 0.0))
        cover = year_values(s.get("cover"), years)
        floor = year_values(s.get("min_level"), years)
        release = s.get("release") or {}
        named = [(inst.get("export_controls") or {})[x] for x in release.get("during", [])]
        released = [
            y
            for y in years
            if release
            and y < release["refill_by"]
            and (y in release.get("years", []) or any(in_years(y, x) for x in named))
        ]
        window = [y for y in years if released and released[0] <= y < release["refill_by"]]
        for y in years:
            for k in tags_in(r):
                lp.var(("stock", r, c, y, k), w[y] * hold)
            need = cover[y] * demand.get((r, c), {}).get(y, 0.0) + floor[y]
            name = "stock_cover"
            if y in window:
                rate = release.get("max_rate")
                if rate is None:
                    continue
                need -= float(rate) * step * sum(1 for x in released if x <= y)
                name = "stock_release"
            lp.row({("stock", r, c, y, k): 1.0 for k in tags_in(r)}, need, INF, name)

    # -- re-tagging clean as other -----------------------------------------------------------------
    present = {(r, c) for c, rs in makers.items() for r in rs}
    present |= {(r, c) for c, rs in users.items() for r in rs}
    for r, c in sorted(present):
        if r not in restricted:
            for y in years:
                lp.var(("retag", r, c, y), w[y] * retag_cost)

    # -- balance -----------------------------------------------------------------------------------
    all_commodities = set(commodities)
    for r in regions:
        for c in sorted(all_commodities):
            for yi, y in enumerate(years):
                for k in tags_in(r):
                    coefs: dict[tuple, float] = defaultdict(float)
                    const = 0.0
                    for fid in runs:
                        if region_of[fid] != r or k not in prod_tags(fid):
                            continue
                        coefs["prod", fid, y, k] += makes_per_t[fid].get(c, 0.0)
                        coefs["prod", fid, y, k] -= needs_per_t[fid].get(c, 0.0)
                    for cc, o, d in lanes:
                        if cc != c or k not in ship_tags(o, d):
                            continue
                        if d == r:
                            coefs["ship", c, o, d, y, k] += 1.0
                        if o == r:
                            coefs["ship", c, o, d, y, k] -= 1.0
                    if lp.has(("deliver", r, c, y, k)):
                        coefs["deliver", r, c, y, k] -= 1.0
                    if (r, c) in stockpiles:
                        coefs["stock", r, c, y, k] -= 1.0 / step
                        if yi > 0:
                            coefs["stock", r, c, years[yi - 1], k] += 1.0 / step
                        else:
                            s = stockpiles[r, c]
                            share = 0.0 if r in restricted else s.get("initial_clean_share", 0.0)
                            share = share if k == CLEAN else 1.0 - share
                            const += float(s.get("initial", 0.0)) * share / step
                    if lp.has(("retag", r, c, y)):
                        coefs["retag", r, c, y] += -1.0 if k == CLEAN else 1.0
                    lp.row(dict(coefs), -const, INF, "balance")

    # -- independence ------------------------------------------------------------------------------
    for rule in (inst.get("independence") or {}).values():
        group = select(rule["regions"])
        c = rule["commodity"]
        share = year_values(rule["share"], years)
        active = [y for y in years if in_years(y, rule)]
        if rule["kind"] == "min_clean_share":
            groups = [{r} for r in group] if rule.get("each_region") else [group]
            for g in groups:
                for y in active:
                    coefs = {
                        ("deliver", r, c, y, CLEAN): 1.0
                        for r in g
                        if lp.has(("deliver", r, c, y, CLEAN))
                    }
                    total = sum(demand.get((r, c), {}).get(y, 0.0) for r in g)
                    lp.row(coefs, share[y] * total, INF, "min_clean_share")
        else:
            origins = rule.get("origins")
            checked = select(origins) if origins is not None else set(regions) - group
            for y in active:
                supply: dict[tuple, float] = defaultdict(float)
                for fid in runs:
                    if region_of[fid] in group and c in makes_per_t[fid]:
                        for k in prod_tags(fid):
                            supply["prod", fid, y, k] += makes_per_t[fid][c]
                for r in group:
                    for o in regions:
                        if o not in group:
                            for name, a in shipped(c, o, r, y).items():
                                supply[name] += a
                for o in checked - group:
                    coefs = {name: -share[y] * a for name, a in supply.items()}
                    for r in group:
                        for name, a in shipped(c, o, r, y).items():
                            coefs[name] = coefs.get(name, 0.0) + a
                    lp.row(coefs, -INF, 0.0, "max_origin_share")

    # -- export controls ---------------------------------------------------------------------------
    for x in (inst.get("export_controls") or {}).values():
        origins, dests = select(x["origins"]), select(x["destinations"])
        limit = year_values(x.get("limit", 0.0), years)
        for c in x["commodities"]:
            for y in years:
                if not in_years(y, x):
                    continue
                coefs = {}
                for o in origins:
                    for d in dests:
                        coefs.update(shipped(c, o, d, y))
                lp.row(coefs, -INF, limit[y], "export_control")

    # -- sharing agreements ------------------------------------------------------------------------
    pays = {fid: {region_of[fid]: 1.0} for fid in facilities}
    allocated: dict[tuple, dict[tuple, float]] = defaultdict(dict)  # (host, p, c, y) -> allocs
    for aid, a in (inst.get("sharing") or {}).items():
        fids = a["facilities"]
        host, c = region_of[fids[0]], main_of[fids[0]]
        partners = a["partners"]
        cof = {p: float((t or {}).get("cofinance", 0.0)) for p, t in partners.items()}
        if sum(cof.values()) > 0:
            for fid in fids:
                pays[fid] = {p: s for p, s in cof.items() if s > 0}
        mms = float(a.get("max_market_share", 1.0))
        for y in years:
            if not in_years(y, a):
                continue
            out = {("prod", fid, y, k): 1.0 for fid in fids if fid in runs for k in prod_tags(fid)}
            total = {name: -q for name, q in out.items()}
            for p, t in partners.items():
                name = lp.var(("alloc", aid, p, y))
                total[name] = 1.0
                low = float((t or {}).get("min_share", 0.0))
                lp.row(
                    {name: 1.0, **{n: -low * q for n, q in out.items()}}, 0.0, INF, "sharing_min"
                )
                lp.row(
                    {name: 1.0, **{n: -mms * q for n, q in out.items()}}, -INF, 0.0, "sharing_max"
                )
                if p != host:
                    allocated[host, p, c, y][name] = 1.0
            lp.row(total, 0.0, 0.0, "sharing_total")
    in_any = {fid for a in (inst.get("sharing") or {}).values() for fid in a["facilities"]}
    for (host, p, c, y), allocs in allocated.items():
        # what an agreement allocates to a partner is shipped to it ...
        coefs = dict(allocs)
        for name, a in shipped(c, host, p, y).items():
            coefs[name] = -a
        lp.row(coefs, -INF, 0.0, "sharing_shipped")
        # ... and the host sends no more than that plus its output of c outside agreements
        coefs = {name: -a for name, a in allocs.items()}
        for name, a in shipped(c, host, p, y).items():
            coefs[name] = a
        for fid in runs:
            if fid not in in_any and region_of[fid] == host and c in makes_per_t[fid]:
                for k in prod_tags(fid):
                    coefs["prod", fid, y, k] = -makes_per_t[fid][c]
        lp.row(coefs, -INF, 0.0, "sharing_shipped_max")

    # -- budgets -----------------------------------------------------------------------------------
    for b in (inst.get("budgets") or {}).values():
        spend: dict[int, dict[tuple, float]] = {y: {} for y in years}
        chosen = b.get("facilities")
        where = select(b["regions"]) if b.get("regions") else None
        for fid in facilities:
            if not listed(chosen, fid):
                continue
            if where is not None and region_of[fid] not in where:
                continue
            if not listed(b.get("stages"), stage_of[fid]):
                continue
            part = float(b.get("share", 1.0))
            if b.get("payer") is not None:
                part *= pays[fid].get(b["payer"], 0.0)
            capex = float(facilities[fid]["expansion"]["capex"]) if decisions[fid] else 0.0
            for v in decisions[fid]:
                spend[v]["new", fid, v] = part * capex
        if b.get("per_year") is not None:
            limit = year_values(b["per_year"], years)
            for y in years:
                lp.row(spend[y], -INF, step * limit[y], "budget_per_year")
        if b.get("total") is not None:
            coefs = {name: a for y in years for name, a in spend[y].items()}
            lp.row(coefs, -INF, float(b["total"]), "budget_total")
    return lp


def solve(inst: dict, skip: frozenset[str] = frozenset()) -> Answer:
    return build(inst, skip).solve()
