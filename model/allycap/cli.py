"""Command-line interface (thin: parse, call `run`, print, set the exit code).

Exit codes: 0 success; 1 infeasible, solver trouble or a failed check; 2 invalid input.
Heavy imports (pyomo, pandas) happen inside commands so that `allycap --help` starts fast.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="allycap: allied critical-mineral capacity planning (Pyomo LP solved with HiGHS).",
)

DEFAULT_INPUT = Path("inputs/base.yaml")
InputArg = Annotated[Path, typer.Argument(help="main input YAML file")]
ScenarioOpt = Annotated[
    list[Path] | None,
    typer.Option("--scenario", "-s", help="scenario YAML merged over the inputs; repeatable"),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="override one value, e.g. --set discount_rate=0.05; repeatable"),
]


def _fail_inputs(exc) -> None:
    typer.echo(f"error: invalid input ({exc.total} problem(s)):", err=True)
    for issue in exc.issues:
        typer.echo(f"  {issue.format()}", err=True)
    raise typer.Exit(2)


def _warn(warnings) -> None:
    for w in warnings:
        typer.echo(f"warning: {w.format()}", err=True)


@contextmanager
def _output_errors(exit_code: int = 2) -> Iterator[None]:
    """An output path allycap may not use, or cannot write: one line, and `exit_code`
    (2 when found before the solve, a usage error; 1 when writing failed after it)."""
    from allycap.targets import OutputTargetError

    try:
        yield
    except OutputTargetError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exit_code) from None
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        typer.echo(
            f"error: could not write{where}: {exc.strerror or exc}; nothing was replaced. "
            "Fix: choose a writable location with free space.",
            err=True,
        )
        raise typer.Exit(exit_code) from None


def _check_out(target: Path, what: str = "--out") -> None:
    """`target` is new or an allycap folder, and its place is writable (before any solve)."""
    from allycap.targets import check_target, probe_writable

    check_target(target, what)
    probe_writable(target, what)


def _default_label(label: str) -> str:
    from allycap.targets import OutputTargetError, check_name

    try:
        return check_name(label)
    except OutputTargetError:
        raise OutputTargetError(
            f"the scenario file names make the run label {label!r}, which is not a plain "
            "folder name. Fix: give --name, e.g. --name my_scenario."
        ) from None


def check_lp_path(path: Path) -> None:
    """--write-lp: a .lp or .mps file in an existing folder, and never a file allycap did not
    write (Pyomo's LP and MPS files start with a `Source Pyomo model` comment)."""
    from allycap.targets import OutputTargetError

    fix = "Fix: e.g. --write-lp outputs/model.lp"
    if path.suffix.lower() not in (".lp", ".mps"):
        raise OutputTargetError(
            f"--write-lp {path}: the file must end in .lp or .mps (the format follows it). {fix}"
        )
    if not path.absolute().parent.is_dir():
        raise OutputTargetError(
            f"--write-lp {path}: the folder {path.parent} does not exist. Fix: create it "
            "first, or write the file into an existing folder."
        )
    if path.is_symlink() or path.is_dir():
        raise OutputTargetError(f"--write-lp {path} is a folder or a link, not a file. {fix}")
    if path.exists():
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                head = handle.read(200)
        except OSError:
            head = ""
        if "Source Pyomo model" not in head:
            raise OutputTargetError(
                f"--write-lp {path} exists and is not an LP/MPS file that allycap wrote; it "
                "would be replaced. Fix: choose a new file name."
            )


def check_junit_path(path: Path) -> None:
    """--junit: an .xml file in an existing folder, never a file allycap did not write."""
    from allycap.checks import JUNIT_SUITE
    from allycap.targets import OutputTargetError

    if path.suffix.lower() != ".xml":
        raise OutputTargetError(f"--junit {path}: the file must end in .xml. Fix: --junit out.xml")
    if path.is_symlink() or path.is_dir():
        raise OutputTargetError(f"--junit {path} is a folder or a link, not a file.")
    if path.exists():
        try:
            head = path.read_text(encoding="utf-8", errors="replace")[:400]
        except OSError:
            head = ""
        if f'name="{JUNIT_SUITE}"' not in head:
            raise OutputTargetError(
                f"--junit {path} exists and is not a JUnit file that allycap wrote; it would be "
                "replaced. Fix: choose a new file name."
            )


def non_optimal_target(target: Path, status: str) -> Path:
    """Where a run without an optimum goes: `target`, unless that holds a solved run's tables,
    which such a run must never replace; then the sibling `<name>.<status>`."""
    if target.is_dir() and any(target.glob("*.csv")):
        return target.with_name(f"{target.name}.{status}")
    return target


def _check_time_limit(time_limit: float | None) -> None:
    if time_limit is not None and not (0 < time_limit < float("inf")):
        typer.echo(
            f"error: --time-limit {time_limit:g} is not a positive number of seconds. "
            "Fix: e.g. --time-limit 60, or leave it out for no limit.",
            err=True,
        )
        raise typer.Exit(2)


def _check_scheduler(scheduler: str | None) -> None:
    """--scheduler needs Dask; say so before any solve, not after it."""
    from allycap.studies.batch import BatchError, require_dask

    if scheduler:
        try:
            require_dask()
        except BatchError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None


@app.command()
def validate(
    input: InputArg = DEFAULT_INPUT,
    scenario: ScenarioOpt = None,
    set_: SetOpt = None,
) -> None:
    """Check the inputs (schema, references, years, shares) and trace demands to sources."""
    from allycap.errors import InputError
    from allycap.run import load_and_validate

    try:
        raw, inputs, warnings = load_and_validate(input, scenario, set_)
    except InputError as exc:
        _fail_inputs(exc)
    _warn(warnings)
    typer.echo(
        f"ok: {input} is valid ({len(raw.files)} file(s); {len(inputs.regions)} regions, "
        f"{len(inputs.facilities)} facilities, {len(inputs.processes)} processes)."
    )


@app.command()
def solve(
    input: InputArg = DEFAULT_INPUT,
    scenario: ScenarioOpt = None,
    set_: SetOpt = None,
    out: Annotated[Path | None, typer.Option(help="run folder; default outputs/<scenario>")] = None,
    name: Annotated[str | None, typer.Option(help="scenario label written in every table")] = None,
    strict: Annotated[
        bool | None,
        typer.Option("--strict/--no-strict", help="forbid unmet demand (default: options.strict)"),
    ] = None,
    time_limit: Annotated[float | None, typer.Option(help="HiGHS time limit, seconds")] = None,
    threads: Annotated[int, typer.Option(min=1, help="HiGHS threads (fixed for determinism)")] = 1,
    write_lp: Annotated[
        str | None, typer.Option(help="write the model to this .lp/.mps file")
    ] = None,
    robust: Annotated[
        str | None,
        typer.Option(
            help="solve one investment plan for several scenarios at once: S1:p1,S2:p2,... "
            "(scenario YAML or `base`, each with its weight; no weights = equal)",
        ),
    ] = None,
    robust_objective: Annotated[
        str, typer.Option(help="with --robust: expected (weighted) or worst (largest) cost")
    ] = "expected",
    robust_compare: Annotated[
        bool,
        typer.Option(
            help="with --robust: also stress the plan and each scenario's own plan under every "
            "scenario (robust_table.csv)"
        ),
    ] = True,
    branch_year: Annotated[
        int | None,
        typer.Option(
            help="with --robust: decide now, adapt later: a scenario tree in which every "
            "decision before this model year is shared and later ones are each scenario's own "
            "(branch.csv: value of waiting, value of perfect information)",
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="with --robust: local worker processes")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="with --robust: Dask scheduler, e.g. tcp://host:8786")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="print only the status line")] = False,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain/--no-explain",
            help="on infeasibility, compute an IIS and explain it (can take a minute on large "
            "inputs)",
        ),
    ] = True,
    png: Annotated[
        bool,
        typer.Option("--png", help="also write charts/*.png (needs matplotlib, the report extra)"),
    ] = False,
    excel: Annotated[
        bool,
        typer.Option("--excel", help="also write tables.xlsx (needs openpyxl, the report extra)"),
    ] = False,
) -> None:
    """Solve the model and write outputs/<run>/ (CSV tables, summary.json, manifest.json)."""
    from allycap.options import BatchOptions, SolveOptions
    from allycap.run import scenario_label
    from allycap.targets import check_name

    # Every check that needs no solve comes first: a usage error must not cost a solve.
    _check_report_extras(png, excel)
    _check_time_limit(time_limit)
    _check_scheduler(scheduler)
    with _output_errors():
        if name is not None:
            label = check_name(name)
        else:
            label = "robust" if robust is not None else _default_label(scenario_label(scenario))
        target = out or Path("outputs") / label
        _check_out(target)
        if write_lp:
            check_lp_path(Path(write_lp))
    options = SolveOptions(strict, time_limit, threads, explain, write_lp)
    if robust is not None:
        _solve_robust(
            input,
            robust,
            scenario,
            set_,
            target,
            label,
            robust_objective,
            robust_compare,
            options,
            BatchOptions(workers, scheduler),
            quiet,
            branch_year,
        )
        return
    if branch_year is not None:
        typer.echo(
            "error: --branch-year needs --robust S1:p1,S2:p2,... (the scenarios of the tree).",
            err=True,
        )
        raise typer.Exit(2)
    from allycap.errors import InputError
    from allycap.run import manifest_payload, run, summary_payload

    started = time.perf_counter()
    try:
        r = run(input, scenario, set_, options, label=name)
    except InputError as exc:
        _fail_inputs(exc)
    _warn(r.warnings)
    from allycap.versions import drift_warning

    drift = drift_warning()
    if drift:
        typer.echo(f"warning: {drift}", err=True)
    for text in r.numeric_warnings:
        typer.echo(f"warning: numerics: {text}", err=True)
    res = r.results
    from allycap.interrupt import stage
    from allycap.write import write_run

    recorded = {**options.manifest(), "strict": r.data.strict}
    if res.status != "optimal" and (res.objective is not None or r.diagnosis is not None):
        # A run that did not reach an optimum never replaces a solved run's tables.
        kept, target = target, non_optimal_target(target, res.status)
        if target != kept:
            typer.echo(
                f"{kept}/ holds an earlier solved run and is kept as it was; this "
                f"{res.status} run goes to {target}/.",
                err=True,
            )
    if res.objective is None:
        typer.echo(f"{res.status}: {res.message}", err=True)
        if r.diagnosis is not None:
            typer.echo("Why:", err=True)
            for line in r.diagnosis.explanation:
                typer.echo(f"  - {line}", err=True)
            if r.diagnosis.note:
                typer.echo(f"  ({r.diagnosis.note})", err=True)
            with stage("writing the diagnosis"), _output_errors(exit_code=1):
                write_run(
                    res,
                    target,
                    summary_payload(r),
                    manifest_payload(r, recorded),
                    {"infeasibility.json": r.diagnosis.as_dict()},
                )
            typer.echo(
                f"Wrote {target}/infeasibility.json (every conflicting row, traced to its input).",
                err=True,
            )
        else:
            typer.echo("No run folder was written; any previous results are untouched.", err=True)
        raise typer.Exit(1)
    t = time.perf_counter()
    with stage("writing the run folder"), _output_errors(exit_code=1):
        write_run(
            res, target, summary_payload(r), manifest_payload(r, recorded), png=png, excel=excel
        )
    r.timings["write"] = time.perf_counter() - t
    if not quiet:
        from allycap.console import format_summary

        typer.echo(format_summary(r))
    typer.echo(
        f"{res.status}: {_accounts_text(res)} M$ (PV {r.data.years[0]}); "
        f"wrote {target}/ in {time.perf_counter() - started:.1f} s"
    )
    if res.status != "optimal":
        typer.echo(res.message, err=True)
        raise typer.Exit(1)


