"""The pipeline in one place: load, validate, prepare, build, solve, extract (and write).

The CLI and the Python API both call `run`; each stage only reads what the one before produced.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from allycap.errors import InputIssue
from allycap.inputs.load import RawInputs, load_inputs
from allycap.inputs.network import trace_network
from allycap.inputs.schema import Inputs
from allycap.inputs.validate import validate
from allycap.interrupt import stage
from allycap.options import SolveOptions, solve_options

if TYPE_CHECKING:  # pandas and pyomo load only when a run needs them: `validate` stays fast
    from allycap.data import ModelData
    from allycap.results import Results


@dataclass
class Run:
    raw: RawInputs
    inputs: Inputs
    data: ModelData
    results: Results
    warnings: list[InputIssue]
    timings: dict[str, float] = field(default_factory=dict)
    model: object = None
    label: str = "base"
    diagnosis: object = None  # diagnose.Diagnosis when the model is infeasible
    numerics: dict = field(default_factory=dict)  # coefficient ranges handed to HiGHS
    numeric_warnings: list[str] = field(default_factory=list)


def scenario_label(scenarios: list[str | Path] | None) -> str:
    names = [Path(s).stem for s in scenarios or []]
    return "+".join(names) if names else "base"


def load_and_validate(
    path: str | Path,
    scenarios: list[str | Path] | None = None,
    overrides: list[str] | None = None,
) -> tuple[RawInputs, Inputs, list[InputIssue]]:
    from allycap.data import period_warnings  # no pandas or pyomo: `validate` stays fast

    raw = load_inputs(path, scenarios, overrides)
    inputs = validate(raw)
    return raw, inputs, trace_network(inputs, raw) + period_warnings(inputs, raw)


def run(
    path: str | Path = "inputs/base.yaml",
    scenarios: list[str | Path] | None = None,
    overrides: list[str] | None = None,
    options: SolveOptions | None = None,
    *,
    label: str | None = None,
    **option_keywords,
) -> Run:
    """Load, validate, prepare, build, solve and extract. Raises InputError on bad input.

    `options` says how to solve (`allycap.options.SolveOptions`); its fields may also be given
    as keywords, e.g. `run(path, strict=True, time_limit=60)`."""
    options = solve_options(options, **option_keywords)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with stage("load and validation"):
        raw, inputs, warnings = load_and_validate(path, scenarios, overrides)
    timings["load_validate"] = time.perf_counter() - t0
    with stage("build"):
        # pandas and pyomo are imported only once the inputs are known to be good
        from allycap.data import prepare
        from allycap.formulation.build import build_model
        from allycap.results import extract
        from allycap.solve import solve_model
        from allycap.solve import write_lp as write_model

        t = time.perf_counter()
        data = prepare(inputs, strict=options.strict)
        timings["prepare"] = time.perf_counter() - t
        t = time.perf_counter()
        model = build_model(data)
        timings["build"] = time.perf_counter() - t
    if options.write_lp:
        with stage("LP file writing"):
            write_model(model, options.write_lp)
    with stage("the HiGHS solve"):
        outcome = solve_model(model, options)
    timings["solve"] = outcome.solve_seconds
    timings["handoff"] = outcome.handoff_seconds
    timings["highs"] = outcome.highs_seconds
    diagnosis = None
    if options.explain and outcome.status == "infeasible":
        from allycap.diagnose import diagnose

        t = time.perf_counter()
        try:
            with stage("the infeasibility diagnosis"):
                diagnosis = diagnose(model, data, raw, outcome.solver, options)
        except Exception as exc:  # a failed diagnosis must not hide the infeasibility itself
            from allycap.diagnose import Diagnosis

            diagnosis = Diagnosis("none", note=f"the diagnosis itself failed: {exc!r}")
        timings["diagnose"] = time.perf_counter() - t
    t = time.perf_counter()
    name = label or scenario_label(scenarios)
    with stage("result extraction"):
        results = extract(model, data, outcome, name)
        numerics, numeric_warnings = _numerics(outcome.numerics, data, raw)
    timings["extract"] = time.perf_counter() - t
    return Run(
        raw,
        inputs,
        data,
        results,
        warnings,
        timings,
        model,
        name,
        diagnosis,
        numerics,
        numeric_warnings,
    )


def _numerics(report, data, raw) -> tuple[dict, list[str]]:
    """Ranges for the summary, and a warning naming the inputs behind each too-wide range."""
    if report is None:
        return {}, []
    from allycap.health import WIDE
    from allycap.trace import family_and_index, input_path, label

    warnings = []
    for name in report.wide():
        low, high = report.ranges[name]
        parts = []
        for end, extreme in zip(("smallest", "largest"), report.extremes[name], strict=True):
            comp = extreme.col if extreme.col is not None else extreme.row
            if comp is None:
                continue
            family, index = family_and_index(comp)
            path = input_path(family, index, data)
            origin = raw.locate(path) if path else None
            where = f" ({origin.file}:{origin.line})" if origin and origin.line else ""
            parts.append(
                f"{end} {abs(extreme.value):.3g} in {label(family, index)} from "
                f"{'.'.join(map(str, path)) or 'the model'}{where}"
            )
        warnings.append(
            f"{name} coefficients span {low:.3g} to {high:.3g} (ratio {high / low:.2g} > "
            f"{WIDE:.0e}): " + "; ".join(parts) + ". Rescale units or drop negligible values."
        )
    return report.as_dict(), warnings


def summary_payload(r: Run) -> dict:
    from allycap.chains import payload
    from allycap.data import describe

    res = r.results
    return {
        "scenario": r.label,
        "status": res.status,
        "message": res.message,
        "objective_musd_pv": res.objective,
        "strict": r.data.strict,
        "kpis": res.summary,
        "chains": payload(r.data.chains),
        "sizes": describe(r.data),
        "timings_s": {k: round(v, 4) for k, v in r.timings.items()},
        "warnings": [w.format() for w in r.warnings],
        "numerics": r.numerics,
        "numeric_warnings": r.numeric_warnings,
        "infeasibility": r.diagnosis.as_dict() if r.diagnosis is not None else None,
    }


def manifest_payload(r: Run, options: dict) -> dict:
    import highspy  # noqa: F401
    import pandas
    import pyomo

    from allycap import __version__
    from allycap.solve import solver_version

    return {
        "scenario": r.label,
        "inputs_root": os.path.relpath(r.raw.root),
        "input_files": dict(sorted(r.raw.files.items())),
        "scenarios": r.raw.scenarios,
        "overrides": r.raw.overrides,
        "options": options,
        "versions": {
            "allycap": __version__,
            "python": platform.python_version(),
            "pyomo": pyomo.version.version,
            "highs": solver_version(),
            "pandas": pandas.__version__,
        },
    }
