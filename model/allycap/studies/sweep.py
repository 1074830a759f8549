"""`allycap sweep`: solve the model at every point of a grid of parameter values.

Owns the grid (`--vary KEY=START:STOP:STEP` or `KEY=V1,V2,...`; several keys make a grid, the
first varying slowest), the two ways of solving it, and the per-point figures of sweep.csv.

- Independence shares (`independence.<rule>.share`, or `share` with `--rule`) are mutable
  parameters (`m.clean_share_target`, `m.origin_share_limit`). The model is built once, with the
  rule's rows present in every active year, and re-solved on one persistent HiGHS instance.
  Every point after the first starts from the first point's optimal basis (the solver cleared
  first), so what a point returns does not depend on which points were solved before it: the
  sweep cut into chunks for parallel workers gives exactly the serial result.
- Any other key: the pipeline is re-run at each point with `--set KEY=value` (correct, slower).

A point whose LP is infeasible, or whose inputs do not validate, is a row with that status.
Each point reports both cost accounts: `resource_cost_musd_pv` (what is spent) and
`shortage_cost_musd_pv` (what unserved demand is worth to its users: the cost terms of the
registry's shortage categories, weighted as in the objective), with `objective_musd_pv` their
sum, and `shortfall_t`, every tonne not served (curtailed or unmet, `registry.shortfall_rows`).
The marginal price is the derivative of the objective with respect to the headline rule's share,
from the duals of its rows: M$ PV per percentage point (for a minimum clean share, the sum of
the rule's `independence` values in duals.csv).
"""

from __future__ import annotations

import itertools
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from allycap.formulation.objective import shortage_cost, shortage_terms
from allycap.options import BatchOptions, SolveOptions
from allycap.studies.cases import StudyError, prepare_case, split_top

MAX_POINTS = 10_000
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?%?$")


@dataclass(frozen=True)
class Axis:
    """One varied key: its values (numbers, or YAML texts) and the `--set` text of each."""

    key: str
    values: tuple
    texts: tuple[str, ...]
    rule: str | None = None  # the independence rule whose share this key is


@dataclass(frozen=True)
class SweepPlan:
    """Everything a worker needs to solve some points of the sweep (pickles cheaply)."""

    input: str
    scenarios: tuple[str, ...]
    overrides: tuple[str, ...]
    axes: tuple[Axis, ...]
    headline: str | None = None  # rule whose clean share and marginal price are reported
    options: SolveOptions = SolveOptions()

    @property
    def persistent(self) -> bool:
        return all(a.rule for a in self.axes)

    def points(self) -> list[tuple[int, ...]]:
        """Index tuples into each axis's values, the first axis varying slowest."""
        return list(itertools.product(*(range(len(a.values)) for a in self.axes)))

    def values(self, point: tuple[int, ...]) -> dict[str, Any]:
        return {a.key: a.values[k] for a, k in zip(self.axes, point, strict=True)}

    def sets(self, point: tuple[int, ...]) -> list[str]:
        return [f"{a.key}={a.texts[k]}" for a, k in zip(self.axes, point, strict=True)]


@dataclass
class SweepResult:
    frame: Any  # pandas.DataFrame, one row per point
    mode: str  # "persistent" or "rerun"
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)


def _number(text: str) -> float | int | None:
    text = text.strip()
    if not _NUMBER.match(text):
        return None
    if text.endswith("%"):
        return float(text[:-1]) / 100
    if re.match(r"^[+-]?\d+$", text):
        return int(text)
    return float(text)


def _text(value: float | int) -> str:
    return str(value) if isinstance(value, int) else repr(float(value))


