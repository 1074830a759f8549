"""Overlay rules: what a scenario file or `--set` may add, and added ids that do nothing.

A scenario or `--set` exists to change the base. Naming an id that is not there yet adds a new
element, and a typo in an id does exactly that: `budgets: {canada_public_capitl: {total: 10000}}`
would be a new budget over every facility in the world. So an element an overlay adds must be
complete: every key the schema requires, and, for elements whose omitted keys mean "all", the
keys that say what it covers (`NEW_ELEMENT_NEEDS`). An added region, commodity, process or
source that nothing refers to has no effect at all; that is a warning.

The loader records which element paths each overlay added (`RawInputs.added`); validation calls
`incomplete_additions` before the schema, `network.trace_network` adds `unused_additions`.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from allycap.errors import InputIssue
from allycap.inputs.load import RawInputs
from allycap.inputs.schema import ELEMENT_MAPS, NEW_ELEMENT_NEEDS, Inputs


def _members(map_path: tuple) -> list[type[BaseModel]]:
    """The model (or, for a union such as independence rules, the models) of one element."""
    annotation: Any = Inputs
    for part in map_path:
        annotation = annotation.model_fields[part].annotation
    annotation = typing.get_args(annotation)[-1]  # dict[Id, X] -> X
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    args = typing.get_args(annotation) or (annotation,)
    return [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]


def required_keys(map_path: tuple, element: dict) -> list[tuple[str, ...]]:
    """What a new element must give: groups of keys, at least one key of each group.

    For a union told apart by `kind`, the member that `kind` names; without a valid `kind`,
    `kind` and the keys every member requires.
    """
    models = _members(map_path)
    if len(models) > 1:
        kind = element.get("kind")
        chosen = [
            m
            for m in models
            if kind in typing.get_args(getattr(m.model_fields.get("kind"), "annotation", None))
        ]
        if chosen:
            models = chosen
    needed: list[str] = []
    for name in models[0].model_fields:
        if all(name in m.model_fields and m.model_fields[name].is_required() for m in models):
            needed.append(name)
    if len(models) > 1 and "kind" not in needed:
        needed.insert(0, "kind")
    return [(name,) for name in needed] + list(NEW_ELEMENT_NEEDS.get(map_path, ()))


def describe(groups: list[tuple[str, ...]]) -> str:
    """`[("region",), ("process",)]` -> "region, process"; alternatives read "a or b"."""

    def one(group: tuple[str, ...]) -> str:
        return group[0] if len(group) == 1 else f"{', '.join(group[:-1])} or {group[-1]}"

    if all(len(g) == 1 for g in groups):
        return ", ".join(g[0] for g in groups)
    return ", and ".join(one(g) for g in groups)


def _existing(raw: RawInputs, map_path: tuple) -> list[str]:
    """Ids at `map_path` that no overlay added: the ones a typo probably meant."""
    node: Any = raw.data
    for part in map_path:
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        return []
    return [str(k) for k in node if (*map_path, k) not in raw.added]


def incomplete_additions(raw: RawInputs) -> tuple[list[InputIssue], set[tuple]]:
    """An issue for each element an overlay added without all it needs, and their paths (the
    schema's own complaints about them would only repeat the point)."""
    issues: list[InputIssue] = []
    flagged: set[tuple] = set()
    for path, origin in raw.added.items():
        map_path, eid = path[:-1], path[-1]
        element: Any = raw.data
        for part in path:
            element = element.get(part) if isinstance(element, dict) else None
        if not isinstance(element, dict):
            continue  # not a map at all: the schema says so, at the same place
        groups = required_keys(map_path, element)
        missing = [g for g in groups if not any(k in element for k in g)]
        if not missing:
            continue
        kind = ELEMENT_MAPS[map_path]
        close = difflib.get_close_matches(str(eid), _existing(raw, map_path), n=1)
        message = f"{eid!r} is not an existing {kind} id"
        message += f"; did you mean {close[0]!r}?" if close else "."
        fix = (
            f"to add a new {kind}, give all of its required keys ({describe(groups)}); "
            f"missing: {describe(missing)}."
        )
        issues.append(InputIssue(message, path, origin.file, origin.line, fix))
        flagged.add(path)
    return issues, flagged


# -- added ids that nothing uses --------------------------------------------------------------

# The kinds that do nothing by themselves: a facility or a rule acts on its own, but a region,
# commodity, process or source matters only through what refers to it.
_PASSIVE = {
    ("regions",): "a facility, demand, stockpile, rule or selector",
    ("commodities",): "a process, facility, demand, trade entry, rule or stockpile",
    ("processes",): "a facility",
    ("sources",): "a `source:` key or a CSV `source` column",
}


def _referenced(inp: Inputs, raw: RawInputs) -> dict[tuple, set[str]]:
    """Every region, commodity, process and source id that something in the inputs names."""
    regions: set[str] = set()
    commodities: set[str] = set()
    sources: set[str] = set()

    def cite(value: Any) -> None:
        if isinstance(value, str):
            sources.add(value)
        elif value:
            sources.update(value)

    for p in inp.processes.values():
        commodities.update([p.output, *p.inputs, *p.coproducts])
    for f in inp.facilities.values():
        regions.add(f.region)
        commodities.update([*(f.inputs or {}), *(f.coproducts or {})])
    for rid, by_commodity in inp.demand.items():
        regions.add(rid)
        commodities.update(by_commodity)
    commodities.update(inp.trade.transport_cost)
    selectors: list[Any] = [inp.restricted_origins]
    for t in [*inp.trade.routes.values(), *inp.trade.tariffs.values()]:
        selectors += [t.origins, t.destinations]
        commodities.update(t.commodities or [])
    for rule in inp.independence.values():
        selectors += [rule.regions, getattr(rule, "origins", None)]
        commodities.add(rule.commodity)
    for x in inp.export_controls.values():
        selectors += [x.origins, x.destinations]
        commodities.update(x.commodities)
    for s in inp.sharing.values():
        regions.update(s.partners)
    for b in inp.budgets.values():
        selectors.append(b.regions)
        if b.payer:
            regions.add(b.payer)
    for k in inp.stockpiles.values():
        regions.add(k.region)
        commodities.add(k.commodity)
    for c in inp.check.min_clean_share.values():
        selectors.append(c.regions)
        commodities.add(c.commodity)
    for items in selectors:
        regions.update(items or [])
    for group in ("regions", "commodities", "processes", "facilities", "independence"):
        for element in getattr(inp, group).values():
            cite(element.source)
            expansion = getattr(element, "expansion", None)
            if expansion is not None:
                cite(expansion.source)
    for group in ("export_controls", "sharing", "budgets", "stockpiles"):
        for element in getattr(inp, group).values():
            cite(element.source)
    for t in [*inp.trade.routes.values(), *inp.trade.tariffs.values()]:
        cite(t.source)
    for ids in raw.cited.values():
        sources.update(ids)
    return {
        ("regions",): regions,
        ("commodities",): commodities,
        ("processes",): {f.process for f in inp.facilities.values()},
        ("sources",): sources,
    }


def unused_additions(inp: Inputs, raw: RawInputs) -> Iterator[InputIssue]:
    """A warning for each region, commodity, process or source an overlay added that nothing in
    the inputs refers to: it changes nothing, and is most likely a misspelt id."""
    wanted = [p for p in raw.added if p[:-1] in _PASSIVE]
    if not wanted:
        return
    used = _referenced(inp, raw)
    for path in wanted:
        map_path, eid = path[:-1], path[-1]
        if eid in used[map_path]:
            continue
        kind = ELEMENT_MAPS[map_path]
        origin = raw.added[path]
        close = difflib.get_close_matches(str(eid), _existing(raw, map_path), n=1)
        fix = f"did you mean the existing {kind} {close[0]!r}? Otherwise " if close else ""
        fix += f"refer to it from {_PASSIVE[map_path]}, or remove it."
        yield InputIssue(
            f"new {kind} {eid!r} is not used anywhere in the inputs, so it changes nothing.",
            path,
            origin.file,
            origin.line,
            fix,
        )
