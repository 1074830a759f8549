"""Validate stage: raw dict -> `Inputs`, or every problem at once with file, line and key path.

Two passes: the pydantic schema (types, ranges, unknown keys) together with the overlay rule
(an element a scenario or `--set` adds must be complete), then the checks that need the whole
model (references between elements, years inside the horizon, shares that must add up). At most
`errors.MAX_LISTED` problems are listed; the rest are counted, never stored.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ValidationError

from allycap.data import interpolate
from allycap.errors import InputIssue, Problems, shorten
from allycap.inputs.load import RawInputs
from allycap.inputs.overlay import incomplete_additions
from allycap.inputs.schema import (
    ID_RULE,
    MAX_ID_LENGTH,
    Inputs,
    Selector,
    StockpileRelease,
    clean_id,
)


def validate(raw: RawInputs) -> Inputs:
    """Return validated inputs or raise InputError listing every issue found."""
    problems = Problems()
    overlay_issues, flagged = incomplete_additions(raw)
    problems.extend(overlay_issues)
    try:
        inputs = Inputs.model_validate(raw.data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            path = _data_path(err["loc"], raw.data)
            if any(path[: len(f)] == f for f in flagged):
                continue  # an incomplete added element: its issue above says what to do
            if problems.full:  # only counted: skip the hints, keep the file for the count
                origin = raw.locate(path)
                problems.append(InputIssue("", path, origin.file if origin else None))
            else:
                problems.append(_translate(err, raw))
        raise problems.error() from None
    if problems:
        raise problems.error()
    problems.extend(_cross_checks(inputs, raw, problems))
    if problems:
        raise problems.error()
    return inputs


# -- pydantic errors in user terms ------------------------------------------------


def _translate(err: dict, raw: RawInputs) -> InputIssue:
    path = _data_path(err["loc"], raw.data)
    kind = err["type"]
    found = err.get("input")
    fix = None
    if kind == "extra_forbidden":
        allowed = _allowed_keys(path[:-1], raw.data)
        message = f"unknown key {path[-1]!r}."
        close = difflib.get_close_matches(str(path[-1]), allowed, n=1)
        if close:
            fix = f"did you mean {close[0]!r}? Allowed keys: {', '.join(allowed)}."
        elif allowed:
            fix = f"allowed keys here: {', '.join(allowed)}."
    elif kind == "missing":
        message = "required key is missing."
        fix = f"add `{path[-1]}:`."
        parent = path[:-1]
        if len(parent) == 2 and parent[0] in _ID_MAPS:
            fix += _did_you_mean_id(parent, raw)
    elif kind == "too_short":
        message = "an empty list names nothing."
        fix = "list at least one item, or omit the key where omitting means all."
    elif kind == "union_tag_invalid" or kind == "union_tag_not_found":
        message = "`kind` must be one of: min_clean_share, max_origin_share."
        fix = "set `kind: min_clean_share` or `kind: max_origin_share`."
    elif kind in ("string_pattern_mismatch", "string_too_long") and isinstance(found, str):
        # The only patterned or length-limited strings are ids: say the rule in words.
        shown = shorten(found)
        if kind == "string_too_long":
            message = f"this id is {len(found):,} characters long; {ID_RULE}."
        else:
            message = f"{shown!r} is not a valid id: {ID_RULE}."
        is_key = "[key]" in err["loc"]
        fix = (
            f"rename it, e.g. to {clean_id(found)!r}."
            if is_key
            else f"write a valid id, e.g. {clean_id(found)!r}."
        )
        if len(found) > MAX_ID_LENGTH:
            fix = fix[:-1] + f" (at most {MAX_ID_LENGTH} characters)."
    else:
        message = err["msg"].removeprefix("Value error, ")
        if not message.endswith("."):
            message += "."
        if kind not in ("value_error",) and found is not None and not isinstance(found, dict):
            message += f" Found {found!r}."
    origin = raw.locate(path)
    return InputIssue(
        message,
        path=path,
        file=origin.file if origin else None,
        line=origin.line if origin else None,
        fix=fix,
    )


_ID_MAPS = (
    "regions",
    "commodities",
    "chains",
    "processes",
    "facilities",
    "independence",
    "export_controls",
    "sharing",
    "budgets",
    "stockpiles",
    "sources",
)


def _did_you_mean_id(parent: tuple, raw: RawInputs) -> str:
    """A scenario that names a mistyped id creates a half-element; point at the likely id.

    Only when the element has none of its required keys: an entry that has some of them is a
    real entry with a key left out, and naming a similar id would mislead.
    """
    element = raw.data.get(parent[0], {}).get(parent[1])
    model = _unwrap(typing.get_args(Inputs.model_fields[parent[0]].annotation)[-1], element)
    if isinstance(element, dict) and isinstance(model, type) and issubclass(model, BaseModel):
        required = {name for name, f in model.model_fields.items() if f.is_required()}
        if required & set(element):
            return ""
    siblings = [k for k in raw.data.get(parent[0], {}) if k != parent[1]]
    close = difflib.get_close_matches(str(parent[1]), [str(s) for s in siblings], n=1)
    if close:
        return (
            f" Or, if you meant to change the existing {parent[0]} entry, its id is {close[0]!r}."
        )
    return ""


def _data_path(loc: tuple, data: Any) -> tuple:
    """Drop pydantic's internal location parts (union tags, validator names)."""
    path: list = []
    node = data
    for part in loc:
        if isinstance(node, dict):
            if part in node:
                path.append(part)
                node = node[part]
                continue
            if isinstance(part, str) and (
                "[" in part or part in ("min_clean_share", "max_origin_share")
            ):
                continue
            path.append(part)
            node = None
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(part, str) and "[" in part:
            continue
        else:
            path.append(part)
            node = None
    return tuple(path)