def _accounts_text(res) -> str:
    """ "resource cost R + shortage cost S = objective O": the status line never prints one
    total that mixes what is spent with what unserved demand is worth, without saying so."""
    k = res.summary
    return (
        f"resource cost {k['resource_cost_musd_pv']:,.1f} + shortage cost "
        f"{k['shortage_cost_musd_pv']:,.1f} = objective {res.objective:,.1f}"
    )


@app.command()
def check(
    input: InputArg = DEFAULT_INPUT,
    scenario: Annotated[
        list[Path] | None,
        typer.Option(
            "--scenario",
            "-s",
            help="scenario to check as its own case, beside the base; repeatable "
            "(default: every <inputs>/scenarios/*.yaml)",
        ),
    ] = None,
    junit: Annotated[Path | None, typer.Option(help="write JUnit XML here")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print results as JSON")] = False,
    max_unmet: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="largest share of demand not served (curtailed + unmet) accepted; overrides "
            "each scenario's check block",
        ),
    ] = None,
    time_limit: Annotated[float | None, typer.Option(help="HiGHS time limit per solve")] = None,
) -> None:
    """Validate and solve the base and every scenario (default: all in <inputs>/scenarios/)."""
    from allycap.checks import run_checks, write_junit
    from allycap.options import SolveOptions

    _check_time_limit(time_limit)
    if junit:
        with _output_errors():
            check_junit_path(junit)
    scenarios = scenario
    if not scenarios:
        folder = input.parent / "scenarios"
        scenarios = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    cases = [None, *scenarios]
    outcomes = run_checks(input, cases, max_unmet, SolveOptions(time_limit=time_limit))
    if junit:
        with _output_errors(exit_code=1):
            write_junit(junit, outcomes)
    if json_out:
        typer.echo(json.dumps([o.as_dict() for o in outcomes], indent=2))
    else:
        for o in outcomes:
            typer.echo(f"{o.verdict.upper():<7} {o.name:<32} {o.detail}")
    codes = {o.exit_code for o in outcomes}
    raise typer.Exit(2 if 2 in codes else 1 if 1 in codes else 0)


