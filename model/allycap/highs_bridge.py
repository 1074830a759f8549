"""The one place that touches Pyomo's and HiGHS's internals.

Everything allycap needs from the solver goes through here: creating and loading the persistent
Pyomo `highs` interface, solving with Ctrl-C/SIGTERM routed to HiGHS's own interrupt, the status
mapping, loading values, duals and reduced costs, the HiGHS column/row <-> Pyomo variable/
constraint maps, the IIS, the basis (for warm re-solves) and the LP arrays (for the numerical
ranges), and the HiGHS version.

Pyomo's persistent interface keeps its maps in private attributes: `_solver_model` (the
highspy.Highs), `_vars` (id(var) -> (var, lb, ub, fixed, domain, value)),
`_pyomo_var_to_solver_var_map` (id(var) -> column), `_solver_con_to_pyomo_con_map` (row ->
constraint), `_pyomo_con_to_solver_con_map` (constraint -> row) and `_model`. They are read here
and nowhere else; tests/test_highs_bridge.py asserts their shape on a tiny model, so a Pyomo or
highspy release that changes them fails loudly there (pyproject.toml caps both at tested
versions).

The LP is handed over through the persistent interface (`set_instance`), not Pyomo's standard-
form compiler plus `highspy.passModel`: measured on the default inputs the compiler path needs
scipy (0.2 s to import) and was no faster for a single cold solve (docs/performance.md), and the
persistent interface is what updates mutable parameters in place for sweeps.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

from allycap import interrupt

# A re-solve after changing mutable parameters only: skip Pyomo's scan for other changes.
PARAMS_ONLY = {
    "check_for_new_or_removed_constraints": False,
    "check_for_new_or_removed_vars": False,
    "check_for_new_or_removed_params": False,
    "check_for_new_objective": False,
    "update_constraints": False,
    "update_vars": False,
    "update_named_expressions": False,
    "update_objective": False,
    "update_parameters": True,
}

# presolve is named so that a re-solve of a persistent model after the presolve-off retry does
# not keep it off (HiGHS options persist on the instance)
BASE_OPTIONS = {"random_seed": 0, "presolve": "choose"}

_threads_in_use: int | None = None


def version() -> str:
    """HiGHS's version, e.g. "1.16.0"."""
    import highspy

    # the module's constants, not an instance: a first `Highs()` in a process prints HiGHS's
    # banner on stdout, which would land in `compare` and `sweep --workers` output
    parts = ("HIGHS_VERSION_MAJOR", "HIGHS_VERSION_MINOR", "HIGHS_VERSION_PATCH")
    if all(hasattr(highspy, p) for p in parts):
        return ".".join(str(getattr(highspy, p)) for p in parts)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


def new_solver():
    """A fresh persistent Pyomo `highs` interface (no model loaded yet)."""
    from pyomo.contrib.solver.common.factory import SolverFactory

    return SolverFactory("highs")


def highs_of(opt):
    """The highspy.Highs behind the persistent interface `opt` (None before a model is loaded)."""
    return getattr(opt, "_solver_model", None)


def loaded(opt, model) -> bool:
    return getattr(opt, "_model", None) is model


def load(opt, model) -> float:
    """Hand `model` to HiGHS through `opt` unless it holds it already; the seconds it took."""
    if loaded(opt, model):
        return 0.0
    started = time.perf_counter()
    opt.set_instance(model)
    return time.perf_counter() - started


def use_threads(threads: int) -> None:
    """HiGHS keeps one thread pool per process; a new thread count needs a new pool."""
    global _threads_in_use
    if _threads_in_use is not None and threads != _threads_in_use:
        import highspy

        highspy.Highs.resetGlobalScheduler(True)
    _threads_in_use = threads


@dataclass
class Solved:
    """What one call into HiGHS returned, in allycap's words."""

    status: str  # a key of solve.STATUS_TEXT
    has_solution: bool
    objective: float | None  # HiGHS's own value (the objective's constant included)
    highs_seconds: float
    version: str
    log: str
    results: Any  # pyomo.contrib.solver Results, for the loaders below

    def load_values(self, variables=None) -> None:
        """Load the solution into the Pyomo variables (all, or only `variables`)."""
        self.results.solution_loader.load_vars(variables)

    def duals(self, rows=None) -> dict:
        """Constraint data -> dual (all rows, or only `rows`)."""
        return dict(self.results.solution_loader.get_duals(rows))

    def reduced_costs(self):
        """Variable data -> reduced cost, a ComponentMap."""
        return self.results.solution_loader.get_reduced_costs()