def parse_vary(text: str) -> tuple[str, list[tuple[Any, str]]]:
    """`key=0:1:0.25` -> ("key", [(0.0, "0.0"), (0.25, "0.25"), ...]); `key=a,b` -> two texts.

    A range includes STOP when it is a whole number of steps from START; numbers may end in %.
    """
    fix = (
        "Fix: write --vary KEY=START:STOP:STEP or --vary KEY=V1,V2,..., "
        "e.g. --vary independence.allied_clean.share=0:1:0.05."
    )
    if "=" not in text:
        raise StudyError(f"--vary {text!r} has no '='. {fix}")
    key, _, spec = text.partition("=")
    key, spec = key.strip(), spec.strip()
    if not key or any(not p for p in key.split(".")):
        raise StudyError(f"--vary {text!r}: empty key path. {fix}")
    if not spec:
        raise StudyError(f"--vary {text!r}: no values. {fix}")
    if ":" in spec and spec[0] not in "[{" and len(split_top(spec, ":")) == 3:
        parts = split_top(spec, ":")
        nums = [_number(p) for p in parts]
        if any(n is None for n in nums):
            raise StudyError(f"--vary {text!r}: START:STOP:STEP must be three numbers. {fix}")
        start, stop, step = nums
        if step == 0 or (stop - start) / step < 0:
            raise StudyError(
                f"--vary {text!r}: STEP must be non-zero and lead from START to STOP. {fix}"
            )
        count = math.floor((stop - start) / step + 1e-9) + 1
        if count > MAX_POINTS:
            raise StudyError(f"--vary {text!r}: {count} points; at most {MAX_POINTS}.")
        integral = all(isinstance(n, int) for n in nums)
        values = [
            start + i * step if integral else round(start + i * step, 12) for i in range(count)
        ]
        return key, [(v, _text(v)) for v in values]
    if ":" in spec and spec[0] not in "[{" and spec.count(":") != 2:
        raise StudyError(f"--vary {text!r}: a range needs exactly START:STOP:STEP. {fix}")
    items = split_top(spec)
    if any(not item for item in items):
        raise StudyError(f"--vary {text!r}: empty value in the list. {fix}")
    out = []
    for item in items:
        n = _number(item)
        out.append((n, _text(n)) if n is not None else (item, item))
    return key, out


def share_rule(key: str) -> str | None:
    """`independence.<rule>.share` -> rule id, else None."""
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "independence" and parts[2] == "share":
        return parts[1]
    return None


def plan_sweep(
    input: str | Path,
    scenarios: list[str | Path] | None,
    overrides: list[str] | None,
    vary: list[str],
    rule: str | None = None,
    options: SolveOptions | None = None,
) -> SweepPlan:
    """Parse and check the `--vary` options against the inputs (raises StudyError, InputError)."""
    from allycap.run import load_and_validate

    if not vary:
        raise StudyError("give at least one --vary KEY=START:STOP:STEP (or KEY=V1,V2,...).")
    scenarios = [str(Path(s).resolve()) for s in scenarios or []]
    overrides = list(overrides or [])
    _, inputs, _ = load_and_validate(input, scenarios, overrides)
    rules = inputs.independence
    known = ", ".join(sorted(rules)) or "none"
    if rule is not None and rule not in rules:
        raise StudyError(
            f"--rule {rule!r}: no such independence rule in the inputs (rules: {known})."
        )
    axes: list[Axis] = []
    for text in vary:
        key, values = parse_vary(text)
        if key == "share":
            if rule is None:
                raise StudyError(
                    "--vary share needs --rule ID (or write the key path "
                    "independence.<rule>.share)."
                )
            key = f"independence.{rule}.share"
        rid = share_rule(key)
        if rid is not None:
            if rid not in rules:
                raise StudyError(
                    f"--vary {key}: no independence rule {rid!r} in the inputs (rules: {known})."
                )
            bad = [v for v, _ in values if not isinstance(v, int | float) or not 0 <= v <= 1]
            if bad:
                raise StudyError(
                    f"--vary {key}: a share must be a number from 0 to 1 (or 0% to 100%), "
                    f"not {bad[0]!r}."
                )
            values = [(float(v), _text(float(v))) for v, _ in values]
        if any(a.key == key for a in axes):
            raise StudyError(f"--vary {key}: the key is varied twice.")
        axes.append(Axis(key, tuple(v for v, _ in values), tuple(t for _, t in values), rid))
    total = math.prod(len(a.values) for a in axes)
    if total > MAX_POINTS:
        raise StudyError(f"the grid has {total} points; at most {MAX_POINTS}.")
    headline = rule or next((a.rule for a in axes if a.rule), None)
    plan = SweepPlan(
        str(Path(input).resolve()),
        tuple(scenarios),
        tuple(overrides),
        tuple(axes),
        headline,
        options or SolveOptions(),
    )
    if not plan.persistent:  # an unknown key or a bad first value stops the sweep before it runs
        from allycap.errors import InputError

        sets = plan.sets(plan.points()[0])
        try:
            load_and_validate(input, scenarios, overrides + sets)
        except InputError as exc:
            varied = [i for i in exc.issues if (i.file or "").startswith("--set ")]
            if not varied:
                raise
            issue = varied[0]
            fix = f" Fix: {issue.fix}" if issue.fix else ""
            raise StudyError(
                f"--vary {issue.file[len('--set ') :]}: {issue.key()}: {issue.message}{fix}"
            ) from None
    return plan


