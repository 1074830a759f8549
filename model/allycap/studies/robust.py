"""`allycap solve --robust S1:p1,S2:p2,...`: one investment plan that must work in every scenario.

Owns the robust model, its results and its comparison with single-scenario plans.

One ConcreteModel holds one block per scenario (`m.scenario[s]`, each built by
`formulation.build.build_into` on that scenario's data: its own operations, rules and costs) and
a first-stage variable `m.plan[f, v]` for every (facility, decision year) that any scenario can
decide. `m.tie[s, f, v]` sets each block's `new[f, v]` equal to the plan, so every scenario that
can make a decision makes the same one; a scenario that cannot (a facility it lacks, a decision
year past its horizon after a delay) ignores it. The objective `m.total_cost` is the expected
cost, sum_s p_s * cost_s, or the worst case, `m.worst_case` with `m.worst_bound[s]`:
worst_case >= cost_s. Without weights every scenario weighs the same.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from allycap.options import BatchOptions, SolveOptions
from allycap.studies.cases import Case, StudyError, operations, parse_cases, prepare_case
from allycap.studies.stress import Portfolio

OBJECTIVES = ("expected", "worst")
OPERATION_TABLES = ("capacity", "production", "flows", "supply_mix", "stocks", "costs")


@dataclass
class RobustResult:
    label: str
    objective_kind: str
    status: str
    message: str
    objective: float | None
    cases: list[Case]
    scenarios: Any = None  # DataFrame: one row per scenario (weight, cost, shortfall)
    tables: dict[str, Any] = field(default_factory=dict)  # investments + operations tables
    portfolio: Portfolio | None = None
    model: Any = None
    data: list = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def weights_of(cases: list[Case]) -> list[float]:
    if all(c.weight is None for c in cases):
        return [1.0 / len(cases)] * len(cases)
    return [float(c.weight) for c in cases]


def build_robust(datas: list, weights: list[float], objective: str = "expected"):
    """The robust ConcreteModel over prepared `datas` (one per scenario)."""
    import pyomo.environ as pyo

    from allycap.formulation.build import build_into
    from allycap.formulation.objective import CATEGORIES

    if objective not in OBJECTIVES:
        raise StudyError(f"--robust-objective {objective!r}: choose expected or worst.")
    m = pyo.ConcreteModel(name="allycap_robust")
    n = len(datas)
    m.scenario = pyo.Block(range(n))
    for s, data in enumerate(datas):
        block = m.scenario[s]
        build_into(block, data)
        block.total_cost.deactivate()
    keys = sorted({key for s in range(n) for key in m.scenario[s].new})
    m.plan = pyo.Var(keys, within=pyo.NonNegativeReals)
    ties = [(s, f, v) for s in range(n) for (f, v) in m.scenario[s].new]
    m.tie = pyo.Constraint(ties, rule=lambda m, s, f, v: m.scenario[s].new[f, v] == m.plan[f, v])

    def cost(s):
        return sum(m.scenario[s].cost[c] for c in CATEGORIES)

    if objective == "expected":
        m.total_cost = pyo.Objective(
            expr=sum(w * cost(s) for s, w in enumerate(weights) if w > 0), sense=pyo.minimize
        )
    else:
        m.worst_case = pyo.Var()
        m.worst_bound = pyo.Constraint(range(n), rule=lambda m, s: m.worst_case >= cost(s))
        m.total_cost = pyo.Objective(expr=m.worst_case, sense=pyo.minimize)
    return m


def solve_robust(
    input: str | Path,
    cases: list[Case],
    overrides: list[str] | None = None,
    objective: str = "expected",
    options: SolveOptions | None = None,
    label: str = "robust",
) -> RobustResult:
    """Prepare every scenario, build and solve the robust model, extract its results."""
    import dataclasses

    import pandas as pd
    import pyomo.environ as pyo

    from allycap.formulation.objective import CATEGORIES
    from allycap.results import extract
    from allycap.solve import solve_model

    if len(cases) < 2:
        raise StudyError("--robust needs at least two scenarios, e.g. base:0.7,ban.yaml:0.3.")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    options = options or SolveOptions()
    datas = [prepare_case(input, c.scenarios, overrides or [], options.strict) for c in cases]
    timings["prepare"] = time.perf_counter() - started
    weights = weights_of(cases)
    t = time.perf_counter()
    m = build_robust(datas, weights, objective)
    timings["build"] = time.perf_counter() - t
    outcome = solve_model(m, options, health=False)
    timings["solve"] = outcome.solve_seconds
    result = RobustResult(
        label,
        objective,
        outcome.status,
        outcome.message,
        outcome.objective,
        cases,
        model=m,
        data=datas,
        timings=timings,
    )
    if not outcome.has_solution:
        return result
    quiet = dataclasses.replace(outcome, duals={}, reduced_costs={})
    rows, parts = [], {name: [] for name in ("investments", *OPERATION_TABLES)}
    for s, (case, data) in enumerate(zip(cases, datas, strict=True)):
        block = m.scenario[s]
        res = extract(block, data, quiet, case.label)
        for name in parts:
            parts[name].append(res.tables[name])
        ops = operations(block, data)
        rows.append(
            {
                "scenario": case.label,
                "weight": weights[s],
                "cost_musd_pv": pyo.value(sum(block.cost[c] for c in CATEGORIES)),
                "unmet_t": ops["unmet_t"],
                "unmet_share": ops["unmet_share"],
                "clean_share": ops["clean_share"],
            }
        )
    investments = pd.concat(parts.pop("investments"), ignore_index=True)
    investments = investments.drop_duplicates(["facility", "decision_year"], keep="first")
    investments = investments.sort_values(["facility", "decision_year"], kind="mergesort")
    investments["scenario"] = label
    result.tables = {"investments": investments.reset_index(drop=True)}
    for name, frames in parts.items():
        result.tables[name] = pd.concat(frames, ignore_index=True)
    result.scenarios = pd.DataFrame(rows)
    plan = tuple(
        (f, int(v), float(var.value))
        for (f, v), var in m.plan.items()
        if var.value is not None and var.value > 1e-9
    )
    result.portfolio = Portfolio(label, plan, "robust plan")
    result.timings["total"] = time.perf_counter() - started
    return result


def single_portfolio(
    input: str,
    case: Case,
    overrides: tuple[str, ...],
    options: SolveOptions | None = None,
) -> Portfolio | None:
    """The plan that is optimal for `case` alone (None if that solve has no solution)."""
    from allycap.formulation.build import build_model
    from allycap.solve import solve_model

    options = options or SolveOptions()
    data = prepare_case(input, case.scenarios, overrides, options.strict)
    m = build_model(data)
    outcome = solve_model(m, options, health=False)
    if not outcome.has_solution:
        return None
    plan = tuple(
        (f, int(v), float(var.value))
        for (f, v), var in m.new.items()
        if var.value is not None and var.value > 1e-9
    )
    return Portfolio(f"{case.label} only", plan, f"optimal for {case.label} alone")


def evaluate(
    result: RobustResult,
    input: str | Path,
    overrides: list[str] | None = None,
    options: SolveOptions | None = None,
    batch: BatchOptions | None = None,
    progress=None,
):
    """Stress the robust plan and each scenario's own optimal plan under every scenario.

    Returns the long stress frame (portfolio x scenario); `stress.robustness_table` of it has
    the expected and worst cost of each plan under the robust run's weights.
    """
    from allycap.studies.batch import run_batch
    from allycap.studies.stress import stress

    input = str(Path(input).resolve())
    weights = weights_of(result.cases)
    cases = [Case(c.label, c.scenarios, w) for c, w in zip(result.cases, weights, strict=True)]
    options = options or SolveOptions()
    batch = batch or BatchOptions()
    tasks = [(single_portfolio, (input, c, tuple(overrides or []), options)) for c in cases]
    done = (lambda i: progress(1)) if progress else None
    singles = run_batch(tasks, batch.workers, batch.scheduler, done)
    portfolios = [result.portfolio, *(p for p in singles if p is not None)]
    return stress(input, portfolios, cases, overrides, options, batch, progress)


@dataclass
class RobustStudy:
    """`allycap solve --robust`: the robust plan and, if asked, its stress table."""

    result: RobustResult
    cases: list[Case]
    evaluation: Any = None  # the long stress frame of `evaluate`, or None


def robust_cases(spec: str, common=None, objective: str = "expected") -> list[Case]:
    """The scenarios of `--robust S1:p1,S2:p2,...` (each merged over `common` scenario files);
    raises StudyError on a bad objective or fewer than two scenarios."""
    if objective not in OBJECTIVES:
        raise StudyError(f"--robust-objective {objective!r}: choose expected or worst.")
    cases = parse_cases([spec], common, what="--robust")
    if len(cases) < 2:
        raise StudyError("--robust needs at least two scenarios, e.g. base:0.7,ban.yaml:0.3.")
    return cases


def robust_study(
    input: str | Path,
    cases: list[Case],
    overrides: list[str] | None = None,
    objective: str = "expected",
    options: SolveOptions | None = None,
    batch: BatchOptions | None = None,
    label: str = "robust",
    compare: bool = True,
    progress: Callable[[int], AbstractContextManager] | None = None,
) -> RobustStudy:
    """Solve the robust plan; then, if it has a solution and `compare`, stress it and each
    scenario's own plan under every scenario. `progress(total)` opens a progress display for
    the stress solves and yields its step function (or None)."""
    from contextlib import nullcontext

    result = solve_robust(input, cases, list(overrides or []), objective, options, label)
    study = RobustStudy(result, cases)
    if result.objective is None or not compare:
        return study
    total = len(cases) + (len(cases) + 1) * len(cases)
    with progress(total) if progress else nullcontext() as step:
        study.evaluation = evaluate(result, input, overrides, options, batch, step)
    return study


def summary(result: RobustResult) -> dict:
    """summary.json of a robust run folder."""
    from allycap.chains import payload

    inv = result.tables.get("investments")
    new_cap: dict = {}
    if inv is not None and len(inv):
        for (r, s), q in inv.groupby(["region", "stage"])["new_capacity_t"].sum().items():
            new_cap.setdefault(r, {})[s] = round(float(q), 6)
    restricted = sorted(set().union(*(d.restricted for d in result.data))) if result.data else []
    return {
        "scenario": result.label,
        "status": result.status,
        "message": result.message,
        "objective_musd_pv": result.objective,
        "robust": {
            "objective": result.objective_kind,
            "scenarios": []
            if result.scenarios is None
            else [
                {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
                for r in result.scenarios.to_dict("records")
            ],
        },
        "kpis": {
            "total_cost_musd_pv": result.objective,
            "new_capacity_t_by_region_stage": new_cap,
            "restricted_origins": restricted,
        },
        "timings_s": {k: round(v, 4) for k, v in result.timings.items()},
        # every scenario block shares the inputs' chains; the first block's stand for all
        "chains": payload(result.data[0].chains) if result.data else [],
    }


def write_robust(
    out: Path,
    result: RobustResult,
    input,
    overrides,
    options: SolveOptions | dict | None = None,
    evaluation=None,
):
    """The robust run folder: investments.csv (the plan), robust.csv (per scenario), the
    operations tables of every scenario (their `scenario` column tells them apart), and, when
    evaluated, robust_stress.csv (long) and robust_table.csv (plans x scenarios). `options`
    as the manifest records them (SolveOptions, or the dict itself)."""
    if isinstance(options, SolveOptions):
        options = {**options.manifest(), "robust_objective": result.objective_kind}
    from allycap.studies.output import input_files, versions, write_study
    from allycap.studies.stress import robustness_table

    tables = {f"{name}.csv": frame for name, frame in result.tables.items()}
    tables["robust.csv"] = result.scenarios
    if evaluation is not None:
        tables["robust_stress.csv"] = evaluation
        tables["robust_table.csv"] = robustness_table(evaluation)
    manifest = {
        "kind": "robust",
        "scenario": result.label,
        "input": str(input),
        "input_files": input_files(input),
        "scenarios": [
            {"label": c.label, "files": list(c.scenarios), "weight": w}
            for c, w in zip(result.cases, weights_of(result.cases), strict=True)
        ],
        "overrides": list(overrides or []),
        "options": options or {},
        "versions": versions(),
    }
    return write_study(out, tables, {"summary.json": summary(result), "manifest.json": manifest})
