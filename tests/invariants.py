"""Invariants any allycap solution must satisfy, checked from the output tables and the inputs.

Written apart from `allycap.formulation` and `allycap.data`: it re-derives what it needs (year
maps, selectors) from the validated inputs, and reads quantities only from the result tables
that a user sees. Returns a list of violations (empty when all hold).
"""

from __future__ import annotations

from collections import defaultdict

TOL = 1e-6


def _at(value, year: int, default: float = 0.0) -> float:
    """Linear between points, flat outside; a scalar holds for every year."""
    if value is None:
        return default
    if not isinstance(value, dict):
        return float(value)
    points = sorted(value.items())
    if year <= points[0][0]:
        return points[0][1]
    if year >= points[-1][0]:
        return points[-1][1]
    for (x0, v0), (x1, v1) in zip(points, points[1:], strict=False):
        if x0 <= year <= x1:
            return v0 + (v1 - v0) * (year - x0) / (x1 - x0)
    raise AssertionError("unreachable")


def _regions(inputs, selector) -> set[str]:
    if selector is None:
        return set(inputs.regions)
    return {r for r, reg in inputs.regions.items() if r in selector or reg.bloc in selector}


def _close_enough(lhs: float, rhs: float, scale: float = 1.0) -> bool:
    return lhs >= rhs - TOL * max(1.0, abs(rhs), scale)