def run_sweep(
    plan: SweepPlan,
    batch: BatchOptions | None = None,
    progress: Callable[[int], None] | None = None,
) -> SweepResult:
    """Solve every point; `progress(n)` as n more points are done. Rows in point order."""
    import pandas as pd

    from allycap.studies.batch import chunks, cluster_workers, run_batch

    batch = batch or BatchOptions()
    started = time.perf_counter()
    n = len(plan.points())
    worker = _persistent_chunk if plan.persistent else _rerun_chunk
    if batch.serial:
        rows = worker(plan, list(range(n)), progress)
    else:
        if plan.persistent:
            parts = batch.workers or cluster_workers(batch.scheduler)
            pieces = chunks(range(n), parts)
        else:
            pieces = [[i] for i in range(n)]
        tasks = [(worker, (plan, piece)) for piece in pieces]
        done = (lambda i: progress(len(pieces[i]))) if progress else None
        parts = run_batch(tasks, batch.workers, batch.scheduler, done)
        rows = [row for part in parts for row in part]
    frame = pd.DataFrame(rows)
    frame = frame[_column_order(frame, plan)].sort_values("point").reset_index(drop=True)
    mode = "persistent" if plan.persistent else "rerun"
    return SweepResult(frame, mode, time.perf_counter() - started)


def _column_order(frame, plan: SweepPlan) -> list[str]:
    head = ["point", *(a.key for a in plan.axes), "status"]
    head += ["resource_cost_musd_pv", "shortage_cost_musd_pv", "objective_musd_pv"]
    head += ["marginal_musd_per_point", "shortfall_t", "unmet_t", "clean_share_min"]
    years = sorted(c for c in frame.columns if re.match(r"^clean_share_\d+$", c))
    extra = sorted(c for c in frame.columns if c.startswith("marginal_musd_per_point."))
    return [c for c in [*head, *years, *extra, "message"] if c in frame.columns]


def _rule_rows(m, data, rule: str) -> tuple[list, list]:
    """(clean-share row keys, origin-share row keys) of `rule` in the built model: rows are
    named after their rule, `clean_share[rule, group, year]`, `origin_share[rule, origin, year]`."""
    clean = [key for key in m.clean_share_target if key[0] == rule]
    origin = [key for key in m.origin_share_limit if key[0] == rule]
    return clean, origin


def _persistent_chunk(plan: SweepPlan, indices: list[int], progress=None) -> list[dict]:
    """Build once, solve the first point cold, then each point in `indices` from its basis."""
    from allycap import highs_bridge
    from allycap.formulation.build import build_model
    from allycap.solve import solve_model

    placeholders = [f"independence.{a.rule}.share=1.0" for a in plan.axes]
    options = plan.options
    sets = (*plan.overrides, *placeholders)
    data = prepare_case(plan.input, plan.scenarios, sets, options.strict)
    m = build_model(data)
    targets = {a.rule: _rule_rows(m, data, a.rule) for a in plan.axes}
    points = plan.points()
    watched_values, watched_rows = _watched(m, data, plan)

    def set_point(point: tuple[int, ...]) -> None:
        for axis, k in zip(plan.axes, point, strict=True):
            clean, origin = targets[axis.rule]
            for key in clean:
                m.clean_share_target[key] = axis.values[k]
            for key in origin:
                m.origin_share_limit[key] = axis.values[k]

    set_point(points[0])
    first = solve_model(m, options, health=False)
    opt = first.solver
    basis = highs_bridge.basis(opt)
    rows = []
    if 0 in indices:
        rows.append(measure(m, data, first, plan, 0))
        if progress:
            progress(1)
    for i in indices:
        if i == 0:
            continue
        set_point(points[i])
        highs_bridge.restart_from(opt, basis)
        # only the shares changed; load only what a row of sweep.csv reads. The objective is
        # HiGHS's own value: evaluating the Pyomo expression at every point would cost more
        # than the re-solve itself.
        outcome = solve_model(
            m,
            options,
            solver=opt,
            health=False,
            params_only=True,
            load=watched_values,
            duals=watched_rows,
        )
        rows.append(measure(m, data, outcome, plan, i))
        if progress:
            progress(1)
    return rows


