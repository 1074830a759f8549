"""Command-line interface (thin: parse, call `run`, print, set the exit code).

Exit codes: 0 success; 1 infeasible, solver trouble or a failed check; 2 invalid input.
Heavy imports (pyomo, pandas) happen inside commands so that `allycap --help` starts fast.
"""

from __future__ import annotations

import json
import sys
import time
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
    typer.echo(f"error: invalid input ({len(exc.issues)} problem(s)):", err=True)
    for issue in exc.issues:
        typer.echo(f"  {issue.format()}", err=True)
    raise typer.Exit(2)


def _warn(warnings) -> None:
    for w in warnings:
        typer.echo(f"warning: {w.format()}", err=True)


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
    threads: Annotated[int, typer.Option(help="HiGHS threads (fixed for determinism)")] = 1,
    write_lp: Annotated[
        str | None, typer.Option(help="write the model to this .lp/.mps file")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="print only the status line")] = False,
) -> None:
    """Solve the model and write outputs/<run>/ (CSV tables, summary.json, manifest.json)."""
    from allycap.errors import InputError
    from allycap.run import manifest_payload, run, summary_payload

    started = time.perf_counter()
    try:
        r = run(
            input,
            scenario,
            set_,
            strict=strict,
            time_limit=time_limit,
            threads=threads,
            write_lp=write_lp,
            label=name,
        )
    except InputError as exc:
        _fail_inputs(exc)
    _warn(r.warnings)
    for text in r.numeric_warnings:
        typer.echo(f"warning: numerics: {text}", err=True)
    res = r.results
    from allycap.write import write_run

    target = out or Path("outputs") / r.label
    options = {"strict": r.data.strict, "time_limit": time_limit, "threads": threads}
    if res.objective is None:
        typer.echo(f"{res.status}: {res.message}", err=True)
        if r.diagnosis is not None:
            typer.echo("Why:", err=True)
            for line in r.diagnosis.explanation:
                typer.echo(f"  - {line}", err=True)
            if r.diagnosis.note:
                typer.echo(f"  ({r.diagnosis.note})", err=True)
            write_run(
                res,
                target,
                summary_payload(r),
                manifest_payload(r, options),
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
    write_run(res, target, summary_payload(r), manifest_payload(r, options))
    r.timings["write"] = time.perf_counter() - t
    if not quiet:
        typer.echo(format_summary(r))
    typer.echo(
        f"{res.status}: total cost {res.objective:,.1f} M$ (PV {r.data.years[0]}); "
        f"wrote {target}/ in {time.perf_counter() - started:.1f} s"
    )
    if res.status != "optimal":
        typer.echo(res.message, err=True)
        raise typer.Exit(1)


def format_summary(r) -> str:
    """The short table printed after a solve."""
    import pandas as pd

    res, d = r.results, r.data
    lines = [f"scenario {r.label}: {res.status}", ""]
    costs = res.tables["costs"]
    if len(costs):
        by_cat = costs.groupby("category")["present_value_musd"].sum()
        lines.append("Cost, M$ present value:")
        lines += [f"  {cat:<10} {val:>14,.1f}" for cat, val in by_cat.items() if abs(val) > 1e-6]
        lines.append(f"  {'total':<10} {res.objective:>14,.1f}")
        lines.append("")
    inv = res.tables["investments"]
    if len(inv):
        table = inv.pivot_table(
            index="region", columns="stage", values="new_capacity_t", aggfunc="sum", fill_value=0.0
        )
        lines.append("New capacity, t/yr (by region and stage):")
        lines.append(table.round(0).to_string())
        lines.append("")
    else:
        lines += ["New capacity: none built.", ""]
    mix = res.tables["supply_mix"]
    if len(mix):
        years = sorted(set(d.years))
        shown = sorted({years[0], years[len(years) // 2], years[-1]})
        sub = mix[mix["year"].isin(shown)]
        table = sub.pivot_table(
            index=["commodity", "region"], columns="year", values="clean_share", aggfunc="first"
        )
        lines.append("Clean (restricted-free) share of deliveries:")
        lines.append(table.map(lambda v: "" if pd.isna(v) else f"{v:.0%}").to_string())
        lines.append("")
        unmet = mix["unmet_t"].sum()
        total = mix["demand_t"].sum()
        share = unmet / total if total else 0.0
        lines.append(f"Unmet demand: {unmet:,.0f} t over all years ({share:.2%} of demand).")
    return "\n".join(lines)


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
            help="largest unmet share of demand accepted; overrides each scenario's check block",
        ),
    ] = None,
    time_limit: Annotated[float | None, typer.Option(help="HiGHS time limit per solve")] = None,
) -> None:
    """Validate and solve the base and every scenario (default: all in <inputs>/scenarios/)."""
    from allycap.checks import run_checks, write_junit

    scenarios = scenario
    if not scenarios:
        folder = input.parent / "scenarios"
        scenarios = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    cases = [None, *scenarios]
    outcomes = run_checks(input, cases, max_unmet, time_limit)
    if junit:
        write_junit(junit, outcomes)
    if json_out:
        typer.echo(json.dumps([o.as_dict() for o in outcomes], indent=2))
    else:
        for o in outcomes:
            typer.echo(f"{o.verdict.upper():<7} {o.name:<32} {o.detail}")
    codes = {o.exit_code for o in outcomes}
    raise typer.Exit(2 if 2 in codes else 1 if 1 in codes else 0)


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

    path = write(make(regions, years, facilities), out)
    typer.echo(f"wrote {path} ({regions} regions, {years} years, {facilities} per stage)")


@app.command()
def schema() -> None:
    """Print the JSON Schema of the input format (for editors)."""
    from allycap.inputs.schema import Inputs

    typer.echo(json.dumps(Inputs.model_json_schema(), indent=2))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
