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

With `--branch-year Y` the model is a two-stage scenario tree instead (`build_tree`): only the
decisions made before Y are shared. `m.plan[f, v]` and `m.tie` cover the builds with decision
year v < Y; `m.nonant[s, var]` sets every other variable of scenario s dated before Y (its year
read from the registry's `VarSpec.index_names`) equal to scenario 0's, and a variable with no
year at all counts as decided now. Decisions from Y on are each scenario's own. Sharing is only
well defined when the scenarios' LPs agree on everything dated before Y (`branch_check`).
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
OPERATION_TABLES = (
    "capacity",
    "production",
    "flows",
    "supply_mix",
    "stocks",
    "costs",
    "shortfall",
)


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
    branch_year: int | None = None  # a scenario tree branching in that year; None: all shared
    branch: BranchValues | None = None  # the tree against all-shared and perfect foresight


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


BUILD = "new"  # the build decisions, m.new[facility, decision_year] (capacity family)


def _index_of(var) -> tuple:
    index = var.index()
    if index is None:
        return ()
    return index if isinstance(index, tuple) else (index,)


def year_of(component: str, index: tuple) -> int | None:
    """The year a variable is decided in, read from its declaration in the registry: its index
    named `year` or `*_year` (`decision_year` of a build); None for a variable with no year."""
    from allycap.formulation.registry import VARIABLES

    spec = VARIABLES.get(component)
    if spec is None:
        # every variable must be dated for the tree to know which stage it belongs to
        raise StudyError(
            f"--branch-year: variable {component!r} is not declared in formulation/registry.py, "
            "so its year is unknown. Fix: declare it (VarSpec) in its family's FAMILY.variables."
        )
    for name, value in zip(spec.index_names, index, strict=False):
        if name == "year" or name.endswith("_year"):
            return int(value)
    return None


def first_stage(block, branch_year: int) -> dict[tuple, tuple[Any, int | None]]:
    """(component, index) -> (variable, year) for every variable of `block` decided before
    `branch_year`; a variable with no year is decided once for the horizon, hence now."""
    import pyomo.environ as pyo

    out: dict[tuple, tuple[Any, int | None]] = {}
    for var in block.component_data_objects(pyo.Var, descend_into=True):
        component, index = var.parent_component().local_name, _index_of(var)
        year = year_of(component, index)
        if year is None or year < branch_year:
            out[(component, index)] = (var, year)
    return out


_UNDATED = object()  # a declared row with no year in its index


def _dated(component: str, index: tuple):
    """The year of a row from its declaration (its index named `year` or `*_year`), _UNDATED
    for a declared row without one, None for a row the registry does not declare."""
    from allycap.formulation.registry import ROWS

    spec = ROWS.get(component)
    if spec is None:
        return None
    for name, value in zip(spec.index_names, index, strict=False):
        if name == "year" or name.endswith("_year"):
            return int(value)
    return _UNDATED


def _round(x: float) -> float:
    """12 significant digits: equal inputs reached by different arithmetic compare equal."""
    return float(f"{x:.12g}")


@dataclass
class _Stage:
    """What one scenario's LP says about its first-stage variables: their bounds, their
    objective coefficients and the rows among them alone (by content, not by name, so that a
    rule renamed in a scenario file but the same before Y is not a difference)."""

    years: dict[tuple, int | None]
    bounds: dict[tuple, tuple]
    cost: dict[tuple, float]
    rows: dict[tuple, list[tuple[str, tuple, int | None]]]  # content -> rows (name, index, year)


# Cost categories that pay for an earlier build rather than for what is done in the year they
# fall in: capital is the annuity on a build, grown by its interest during construction, so a
# scenario that only changes a lead time (revealed in the branch year) changes it in every year.
# The build itself is compared (its bounds, its rows); its annuity is not a datum of the year.
CHARGES_FOR_BUILDS = ("capital",)


def _stage_of(block, data, branch_year: int) -> _Stage:
    import pyomo.environ as pyo
    from pyomo.repn import generate_standard_repn

    from allycap.formulation.objective import cost_terms

    shared = first_stage(block, branch_year)
    charged = {
        id(t.var)
        for category in CHARGES_FOR_BUILDS
        for t in cost_terms(block, data).get(category, [])
        if t.var is not None
    }
    key_of = {id(var): key for key, (var, _) in shared.items()}
    years = {key: year for key, (_, year) in shared.items()}
    bounds = {
        key: tuple(None if b is None else _round(b) for b in (var.lb, var.ub))
        for key, (var, _) in shared.items()
    }
    cost: dict[tuple, float] = {}
    repn = generate_standard_repn(block.total_cost.expr, compute_values=True, quadratic=False)
    for var, coef in zip(repn.linear_vars, repn.linear_coefs, strict=True):
        key = key_of.get(id(var))
        if key is not None and id(var) not in charged:
            cost[key] = cost.get(key, 0.0) + coef
    cost = {k: _round(c) for k, c in cost.items() if c != 0}
    rows: dict[tuple, list] = {}
    for con in block.component_data_objects(pyo.Constraint, active=True, descend_into=True):
        name, index = con.parent_component().local_name, _index_of(con)
        row_year = _dated(name, index)
        if row_year is _UNDATED or (row_year is not None and row_year >= branch_year):
            # a limit over the whole horizon (build_max, resource, a total budget) is no
            # datum of a year before Y: the shared decisions must satisfy every scenario's
            continue
        repn = generate_standard_repn(con.body, compute_values=True, quadratic=False)
        terms: dict[tuple, float] = {}
        for var, coef in zip(repn.linear_vars, repn.linear_coefs, strict=True):
            key = key_of.get(id(var))
            if key is None:  # the row involves a later decision: the branches' own business
                terms = {}
                break
            terms[key] = terms.get(key, 0.0) + coef
        terms = {k: c for k, c in terms.items() if c != 0}
        if not terms:
            continue
        constant = pyo.value(repn.constant)
        lower = None if con.lower is None else _round(pyo.value(con.lower) - constant)
        upper = None if con.upper is None else _round(pyo.value(con.upper) - constant)
        content = (lower, upper, tuple(sorted((k, _round(c)) for k, c in terms.items())))
        if row_year is None:  # a row the registry does not declare: dated by its variables
            row_year = max((years[k] for k in terms if years[k] is not None), default=None)
        rows.setdefault(content, []).append((name, index, row_year))
    return _Stage(years, bounds, cost, rows)


@dataclass(frozen=True)
class Difference:
    """The earliest thing dated before the branch year on which two scenarios' LPs differ."""

    year: int | None  # the latest year of the variables involved (None: undated)
    what: str
    component: str  # the row or variable whose declaration traces it to an input
    index: tuple
    side: int  # 0: found in the reference scenario's LP, 1: in the other's
    rank: int = 0  # within a year: a missing variable, then bounds, costs, rows (the cause first)


def _differences(a: _Stage, b: _Stage, names: tuple[str, str]) -> list[Difference]:
    from allycap.trace import label

    found: list[Difference] = []
    for side, (x, y) in enumerate(((a, b), (b, a))):
        for key in x.years.keys() - y.years.keys():
            if key[0] == BUILD:
                # a build one scenario cannot make (online after its horizon, say) is the
                # same decision, ignored there, as in the all-shared mode
                continue
            what = f"variable {label(*key)} exists in {names[side]!r} only"
            found.append(Difference(x.years[key], what, *key, side))
    for key in a.years.keys() & b.years.keys():
        year = a.years[key]
        if a.bounds[key] != b.bounds[key]:
            what = f"bounds of {label(*key)} differ ({a.bounds[key]} vs {b.bounds[key]})"
            found.append(Difference(year, what, *key, 0, 1))
        ca, cb = a.cost.get(key, 0.0), b.cost.get(key, 0.0)
        if ca != cb:
            what = f"the cost of {label(*key)} differs ({ca:.6g} vs {cb:.6g} M$ PV per unit)"
            found.append(Difference(year, what, *key, 0, 2))
    for side, (x, y) in enumerate(((a, b), (b, a))):
        for content, rows in x.rows.items():
            extra = len(rows) - len(y.rows.get(content, ()))
            for name, index, year in rows[:extra] if extra > 0 else ():
                what = (
                    f"row {label(name, index)} of {names[side]!r} has no identical row in "
                    f"{names[1 - side]!r}"
                )
                found.append(Difference(year, what, name, index, side, 3))
    return found


def check_years(datas: list, labels: list[str], branch_year: int) -> None:
    """Raise StudyError unless every scenario has the same model years and `branch_year` is
    one of them (checked before any model is built)."""
    years = datas[0].years
    if branch_year not in years:
        raise StudyError(
            f"--branch-year {branch_year} is not a model year (the horizon's years are "
            f"{_years_text(years)}). Fix: pick one of them; {years[0]} shares nothing (each "
            "scenario plans with perfect foresight), later years share more."
        )
    for s in range(1, len(datas)):
        if datas[s].years != years:
            raise StudyError(
                f"--branch-year: scenario {labels[s]!r} has model years "
                f"{_years_text(datas[s].years)}, {labels[0]!r} has {_years_text(years)}; a "
                "scenario tree needs one horizon. Fix: give every scenario the same horizon."
            )


def branch_check(m, datas: list, labels: list[str], branch_year: int) -> None:
    """Raise StudyError unless `branch_year` is a model year and every scenario's LP agrees
    with the first's on everything dated before it: the operating variables, their bounds and
    costs, and every row dated before it among them alone (limits over the whole horizon are not
    compared: the shared decisions satisfy every scenario's). A decision made before the branch
    year is made once, for all scenarios; if the scenarios differ by then, the planner would
    already know which one holds and sharing the decision would be ill-defined."""
    from allycap.trace import input_path

    check_years(datas, labels, branch_year)
    years = datas[0].years
    reference = _stage_of(m.scenario[0], datas[0], branch_year)
    for s in range(1, len(datas)):
        names = (labels[0], labels[s])
        found = _differences(reference, _stage_of(m.scenario[s], datas[s], branch_year), names)
        if not found:
            continue
        first = min(found, key=lambda d: (-1 if d.year is None else d.year, d.rank, d.what))
        data = datas[0] if first.side == 0 else datas[s]
        path = ".".join(str(p) for p in input_path(first.component, first.index, data))
        where = f" (input: {path})" if path else ""
        if first.year is None:
            fix = "make the scenarios agree on it: it has no year, so no branch year separates it"
        elif first.year == years[0]:
            fix = (
                f"--branch-year {years[0]} (nothing shared: each scenario its own optimum), or "
                f"make the scenarios agree in {years[0]}"
            )
        else:
            fix = f"an earlier --branch-year, {first.year} or before"
        when = "in a year-less decision" if first.year is None else f"in {first.year}"
        raise StudyError(
            f"--branch-year {branch_year}: scenario {labels[s]!r} differs from {labels[0]!r} "
            f"before {branch_year}, so the decisions of those years cannot be shared: {when}, "
            f"{first.what}{where}. Fix: {fix}."
        )


def _years_text(years: list[int]) -> str:
    if len(years) > 2 and all(
        b - a == years[1] - years[0] for a, b in zip(years, years[1:], strict=False)
    ):
        return f"{years[0]}-{years[-1]} every {years[1] - years[0]}"
    return ", ".join(str(y) for y in years)


def build_tree(datas: list, weights: list[float], branch_year: int, labels: list[str]):
    """The two-stage scenario tree over prepared `datas`: every decision dated before
    `branch_year` shared by all scenarios, every later one each scenario's own; the objective
    is the expected cost. Raises StudyError when the scenarios differ before `branch_year`."""
    import pyomo.environ as pyo

    from allycap.formulation.build import build_into
    from allycap.formulation.objective import CATEGORIES
    from allycap.trace import label

    check_years(datas, labels, branch_year)
    m = pyo.ConcreteModel(name="allycap_tree")
    n = len(datas)
    m.scenario = pyo.Block(range(n))
    for s, data in enumerate(datas):
        build_into(m.scenario[s], data)
        m.scenario[s].total_cost.deactivate()
    branch_check(m, datas, labels, branch_year)
    shared = [first_stage(m.scenario[s], branch_year) for s in range(n)]
    # branch_check made every scenario's first-stage operating variables the same set; a
    # build some scenario cannot make is tied in those that can (as in build_robust)
    keys = sorted({index for s in range(n) for component, index in shared[s] if component == BUILD})
    m.plan = pyo.Var(keys, within=pyo.NonNegativeReals)
    m.tie = pyo.Constraint(
        [(s, f, v) for s in range(n) for (f, v) in keys if (BUILD, (f, v)) in shared[s]],
        rule=lambda m, s, f, v: m.scenario[s].new[f, v] == m.plan[f, v],
    )
    operating = {label(*key): key for key in shared[0] if key[0] != BUILD}
    m.nonant = pyo.Constraint(
        [(s, name) for s in range(1, n) for name in sorted(operating)],
        rule=lambda m, s, name: shared[s][operating[name]][0] == shared[0][operating[name]][0],
    )
    m.total_cost = pyo.Objective(
        expr=sum(
            w * sum(m.scenario[s].cost[c] for c in CATEGORIES)
            for s, w in enumerate(weights)
            if w > 0
        ),
        sense=pyo.minimize,
    )
    return m


def solve_robust(
    input: str | Path,
    cases: list[Case],
    overrides: list[str] | None = None,
    objective: str = "expected",
    options: SolveOptions | None = None,
    label: str = "robust",
    branch_year: int | None = None,
) -> RobustResult:
    """Prepare every scenario, build and solve the robust model (the scenario tree branching
    in `branch_year` if given), extract its results."""
    import dataclasses

    import pandas as pd
    import pyomo.environ as pyo

    from allycap.formulation.objective import CATEGORIES, shortage_cost
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
    if branch_year is None:
        m = build_robust(datas, weights, objective)
    else:
        if objective != "expected":
            raise StudyError(
                "--branch-year: the scenario tree minimizes the expected cost. Fix: drop "
                "--robust-objective worst, or drop --branch-year for a worst-case plan."
            )
        m = build_tree(datas, weights, branch_year, [c.label for c in cases])
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
        branch_year=branch_year,
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
        cost = pyo.value(sum(block.cost[c] for c in CATEGORIES))
        shortage = shortage_cost(block, data)
        rows.append(
            {
                "scenario": case.label,
                "weight": weights[s],
                "resource_cost_musd_pv": cost - shortage,
                "shortage_cost_musd_pv": shortage,
                "cost_musd_pv": cost,
                "unmet_t": ops["unmet_t"],
                "unmet_share": ops["unmet_share"],
                "clean_share": ops["clean_share"],
            }
        )
    investments = pd.concat(parts.pop("investments"), ignore_index=True)
    if branch_year is None:
        investments = investments.drop_duplicates(["facility", "decision_year"], keep="first")
        investments = investments.sort_values(["facility", "decision_year"], kind="mergesort")
        investments["scenario"] = label
    else:
        investments = tree_investments(investments, branch_year)
    result.tables = {"investments": investments.reset_index(drop=True)}
    for name, frames in parts.items():
        result.tables[name] = pd.concat(frames, ignore_index=True)
    result.scenarios = pd.DataFrame(rows)
    plan = tuple(
        (f, int(v), float(var.value))
        for (f, v), var in m.plan.items()
        if var.value is not None and var.value > 1e-9
    )
    what = "robust plan" if branch_year is None else f"shared plan, decided before {branch_year}"
    result.portfolio = Portfolio(label, plan, what)
    result.timings["total"] = time.perf_counter() - started
    return result


def tree_investments(investments, branch_year: int):
    """investments.csv of a tree: the shared plan (decided before `branch_year`, the same in
    every scenario) once, `scenario` "shared", then each scenario's own builds from then on."""
    import pandas as pd

    early = investments["decision_year"] < branch_year
    shared = investments[early].drop_duplicates(["facility", "decision_year"], keep="first")
    shared = shared.sort_values(["facility", "decision_year"], kind="mergesort").assign(
        scenario=SHARED
    )
    own = investments[~early]  # in scenario order, each sorted as extract sorts it
    return pd.concat([shared, own], ignore_index=True)


SHARED = "shared"  # investments.csv `scenario` of the shared plan of a tree


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
class BranchValues:
    """A scenario tree against its two bounds, expected costs in M$ (PV).

    all_shared: every build shared (the all-shared robust plan), an upper bound on the tree;
    perfect_foresight: sum_s p_s * (scenario s's own optimum), a lower bound. The value of
    waiting is all_shared - tree (what deciding after the branch year is worth), the expected
    value of perfect information tree - perfect_foresight (what knowing the scenario before
    the branch year would still be worth). None where a solve has no optimal solution.
    """

    branch_year: int
    tree: float | None
    all_shared: float | None
    perfect_foresight: float | None
    costs: Any = None  # DataFrame: plan, scenario, weight, cost_musd_pv
    statuses: dict[str, str] = field(default_factory=dict)

    @property
    def value_of_waiting(self) -> float | None:
        if self.all_shared is None or self.tree is None:
            return None
        return self.all_shared - self.tree

    @property
    def evpi(self) -> float | None:
        if self.tree is None or self.perfect_foresight is None:
            return None
        return self.tree - self.perfect_foresight

    def payload(self) -> dict:
        """summary.json `robust.branch`."""
        return {
            "branch_year": self.branch_year,
            "expected_cost_musd_pv": {
                "tree": self.tree,
                "all_shared": self.all_shared,
                "perfect_foresight": self.perfect_foresight,
            },
            "value_of_waiting_musd_pv": self.value_of_waiting,
            "evpi_musd_pv": self.evpi,
            "statuses": dict(self.statuses),
        }


def all_shared_bound(datas: list, weights: list[float], options: SolveOptions):
    """The all-shared robust model (every build shared) on prepared `datas`, solved: (status,
    expected cost, each scenario's cost, seconds); costs None unless optimal (a time-limited
    solve is no bound)."""
    import pyomo.environ as pyo

    from allycap.formulation.objective import CATEGORIES
    from allycap.solve import solve_model

    started = time.perf_counter()
    m = build_robust(datas, weights, "expected")
    outcome = solve_model(m, options, health=False, duals=False)
    if outcome.status != "optimal":
        return outcome.status, None, [None] * len(datas), time.perf_counter() - started
    costs = [pyo.value(sum(m.scenario[s].cost[c] for c in CATEGORIES)) for s in range(len(datas))]
    return outcome.status, outcome.objective, costs, time.perf_counter() - started


def own_optimum(data, options: SolveOptions):
    """One scenario's prepared `data` solved alone: (status, cost or None, seconds)."""
    from allycap.formulation.build import build_model
    from allycap.solve import solve_model

    started = time.perf_counter()
    outcome = solve_model(build_model(data), options, health=False, duals=False)
    cost = outcome.objective if outcome.status == "optimal" else None
    return outcome.status, cost, time.perf_counter() - started


def branch_values(
    result: RobustResult,
    options: SolveOptions | None = None,
    batch: BatchOptions | None = None,
    progress: Callable[[int], None] | None = None,
) -> BranchValues:
    """Solve the all-shared robust model and each scenario alone on the tree's prepared data
    (1 + n independent solves, run as `batch` says), and set them beside the tree `result`."""
    import pandas as pd

    from allycap.studies.batch import run_batch

    options = options or SolveOptions()
    batch = batch or BatchOptions()
    weights = weights_of(result.cases)
    labels = [c.label for c in result.cases]
    tasks = [(all_shared_bound, (result.data, weights, options))]
    tasks += [(own_optimum, (data, options)) for data in result.data]
    done = (lambda i: progress(1)) if progress else None
    (status, all_shared, shared_costs, seconds), *singles = run_batch(
        tasks, batch.workers, batch.scheduler, done
    )
    statuses = {"tree": result.status, "all_shared": status}
    result.timings["all_shared"] = seconds
    result.timings["perfect_foresight"] = sum(t for _, _, t in singles)
    own = [cost for _, cost, _ in singles]
    statuses.update({f"own:{label}": st for label, (st, _, _) in zip(labels, singles, strict=True)})
    rows = [
        {
            "plan": "tree",
            "scenario": r["scenario"],
            "weight": r["weight"],
            "cost": r["cost_musd_pv"],
        }
        for r in result.scenarios.to_dict("records")
    ]
    for plan, costs in (("all_shared", shared_costs), ("perfect_foresight", own)):
        rows += [
            {"plan": plan, "scenario": label, "weight": w, "cost": c}
            for label, w, c in zip(labels, weights, costs, strict=True)
        ]
    perfect = (
        None
        if any(c is None for c in own)
        else sum(w * c for w, c in zip(weights, own, strict=True))
    )
    tree = result.objective if result.status == "optimal" else None
    costs = pd.DataFrame(rows).rename(columns={"cost": "cost_musd_pv"})
    return BranchValues(result.branch_year, tree, all_shared, perfect, costs, statuses)


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
    branch_year: int | None = None,
) -> RobustStudy:
    """Solve the robust plan; then, if it has a solution and `compare`, stress it and each
    scenario's own plan under every scenario. `progress(total)` opens a progress display for
    the stress solves and yields its step function (or None).

    With `branch_year`, solve the scenario tree instead and set it beside the all-shared plan
    and perfect foresight (`result.branch`); the stress comparison is not run (a tree's later
    builds differ by scenario, so there is no one plan to stress)."""
    from contextlib import nullcontext

    overrides = list(overrides or [])
    result = solve_robust(input, cases, overrides, objective, options, label, branch_year)
    study = RobustStudy(result, cases)
    if branch_year is not None:
        if result.objective is not None:
            with progress(1 + len(cases)) if progress else nullcontext() as step:
                result.branch = branch_values(result, options, batch, step)
        return study
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
    if inv is not None and result.branch_year is not None:
        inv = inv[inv["scenario"] == SHARED]  # a tree: the KPI is the plan all scenarios share
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
            **({} if result.branch is None else {"branch": branch_summary(result)}),
            "scenarios": []
            if result.scenarios is None
            else [
                {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
                for r in result.scenarios.to_dict("records")
            ],
        },
        "kpis": {
            **expected_accounts(result.scenarios),
            "new_capacity_t_by_region_stage": new_cap,
            "restricted_origins": restricted,
        },
        "timings_s": {k: round(v, 4) for k, v in result.timings.items()},
        # every scenario block shares the inputs' chains; the first block's stand for all
        "chains": payload(result.data[0].chains) if result.data else [],
    }