def check_invariants(run) -> list[str]:
    """Every violation found in `run` (an allycap.run.Run with an optimal solution)."""
    inp = run.inputs
    t = run.results.tables
    bad: list[str] = []
    h = inp.horizon
    years = list(range(h.start, h.end + 1, h.step))
    restricted = (
        {r for r, reg in inp.regions.items() if reg.bloc == "restricted"}
        if inp.restricted_origins is None
        else _regions(inp, inp.restricted_origins)
    )

    quantity_columns = {
        "production": ["quantity_t"],
        "flows": ["quantity_t"],
        "supply_mix": ["demand_t", "delivered_clean_t", "delivered_other_t", "unmet_t"],
        "capacity": ["capacity_t", "production_t", "new_online_t"],
        "investments": ["new_capacity_t", "capex_musd"],
        "stocks": ["level_t"],
    }
    for name, cols in quantity_columns.items():
        for col in cols:
            if len(t[name]) and (t[name][col] < -TOL).any():
                bad.append(f"{name}.{col} has negative values")

    # Balance per (region, commodity, year): all tags together, and clean alone.
    net = defaultdict(float)
    net_clean = defaultdict(float)

    def add(key, tag, q):
        net[key] += q
        if tag == "clean":
            net_clean[key] += q

    for row in t["production"].itertuples():
        sign = -1.0 if row.role == "input" else 1.0
        add((row.region, row.commodity, row.year), row.tag, sign * row.quantity_t)
        if row.tag == "clean" and row.region in restricted:
            bad.append(f"clean production in restricted region {row.region}: {row}")
    for row in t["flows"].itertuples():
        add((row.destination, row.commodity, row.year), row.tag, row.quantity_t)
        add((row.origin, row.commodity, row.year), row.tag, -row.quantity_t)
        if row.tag == "clean" and (row.origin in restricted or row.destination in restricted):
            bad.append(f"clean shipment touching a restricted region: {row}")
    for row in t["supply_mix"].itertuples():
        key = (row.region, row.commodity, row.year)
        net[key] -= row.delivered_clean_t + row.delivered_other_t
        net_clean[key] -= row.delivered_clean_t
        if row.region in restricted and row.delivered_clean_t > TOL:
            bad.append(f"clean delivery in restricted region: {row}")
        total = row.delivered_clean_t + row.delivered_other_t + row.unmet_t
        if abs(total - row.demand_t) > TOL * max(1.0, row.demand_t):
            bad.append(f"deliveries + unmet != demand: {row}")
        if run.data.strict and row.unmet_t > TOL:
            bad.append(f"unmet demand in strict mode: {row}")
    levels = defaultdict(float)
    for row in t["stocks"].itertuples():
        levels[row.region, row.commodity, row.year, row.tag] += row.level_t
    for pile in inp.stockpiles.values():
        r, c = pile.region, pile.commodity
        clean_share = 0.0 if r in restricted else pile.initial_clean_share
        # A release (docs/formulation.md, stockpiles) only lowers the floor: from the first
        # release year until refill_by, by max_rate * step per release year so far (no floor
        # without max_rate); stock above the floor is drawn freely.
        rel = pile.release
        released = []
        if rel is not None:
            named = [inp.export_controls[x] for x in rel.during]
            released = [
                y
                for y in years
                if y < rel.refill_by
                and (
                    y in rel.years
                    or any(
                        (x.start is None or y >= x.start) and (x.end is None or y <= x.end)
                        for x in named
                    )
                )
            ]
        window = [y for y in years if released and released[0] <= y < rel.refill_by]
        for i, y in enumerate(years):
            for tag in ("clean", "other"):
                if i == 0:
                    prev = pile.initial * (clean_share if tag == "clean" else 1 - clean_share)
                else:
                    prev = levels[r, c, years[i - 1], tag]
                change = (prev - levels[r, c, y, tag]) / h.step
                add((r, c, y), tag, change)
            held = levels[r, c, y, "clean"] + levels[r, c, y, "other"]
            demand = _at(inp.demand.get(r, {}).get(c), y)
            need = _at(pile.cover, y) * demand + _at(pile.min_level, y)
            if y in window:
                if rel.max_rate is None:
                    continue
                need -= rel.max_rate * h.step * sum(1 for x in released if x <= y)
            if not _close_enough(held, need):
                bad.append(f"stockpile {r}/{c} {y}: {held} < required {need}")
    for key, value in net.items():
        if value < -TOL * 100:
            bad.append(f"mass balance short at {key}: supply - use = {value}")
    for key, value in net_clean.items():
        if value < -TOL * 100:
            bad.append(f"clean balance short at {key}: clean supply - clean use = {value}")

    # Capacity: production within available capacity; production table agrees.
    cap = t["capacity"]
    for row in cap.itertuples():
        if row.production_t > row.available_t + TOL * max(1.0, row.available_t):
            bad.append(f"production above available capacity: {row}")
    main = t["production"]
    if len(main):
        made = main[main.role == "output"].groupby(["facility", "year"])["quantity_t"].sum()
        by_cap = cap.set_index(["facility", "year"])["production_t"]
        for key, q in made.items():
            if abs(by_cap.get(key, 0.0) - q) > TOL * max(1.0, q):
                bad.append(f"capacity.production_t disagrees with production at {key}")

    # Rules.
    mix = t["supply_mix"]
    for rid, rule in inp.independence.items():
        if rule.kind != "min_clean_share":
            continue
        group = _regions(inp, rule.regions)
        groups = [{r} for r in group] if rule.each_region else [group]
        for y in years:
            if (rule.start and y < rule.start) or (rule.end and y > rule.end):
                continue
            share = _at(rule.share, y)
            for g in groups:
                rows = mix[(mix.year == y) & (mix.commodity == rule.commodity) & mix.region.isin(g)]
                clean, demand = rows.delivered_clean_t.sum(), rows.demand_t.sum()
                if not _close_enough(clean, share * demand, demand):
                    bad.append(f"rule {rid} {y} {sorted(g)}: clean {clean} < {share} * {demand}")
    flows = t["flows"]
    for xid, x in inp.export_controls.items():
        origins, dests = _regions(inp, x.origins), _regions(inp, x.destinations)
        for y in years:
            if (x.start and y < x.start) or (x.end and y > x.end):
                continue
            for c in x.commodities:
                sent = flows[
                    (flows.year == y)
                    & (flows.commodity == c)
                    & flows.origin.isin(origins)
                    & flows.destination.isin(dests)
                ]
                limit = _at(x.limit, y)
                if sent.quantity_t.sum() > limit + TOL * max(1.0, limit):
                    bad.append(f"export control {xid} {c} {y}: {sent.quantity_t.sum()} > {limit}")

    # Budgets: spend by payer from the investments table and its payer shares.
    inv = t["investments"]
    for bid, b in inp.budgets.items():
        spent = defaultdict(float)
        for row in inv.itertuples():
            f = inp.facilities[row.facility]
            if b.facilities and row.facility not in b.facilities:
                continue
            if b.regions and f.region not in _regions(inp, b.regions):
                continue
            if b.stages and inp.processes[f.process].stage not in b.stages:
                continue
            shares = dict(p.split(":") for p in row.payers.split(";"))
            share = float(shares.get(b.payer, 0.0)) if b.payer else 1.0
            spent[row.decision_year] += b.share * share * row.capex_musd
        for y, v in spent.items():
            if b.per_year is not None:
                limit = h.step * _at(b.per_year, y)
                if v > limit + TOL * max(1.0, limit):
                    bad.append(f"budget {bid} {y}: spent {v} > {limit}")
        if b.total is not None and sum(spent.values()) > b.total + TOL * max(1.0, b.total):
            bad.append(f"budget {bid}: spent {sum(spent.values())} > total {b.total}")

    # Costs add up to the objective.
    total = t["costs"].present_value_musd.sum() if len(t["costs"]) else 0.0
    objective = run.results.objective
    if abs(total - objective) > 1e-6 * max(1.0, abs(objective)):
        bad.append(f"costs add up to {total}, objective is {objective}")
    return bad