def _check_report_extras(png: bool, excel: bool) -> None:
    from allycap.report import ReportError, check_extras

    try:
        check_extras(png, excel)
    except ReportError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def report(
    run_dir: Annotated[
        Path,
        typer.Argument(help="a run folder (or a folder with compare.csv, sweep.csv or ranges.csv)"),
    ],
    png: Annotated[
        bool,
        typer.Option("--png", help="also write charts/*.png (needs matplotlib, the report extra)"),
    ] = False,
    excel: Annotated[
        bool,
        typer.Option("--excel", help="also write tables.xlsx (needs openpyxl, the report extra)"),
    ] = False,
    sankey_year: Annotated[
        int | None, typer.Option(help="year of the chain Sankey (default: the last model year)")
    ] = None,
) -> None:
    """Write report.html (offline charts and tables) into a run, comparison, sweep or
    alternatives folder.

    --png adds charts/*.png for slides, --excel tables.xlsx with every table."""
    from allycap.report import ReportError, write_report
    from allycap.targets import is_allycap_folder

    looks_like_run = any(
        (run_dir / f).is_file() for f in ("summary.json", "compare.csv", "sweep.csv", "ranges.csv")
    )
    if looks_like_run and not is_allycap_folder(run_dir):
        typer.echo(
            f"error: {run_dir} is not a folder allycap wrote (no manifest.json with tool: "
            "allycap); the report is written only into run, comparison, sweep and alternatives "
            "folders. Fix: e.g. allycap report outputs/base",
            err=True,
        )
        raise typer.Exit(2)
    try:
        written = write_report(run_dir, png=png, excel=excel, sankey_year=sankey_year)
    except ReportError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    charts = [p for p in written if p.suffix == ".png"]
    for p in written:
        if p.suffix != ".png":
            typer.echo(f"wrote {p}")
    if charts:
        typer.echo(f"wrote {len(charts)} chart(s) to {charts[0].parent}/")