def solve(
    opt,
    model,
    time_limit: float | None = None,
    threads: int | None = 1,
    tee: bool = False,
    params_only: bool = False,
) -> Solved:
    """Solve `model` on the persistent interface `opt`, with Ctrl-C/SIGTERM routed to HiGHS.

    The model is handed over first (as `opt.solve` would) so that the HiGHS object exists before
    the call and a signal can reach it through `cancelSolve`. If presolve cannot tell infeasible
    from unbounded, the simplex without presolve is asked. `params_only`: only mutable
    parameters changed since the last solve on `opt` (a sweep's re-solve)."""
    from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

    if threads is not None:
        use_threads(threads)
    load(opt, model)
    kwargs = {
        "tee": [sys.stdout] if tee else [],
        "load_solutions": False,
        "raise_exception_on_nonoptimal_result": False,
        "time_limit": time_limit,
        "threads": threads,
    }
    if params_only:
        kwargs["auto_updates"] = PARAMS_ONLY
    results = _call(opt, model, solver_options=BASE_OPTIONS, **kwargs)
    if results.termination_condition == TerminationCondition.infeasibleOrUnbounded:
        results = _call(opt, model, solver_options={**BASE_OPTIONS, "presolve": "off"}, **kwargs)
    solved = results.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
    objective = results.incumbent_objective if solved else None
    return Solved(
        status=status_word(results.termination_condition),
        has_solution=solved,
        objective=None if objective is None else float(objective),
        highs_seconds=float(getattr(results.timing_info, "highs_time", 0.0) or 0.0),
        version=".".join(str(v) for v in results.solver_version or ()),
        log=results.solver_log or "",
        results=results,
    )


def _call(opt, model, **kwargs):
    with interrupt.highs_call(highs_of(opt)):
        return opt.solve(model, **kwargs)


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


# --- column and row maps -------------------------------------------------------------------


def columns(opt) -> dict[int, Any]:
    """HiGHS column index -> Pyomo variable data, for the model loaded in `opt`."""
    return {col: opt._vars[vid][0] for vid, col in opt._pyomo_var_to_solver_var_map.items()}


def rows(opt) -> dict[int, Any]:
    """HiGHS row index -> Pyomo constraint data (a view: do not change it)."""
    return opt._solver_con_to_pyomo_con_map


def column_of(opt, var) -> int | None:
    """The HiGHS column of Pyomo variable `var` (None if it is not in the LP)."""
    return opt._pyomo_var_to_solver_var_map.get(id(var))


def row_of(opt, con) -> int | None:
    """The HiGHS row of Pyomo constraint `con` (None if it is not in the LP)."""
    return opt._pyomo_con_to_solver_con_map.get(con)


# --- basis, LP arrays, IIS -----------------------------------------------------------------


def basis(opt):
    """The current basis of the LP in `opt` (to start later solves from it)."""
    return highs_of(opt).getBasis()


def restart_from(opt, start_basis) -> None:
    """Forget the last solve and start the next one from `start_basis`: what a solve returns
    then does not depend on which solves came before it. Rows added since the basis was taken
    (`add_rows`) start basic: their slack is in the basis, as for a row that does not bind."""
    import highspy

    h = highs_of(opt)
    h.clearSolver()
    rows = h.getNumRow()
    if len(start_basis.row_status) < rows:
        extended = highspy.HighsBasis()
        extended.valid = start_basis.valid
        extended.col_status = list(start_basis.col_status)
        extra = rows - len(start_basis.row_status)
        extended.row_status = (
            list(start_basis.row_status) + [highspy.HighsBasisStatus.kBasic] * extra
        )
        start_basis = extended
    h.setBasis(start_basis)


def add_rows(opt, constraints, params=()) -> None:
    """Add new Pyomo constraints (and the mutable parameters in them) to the LP already loaded
    in `opt`, through the persistent interface's public calls: later parameter-only re-solves
    update their right-hand sides (`allycap alternatives`' cost cap)."""
    opt.add_parameters(list(params))
    opt.add_constraints(list(constraints))


def row_activity(opt, con) -> float:
    """The value of constraint `con`'s body (less any constant Pyomo moved to its bounds) in
    the last solution of `opt`: read from HiGHS without loading any variable into Pyomo."""
    return float(highs_of(opt).getSolution().row_value[row_of(opt, con)])


def prefer_primal_simplex(opt) -> None:
    """Solve the LP in `opt` with the primal simplex from now on (HiGHS `simplex_strategy` 4;
    options persist on the instance). For re-solves that change only the objective from a
    basis that stays primal feasible (`allycap alternatives` from the least-cost basis) the
    primal simplex starts in phase 2; HiGHS's default dual simplex must first regain dual
    feasibility, measured 16 times slower on the default inputs."""
    highs_of(opt).setOptionValue("simplex_strategy", 4)


