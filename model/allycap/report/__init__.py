"""The report: report.html (self-contained, offline), charts/*.png and tables.xlsx.

`write_report(folder)` works on every folder allycap writes: a run (summary.json beside the CSV
tables), a comparison (compare.csv), a sweep (sweep.csv) or near-optimal alternatives
(ranges.csv, from `allycap alternatives`). The page needs nothing beyond pandas;
only the PNG charts (matplotlib) and the workbook (openpyxl) need the `report` extra.

Modules, one job each: `charts` (the run's tables -> chart data), `svg` (chart data -> inline
SVG), `html` (the page), `png` (chart data -> PNG files), `excel` (CSV tables -> one workbook).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

EXTRA_HINT = 'pip install "allycap[report]"'
NEEDED = ("investments", "capacity", "production", "flows", "supply_mix", "costs", "shortfall")


class ReportError(Exception):
    """The report cannot be written (no such folder, not a run folder, a missing extra)."""


def check_extras(png: bool = False, excel: bool = False) -> None:
    """Raise ReportError naming the fix when --png or --excel lacks its package."""
    missing = []
    if png:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            missing.append("matplotlib (needed for --png)")
    if excel:
        try:
            import openpyxl  # noqa: F401
        except ImportError:
            missing.append("openpyxl (needed for --excel)")
    if missing:
        raise ReportError(f"{' and '.join(missing)} is not installed. Fix: {EXTRA_HINT}")


def read_csv(path: Path):
    """A run's CSV as written (`allycap.runfolder.read_csv`: only an empty cell is a missing
    value, "NA" is a region id, id columns are strings)."""
    from allycap.runfolder import read_csv as read

    return read(path)


def _read_json(path: Path) -> dict:
    """A JSON file of the folder, {} if absent; ReportError if it cannot be read."""
    from allycap.runfolder import read_json

    return read_json(path.parent, path.name, required=False, error=ReportError)


def replace_file(path: Path, data: str | bytes) -> Path:
    """Write beside the target, then rename over it: a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    if isinstance(data, str):
        tmp.write_text(data, encoding="utf-8")
    else:
        tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def display_name(folder: Path) -> str:
    """The folder's name, or the target's name for the temporary folder of an atomic write
    (`.compare.tmp-1234` -> `compare`), so a report drawn before the rename is titled right."""
    import re

    match = re.fullmatch(r"\.(.+)\.tmp-\d+", folder.name)
    return match.group(1) if match else folder.name


def _folder(folder) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(
            f"{folder}: no such folder. Fix: give a run folder written by `allycap solve` "
            "(e.g. outputs/base), or a folder with compare.csv, sweep.csv or ranges.csv."
        )
    return folder


def write_report(
    folder, *, png: bool = False, excel: bool = False, sankey_year: int | None = None
) -> list[Path]:
    """(Re)write the report of any allycap folder; returns the files written."""
    folder = _folder(folder)
    check_extras(png, excel)
    if (folder / "ranges.csv").exists():  # before summary.json: the study has one too
        return alternatives_report(folder, png=png, excel=excel)
    if (folder / "compare.csv").exists():
        return comparison_report(folder, png=png, excel=excel)
    if (folder / "sweep.csv").exists():
        return sweep_report(folder, png=png, excel=excel)
    if not (folder / "summary.json").exists():
        raise ReportError(
            f"{folder}: not a run folder (no summary.json, compare.csv, sweep.csv or ranges.csv). "
            "Fix: give "
            "a folder written by `allycap solve`, e.g. outputs/base."
        )
    return run_report(folder, png=png, excel=excel, sankey_year=sankey_year)


def _rows(df) -> list[list]:
    """DataFrame rows as Python values, None for a missing number."""
    import math

    out = []
    for row in df.itertuples(index=False):
        vals = []
        for v in row:
            if hasattr(v, "item"):
                v = v.item()
            if isinstance(v, float) and math.isnan(v):
                v = None
            vals.append(v)
        out.append(vals)
    return out


def _number(v):
    """A KPI cell of compare.csv: a number where it reads as one (columns mix text and numbers)."""
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return v
    return v