def _watched(m, data, plan: SweepPlan) -> tuple[list, list]:
    """The variables and rows a row of sweep.csv reads: unmet demand, the variables of the
    shortage account's cost terms (curtailment and unmet, whatever the families call them), the
    headline group's clean deliveries, and every row of the varied rules with the variables in
    it."""
    from pyomo.common.collections import ComponentSet
    from pyomo.core.expr.visitor import identify_variables

    from allycap.data import CLEAN

    rules = {a.rule for a in plan.axes if a.rule} | ({plan.headline} if plan.headline else set())
    rows = [con for key, con in m.clean_share.items() if key[0] in rules]
    rows += [con for key, con in m.origin_share.items() if key[0] in rules]
    found = ComponentSet(m.unmet.values()) if not data.strict else ComponentSet()
    found.update(t.var for t in shortage_terms(m, data) if t.var is not None)
    for con in rows:
        found.update(identify_variables(con.body, include_fixed=False))
    if plan.headline:
        spec = data.independence[plan.headline]
        for r in dict.fromkeys(r for g in spec.groups for r in g):
            for y in data.years:
                key = (r, spec.commodity, y, CLEAN)
                if key in m.deliver:
                    found.add(m.deliver[key])
    return list(found), rows


def _rerun_chunk(plan: SweepPlan, indices: list[int], progress=None) -> list[dict]:
    """The whole pipeline at each point, with the point's values as `--set` overrides."""
    from allycap.errors import InputError
    from allycap.formulation.build import build_model
    from allycap.solve import solve_model

    rows = []
    points = plan.points()
    for i in indices:
        sets = plan.sets(points[i])
        try:
            data = prepare_case(
                plan.input, plan.scenarios, (*plan.overrides, *sets), plan.options.strict
            )
        except InputError as exc:
            row = {"point": i, **plan.values(points[i]), "status": "invalid"}
            row["message"] = exc.issues[0].format() if exc.issues else str(exc)
            rows.append(row)
        else:
            m = build_model(data)
            outcome = solve_model(m, plan.options, health=False)
            rows.append(measure(m, data, outcome, plan, i))
        if progress:
            progress(1)
    return rows


def marginal(m, data, outcome, rule: str) -> float:
    """d(objective)/d(share of `rule`) in M$ PV per percentage point, from the rows' duals.

    For each row of the rule, the dual y is the change in cost per unit of its right-hand side;
    raising the share by one unit moves the row's slack by s' (found by evaluating the slack at
    share + 1: the rows are linear in the share), so the cost moves by -y s' on a >= row and
    y s' on a <= row. For a minimum clean share this is y times the group's demand.
    """
    import pyomo.environ as pyo

    total = 0.0
    pairs = [
        (con, m.clean_share_target[key]) for key, con in m.clean_share.items() if key[0] == rule
    ]
    pairs += [
        (con, m.origin_share_limit[key]) for key, con in m.origin_share.items() if key[0] == rule
    ]
    for con, param in pairs:
        y = outcome.duals.get(con, 0.0)
        if not y:
            continue
        lower = con.has_lb()

        def slack(con=con, lower=lower):
            if lower:
                return pyo.value(con.body) - pyo.value(con.lower)
            return pyo.value(con.upper) - pyo.value(con.body)

        share = pyo.value(param)
        before = slack()
        param.set_value(share + 1)
        after = slack()
        param.set_value(share)
        ds = after - before
        total += -y * ds if lower else y * ds
    return total / 100


