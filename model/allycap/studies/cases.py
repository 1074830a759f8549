"""What the studies share: scenario cases (`path[:weight]`), the pipeline up to a built model,
and the operational figures read off a solved model (shortfall, clean share).

A case is the base inputs with zero or more scenario overlays, optionally weighted; `base` names
the inputs alone. Cases travel to worker processes as plain strings, so they pickle cheaply.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from allycap.data import ModelData

BASE = "base"


class StudyError(ValueError):
    """A bad study argument, reported as one line and exit code 2."""


@dataclass(frozen=True)
class Case:
    """One scenario of a study: overlays merged over the inputs in order, and its weight."""

    label: str
    scenarios: tuple[str, ...]
    weight: float | None = None


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split on `sep` outside brackets and braces: `0,{2030: 0, 2040: 1}` -> two items."""
    parts, depth, current = [], 0, []
    for ch in text:
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts]


def parse_cases(specs: list[str], common: list[str] | None = None, what: str = "--scenario"):
    """`["a.yaml:0.7,b.yaml:0.3"]` or `["base", "ban.yaml"]` -> cases (common overlays first).

    Either every case has a weight or none has; weights must be in [0, 1] and sum to 1.
    """
    common = [str(Path(c).resolve()) for c in common or []]
    cases: list[Case] = []
    for spec in specs:
        for item in split_top(spec):
            if not item:
                raise StudyError(f"{what} {spec!r}: empty entry. Fix: write PATH[:WEIGHT],...")
            path, weight = item, None
            head, sep, tail = item.rpartition(":")
            if sep:
                try:
                    weight = float(tail)
                except ValueError:
                    raise StudyError(
                        f"{what} {item!r}: weight {tail!r} is not a number. "
                        "Fix: write PATH:WEIGHT, e.g. china_export_ban.yaml:0.3."
                    ) from None
                path = head
                if not 0 <= weight <= 1 or math.isnan(weight):
                    raise StudyError(f"{what} {item!r}: weight must be between 0 and 1.")
            if path == BASE:
                cases.append(Case(BASE, tuple(common), weight))
                continue
            if not Path(path).is_file():
                raise StudyError(
                    f"{what} {path!r}: scenario file not found. Fix: pass an existing YAML "
                    "file, or `base` for the inputs alone."
                )
            cases.append(Case(Path(path).stem, (*common, str(Path(path).resolve())), weight))
    labels = [c.label for c in cases]
    twice = sorted({x for x in labels if labels.count(x) > 1})
    if twice:
        raise StudyError(f"{what}: scenario {twice[0]!r} given twice.")
    weighted = [c.weight is not None for c in cases]
    if any(weighted) and not all(weighted):
        raise StudyError(f"{what}: give a weight to every scenario or to none.")
    if cases and all(weighted) and abs(sum(c.weight for c in cases) - 1) > 1e-6:
        total = sum(c.weight for c in cases)
        raise StudyError(f"{what}: weights sum to {total:g}, not 1.")
    return cases


def prepare_case(
    input: str | Path,
    scenarios: tuple[str, ...] | list[str],
    overrides: tuple[str, ...] | list[str],
    strict: bool | None = None,
) -> ModelData:
    """Load, validate and prepare (raises InputError on bad input)."""
    from allycap.data import prepare
    from allycap.run import load_and_validate

    _, inputs, _ = load_and_validate(input, list(scenarios), list(overrides))
    return prepare(inputs, strict=strict)


def headline_commodity(data: ModelData) -> str | None:
    """The headline commodity of the first chain (`chains:` in the inputs, or the one inferred
    from the processes): what one-number summaries report the clean share of; None if none."""
    return next((c.headline for c in data.chains if c.headline), None)


def _value(var) -> float:
    v = var.value
    return 0.0 if v is None or abs(v) < 1e-9 else float(v)


def operations(m, data: ModelData) -> dict[str, float]:
    """Shortfall and clean share of a solved model (or scenario block).

    unmet_t and demand_t are t/yr summed over model years and all demands (as in summary.json);
    clean_share is clean deliveries of the headline commodity of the first chain
    (`headline_commodity`) to regions outside the restricted origins over their demand, all model
    years together.
    """
    from allycap.data import CLEAN

    demand = sum(data.demand.values())
    unmet = 0.0 if data.strict else sum(_value(v) for v in m.unmet.values())
    headline = headline_commodity(data)
    clean = total = 0.0
    for (r, c, y), dem in data.demand.items():
        if c != headline or r in data.restricted:
            continue
        total += dem
        if (r, c, y, CLEAN) in m.deliver:
            clean += _value(m.deliver[r, c, y, CLEAN])
    return {
        "unmet_t": unmet,
        "demand_t": demand,
        "unmet_share": unmet / demand if demand > 0 else 0.0,
        "clean_share": clean / total if total > 0 else math.nan,
    }