def set_objective(opt, objective) -> None:
    """Make `objective` (a Pyomo Objective of the loaded model) the LP's objective in `opt`;
    its mutable coefficients follow later parameter-only re-solves."""
    opt.set_objective(objective)


def lp(opt):
    """The LP loaded in `opt`, as a highspy.HighsLp (column-wise matrix, bounds, costs)."""
    return highs_of(opt).getLp()


@dataclass
class IisRow:
    constraint: Any  # Pyomo constraint data
    bound: str  # "lower", "upper" or "equality"


def iis(opt) -> tuple[list[IisRow], list[Any]] | None:
    """An irreducible infeasible subset of the LP in `opt` (just found infeasible): its rows
    and its variables (by their bounds), or None if HiGHS gives none.

    `iis_strategy` 2: in highspy 1.15 the default strategy returns an empty set even for a
    two-row conflict. HiGHS's console output is switched off for the search."""
    h = highs_of(opt)
    h.setOptionValue("iis_strategy", 2)
    h.setOptionValue("output_flag", False)  # HiGHS prints its IIS search to the console
    try:
        with interrupt.highs_call(h):
            _, found = h.getIis()
    except Exception:  # an IIS is a bonus; the caller has other ways to explain
        return None
    finally:
        h.setOptionValue("output_flag", True)
    if not found.valid_ or not len(found.row_index_):
        return None
    row_map, col_map = rows(opt), columns(opt)
    out_rows = []
    for i, b in zip(found.row_index_, found.row_bound_, strict=False):
        con = row_map.get(int(i))
        if con is not None:
            kind = "equality" if con.equality else ("lower" if int(b) == 2 else "upper")
            out_rows.append(IisRow(con, kind))
    out_cols = [col_map[int(j)] for j in found.col_index_ if int(j) in col_map]
    return out_rows, out_cols


# --- the objective's terms (for naming the cause of an unbounded LP) -----------------------


def objective_terms(expr) -> list[tuple[Any, float]]:
    """(variable, coefficient) of each linear term of `expr`, with parameters evaluated."""
    from pyomo.repn import generate_standard_repn

    repn = generate_standard_repn(expr, compute_values=True)
    return list(zip(repn.linear_vars, repn.linear_coefs, strict=True))


# --- the optimal face (is the plan unique?) -------------------------------------------------


def optimal_face(opt, zero: float):
    """(the LP restricted to its optimal face, column values, reduced costs) of the LP solved
    in `opt`, or None without a primal and dual solution: every column whose reduced cost
    exceeds `zero` in size is fixed at its value, every row whose dual does at its activity.
    By complementary slackness each point of it costs the optimum (results.alternative_builds).
    The LP is a copy: the solved model is left as it is."""
    import numpy as np

    highs = highs_of(opt)
    sol = highs.getSolution()
    if not sol.value_valid or not sol.dual_valid:
        return None
    lp = highs.getLp()
    value = np.asarray(sol.col_value, dtype=float)
    reduced = np.asarray(sol.col_dual, dtype=float)
    lower = np.asarray(lp.col_lower_, dtype=float).copy()
    upper = np.asarray(lp.col_upper_, dtype=float).copy()
    fix = np.abs(reduced) > zero
    lower[fix] = upper[fix] = value[fix]
    lp.col_lower_, lp.col_upper_ = lower, upper
    activity = np.asarray(sol.row_value, dtype=float)
    dual = np.asarray(sol.row_dual, dtype=float)
    row_lower = np.asarray(lp.row_lower_, dtype=float).copy()
    row_upper = np.asarray(lp.row_upper_, dtype=float).copy()
    hold = np.abs(dual) > zero
    row_lower[hold] = row_upper[hold] = activity[hold]
    lp.row_lower_, lp.row_upper_ = row_lower, row_upper
    return lp, value, reduced


def maximize_on_face(lp, columns: list[int], cap: float):
    """Column values of a point of the face `lp` (from `optimal_face`) that maximizes the sum of
    `columns`, each bounded by `cap` so the LP is bounded; None unless HiGHS solves it. Solved
    on a fresh single-threaded HiGHS instance; `lp` keeps its costs."""
    import highspy
    import numpy as np

    n = lp.num_col_
    original = np.asarray(lp.col_cost_, dtype=float).copy()
    cost = np.zeros(n)
    cost[columns] = -1.0
    upper = np.asarray(lp.col_upper_, dtype=float).copy()
    upper[columns] = np.minimum(upper[columns], cap)
    lp.col_upper_ = upper
    lp.col_cost_ = cost
    lp.offset_ = 0.0
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    h.run()
    lp.col_cost_ = original
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return np.asarray(h.getSolution().col_value, dtype=float)
