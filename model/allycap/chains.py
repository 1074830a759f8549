"""The chains of the inputs: their stages in order, display names and headline commodity.

A chain is declared in `chains:` (stage ids in chain order, each with the commodity it makes,
and the headline commodity: what its clean share and unmet demand are reported for). Inputs
without `chains:` get one chain inferred from the processes (see `resolve`). Nothing else in
allycap names a stage, a commodity or a chain: reports, comparisons and the console summary read
these records, from the prepared data or from the `chains` list of a run's summary.json.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

INFERRED_ID = "chain"


@dataclass(frozen=True)
class StageInfo:
    id: str
    name: str  # display name
    makes: str | None  # the commodity this stage makes (its main output)
    column: int  # column of the chain diagram: stages that make the same commodity share one


@dataclass(frozen=True)
class ChainInfo:
    id: str
    name: str
    headline: str | None  # commodity whose clean share and unmet demand are reported
    headline_name: str  # its display name
    unit: str  # its unit label
    stages: tuple[StageInfo, ...]
    declared: bool  # False: inferred from the processes

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "headline": self.headline,
            "headline_name": self.headline_name,
            "unit": self.unit,
            "declared": self.declared,
            "stages": [
                {"id": s.id, "name": s.name, "makes": s.makes, "column": s.column}
                for s in self.stages
            ],
        }


def stage_label(stage_id: str) -> str:
    """A display name for an undeclared stage id: `spherical_graphite` -> `Spherical graphite`."""
    text = stage_id.replace("_", " ")
    return text[:1].upper() + text[1:]


def _columns(makes: list[str | None]) -> list[int]:
    """Column of each stage: a stage that makes what an earlier one makes shares its column."""
    first: dict[str, int] = {}
    out: list[int] = []
    nxt = 0
    for m in makes:
        if m is not None and m in first:
            out.append(first[m])
            continue
        out.append(nxt)
        if m is not None:
            first[m] = nxt
        nxt += 1
    return out


def _stages(items: list[tuple[str, str, str | None]]) -> tuple[StageInfo, ...]:
    cols = _columns([m for _, _, m in items])
    return tuple(
        StageInfo(sid, name, makes, col)
        for (sid, name, makes), col in zip(items, cols, strict=True)
    )


def resolve(inp: Any) -> list[ChainInfo]:
    """The chains of validated inputs, declared or inferred.

    Inferred (no `chains:`): one chain whose stages are the process stages in order of first
    appearance in `processes:`; a stage makes the output of its first process; the headline is
    the demanded commodity made by the latest stage (else the first demanded commodity, else
    what the last stage makes)."""

    def commodity(c: str | None) -> tuple[str, str]:
        com = inp.commodities.get(c) if c is not None else None
        if com is None:
            return (c or "", "t")
        return (com.name or c, com.unit)

    if inp.chains:
        out = []
        for cid, ch in inp.chains.items():
            stages = _stages(
                [(sid, s.name or stage_label(sid), s.makes) for sid, s in ch.stages.items()]
            )
            name, unit = commodity(ch.headline)
            out.append(ChainInfo(cid, ch.name or cid, ch.headline, name, unit, stages, True))
        return out
    items: dict[str, str] = {}
    for p in inp.processes.values():
        items.setdefault(p.stage, p.output)
    stages = _stages([(sid, stage_label(sid), makes) for sid, makes in items.items()])
    demanded = [c for c in inp.commodities if any(c in by_c for by_c in inp.demand.values())]
    headline = next((s.makes for s in reversed(stages) if s.makes in demanded), None)
    if headline is None:
        headline = demanded[0] if demanded else (stages[-1].makes if stages else None)
    name, unit = commodity(headline)
    title = f"{name} chain" if headline else "chain"
    return [ChainInfo(INFERRED_ID, title, headline, name, unit, stages, False)]


def payload(chains: Iterable[ChainInfo]) -> list[dict]:
    """The chains as JSON (summary.json's `chains`)."""
    return [c.as_dict() for c in chains]


def from_payload(items: Any) -> list[ChainInfo]:
    """Chains read back from summary.json's `chains` ([] if absent or malformed)."""
    out = []
    if not isinstance(items, list):
        return out
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("stages"), list):
            continue
        stages = tuple(
            StageInfo(
                str(s.get("id")),
                str(s.get("name") or s.get("id")),
                s.get("makes"),
                int(s.get("column", i)),
            )
            for i, s in enumerate(item["stages"])
            if isinstance(s, dict) and s.get("id") is not None
        )
        headline = item.get("headline")
        out.append(
            ChainInfo(
                str(item.get("id", INFERRED_ID)),
                str(item.get("name") or item.get("id") or "chain"),
                headline,
                str(item.get("headline_name") or headline or ""),
                str(item.get("unit") or "t"),
                stages,
                bool(item.get("declared", True)),
            )
        )
    return out