def expected_accounts(scenarios) -> dict[str, float | None]:
    """The weighted resource and shortage costs over the scenarios, M$ PV (their sum is the
    expected cost; the robust objective is that, or the worst case's cost)."""
    if scenarios is None or not len(scenarios):
        return {"resource_cost_musd_pv": None, "shortage_cost_musd_pv": None}
    w = scenarios["weight"].astype(float)
    return {
        "resource_cost_musd_pv": float((w * scenarios["resource_cost_musd_pv"]).sum()),
        "shortage_cost_musd_pv": float((w * scenarios["shortage_cost_musd_pv"]).sum()),
        "accounts_are": "expected (weighted) over the scenarios",
    }


def _plan_rows(frame) -> list[dict]:
    return [
        {
            "facility": r["facility"],
            "decision_year": int(r["decision_year"]),
            "new_capacity_t": round(float(r["new_capacity_t"]), 6),
        }
        for r in frame.to_dict("records")
    ]


def branch_summary(result: RobustResult) -> dict:
    """summary.json `robust.branch`: the values of the tree, its shared plan and each branch's
    own builds (facility, decision year, t/yr)."""
    inv = result.tables.get("investments")
    payload = result.branch.payload()
    if inv is not None:
        payload["shared_plan"] = _plan_rows(inv[inv["scenario"] == SHARED])
        payload["branch_plans"] = {
            c.label: _plan_rows(inv[inv["scenario"] == c.label]) for c in result.cases
        }
    return payload


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
    if result.branch is not None:
        tables["branch.csv"] = result.branch.costs
    if evaluation is not None:
        tables["robust_stress.csv"] = evaluation
        tables["robust_table.csv"] = robustness_table(evaluation)
    manifest = {
        "kind": "robust",
        **({} if result.branch_year is None else {"branch_year": result.branch_year}),
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