@app.command()
def explain(
    run_dir: Annotated[Path, typer.Argument(help="a run folder written by `allycap solve`")],
    facility: Annotated[str | None, typer.Option(help="facility id to explain")] = None,
    region: Annotated[str | None, typer.Option(help="region id (with --commodity, --year)")] = None,
    commodity: Annotated[str | None, typer.Option(help="commodity id")] = None,
    year: Annotated[int | None, typer.Option(help="model year")] = None,
) -> None:
    """Why a facility was built or not, or what sets a market: costs against the marginal
    value of output, binding constraints, reduced costs (read from the run folder)."""
    from allycap.explain import ExplainError, explain_facility, explain_market

    try:
        if facility:
            text = explain_facility(run_dir, facility)
        elif region and commodity and year is not None:
            text = explain_market(run_dir, region, commodity, year)
        else:
            typer.echo(
                "error: give --facility ID, or --region R --commodity C --year Y. "
                "Fix: e.g. allycap explain outputs/base --facility mountain_pass",
                err=True,
            )
            raise typer.Exit(2)
    except ExplainError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(text)


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="folder to write base.yaml into")],
    regions: Annotated[int, typer.Option(min=3, help="regions (the first is restricted)")] = 6,
    years: Annotated[int, typer.Option(min=2, help="yearly model years")] = 16,
    facilities: Annotated[
        int, typer.Option(min=1, help="facilities per region and stage (half are candidates)")
    ] = 2,
) -> None:
    """Write a synthetic input of any size with the structure of the real dataset."""
    from allycap.synthetic import generate as make
    from allycap.synthetic import write

    with _output_errors():
        path = write(make(regions, years, facilities), out)
    typer.echo(f"wrote {path} ({regions} regions, {years} years, {facilities} per stage)")


WorkersOpt = Annotated[
    int | None,
    typer.Option(min=1, help="local worker processes for the batch (default: run serially)"),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(help="run the batch on this Dask scheduler, e.g. tcp://host:8786"),
]
StudyQuietOpt = Annotated[
    bool, typer.Option(help="no progress bar and no table, only the closing line")
]
StrictOpt = Annotated[
    bool | None,
    typer.Option("--strict/--no-strict", help="forbid unmet demand (default: options.strict)"),
]