def from_tables(tables: dict) -> list[ChainInfo]:
    """A run folder without chain metadata (written before chains were recorded): one chain of
    the stages found in its capacity (or investments) table, each making its most-produced
    commodity, ordered by the flows between them (a stage comes after every stage whose main
    output it uses, by production.csv's inputs; ties in order of first appearance), and the
    headline the commodity with the most demand."""
    items: dict[str, str | None] = {}
    cap = tables.get("capacity")
    if cap is not None and len(cap) and "stage" in cap:
        made = cap.groupby(["stage", "commodity"], sort=False)["production_t"].sum()
        for (s, c), _ in made.sort_values(ascending=False, kind="mergesort").items():
            items.setdefault(str(s), str(c))
        order = list(dict.fromkeys(str(s) for s in cap["stage"]))
        items = {s: items.get(s) for s in order}
    inv = tables.get("investments")
    if inv is not None and len(inv) and "stage" in inv:
        for s in inv["stage"]:
            items.setdefault(str(s), None)
    uses: dict[str, set[str]] = {}
    prod = tables.get("production")
    if prod is not None and len(prod) and {"stage", "role", "commodity"} <= set(prod.columns):
        inputs = prod[prod["role"] == "input"]
        for s, c in zip(inputs["stage"], inputs["commodity"], strict=True):
            uses.setdefault(str(s), set()).add(str(c))
    depth: dict[str, int] = {}

    def level(s: str, seen: frozenset) -> int:
        if s not in depth:
            before = [
                a for a, m in items.items() if a not in seen and a != s and m in uses.get(s, ())
            ]
            depth[s] = max((level(a, seen | {s}) + 1 for a in before), default=0)
        return depth[s]

    position = {s: i for i, s in enumerate(items)}
    ordered = sorted(items, key=lambda s: (level(s, frozenset()), position[s]))
    stages = _stages([(s, stage_label(s), items[s]) for s in ordered])
    headline = None
    mix = tables.get("supply_mix")
    if mix is not None and len(mix):
        by = mix.groupby("commodity")["demand_t"].sum()
        by = by[by > 0]
        if len(by):
            headline = str(by.sort_values(ascending=False, kind="mergesort").index[0])
    title = f"{headline} chain" if headline else "chain"
    return [ChainInfo(INFERRED_ID, title, headline, headline or "", "t", stages, False)]


def of_run(summary: dict, tables: dict) -> list[ChainInfo]:
    """The chains of a run folder: summary.json's `chains`, else inferred from its tables."""
    return from_payload((summary or {}).get("chains")) or from_tables(tables)


class StageBook:
    """Every stage of some chains, for ordering and labelling: chain order, display names and
    diagram columns. A stage no chain declares (e.g. from an older run) sorts last, under its id."""

    def __init__(self, chains: Iterable[ChainInfo]):
        self.chains = list(chains)
        self.order: list[str] = []
        self.names: dict[str, str] = {}
        self.columns: dict[str, int] = {}
        for ch in self.chains:
            for s in ch.stages:
                if s.id not in self.names:
                    self.order.append(s.id)
                    self.names[s.id] = s.name
                    self.columns[s.id] = s.column
        self.last_column = max(self.columns.values(), default=-1)

    def key(self, stage: str) -> int:
        return self.order.index(stage) if stage in self.names else len(self.order)

    def name(self, stage: str) -> str:
        return self.names.get(stage, stage)

    def column(self, stage: str) -> int:
        """Column of `stage` in the chain diagram; an undeclared stage goes after the last."""
        return self.columns.get(stage, self.last_column + 1)

    @property
    def headlines(self) -> list[str]:
        return list(dict.fromkeys(c.headline for c in self.chains if c.headline))