def run_report(
    folder, *, png: bool = False, excel: bool = False, sankey_year: int | None = None
) -> list[Path]:
    """report.html (and charts/*.png, tables.xlsx) of a run folder; returns the files written."""
    from allycap import __version__
    from allycap.chains import of_run
    from allycap.report.charts import Table, model_years, run_charts
    from allycap.report.html import run_page
    from allycap.runfolder import has_table, read_table

    folder = _folder(folder)
    check_extras(png, excel)
    tables = {name: read_table(folder, name) for name in NEEDED if has_table(folder, name)}
    summary = _read_json(folder / "summary.json")
    manifest = _read_json(folder / "manifest.json")
    years = model_years(tables)
    if sankey_year is not None and sankey_year not in years:
        span = f"{years[0]}-{years[-1]}" if years else "none: the run has no production"
        raise ReportError(
            f"--sankey-year {sankey_year} is not a model year of this run (model years: {span})."
        )
    chains = of_run(summary, tables)
    charts, year = run_charts(tables, summary, sankey_year, chains)
    investments = None
    inv = tables.get("investments")
    if inv is not None and "facility" in inv.columns:
        inv = inv.drop(columns=[c for c in ("scenario",) if c in inv.columns])
        investments = Table(list(inv.columns), _rows(inv))
    notes = [*(summary.get("warnings") or []), *(summary.get("numeric_warnings") or [])]
    page = run_page(
        summary,
        manifest,
        charts,
        year,
        investments,
        __version__,
        notes,
        years[0] if years else None,
        chains,
        tables.get("costs"),
    )
    written = [replace_file(folder / "report.html", page)]
    if png:
        from allycap.report.png import write_pngs

        written += write_pngs([c for cs in charts.values() for c in cs], folder / "charts")
    if excel:
        from allycap.report.excel import write_workbook

        written.append(write_workbook(folder, folder / "tables.xlsx"))
    return written


def comparison_report(folder, *, png: bool = False, excel: bool = False) -> list[Path]:
    """report.html of a comparison folder from its compare.csv (rows = KPIs: `kpi`, optional
    `detail`, `unit`, one column per run): the KPI table and a chart per KPI. Returns the files
    written."""
    from allycap.report.charts import Table, compare_runs, comparison_charts
    from allycap.report.html import study_page

    folder = _folder(folder)
    check_extras(png, excel)
    path = folder / "compare.csv"
    if not path.exists():
        raise ReportError(f"{folder}: no compare.csv. Fix: run `allycap compare` first.")
    df = read_csv(path)
    if df.empty or len(df.columns) < 2:
        raise ReportError(f"{path}: no KPIs in it (expected a KPI column, `unit`, and runs).")
    charts = comparison_charts(df)
    runs = compare_runs(df)
    rows = [[_number(v) if c in runs else v for c, v in zip(df.columns, row, strict=True)]
            for row in _rows(df)]  # fmt: skip
    page = study_page(
        f"allycap comparison: {display_name(folder)}",
        f"{len(runs)} runs: {', '.join(map(str, runs))}",
        charts,
        Table(list(df.columns), rows),
        "compare.csv",
        "One row per KPI, its unit, and its value in each run (from compare.csv).",
    )
    return _study_outputs(folder, page, charts, png, excel)


def sweep_report(folder, *, png: bool = False, excel: bool = False) -> list[Path]:
    """report.html of a sweep folder from its sweep.csv (columns `point`, one per varied key,
    `status`, `objective_musd_pv`, `marginal_musd_per_point`, `unmet_t`): the curves and the
    points. Returns the files written."""
    from allycap.report.charts import Table, sweep_axis, sweep_charts
    from allycap.report.html import study_page

    folder = _folder(folder)
    check_extras(png, excel)
    path = folder / "sweep.csv"
    if not path.exists():
        raise ReportError(f"{folder}: no sweep.csv. Fix: run `allycap sweep` first.")
    df = read_csv(path)
    if df.empty or "point" not in df.columns:
        raise ReportError(f"{path}: no points in it (expected a `point` column and one row each).")
    charts = sweep_charts(df)
    x_name, _, _ = sweep_axis(df)
    optimal = int((df["status"] == "optimal").sum()) if "status" in df.columns else len(df)
    page = study_page(
        f"allycap sweep: {display_name(folder)}",
        f"{len(df)} points over {x_name}; {optimal} optimal",
        charts,
        Table(list(df.columns), _rows(df)),
        "sweep.csv",
        "One row per point of the sweep (from sweep.csv).",
    )
    return _study_outputs(folder, page, charts, png, excel)