def _study_errors():
    """Turn the studies' usage errors into one line on stderr and exit code 2."""
    from contextlib import contextmanager

    from allycap.errors import InputError
    from allycap.studies.batch import BatchError
    from allycap.studies.cases import StudyError

    @contextmanager
    def guard():
        try:
            yield
        except InputError as exc:
            _fail_inputs(exc)
        except (StudyError, BatchError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None

    return guard()


def _progress(total: int, label: str, quiet: bool):
    """A progress bar on stderr, or nothing when quiet, not on a terminal, or one step long."""
    from contextlib import contextmanager

    @contextmanager
    def bar():
        if quiet or total <= 1 or not sys.stderr.isatty():
            yield None
            return
        with typer.progressbar(length=total, label=label, file=sys.stderr) as b:
            yield b.update

    return bar()


@app.command()
def sweep(
    input: InputArg = DEFAULT_INPUT,
    vary: Annotated[
        list[str] | None,
        typer.Option(
            help="KEY=START:STOP:STEP or KEY=V1,V2,... (KEY a --set path, e.g. "
            "independence.allied_clean.share, or `share` with --rule); repeat for a grid",
        ),
    ] = None,
    rule: Annotated[
        str | None,
        typer.Option(
            help="independence rule: what `--vary share` varies, and whose clean share "
            "and marginal price sweep.csv reports"
        ),
    ] = None,
    scenario: ScenarioOpt = None,
    set_: SetOpt = None,
    out: Annotated[Path | None, typer.Option(help="folder; default outputs/sweep-<key>")] = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    strict: StrictOpt = None,
    time_limit: Annotated[float | None, typer.Option(help="HiGHS time limit per point")] = None,
    threads: Annotated[int, typer.Option(min=1, help="HiGHS threads (fixed for determinism)")] = 1,
    quiet: StudyQuietOpt = False,
) -> None:
    """Solve over a grid of parameter values and write outputs/sweep-<key>/sweep.csv."""
    from allycap.options import BatchOptions, SolveOptions
    from allycap.studies.sweep import (
        default_folder,
        format_sweep,
        plan_sweep,
        run_sweep,
        write_sweep,
    )

    _check_time_limit(time_limit)
    _check_scheduler(scheduler)
    options = SolveOptions(strict, time_limit, threads)
    batch = BatchOptions(workers, scheduler)
    with _study_errors():
        plan = plan_sweep(input, scenario, set_, vary or [], rule, options)
        n = len(plan.points())
        if plan.persistent:
            mode = "re-solving one persistent HiGHS model (mutable independence shares)"
        else:
            keys = ", ".join(a.key for a in plan.axes if not a.rule)
            mode = (
                f"re-running the whole pipeline at each point ({keys} is not an "
                "independence share; correct but slower)"
            )
        target = out or default_folder(plan)
        with _output_errors():
            _check_out(target)
        typer.echo(f"sweep of {n} point(s): {mode}", err=quiet)
        with _progress(n, "solving", quiet) as step:
            result = run_sweep(plan, batch, step)
    with _output_errors(exit_code=1):
        write_sweep(target, plan, result, batch)
    frame = result.frame
    if not quiet:
        typer.echo(format_sweep(frame))
    counts = frame["status"].value_counts()
    detail = ", ".join(f"{k} {v}" for k, v in counts.items())
    typer.echo(f"wrote {target}/sweep.csv: {n} point(s) ({detail}) in {result.seconds:.1f} s")


@app.command()
def alternatives(
    input: InputArg = DEFAULT_INPUT,
    scenario: ScenarioOpt = None,
    set_: SetOpt = None,
    slack: Annotated[
        str,
        typer.Option(help="cost slacks over the least cost, e.g. 0.01,0.05 (or 1%,5%); each >= 0"),
    ] = "0.01",
    by: Annotated[
        str | None,
        typer.Option(
            help="new capacity ranged per region,stage (default), region, stage, or none "
            "(regions: bloc allied, else all outside the restricted origins)"
        ),
    ] = None,
    years: Annotated[
        str | None,
        typer.Option(
            help="only these model years: decision years of new capacity, delivery years of a "
            "clean share, e.g. 2025,2026,2027"
        ),
    ] = None,
    group: Annotated[
        list[str] | None,
        typer.Option(
            help='a named quantity "NAME=REGIONS:STAGES" (joined by +, * for all), e.g. '
            '"North America separation=CAN+USA:separation"; repeatable'
        ),
    ] = None,
    clean_share: Annotated[
        list[str] | None,
        typer.Option(
            help="the clean share of a min_clean_share rule's group: RULE or RULE:GROUP; repeatable"
        ),
    ] = None,
    keep_shortfall: Annotated[
        bool,
        typer.Option(
            "--keep-shortfall/--allow-shortfall",
            help="cap the shortage account at the least-cost plan's, so an alternative cannot "
            "buy flexibility with unmet demand (default on)",
        ),
    ] = True,
    plans: Annotated[
        bool, typer.Option("--plans/--no-plans", help="write a run folder for every extreme")
    ] = True,
    spores: Annotated[
        int,
        typer.Option(
            min=0,
            help="also N diverse alternatives per slack (SPORES): each moves away from the "
            "capacity built by the plans before it (spores.csv)",
        ),
    ] = 0,
    out: Annotated[Path | None, typer.Option(help="folder; default outputs/alternatives")] = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    strict: StrictOpt = None,
    time_limit: Annotated[float | None, typer.Option(help="HiGHS time limit per solve")] = None,
    threads: Annotated[int, typer.Option(min=1, help="HiGHS threads (fixed for determinism)")] = 1,
    quiet: StudyQuietOpt = False,
) -> None:
    """Near-optimal ranges: each quantity's min and max within a cost slack (ranges.csv).

    Plans that cost at most (1 + slack) x the least cost; a run folder per extreme under
    plans/."""
    from allycap.options import BatchOptions, SolveOptions
    from allycap.studies.alternatives import default_folder, format_ranges, plan_alternatives
    from allycap.studies.alternatives import study as run_study

    _check_time_limit(time_limit)
    _check_scheduler(scheduler)
    options = SolveOptions(strict, time_limit, threads)
    batch = BatchOptions(workers, scheduler)
    target = out or default_folder()
    with _output_errors():
        _check_out(target)
    with _study_errors():
        plan = plan_alternatives(
            input,
            scenario,
            set_,
            slack,
            by,
            years,
            group,
            clean_share,
            keep_shortfall,
            plans,
            options,
            spores,
        )
        n = len(plan.items()) + spores * len(plan.slacks)
        typer.echo(
            f"alternatives: {len(plan.quantities)} quantities"
            f" x {len(plan.slacks)} slack(s) x min/max"
            + (f" + {spores} SPORES x {len(plan.slacks)} slack(s)" if spores else "")
            + f" = {n} solve(s) after the least-cost one, "
            "re-solving one persistent HiGHS model",
            err=quiet,
        )
        with _progress(n, "solving", quiet) as step, _output_errors(exit_code=1):
            result = run_study(target, plan, batch, step)
    optimum = result.optimum
    if optimum["status"] != "optimal":
        typer.echo(f"{optimum['status']}: {optimum.get('message', '')}", err=True)
        typer.echo("No folder was written: without a least-cost plan there is no cap.", err=True)
        raise typer.Exit(1)
    if not quiet:
        typer.echo(format_ranges(result.ranges))
    counts = result.solves["status"].value_counts()
    detail = ", ".join(f"{k} {v}" for k, v in counts.items())
    extra = ""
    spored = result.spores
    if spored is not None:
        found = int(((spored["spore"] > 0) & (spored["status"] == "optimal")).sum())
        extra = f" and spores.csv ({found} of {spores * len(plan.slacks)} spore(s) optimal)"
    typer.echo(
        f"least cost {optimum['objective_musd_pv']:,.1f} M$ (PV); wrote {target}/ranges.csv: "
        f"{len(result.solves)} range solve(s) ({detail}){extra} in {result.seconds:.1f} s"
    )
    spores_bad = spored is not None and (spored["status"] != "optimal").any()
    if spores_bad or any(s != "optimal" for s in result.solves["status"]):
        typer.echo(
            "some solves did not end optimal: their range ends are blank in ranges.csv "
            "(solves.csv says why).",
            err=True,
        )
        raise typer.Exit(1)


@app.command()
def stress(
    run_dir: Annotated[Path, typer.Argument(help="run folder whose investments are fixed")],
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario",
            "-s",
            help="disruption scenario YAML (or `base`), optionally PATH:WEIGHT; repeatable",
        ),
    ] = None,
    portfolio: Annotated[
        list[Path] | None,
        typer.Option(help="another run folder to stress beside RUN_DIR; repeatable"),
    ] = None,
    input: Annotated[
        Path, typer.Option("--input", help="main input YAML the scenarios are merged over")
    ] = DEFAULT_INPUT,
    set_: SetOpt = None,
    out: Annotated[Path | None, typer.Option(help="folder; default outputs/stress-<run>")] = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    strict: StrictOpt = None,
    time_limit: Annotated[float | None, typer.Option(help="HiGHS time limit per case")] = None,
    threads: Annotated[int, typer.Option(min=1, help="HiGHS threads (fixed for determinism)")] = 1,
    quiet: StudyQuietOpt = False,
) -> None:
    """Fix a portfolio's investments and re-optimize operations under each scenario."""
    from allycap.options import BatchOptions, SolveOptions
    from allycap.studies.cases import parse_cases
    from allycap.studies.stress import read_portfolio, robustness_table, write_stress
    from allycap.studies.stress import stress as run_stress

    _check_time_limit(time_limit)
    _check_scheduler(scheduler)
    target = out or Path("outputs") / f"stress-{run_dir.resolve().name}"
    with _output_errors():
        _check_out(target)
    with _study_errors():
        portfolios = [read_portfolio(p) for p in [run_dir, *(portfolio or [])]]
        cases = parse_cases(scenario or [])
        total = len(portfolios) * len(cases)
        with _progress(total, "solving", quiet) as step:
            frame = run_stress(
                input,
                portfolios,
                cases,
                set_,
                SolveOptions(strict, time_limit, threads),
                BatchOptions(workers, scheduler),
                step,
            )
    with _output_errors(exit_code=1):
        write_stress(target, frame, str(input.resolve()), set_ or [], portfolios, cases)
    if not quiet:
        typer.echo(_wide_tables(frame, robustness_table))
    typer.echo(
        f"wrote {target}/stress.csv: {len(portfolios)} portfolio(s) x {len(cases)} scenario(s)"
    )