def _allowed_keys(path: tuple, data: Any) -> list[str]:
    """The field names of the model found at `path`, for 'did you mean' hints."""
    annotation: Any = Inputs
    node = data
    for part in path:
        annotation = _unwrap(annotation, node)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part)
            if field is None:
                return []
            annotation = field.annotation
        elif typing.get_origin(annotation) in (dict, list):
            annotation = typing.get_args(annotation)[-1]
        else:
            return []
        node = node.get(part) if isinstance(node, dict) else None
    annotation = _unwrap(annotation, node)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _unwrap(annotation: Any, node: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
            if len(models) > 1 and isinstance(node, dict):
                kind = node.get("kind")
                chosen = [
                    m
                    for m in models
                    if "kind" in m.model_fields
                    and kind in typing.get_args(m.model_fields["kind"].annotation)
                ]
                annotation = chosen[0] if chosen else models[0]
            else:
                annotation = models[0] if models else members[0]
        else:
            return annotation


# -- whole-model checks -------------------------------------------------------------


def _cross_checks(inp: Inputs, raw: RawInputs, problems: Problems) -> Iterator[InputIssue]:
    """Every whole-model problem. Once `problems` is full the rest are only counted, so the
    costly "did you mean" hints are skipped."""

    def issue(path: tuple, message: str, fix: str | None = None) -> InputIssue:
        origin = raw.locate(path)
        return InputIssue(
            message,
            path=path,
            file=origin.file if origin else None,
            line=origin.line if origin else None,
            fix=fix,
        )

    def ref(path: tuple, value: str, pool: dict, what: str) -> Iterator[InputIssue]:
        if value not in pool:
            close = None if problems.full else difflib.get_close_matches(value, list(pool), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"define {what} {value!r} first."
            yield issue(path, f"unknown {what} {value!r}.", hint)

    regions, commodities, processes = inp.regions, inp.commodities, inp.processes
    blocs = {r.bloc for r in regions.values()}

    def selector(path: tuple, items: Selector | None) -> Iterator[InputIssue]:
        for i, item in enumerate(items or []):
            if item not in regions and item not in blocs:
                close = (
                    None
                    if problems.full
                    else difflib.get_close_matches(item, list(regions) + sorted(blocs), n=1)
                )
                hint = f"did you mean {close[0]!r}?" if close else "name a region id or a bloc."
                yield issue((*path, i), f"{item!r} is neither a region nor a bloc.", hint)

    h = inp.horizon
    if h.end < h.start:
        yield issue(("horizon", "end"), f"end {h.end} is before start {h.start}.")
        return
    if (h.end - h.start) % h.step:
        yield issue(
            ("horizon", "step"),
            f"step {h.step} does not divide end - start = {h.end - h.start}.",
            "choose an end year that start + a multiple of step reaches.",
        )

    def year(path: tuple, value: int | None) -> Iterator[InputIssue]:
        if value is not None and not h.start <= value <= h.end:
            yield issue(path, f"year {value} is outside the horizon {h.start}-{h.end}.")

    def year_map(path: tuple, value: Any) -> Iterator[InputIssue]:
        if isinstance(value, dict):
            for y in value:
                yield from year((*path, y), y)

    for b in blocs & set(regions):
        yield issue(
            ("regions",), f"bloc name {b!r} is also a region id; selectors would be ambiguous."
        )

    yield from selector(("restricted_origins",), inp.restricted_origins)
    for sid in _source_refs(inp, raw):
        path, value = sid
        yield from ref(path, value, inp.sources, "source")

    for cid, c in commodities.items():
        if c.price is not None:
            yield from year_map(("commodities", cid, "price"), c.price)

    for pid, p in processes.items():
        base = ("processes", pid)
        yield from ref((*base, "output"), p.output, commodities, "commodity")
        for c in p.inputs:
            yield from ref((*base, "inputs", c), c, commodities, "commodity")
        for c in p.coproducts:
            yield from ref((*base, "coproducts", c), c, commodities, "commodity")
        if p.output in p.inputs:
            yield issue((*base, "inputs", p.output), "a process cannot consume its own output.")
        if p.output in p.coproducts:
            yield issue(
                (*base, "coproducts", p.output),
                f"co-product {p.output!r} is the process's main output.",
                "raise the output per unit instead: scale the inputs, or name another commodity.",
            )

    yield from _chain_checks(inp, issue, ref, problems)

    for fid, f in inp.facilities.items():
        base = ("facilities", fid)
        yield from ref((*base, "region"), f.region, regions, "region")
        yield from ref((*base, "process"), f.process, processes, "process")
        proc = processes.get(f.process)
        for name in ("inputs", "coproducts"):
            overrides = getattr(f, name) or {}
            allowed = getattr(proc, name) if proc else {}
            for c in overrides:
                if proc and c not in allowed:
                    yield issue(
                        (*base, name, c),
                        f"process {f.process!r} has no {name[:-1]} {c!r} to override.",
                        f"override one of: {', '.join(allowed) or '(none)'}.",
                    )
        for key in ("existing", "availability", "variable_cost"):
            yield from year_map((*base, key), getattr(f, key))
        if f.expansion is not None:
            e = f.expansion
            yield from year((*base, "expansion", "earliest"), e.earliest)
            if (
                e.earliest is None
                and h.start + e.lead_time > h.end
                or (e.earliest is not None and max(e.earliest, h.start + e.lead_time) > h.end)
            ):
                yield issue(
                    (*base, "expansion", "lead_time"),
                    f"new capacity could come online no earlier than "
                    f"{max(e.earliest or h.start, h.start + e.lead_time)}, after the horizon ends "
                    f"in {h.end}.",
                    "shorten lead_time, move earliest, or drop `expansion:`.",
                )

    for rid, by_commodity in inp.demand.items():
        yield from ref(("demand", rid), rid, regions, "region")
        for cid, values in by_commodity.items():
            yield from ref(("demand", rid, cid), cid, commodities, "commodity")
            yield from year_map(("demand", rid, cid), values)

    yield from _sector_checks(inp, issue, ref)

    for cid in inp.trade.transport_cost:
        yield from ref(("trade", "transport_cost", cid), cid, commodities, "commodity")
    for kind in ("routes", "tariffs"):
        for tid, t in getattr(inp.trade, kind).items():
            base = ("trade", kind, tid)
            yield from selector((*base, "origins"), t.origins)
            yield from selector((*base, "destinations"), t.destinations)
            for i, c in enumerate(t.commodities or []):
                yield from ref((*base, "commodities", i), c, commodities, "commodity")
            if kind == "tariffs":
                yield from year_map((*base, "ad_valorem"), t.ad_valorem)
                yield from year_map((*base, "per_tonne"), t.per_tonne)
                for c in t.commodities or list(inp.trade.transport_cost):
                    com = commodities.get(c)
                    rates = (
                        t.ad_valorem.values() if isinstance(t.ad_valorem, dict) else [t.ad_valorem]
                    )
                    if com is not None and com.price is None and any(v > 0 for v in rates):
                        yield issue(
                            (*base, "ad_valorem"),
                            f"ad-valorem tariff on {c!r}, which has no `price`.",
                            f"set commodities.{c}.price (M$ per t) or use per_tonne.",
                        )

    def rule_years(base: tuple, rule: Any) -> Iterator[InputIssue]:
        yield from year((*base, "start"), rule.start)
        yield from year((*base, "end"), rule.end)
        if rule.start is not None and rule.end is not None and rule.start > rule.end:
            yield issue((*base, "end"), f"end {rule.end} is before start {rule.start}.")

    for rid, rule in inp.independence.items():
        base = ("independence", rid)
        yield from selector((*base, "regions"), rule.regions)
        yield from ref((*base, "commodity"), rule.commodity, commodities, "commodity")
        yield from year_map((*base, "share"), rule.share)
        yield from rule_years(base, rule)
        if rule.kind == "max_origin_share":
            yield from selector((*base, "origins"), rule.origins)

    for xid, x in inp.export_controls.items():
        base = ("export_controls", xid)
        yield from selector((*base, "origins"), x.origins)
        yield from selector((*base, "destinations"), x.destinations)
        for i, c in enumerate(x.commodities):
            yield from ref((*base, "commodities", i), c, commodities, "commodity")
        yield from year_map((*base, "limit"), x.limit)
        yield from rule_years(base, x)

    claimed: dict[str, str] = {}
    for sid, s in inp.sharing.items():
        base = ("sharing", sid)
        yield from rule_years(base, s)
        hosts, outputs = set(), set()
        for i, fid in enumerate(s.facilities):
            if fid not in inp.facilities:
                yield from ref((*base, "facilities", i), fid, inp.facilities, "facility")
                continue
            if fid in claimed:
                yield issue(
                    (*base, "facilities", i),
                    f"facility {fid!r} is already in sharing agreement {claimed[fid]!r}.",
                    "a facility can be in one agreement only.",
                )
            claimed[fid] = sid
            f = inp.facilities[fid]
            hosts.add(f.region)
            if f.process in processes:
                outputs.add(processes[f.process].output)
        if len(hosts) > 1:
            yield issue(
                (*base, "facilities"),
                f"facilities are in several regions {sorted(hosts)}; "
                "an agreement has one host region.",
                "split it into one agreement per host.",
            )
        if len(outputs) > 1:
            yield issue(
                (*base, "facilities"),
                f"facilities make different outputs {sorted(outputs)}.",
                "split it into one agreement per output commodity.",
            )
        for pid in s.partners:
            yield from ref((*base, "partners", pid), pid, regions, "region")
        mins = sum(p.min_share for p in s.partners.values())
        if mins > 1 + 1e-9:
            yield issue(
                (*base, "partners"),
                f"partner min_share values sum to {mins:g}, above 1: no allocation can meet them.",
                "lower the minimum shares so they sum to at most 1.",
            )
        for pid, p in s.partners.items():
            if p.min_share > s.max_market_share + 1e-12:
                yield issue(
                    (*base, "partners", pid, "min_share"),
                    f"min_share {p.min_share:g} exceeds max_market_share {s.max_market_share:g}.",
                )
        cof = sum(p.cofinance for p in s.partners.values())
        if cof > 0 and abs(cof - 1) > 1e-9:
            yield issue(
                (*base, "partners"),
                f"partner cofinance shares sum to {cof:g}; they must sum to 1 (or all be 0).",
            )

    for bid, b in inp.budgets.items():
        base = ("budgets", bid)
        if b.payer is not None:
            yield from ref((*base, "payer"), b.payer, regions, "region")
        for i, fid in enumerate(b.facilities or []):
            yield from ref((*base, "facilities", i), fid, inp.facilities, "facility")
        yield from selector((*base, "regions"), b.regions)
        if inp.chains:  # without declared chains, stage ids are free
            for i, sid in enumerate(b.stages or []):
                yield from _stage_ref((*base, "stages", i), sid, inp, issue, problems)
        if b.per_year is None and b.total is None:
            yield issue(base, "a budget needs `per_year`, `total`, or both.")
        if b.per_year is not None:
            yield from year_map((*base, "per_year"), b.per_year)

    for cid, c in inp.check.min_clean_share.items():
        base = ("check", "min_clean_share", cid)
        yield from selector((*base, "regions"), c.regions)
        yield from ref((*base, "commodity"), c.commodity, commodities, "commodity")
        yield from year((*base, "from_year"), c.from_year)

    seen_stock: dict[tuple, str] = {}
    for kid, k in inp.stockpiles.items():
        base = ("stockpiles", kid)
        yield from ref((*base, "region"), k.region, regions, "region")
        yield from ref((*base, "commodity"), k.commodity, commodities, "commodity")
        yield from year_map((*base, "cover"), k.cover)
        yield from year_map((*base, "min_level"), k.min_level)
        if (k.region, k.commodity) in seen_stock:
            yield issue(
                base,
                f"stockpile {seen_stock[(k.region, k.commodity)]!r} already covers "
                f"{k.commodity} in {k.region}.",
                "merge the two entries.",
            )
        seen_stock[(k.region, k.commodity)] = kid
        if k.release is not None:
            yield from _release_checks((*base, "release"), k.release, inp, issue, ref)


def _release_checks(
    path: tuple, rel: StockpileRelease, inp: Inputs, issue, ref
) -> Iterator[InputIssue]:
    """A stockpile's `release`: export controls that exist and are active before `refill_by`,
    explicit years that are model years before `refill_by`."""
    h = inp.horizon
    model_years = set(range(h.start, h.end + 1, h.step))
    if not rel.during and not rel.years:
        yield issue(
            path,
            "a release needs `during` (export-control ids) or `years`.",
            "name the export controls during which the stock may be drawn, or list the years.",
        )
        return
    for i, xid in enumerate(rel.during):
        if xid not in inp.export_controls:
            yield from ref((*path, "during", i), xid, inp.export_controls, "export control")
            continue
        x = inp.export_controls[xid]
        if not any(
            y < rel.refill_by
            and (x.start is None or y >= x.start)
            and (x.end is None or y <= x.end)
            for y in model_years
        ):
            yield issue(
                (*path, "during", i),
                f"export control {xid!r} is active in no model year before refill_by "
                f"{rel.refill_by}, so the stock is never released during it.",
                f"set refill_by after the first year the control is active, or drop {xid!r}.",
            )
    for i, y in enumerate(rel.years):
        if y not in model_years:
            yield issue(
                (*path, "years", i),
                f"{y} is not a model year ({h.start}-{h.end}, every {h.step}).",
                "list model years only: the stock is drawn in model years.",
            )
        elif y >= rel.refill_by:
            yield issue(
                (*path, "years", i),
                f"release year {y} is not before refill_by {rel.refill_by}: the floor "
                f"applies again from {rel.refill_by}.",
                "move refill_by after the last release year.",
            )


def _sector_checks(inp: Inputs, issue, ref) -> Iterator[InputIssue]:
    """Sectors: tranche costs rise and stay below the shortage cost, tranche shares leave room;
    demand_sectors: known ids, a demand to split, shares that sum to 1 in every model year."""
    for sid, sector in inp.sectors.items():
        base = ("sectors", sid)
        total = sum(t.share for t in sector.tranches)
        if total > 1 + 1e-9:
            yield issue(
                (*base, "tranches"),
                f"tranche shares sum to {total:g}; they are shares of the sector's demand and "
                "may sum to at most 1 (the rest is unmet at shortage_cost).",
                "lower the shares so that they sum to 1 or less.",
            )
        previous = None
        for i, t in enumerate(sector.tranches):
            if t.cost > sector.shortage_cost:
                yield issue(
                    (*base, "tranches", i, "cost"),
                    f"tranche cost {t.cost:g} M$/t is above the sector's shortage_cost "
                    f"{sector.shortage_cost:g} M$/t, so demand would go unmet before it is "
                    "curtailed.",
                    f"lower the cost to at most {sector.shortage_cost:g}, or raise shortage_cost.",
                )
            if previous is not None and t.cost < previous:
                yield issue(
                    (*base, "tranches", i, "cost"),
                    f"tranche cost {t.cost:g} M$/t is below the previous tranche's "
                    f"{previous:g} M$/t; tranches are listed cheapest first.",
                    "list the tranches in order of rising cost.",
                )
            previous = t.cost

    h = inp.horizon
    years = list(range(h.start, h.end + 1, h.step))
    for rid, by_commodity in inp.demand_sectors.items():
        yield from ref(("demand_sectors", rid), rid, inp.regions, "region")
        for cid, shares in by_commodity.items():
            base = ("demand_sectors", rid, cid)
            yield from ref(base, cid, inp.commodities, "commodity")
            if cid in inp.commodities and cid not in inp.demand.get(rid, {}):
                yield issue(
                    base,
                    f"{rid} has no demand for {cid} to split by sector.",
                    f"add demand.{rid}.{cid}, or remove demand_sectors.{rid}.{cid}.",
                )
            for sid, share in shares.items():
                yield from ref((*base, sid), sid, inp.sectors, "sector")
                if isinstance(share, dict):
                    for y in share:
                        if not h.start <= y <= h.end:
                            yield issue(
                                (*base, sid, y),
                                f"year {y} is outside the horizon {h.start}-{h.end}.",
                            )
            sums = [0.0] * len(years)
            for share in shares.values():
                for i, v in enumerate(interpolate(share, years).values()):
                    sums[i] += v
            off = [(y, t) for y, t in zip(years, sums, strict=True) if abs(t - 1) > 1e-6]
            if off:
                y, t = off[0]
                yield issue(
                    base,
                    f"sector shares of {cid} demand in {rid} sum to {t:g} in {y}"
                    + (f" (and in {len(off) - 1} other model years)" if len(off) > 1 else "")
                    + "; they must sum to 1 in every model year.",
                    "adjust the shares so that they sum to 1 (e.g. give the remainder to a "
                    "sector such as `industrial`).",
                )


def _declared_stages(inp: Inputs) -> dict[str, str]:
    """Stage id -> the chain that declares it (the first, if declared twice)."""
    out: dict[str, str] = {}
    for chid, ch in inp.chains.items():
        for sid in ch.stages:
            out.setdefault(sid, chid)
    return out


def _stage_ref(path: tuple, sid: str, inp: Inputs, issue, problems: Problems):
    stages = _declared_stages(inp)
    if sid in stages:
        return
    close = None if problems.full else difflib.get_close_matches(sid, list(stages), n=1)
    hint = (
        f"did you mean {close[0]!r}?"
        if close
        else f"declare it under a chain's `stages:`; declared: {', '.join(stages)}."
    )
    yield issue(path, f"unknown stage {sid!r}.", hint)


def _chain_checks(inp: Inputs, issue, ref, problems: Problems) -> Iterator[InputIssue]:
    """`chains:` refers to commodities, declares each stage once, and names each process's
    stage; a stage's `makes` is the output of one of its processes; the headline is made by one
    of the chain's stages."""
    commodities = inp.commodities
    owner: dict[str, str] = {}
    for chid, ch in inp.chains.items():
        base = ("chains", chid)
        yield from ref((*base, "headline"), ch.headline, commodities, "commodity")
        for sid, st in ch.stages.items():
            if sid in owner:
                yield issue(
                    (*base, "stages", sid),
                    f"stage {sid!r} is already a stage of chain {owner[sid]!r}.",
                    "a stage belongs to one chain: rename one of them.",
                )
            owner.setdefault(sid, chid)
            yield from ref((*base, "stages", sid, "makes"), st.makes, commodities, "commodity")
            made = sorted({p.output for p in inp.processes.values() if p.stage == sid})
            if made and st.makes in commodities and st.makes not in made:
                yield issue(
                    (*base, "stages", sid, "makes"),
                    f"no process of stage {sid!r} makes {st.makes!r}; its processes make "
                    f"{', '.join(made)}.",
                    "set `makes:` to the stage's main output.",
                )
        makes = [st.makes for st in ch.stages.values()]
        if ch.headline in commodities and ch.headline not in makes:
            yield issue(
                (*base, "headline"),
                f"headline {ch.headline!r} is made by no stage of chain {chid!r}.",
                f"name what one of its stages makes: {', '.join(dict.fromkeys(makes))}.",
            )
    if inp.chains:
        for pid, p in inp.processes.items():
            yield from _stage_ref(("processes", pid, "stage"), p.stage, inp, issue, problems)


def _source_refs(inp: Inputs, raw: RawInputs) -> Iterator[tuple[tuple, str]]:
    """Every source id named by an element's `source:` or by a `{value:, source:}` wrapper."""
    for group in (
        "regions",
        "commodities",
        "chains",
        "processes",
        "facilities",
        "independence",
        "export_controls",
        "sharing",
        "budgets",
        "stockpiles",
        "sectors",
    ):
        for eid, element in getattr(inp, group).items():
            yield from _ids((group, eid, "source"), element.source)
            expansion = getattr(element, "expansion", None)
            if expansion is not None:
                yield from _ids((group, eid, "expansion", "source"), expansion.source)
    for kind in ("routes", "tariffs"):
        for tid, t in getattr(inp.trade, kind).items():
            yield from _ids(("trade", kind, tid, "source"), t.source)
    for path, ids in raw.cited.items():
        for sid in ids:
            yield (*path, "source"), sid


def _ids(path: tuple, value: str | list[str] | None) -> Iterator[tuple[tuple, str]]:
    if isinstance(value, str):
        yield path, value
    elif value:
        for i, sid in enumerate(value):
            yield (*path, i), sid