def alternatives_report(folder, *, png: bool = False, excel: bool = False) -> list[Path]:
    """report.html of an `allycap alternatives` folder from its ranges.csv (`quantity, kind,
    region, stage, slack, min, optimum, max, unit`): each quantity's range around the least-cost
    plan, one panel per kind and slack, the table, and links to the extreme plans' run folders.
    summary.json and manifest.json are read if present (stage display names come from the
    chains in summary.json, else from the first extreme plan's). Returns the files written."""
    from allycap.chains import StageBook, from_payload
    from allycap.report.charts import RANGE_COLUMNS, Table, alternatives_charts, slack_label
    from allycap.report.html import alternatives_page

    folder = _folder(folder)
    check_extras(png, excel)
    path = folder / "ranges.csv"
    if not path.exists():
        raise ReportError(f"{folder}: no ranges.csv. Fix: run `allycap alternatives` first.")
    df = read_csv(path)
    missing = [c for c in RANGE_COLUMNS if c not in df.columns]
    if missing:
        raise ReportError(
            f"{path}: no column {', '.join(missing)} (expected quantity, kind, region, stage, "
            "slack, min, optimum, max, unit). Fix: write it again with `allycap alternatives`."
        )
    summary = _read_json(folder / "summary.json")
    summary = summary if isinstance(summary, dict) else {}
    plans = _plans(folder)
    chains = from_payload(summary.get("chains"))
    for name, *_ in plans:
        if chains:
            break
        chains = from_payload(_read_json(folder / name / "summary.json").get("chains"))
    charts = alternatives_charts(df, StageBook(chains))
    slacks = ", ".join(slack_label(s) for s in dict.fromkeys(df["slack"]))
    quantities = df.drop_duplicates(["quantity"]).shape[0]
    optimum = next(
        (v for k in ("optimum_musd_pv", "objective_musd_pv")
         if isinstance(v := summary.get(k), int | float)),
        None,
    )  # fmt: skip
    line = f"{quantities} quantities at slack {slacks or 'none'}"
    if optimum is not None:
        line += f"; least cost {optimum:,.1f} M$ PV"
    page = alternatives_page(
        f"allycap alternatives: {display_name(folder)}",
        line,
        charts,
        Table(list(df.columns), _rows(df)),
        plans,
        _read_json(folder / "manifest.json"),
    )
    return _study_outputs(folder, page, charts, png, excel)


def _plans(folder: Path) -> list[tuple[str, str, object, bool]]:
    """The run folders under a study folder, one or two levels down: (path relative to the
    folder, status, objective, has report.html), by path."""
    out = []
    for summary in sorted([*folder.glob("*/summary.json"), *folder.glob("*/*/summary.json")]):
        run = summary.parent
        if run.name.startswith("."):
            continue
        try:
            payload = _read_json(summary)
        except ReportError:
            payload = {}
        payload = payload if isinstance(payload, dict) else {}
        out.append(
            (
                run.relative_to(folder).as_posix(),
                str(payload.get("status", "unknown")),
                payload.get("objective_musd_pv"),
                (run / "report.html").exists(),
            )
        )
    return out


def _study_outputs(folder: Path, page: str, charts, png: bool, excel: bool) -> list[Path]:
    written = [replace_file(folder / "report.html", page)]
    if png:
        from allycap.report.png import write_pngs

        written += write_pngs(charts, folder / "charts")
    if excel:
        from allycap.report.excel import write_workbook

        written.append(write_workbook(folder, folder / "tables.xlsx"))
    return written


def swap_folder(tmp: Path, target: Path) -> None:
    """Put a freshly written folder in place of `target` (old one renamed aside, then removed)."""
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)