def achieved_clean_shares(m, data, rule: str) -> dict[int, float]:
    """Clean share of the rule's group (lowest over groups with each_region) by active year."""
    from allycap.data import CLEAN, group_demand

    spec = data.independence[rule]
    c = spec.commodity
    out = {}
    for y in spec.years:
        shares = []
        for g in spec.groups:
            dem = group_demand(data.demand, g, c, y)
            if dem <= 0:
                continue
            clean = sum(
                m.deliver[r, c, y, CLEAN].value or 0.0 for r in g if (r, c, y, CLEAN) in m.deliver
            )
            shares.append(max(0.0, clean) / dem)
        if shares:
            out[y] = min(shares)
    return out


def measure(m, data, outcome, plan: SweepPlan, i: int) -> dict:
    """One row of sweep.csv for point `i`, read off the model just solved."""
    point = plan.points()[i]
    row: dict[str, Any] = {"point": i, **plan.values(point), "status": outcome.status}
    solved = outcome.has_solution
    shortage = shortage_cost(m, data) if solved else math.nan
    # the resource account is the rest of the objective (HiGHS's value): the loaded variables
    # are those a row reads, and the shortage terms are among them
    row["resource_cost_musd_pv"] = outcome.objective - shortage if solved else math.nan
    row["shortage_cost_musd_pv"] = shortage
    row["objective_musd_pv"] = outcome.objective if solved else math.nan
    rules = [plan.headline] if plan.headline else []
    rules += [a.rule for a in plan.axes if a.rule and a.rule != plan.headline]
    for k, rule in enumerate(rules):
        name = "marginal_musd_per_point" if k == 0 else f"marginal_musd_per_point.{rule}"
        row[name] = marginal(m, data, outcome, rule) if outcome.duals else math.nan
    unmet = 0.0 if data.strict else sum(max(0.0, v.value or 0.0) for v in m.unmet.values())
    row["unmet_t"] = unmet if solved else math.nan
    if solved:
        from allycap.formulation.registry import shortfall_rows

        row["shortfall_t"] = sum(r.tonnes for r in shortfall_rows(m, data))
    else:
        row["shortfall_t"] = math.nan
    if plan.headline:
        shares = achieved_clean_shares(m, data, plan.headline) if solved else {}
        row["clean_share_min"] = min(shares.values()) if shares else math.nan
        for y in data.years:
            if solved and y in shares:
                row[f"clean_share_{y}"] = shares[y]
    row["message"] = "" if outcome.status == "optimal" else outcome.message
    return row


def format_sweep(frame) -> str:
    """The sweep table for the terminal (the per-year clean shares are in sweep.csv only)."""
    from allycap.studies.output import format_table

    shown = [
        c
        for c in frame.columns
        if c != "message" and not (c.startswith("clean_share_") and c != "clean_share_min")
    ]
    formats = {
        "resource_cost_musd_pv": ",.1f",
        "shortage_cost_musd_pv": ",.1f",
        "objective_musd_pv": ",.1f",
        "shortfall_t": ",.0f",
        "unmet_t": ",.0f",
        "clean_share_min": ".1%",
    }
    formats.update({c: ",.3f" for c in shown if c.startswith("marginal_musd_per_point")})
    return format_table(frame[shown], formats)


def default_folder(plan: SweepPlan) -> Path:
    return Path("outputs") / ("sweep-" + "+".join(a.key for a in plan.axes))


def write_sweep(
    out: Path,
    plan: SweepPlan,
    result: SweepResult,
    batch: BatchOptions | None = None,
) -> Path:
    """sweep.csv and manifest.json into `out` (atomically)."""
    from allycap.studies.output import input_files, versions, write_study

    manifest = {
        "kind": "sweep",
        "input": plan.input,
        "input_files": input_files(plan.input, plan.scenarios),
        "scenarios": [Path(s).stem for s in plan.scenarios],
        "overrides": list(plan.overrides),
        "vary": [{"key": a.key, "values": list(a.values)} for a in plan.axes],
        "rule": plan.headline,
        "mode": result.mode,
        "points": len(result.frame),
        "options": {**plan.options.manifest(), **(batch or BatchOptions()).manifest()},
        "seconds": round(result.seconds, 3),
        "versions": versions(),
    }
    return write_study(out, {"sweep.csv": result.frame}, {"manifest.json": manifest})
