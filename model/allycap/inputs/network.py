"""Commodity-network check (in the spirit of TEMOA's): trace every demand back to a source.

Warnings, not errors: a demand nothing can supply, a facility whose inputs nothing can supply,
a process output that no demand or process uses, and (`overlay.unused_additions`) a region,
commodity, process or source that a scenario or `--set` added and nothing refers to. The model
still solves; the warnings say where unmet demand or idle capacity will come from.
"""

from __future__ import annotations

from allycap.errors import InputIssue, Problems
from allycap.inputs.load import RawInputs
from allycap.inputs.overlay import unused_additions
from allycap.inputs.schema import Inputs


def _has_capacity(f) -> bool:
    existing = f.existing
    values = existing.values() if isinstance(existing, dict) else [existing]
    expandable = f.expansion is not None and (f.expansion.max is None or f.expansion.max > 0)
    return expandable or any(v > 0 for v in values)


def trace_network(inp: Inputs, raw: RawInputs | None = None) -> list[InputIssue]:
    def where(path: tuple) -> dict:
        origin = raw.locate(path) if raw else None
        return {"file": origin.file, "line": origin.line} if origin else {}

    procs = inp.processes
    facilities = {fid: f for fid, f in inp.facilities.items() if _has_capacity(f)}
    supplied = {k.commodity for k in inp.stockpiles.values() if k.initial > 0}
    runnable: set[str] = set()
    changed = True
    while changed:
        changed = False
        for fid, f in facilities.items():
            if fid in runnable:
                continue
            p = procs[f.process]
            needs = {c for c, a in {**p.inputs, **(f.inputs or {})}.items() if a > 0}
            if needs <= supplied:
                runnable.add(fid)
                coproducts = {**p.coproducts, **(f.coproducts or {})}
                supplied |= {p.output, *(c for c, a in coproducts.items() if a > 0)}
                changed = True
    made_in = {}
    for fid in runnable:
        f = facilities[fid]
        made_in.setdefault(procs[f.process].output, set()).add(f.region)
    tradable = set(inp.trade.transport_cost)
    issues = []
    for r, by_c in inp.demand.items():
        for c in by_c:
            path = ("demand", r, c)
            if c not in supplied:
                issues.append(
                    InputIssue(
                        f"nothing can supply {c!r}: no facility with capacity makes it from "
                        "inputs that can themselves be supplied.",
                        path,
                        **where(path),
                        fix="add a facility (or expansion) for a process that outputs it.",
                    )
                )
            elif c not in tradable and r not in made_in.get(c, set()):
                issues.append(
                    InputIssue(
                        f"{c!r} is not tradable and nothing in {r} makes it.",
                        path,
                        **where(path),
                        fix=f"add trade.transport_cost.{c} or a facility in {r}.",
                    )
                )
    for fid in sorted(set(facilities) - runnable):
        path = ("facilities", fid, "process")
        issues.append(
            InputIssue(
                "this facility can never run: some of its inputs cannot be supplied.",
                path,
                **where(path),
            )
        )
    used = {c for p in procs.values() for c, a in p.inputs.items() if a > 0}
    used |= {c for by_c in inp.demand.values() for c in by_c}
    for pid, p in procs.items():
        if any(f.process == pid for f in facilities.values()) and p.output not in used:
            path = ("processes", pid, "output")
            issues.append(
                InputIssue(
                    f"output {p.output!r} is used by no demand and no process.", path, **where(path)
                )
            )
    if raw is not None:
        issues.extend(unused_additions(inp, raw))
    # Listed like errors: the first MAX_LISTED, then one line counting the rest.
    listed = Problems()
    listed.extend(issues)
    return listed.lines()
