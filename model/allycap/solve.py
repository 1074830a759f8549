"""Solve stage: hand the Pyomo model to HiGHS (pyomo.contrib.solver `highs`) and report plainly.

Statuses are mapped to a short word and a sentence a modeler can act on. The thread count is
fixed (1 by default) so that two runs of the same inputs give the same solution.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pyomo.environ as pyo

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


_threads_in_use: int | None = None


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
    import highspy

    h = highspy.Highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


def highs_of(opt):
    """The highspy.Highs behind Pyomo's persistent `highs` interface (None before an instance)."""
    return getattr(opt, "_solver_model", None)


def highs_solve(opt, model: pyo.ConcreteModel, **kwargs):
    """`opt.solve(model, **kwargs)`, with Ctrl-C/SIGTERM routed to HiGHS's own interrupt.

    The instance is handed over first (as `opt.solve` would) so that the HiGHS object exists
    before the call and a signal can reach it through `cancelSolve`."""
    from allycap import interrupt

    if getattr(opt, "_model", None) is not model:
        opt.set_instance(model)
    with interrupt.highs_call(highs_of(opt)):
        return opt.solve(model, **kwargs)


def solve_model(
    model: pyo.ConcreteModel,
    time_limit: float | None = None,
    threads: int = 1,
    tee: bool = False,
    solver=None,
    health: bool = True,
) -> SolveOutcome:
    """Solve `model` with HiGHS; pass `solver` to reuse a persistent instance across re-solves."""
    import sys

    from pyomo.contrib.solver.common.factory import SolverFactory
    from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

    global _threads_in_use
    if _threads_in_use is not None and threads != _threads_in_use:
        import highspy

        # HiGHS keeps one thread pool per process; a new thread count needs a new pool.
        highspy.Highs.resetGlobalScheduler(True)
    _threads_in_use = threads
    opt = solver or SolverFactory("highs")
    started = time.perf_counter()
    numerics = None
    handoff = 0.0
    if health:
        from allycap.health import numerical_report

        opt.set_instance(model)  # hand the LP over first, so its ranges can be read
        handoff = time.perf_counter() - started
        numerics = numerical_report(opt)
    # presolve is named so that a re-solve of a persistent model after the presolve-off retry
    # below does not keep it off (HiGHS options persist on the instance)
    options = {"random_seed": 0, "presolve": "choose"}
    results = highs_solve(
        opt,
        model,
        tee=[sys.stdout] if tee else [],
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
        time_limit=time_limit,
        threads=threads,
        solver_options=options,
    )
    if results.termination_condition == TerminationCondition.infeasibleOrUnbounded:
        # Presolve cannot tell the two apart; the simplex without presolve can.
        results = highs_solve(
            opt,
            model,
            tee=[sys.stdout] if tee else [],
            load_solutions=False,
            raise_exception_on_nonoptimal_result=False,
            time_limit=time_limit,
            threads=threads,
            solver_options={**options, "presolve": "off"},
        )
    elapsed = time.perf_counter() - started
    status = status_word(results.termination_condition)
    has_solution = results.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
    message = STATUS_TEXT[status]
    duals: dict = {}
    reduced: dict = {}
    objective = None
    if has_solution:
        results.solution_loader.load_vars()
        objective = pyo.value(model.total_cost)
        if status == "optimal":
            duals = dict(results.solution_loader.get_duals())
            reduced = results.solution_loader.get_reduced_costs()  # a ComponentMap
        elif status in ("time_limit", "iteration_limit"):
            message += " The best solution found is reported; it may not be optimal."
    elif status in ("time_limit", "iteration_limit"):
        message += " No feasible solution was found in that time; raise --time-limit."
    if status == "unbounded":
        message += unbounded_cause(model)
    if status in ("error", "numerical"):
        errors = [line for line in (results.solver_log or "").splitlines() if "ERROR" in line]
        if errors:
            message += " HiGHS says: " + " ".join(e.strip() for e in errors[-2:])
    return SolveOutcome(
        status=status,
        message=message,
        has_solution=has_solution,
        objective=objective,
        duals=duals,
        reduced_costs=reduced,
        solve_seconds=elapsed,
        handoff_seconds=handoff,
        highs_seconds=float(getattr(results.timing_info, "highs_time", elapsed) or elapsed),
        solver_version=".".join(str(v) for v in results.solver_version or ()),
        log=results.solver_log or "",
        solver=opt,
        numerics=numerics,
    )


def status_word(tc) -> str:
    """A pyomo.contrib.solver TerminationCondition as the short word used in every output."""
    from pyomo.contrib.solver.common.results import TerminationCondition

    return {
        TerminationCondition.convergenceCriteriaSatisfied: "optimal",
        TerminationCondition.provenInfeasible: "infeasible",
        TerminationCondition.locallyInfeasible: "infeasible",
        TerminationCondition.unbounded: "unbounded",
        TerminationCondition.infeasibleOrUnbounded: "infeasible_or_unbounded",
        TerminationCondition.maxTimeLimit: "time_limit",
        TerminationCondition.iterationLimit: "iteration_limit",
        TerminationCondition.interrupted: "interrupted",
        TerminationCondition.minStepLength: "numerical",
    }.get(tc, "error")


def unbounded_cause(model: pyo.ConcreteModel, most: int = 5) -> str:
    """Name the variables that can drive the cost down without limit: negative cost, no bound."""
    from pyomo.repn import generate_standard_repn

    repn = generate_standard_repn(model.total_cost.expr, compute_values=True)
    suspects = [
        var.name
        for var, coef in zip(repn.linear_vars, repn.linear_coefs, strict=True)
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