def _wide_tables(frame, robustness_table) -> str:
    money = lambda v: f"{v:,.1f}"  # noqa: E731
    resource = robustness_table(frame, "resource_cost_musd_pv").set_index("portfolio")
    shortage = robustness_table(frame, "shortage_cost_musd_pv").set_index("portfolio")
    cost = robustness_table(frame).set_index("portfolio")
    unmet = robustness_table(frame, "unmet_share").set_index("portfolio")
    unmet = unmet.drop(columns=[c for c in ("expected",) if c in unmet])
    return "\n".join(
        [
            "Resource cost, M$ PV (portfolio fixed, operations re-optimized):",
            resource.to_string(float_format=money),
            "",
            "Shortage cost, M$ PV (curtailed and unmet demand, at the sectors' costs):",
            shortage.to_string(float_format=money),
            "",
            "Objective, M$ PV (resource + shortage):",
            cost.to_string(float_format=money),
            "",
            "Demand not served (curtailed + unmet), share of demand:",
            unmet.to_string(float_format=lambda v: f"{v:.2%}"),
            "",
        ]
    )


@app.command()
def compare(
    sources: Annotated[
        list[str], typer.Argument(help="run folders, scenario YAML files (solved first), or base")
    ],
    input: Annotated[
        Path, typer.Option("--input", help="main input YAML that scenario files are merged over")
    ] = DEFAULT_INPUT,
    set_: SetOpt = None,
    years: Annotated[
        str | None, typer.Option(help="model years for shares and stocks, e.g. 2030,2035,2040")
    ] = None,
    restricted: Annotated[
        str | None,
        typer.Option(
            help="restricted origins, e.g. CHN,RUS (only for run folders that predate "
            "their listing in summary.json)"
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="folder for compare.csv")] = Path("outputs/compare"),
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    quiet: StudyQuietOpt = False,
) -> None:
    """KPIs of runs side by side and investments facility by facility (compare.csv)."""
    from allycap.studies.compare import compare as run_compare
    from allycap.studies.compare import format_kpis, parse_years, write_compare

    _check_scheduler(scheduler)
    with _output_errors():
        _check_out(out)
    with _study_errors():
        chosen = parse_years(years)
        listed = [r.strip() for r in restricted.split(",")] if restricted else None
        solving = sum(1 for s in sources if not Path(s).is_dir())
        with _progress(solving, "solving", quiet) as step:
            comparison = run_compare(
                sources,
                input,
                set_,
                chosen,
                listed,
                workers=workers,
                scheduler=scheduler,
                progress=step,
            )
    with _output_errors(exit_code=1):
        write_compare(out, comparison, sources)
    if not quiet:
        typer.echo(format_kpis(comparison.kpis))
        typer.echo("")
    changed = comparison.investments
    diffs = [c for c in changed.columns if c.startswith("diff_")]
    moved = int((changed[diffs].abs() > 1e-6).any(axis=1).sum()) if diffs else 0
    typer.echo(
        f"wrote {out}/compare.csv and investment_diff.csv: {len(comparison.views)} run(s), "
        f"{moved} facilit{'y' if moved == 1 else 'ies'} invested differently"
    )


