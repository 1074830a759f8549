"""Solve stage: hand the Pyomo model to HiGHS and report plainly (the solver itself is reached
only through `allycap.highs_bridge`).

Statuses are mapped to a short word and a sentence a modeler can act on. The thread count is
fixed (1 by default) so that two runs of the same inputs give the same solution.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pyomo.environ as pyo

from allycap.options import SolveOptions, solve_options

STATUS_TEXT = {
    "optimal": "optimal solution found.",
    "infeasible": (
        "the model is infeasible: the rules cannot all hold at once. In strict mode demand must "
        "be met in full; otherwise look at independence shares, export controls, sharing "
        "minimums, stockpile covers and budgets against what capacity can be online in time."
    ),
    "unbounded": (
        "the model is unbounded: some cost can fall without limit. Look for a negative cost "
        "on a variable with no upper bound."
    ),
    "infeasible_or_unbounded": (
        "HiGHS reports infeasible or unbounded; re-run with --strict off or check the rules."
    ),
    "time_limit": "the time limit was reached before optimality.",
    "iteration_limit": "the iteration limit was reached before optimality.",
    "numerical": "HiGHS stopped on numerical difficulties; check coefficient ranges.",
    "error": "HiGHS reported an error.",
    "interrupted": "the solve was interrupted.",
}


@dataclass
class SolveOutcome:
    status: str
    message: str
    has_solution: bool
    objective: float | None
    duals: dict = field(default_factory=dict)  # constraint data -> dual
    reduced_costs: dict = field(default_factory=dict)  # variable data -> reduced cost
    solve_seconds: float = 0.0
    highs_seconds: float = 0.0
    handoff_seconds: float = 0.0  # Pyomo handing the LP to HiGHS (set_instance)
    solver_version: str = ""
    log: str = ""
    solver: object = None  # the persistent HiGHS interface, for diagnosis and re-solves
    numerics: object = None  # health.NumericalReport of the LP handed to HiGHS


def solver_version() -> str:
    from allycap import highs_bridge

    return highs_bridge.version()


def solve_model(
    model: pyo.ConcreteModel,
    options: SolveOptions | None = None,
    *,
    solver=None,
    health: bool = True,
    tee: bool = False,
    params_only: bool = False,
    load: list | None = None,
    duals: bool | list = True,
    **legacy,
) -> SolveOutcome:
    """Solve `model` with HiGHS: the one solve path of run, check, sweep, stress and robust.

    `options`: time limit and threads (`SolveOptions`; the keywords `time_limit=` and
    `threads=` are accepted too). `solver`: a persistent interface to re-solve on (the sweep's
    points, the near-optimal alternatives); `params_only`: only mutable parameters
    changed since its last solve. `health`: read the LP's numerical ranges first.
    `load`: the variables to load (None: all, and the objective is `model.total_cost`
    evaluated; a list: only those, and the objective is HiGHS's own value). `duals`: all duals
    and reduced costs (True), none (False), or the duals of these rows only (a list).
    """
    from allycap import highs_bridge as bridge

    options = solve_options(options, **legacy)
    bridge.use_threads(options.threads)  # before any HiGHS object of this solve exists
    opt = solver or bridge.new_solver()
    started = time.perf_counter()
    numerics = None
    handoff = 0.0
    if health:
        from allycap.health import numerical_report

        handoff = bridge.load(opt, model)  # hand the LP over first, so its ranges can be read
        numerics = numerical_report(opt)
    solved = bridge.solve(
        opt,
        model,
        time_limit=options.time_limit,
        threads=options.threads,
        tee=tee,
        params_only=params_only,
    )
    elapsed = time.perf_counter() - started
    status = solved.status
    message = STATUS_TEXT[status]
    dual_values: dict = {}
    reduced: dict = {}
    objective = None
    if solved.has_solution:
        solved.load_values(load)
        objective = pyo.value(model.total_cost) if load is None else solved.objective
        if status == "optimal":
            if duals is True:
                dual_values = solved.duals()
                reduced = solved.reduced_costs()  # a ComponentMap
            elif duals:
                dual_values = solved.duals(duals)
        elif status in ("time_limit", "iteration_limit"):
            message += " The best solution found is reported; it may not be optimal."
    elif status in ("time_limit", "iteration_limit"):
        message += " No feasible solution was found in that time; raise --time-limit."
    if status == "unbounded":
        message += unbounded_cause(model)
    if status in ("error", "numerical"):
        errors = [line for line in solved.log.splitlines() if "ERROR" in line]
        if errors:
            message += " HiGHS says: " + " ".join(e.strip() for e in errors[-2:])
    return SolveOutcome(
        status=status,
        message=message,
        has_solution=solved.has_solution,
        objective=objective,
        duals=dual_values,
        reduced_costs=reduced,
        solve_seconds=elapsed,
        handoff_seconds=handoff,
        highs_seconds=solved.highs_seconds or elapsed,
        solver_version=solved.version,
        log=solved.log,
        solver=opt,
        numerics=numerics,
    )


def unbounded_cause(model: pyo.ConcreteModel, most: int = 5) -> str:
    """Name the variables that can drive the cost down without limit: negative cost, no bound."""
    from allycap.highs_bridge import objective_terms

    suspects = [
        var.name
        for var, coef in objective_terms(model.total_cost.expr)
        if coef < 0 and var.ub is None
    ]
    if not suspects:
        return ""
    shown = ", ".join(suspects[:most]) + (
        f" and {len(suspects) - most} more" if len(suspects) > most else ""
    )
    return f" Likely cause: negative cost on variables with no upper bound: {shown}."


def write_lp(model: pyo.ConcreteModel, path: str) -> None:
    """Write the model with readable names (LP or MPS, by the file's extension)."""
    model.write(path, io_options={"symbolic_solver_labels": True})
