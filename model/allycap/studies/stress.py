"""`allycap stress`: a solved portfolio's operations under disruption scenarios.

Owns reading a portfolio (a run folder's investments.csv: new capacity by facility and decision
year), fixing it in a scenario's model, and the portfolio-by-scenario robustness table.

For each (portfolio, scenario) the model of the inputs with that scenario merged is built, every
`m.new[f, v]` is fixed to the portfolio's capacity (0 where the portfolio built nothing), and
only operations are re-optimized. Rows that involve nothing but investment decisions (build
limits, ramps, budgets) are dropped: the portfolio is already decided, and a limit checked
against capacities rounded in the CSV could fail by a rounding error. Decisions of the portfolio
that the scenario's model cannot make (a facility it lacks, a decision year past its horizon
after a delay) are counted as missing and left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from allycap.options import BatchOptions, SolveOptions
from allycap.studies.cases import Case, StudyError, operations, prepare_case


@dataclass(frozen=True)
class Portfolio:
    """New capacity by (facility, decision year), t/yr, and where it came from."""

    label: str
    capacity: tuple[tuple[str, int, float], ...]
    source: str = ""

    def as_dict(self) -> dict[tuple[str, int], float]:
        return {(f, v): q for f, v, q in self.capacity}


def read_portfolio(run_dir: str | Path, label: str | None = None) -> Portfolio:
    """The investments of a run folder (raises StudyError if it is not one). Facility ids stay
    strings as written (`allycap.runfolder`): a facility `nan` or `NA` is a facility."""
    from allycap.runfolder import has_table, read_table, require_folder

    folder = require_folder(run_dir, StudyError)
    path = folder / "investments.csv"
    if not has_table(folder, "investments"):
        raise StudyError(
            f"{str(run_dir)!r} has no investments.csv: not a run folder written by a solve "
            "that found a solution."
        )
    frame = read_table(folder, "investments", error=StudyError)
    if _branch_year(folder) is not None:
        # a scenario tree (`solve --robust --branch-year`): each branch builds its own
        raise StudyError(
            f"{str(run_dir)!r} is a scenario tree (solve --branch-year): it has no one plan. "
            "Fix: stress a single-scenario or all-shared robust run folder."
        )
    missing = {"facility", "decision_year", "new_capacity_t"} - set(frame.columns)
    if missing:
        raise StudyError(f"{path}: no column {sorted(missing)[0]!r}; not an allycap run folder.")
    totals = frame.groupby(["facility", "decision_year"], sort=True)["new_capacity_t"].sum()
    capacity = tuple((str(f), int(v), float(q)) for (f, v), q in totals.items() if q > 0)
    return Portfolio(label or folder.name, capacity, str(folder))


def _branch_year(folder: Path) -> int | None:
    """manifest.json `branch_year` of a run folder (None: not a scenario tree, or unreadable)."""
    from allycap.runfolder import RunFolderError, read_manifest

    try:
        return read_manifest(folder).get("branch_year")
    except RunFolderError:
        return None


def fix_portfolio(m, portfolio: dict[tuple[str, int], float]) -> list[tuple[str, int, float]]:
    """Fix every `m.new` to the portfolio and drop investment-only rows; return what is missing.

    Works on a model or on one scenario block of a robust model.
    """
    from allycap.formulation.registry import INVESTMENT_ONLY  # rows declared kind="investment"

    for key, var in m.new.items():
        var.fix(portfolio.get(key, 0.0))
    for name in INVESTMENT_ONLY:
        component = getattr(m, name, None)
        if component is not None:
            component.deactivate()
    return [(f, v, q) for (f, v), q in sorted(portfolio.items()) if q > 0 and (f, v) not in m.new]


def stress_case(
    input: str,
    case: Case,
    overrides: tuple[str, ...],
    portfolio: Portfolio,
    options: SolveOptions | None = None,
) -> dict:
    """One row of stress.csv: `portfolio` fixed, operations re-optimized under `case`."""
    from allycap.errors import InputError
    from allycap.formulation.build import build_model
    from allycap.formulation.objective import shortage_cost
    from allycap.solve import solve_model

    options = options or SolveOptions()
    row: dict = {"portfolio": portfolio.label, "scenario": case.label, "weight": case.weight}
    try:
        data = prepare_case(input, case.scenarios, overrides, options.strict)
    except InputError as exc:
        row.update(status="invalid", message=exc.issues[0].format() if exc.issues else str(exc))
        return row
    m = build_model(data)
    missing = fix_portfolio(m, portfolio.as_dict())
    outcome = solve_model(m, options, health=False)
    row["status"] = outcome.status
    solved = outcome.has_solution
    shortage = shortage_cost(m, data) if solved else math.nan
    row["resource_cost_musd_pv"] = outcome.objective - shortage if solved else math.nan
    row["shortage_cost_musd_pv"] = shortage
    row["objective_musd_pv"] = outcome.objective if solved else math.nan
    ops = operations(m, data) if outcome.has_solution else {}
    for key in ("unmet_t", "unmet_share", "clean_share"):
        row[key] = ops.get(key, math.nan)
    row["new_capacity_t"] = sum(q for _, _, q in portfolio.capacity)
    row["missing_decisions"] = len(missing)
    row["missing_capacity_t"] = sum(q for _, _, q in missing)
    row["message"] = "" if outcome.status == "optimal" else outcome.message
    return row


COLUMNS = [
    "portfolio",
    "scenario",
    "weight",
    "status",
    "resource_cost_musd_pv",
    "shortage_cost_musd_pv",
    "objective_musd_pv",
    "unmet_t",
    "unmet_share",
    "clean_share",
    "new_capacity_t",
    "missing_decisions",
    "missing_capacity_t",
    "message",
]


def stress(
    input: str | Path,
    portfolios: list[Portfolio],
    cases: list[Case],
    overrides: list[str] | None = None,
    options: SolveOptions | None = None,
    batch: BatchOptions | None = None,
    progress: Callable[[int], None] | None = None,
):
    """stress.csv as a frame: one row per portfolio and scenario, in the order given."""
    import pandas as pd

    from allycap.studies.batch import run_batch

    if not cases:
        raise StudyError("give at least one --scenario (a YAML file, or `base`).")
    input = str(Path(input).resolve())
    portfolios = _unique_labels(portfolios)
    tasks = [
        (stress_case, (input, c, tuple(overrides or []), p, options or SolveOptions()))
        for p in portfolios
        for c in cases
    ]
    done = (lambda i: progress(1)) if progress else None
    batch = batch or BatchOptions()
    rows = run_batch(tasks, batch.workers, batch.scheduler, done)
    return pd.DataFrame(rows).reindex(columns=COLUMNS)


def _unique_labels(portfolios: list[Portfolio]) -> list[Portfolio]:
    """Two run folders with the same name (in different places) become `name` and `name#2`."""
    import dataclasses

    seen: dict[str, int] = {}
    out = []
    for p in portfolios:
        seen[p.label] = seen.get(p.label, 0) + 1
        n = seen[p.label]
        out.append(p if n == 1 else dataclasses.replace(p, label=f"{p.label}#{n}"))
    return out


def robustness_table(frame, value: str = "objective_musd_pv"):
    """Rows portfolios, columns scenarios (`value` in each cell), then `expected` (when every
    scenario has a weight: the weighted sum over scenarios of positive weight) and `worst` (the
    largest). A scenario without a solution counts as infinitely bad: its cell is empty and
    `worst` (and `expected`, if its weight is positive) become inf."""
    wide = frame.pivot(index="portfolio", columns="scenario", values=value)
    wide = wide.reindex(index=list(dict.fromkeys(frame["portfolio"])))
    wide = wide[list(dict.fromkeys(frame["scenario"]))].astype(float)
    filled = wide.fillna(math.inf)
    weights = frame.drop_duplicates("scenario").set_index("scenario")["weight"]
    out = wide.copy()
    if len(weights) and weights.notna().all():
        used = [c for c in wide.columns if float(weights[c]) > 0]
        out["expected"] = sum(filled[c] * float(weights[c]) for c in used) if used else 0.0
    out["worst"] = filled.max(axis=1)
    out.columns.name = None
    out.index.name = "portfolio"
    return out.reset_index()


def write_stress(out: Path, frame, input: str, overrides: list[str], portfolios, cases) -> Path:
    """stress.csv (long), stress_table.csv (cost, portfolios x scenarios) and manifest.json."""
    from allycap.studies.output import input_files, versions, write_study

    manifest = {
        "kind": "stress",
        "input": str(input),
        "input_files": input_files(input),
        "overrides": list(overrides or []),
        "portfolios": {p.label: p.source for p in portfolios},
        "scenarios": [
            {"label": c.label, "files": list(c.scenarios), "weight": c.weight} for c in cases
        ],
        "versions": versions(),
    }
    tables = {"stress.csv": frame, "stress_table.csv": robustness_table(frame)}
    return write_study(out, tables, {"manifest.json": manifest})