def _solve_robust(
    input,
    spec,
    common,
    overrides,
    out,
    label,
    objective,
    compare,
    options,
    batch,
    quiet,
    branch_year=None,
) -> None:
    """`allycap solve --robust`: the study runs in allycap.studies.robust; here, printing."""
    from allycap.studies.output import format_table
    from allycap.studies.robust import robust_cases, robust_study, write_robust
    from allycap.studies.stress import robustness_table

    started = time.perf_counter()
    with _study_errors():
        cases = robust_cases(spec, common, objective)
        study = robust_study(
            input,
            cases,
            overrides,
            objective,
            options,
            batch,
            label,
            compare,
            lambda total: _progress(
                total, "stressing plans" if branch_year is None else "solving bounds", quiet
            ),
            branch_year,
        )
    result, evaluation = study.result, study.evaluation
    if result.objective is None:
        typer.echo(f"{result.status}: {result.message}", err=True)
        typer.echo("No run folder was written; any previous results are untouched.", err=True)
        raise typer.Exit(1)
    with _output_errors(exit_code=1):
        write_robust(out, result, str(Path(input).resolve()), overrides, options, evaluation)
    if not quiet and result.branch is not None:
        _print_tree(result)
    elif not quiet:
        typer.echo(f"robust plan over {len(cases)} scenarios ({objective} cost): {result.status}")
        typer.echo("")
        formats = {
            "weight": ".3g",
            "resource_cost_musd_pv": ",.1f",
            "shortage_cost_musd_pv": ",.1f",
            "cost_musd_pv": ",.1f",
            "unmet_t": ",.0f",
            "unmet_share": ".2%",
            "clean_share": ".1%",
        }
        typer.echo(format_table(result.scenarios, formats))
        inv = result.tables["investments"]
        if len(inv):
            from allycap.chains import StageBook
            from allycap.console import capacity_table

            book = StageBook(result.data[0].chains if result.data else [])
            typer.echo("\nNew capacity of the plan, t/yr (by region and stage):")
            typer.echo(capacity_table(inv, book))
        if evaluation is not None:
            typer.echo("")
            typer.echo(_wide_tables(evaluation, robustness_table))
    typer.echo(
        f"{result.status}: {objective} cost (resource + shortage) {result.objective:,.1f} M$ (PV); "
        "wrote "
        f"{out}/ in {time.perf_counter() - started:.1f} s"
    )
    if result.status != "optimal":
        raise typer.Exit(1)


def _print_tree(result) -> None:
    """The console part of `solve --robust --branch-year`: shared plan, branches, values."""
    from allycap.studies.output import format_table
    from allycap.studies.robust import SHARED

    b = result.branch
    year = b.branch_year
    n = len(result.cases)
    typer.echo(f"scenario tree over {n} scenarios, branching in {year}: {result.status}")
    typer.echo("")
    formats = {"weight": ".3g", "cost_musd_pv": ",.1f", "unmet_t": ",.0f"}
    formats.update({"resource_cost_musd_pv": ",.1f", "shortage_cost_musd_pv": ",.1f"})
    formats.update({"unmet_share": ".2%", "clean_share": ".1%"})
    typer.echo(format_table(result.scenarios, formats))
    inv = result.tables["investments"]
    cols = ["facility", "decision_year", "online_year", "new_capacity_t"]
    for who, title in [
        (SHARED, f"Shared plan (decided before {year}, the same in every scenario), t/yr:"),
        *(
            (c.label, f"Branch {c.label} (its own builds from {year} on), t/yr:")
            for c in result.cases
        ),
    ]:
        rows = inv[inv["scenario"] == who]
        typer.echo(f"\n{title}")
        typer.echo(format_table(rows[cols], {"new_capacity_t": ",.0f"}) if len(rows) else "  none")

    def money(x) -> str:
        return "n/a" if x is None else f"{x:,.1f} M$"

    lines = [
        (f"tree (decide before {year}, adapt after)", b.tree),
        ("all-shared robust plan", b.all_shared),
        ("perfect foresight (each its own optimum)", b.perfect_foresight),
        ("value of waiting (all-shared - tree)", b.value_of_waiting),
        ("value of perfect information (tree - perfect foresight)", b.evpi),
    ]
    width = max(len(text) for text, _ in lines)
    typer.echo("\nExpected cost (PV):")
    for text, value in lines:
        typer.echo(f"  {text:<{width}}  {money(value):>16}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of the input format (for editors)."""
    from allycap.inputs.schema import Inputs

    typer.echo(json.dumps(Inputs.model_json_schema(), indent=2))


def main() -> None:
    import os

    from allycap import interrupt

    interrupt.install()
    code: int = 0
    try:
        app()
    except SystemExit as exc:
        if isinstance(exc.code, str):
            typer.echo(exc.code, err=True)
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except interrupt.Interrupted as exc:
        typer.echo(exc.line(), err=True)
        code = exc.exit_code
    # Leave at once: tearing down a large Pyomo model takes a moment, and Python restores the
    # default signal handlers for it, so a Ctrl-C then would end the process with no word.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
