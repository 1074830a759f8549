"""`allycap compare`: KPIs of several runs side by side, and investments facility by facility.

Owns the KPI definitions and reading runs. A source is a run folder written by `allycap solve`
(a robust run folder gives one column per scenario, `<folder>/<scenario>`), a scenario YAML file
(solved over the base inputs first, in memory), or `base` (the base inputs alone).

KPIs, read from the run's tables (one row each: `kpi`, `detail`, `unit`, one column per run):

- status: summary.json.
- resource_cost and shortage_cost (M$ PV): costs.csv present_value_musd by `account` (what is
  spent; what unserved demand is worth to its users). The two are never added without a label:
- objective (M$ PV, resource + shortage): summary.json's objective (robust.csv's per-scenario
  cost for a robust run).
- resource_cost_change, shortage_cost_change, objective_change (M$ PV), detail `vs <first
  run>`: each run's account minus the first run's (0 in the first run's column).
- cost, "account: category" (M$ PV): costs.csv present_value_musd.
- shortfall, "sector kind" (t/yr summed over model years): shortfall.csv tonnes (an older folder
  without it: supply_mix.csv unmet_t, sector `all`, kind `unmet`).
- capex_by_payer, by region (M$, overnight): investments.csv capex_musd split by `payers`.
- new_capacity, region/stage (t/yr): investments.csv new_capacity_t, all decision years.
- clean_share, "region year" (share): supply_mix.csv for the headline commodity of the run's
  chain (summary.json `chains`, declared in the inputs), regions outside the restricted origins;
  `all` = together. With several chains, one set per headline: "commodity region year".
- restricted_imports, by commodity (t/yr summed over model years): flows.csv from a restricted
  origin to any other region.
- unmet_demand (t/yr summed over model years) and unmet_share: supply_mix.csv, demand for the
  headline commodity (all demand when the run names none); with several chains, one row per
  headline, its detail the commodity.
- stock_level, "stockpile year" (t): stocks.csv level_t, all tags.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from allycap.studies.cases import BASE, Case, StudyError

TABLES = ("investments", "capacity", "flows", "supply_mix", "stocks", "costs", "shortfall")
ACCOUNTS = ("resource_cost", "shortage_cost", "objective")
ORDER = (
    "status",
    *ACCOUNTS,
    *(f"{a}_change" for a in ACCOUNTS),
    "cost",
    "shortfall",
    "capex_by_payer",
    "new_capacity",
    "clean_share",
    "restricted_imports",
    "unmet_demand",
    "unmet_share",
    "stock_level",
)
ZERO_IF_ABSENT = {"cost", "shortfall", "capex_by_payer", "new_capacity", "restricted_imports"}
UNITS = {
    "status": "",
    "resource_cost": "M$ PV",
    "shortage_cost": "M$ PV",
    "objective": "M$ PV, resource + shortage",
    "resource_cost_change": "M$ PV",
    "shortage_cost_change": "M$ PV",
    "objective_change": "M$ PV, resource + shortage",
    "cost": "M$ PV",
    "shortfall": "t/yr, summed over model years",
    "capex_by_payer": "M$",
    "new_capacity": "t/yr",
    "clean_share": "share",
    "restricted_imports": "t/yr, summed over model years",
    "unmet_demand": "t/yr, summed over model years",
    "unmet_share": "share",
    "stock_level": "t",
}


@dataclass
class RunView:
    """One column of the comparison: a run's tables and headline figures."""

    label: str
    source: str
    status: str
    objective: float | None
    tables: dict[str, Any] = field(default_factory=dict)
    restricted: list[str] | None = None
    chains: list = field(default_factory=list)  # allycap.chains.ChainInfo of the run


@dataclass
class Comparison:
    kpis: Any  # DataFrame: kpi, detail, unit, one column per run
    investments: Any  # DataFrame: facility, region, stage, one column per run, diff_<run>
    views: list[RunView]
    years: list[int]


def load_folder(folder: str | Path) -> list[RunView]:
    """The run(s) in a run folder: one view, or one per scenario of a robust run.

    Tables are read by `allycap.runfolder` (ids stay strings: a region `NA` is not missing); a
    table the run did not write (no solution) is an empty frame."""
    from allycap.chains import from_payload, from_tables
    from allycap.runfolder import read_summary, read_table, require_folder

    folder = require_folder(folder, StudyError)
    summary = read_summary(folder, needed_by="`allycap compare`", error=StudyError)
    tables = {name: read_table(folder, name, required=False) for name in TABLES}
    restricted = summary.get("kpis", {}).get("restricted_origins")
    status = summary.get("status", "")
    chains = from_payload(summary.get("chains"))
    if "robust" not in summary:
        return [
            RunView(
                folder.name,
                str(folder),
                status,
                summary.get("objective_musd_pv"),
                tables,
                restricted,
                chains or from_tables(tables),
            )
        ]
    views = []
    for entry in summary["robust"].get("scenarios", []):
        s = entry["scenario"]
        part = {
            name: (t[t["scenario"] == s] if name != "investments" and len(t) else t)
            for name, t in tables.items()
        }
        inv = tables["investments"]
        if "branch" in summary["robust"] and len(inv):  # a scenario tree: shared + own builds
            part["investments"] = inv[inv["scenario"].isin(["shared", s])]
        views.append(
            RunView(
                f"{folder.name}/{s}",
                str(folder),
                status,
                entry.get("cost_musd_pv"),
                part,
                restricted,
                chains or from_tables(part),
            )
        )
    return views


def solve_view(
    input: str,
    case: Case,
    overrides: tuple[str, ...],
    strict: bool | None = None,
    time_limit: float | None = None,
    threads: int = 1,
) -> RunView:
    """Solve the inputs with `case` merged (a batch task) and keep the tables compare reads."""
    from allycap.run import run

    r = run(
        input,
        list(case.scenarios),
        list(overrides),
        strict=strict,
        time_limit=time_limit,
        threads=threads,
        label=case.label,
        explain=False,
    )
    res = r.results
    tables = {name: res.tables.get(name) for name in TABLES} if res.objective is not None else {}
    return RunView(
        case.label,
        str(case.scenarios[-1]) if case.scenarios else BASE,
        res.status,
        res.objective,
        tables,
        sorted(r.data.restricted),
        list(r.data.chains),
    )


def parse_years(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        years = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise StudyError(
            f"--years {text!r}: write model years separated by commas, e.g. 2030,2035,2040."
        ) from None
    if not years:
        raise StudyError(f"--years {text!r}: no year given.")
    return years


def _model_years(views: list[RunView]) -> list[int]:
    years: set[int] = set()
    for v in views:
        mix = v.tables.get("supply_mix")
        if mix is not None and len(mix):
            years |= {int(y) for y in mix["year"].unique()}
    return sorted(years)


def _headlines(view: RunView) -> list[str]:
    """The headline commodity of each chain of the run, in chain order."""
    from allycap.chains import from_tables

    chains = view.chains or from_tables(view.tables)
    return list(dict.fromkeys(c.headline for c in chains if c.headline))


def view_kpis(view: RunView, years: list[int], restricted: list[str]) -> dict[tuple, Any]:
    """(kpi, detail) -> value for one run."""
    out: dict[tuple, Any] = {("status", ""): view.status}
    if view.objective is None or not view.tables:
        return out
    from allycap.formulation.family import RESOURCE, SHORTAGE
    from allycap.runfolder import upgrade

    t = view.tables
    costs = t.get("costs")
    accounts = {RESOURCE: 0.0, SHORTAGE: 0.0}
    if costs is not None and len(costs):
        costs = upgrade("costs", costs.copy())
        by = costs.groupby(["account", "category"])["present_value_musd"].sum()
        for (account, cat), v in by.items():
            out["cost", f"{account}: {cat}"] = float(v)
            accounts[account] = accounts.get(account, 0.0) + float(v)
    out["resource_cost", ""] = accounts[RESOURCE]
    out["shortage_cost", ""] = accounts[SHORTAGE]
    out["objective", ""] = float(view.objective)
    short = t.get("shortfall")
    if short is not None and len(short):
        for (sector, kind), q in short.groupby(["sector", "kind"])["tonnes"].sum().items():
            out["shortfall", f"{sector} {kind}"] = float(q)
    inv = t.get("investments")
    if inv is not None and len(inv):
        for _, row in inv.iterrows():
            for part in str(row["payers"]).split(";"):
                payer, _, share = part.partition(":")
                if payer:
                    key = ("capex_by_payer", payer)
                    out[key] = out.get(key, 0.0) + float(row["capex_musd"]) * float(share or 1)
        by = inv.groupby(["region", "stage"])["new_capacity_t"].sum()
        for (r, s), q in by.items():
            out["new_capacity", f"{r}/{s}"] = float(q)
    mix = t.get("supply_mix")
    headlines = _headlines(view)
    if mix is not None and len(mix):
        several = len(headlines) > 1
        for h in headlines:
            pre = f"{h} " if several else ""
            part = mix[(mix["commodity"] == h) & mix["year"].isin(years)]
            part = part[~part["region"].isin(restricted)]
            for _, row in part.iterrows():
                if row["demand_t"] > 0:
                    out["clean_share", f"{pre}{row['region']} {int(row['year'])}"] = float(
                        row["delivered_clean_t"] / row["demand_t"]
                    )
            for y, g in part.groupby("year"):
                dem = g["demand_t"].sum()
                if dem > 0:
                    out["clean_share", f"{pre}all {int(y)}"] = float(
                        g["delivered_clean_t"].sum() / dem
                    )
        for h in headlines or [None]:
            part = mix if h is None else mix[mix["commodity"] == h]
            demand = float(part["demand_t"].sum())
            unmet = float(part["unmet_t"].sum())
            detail = h if several else ""
            out["unmet_demand", detail] = unmet
            out["unmet_share", detail] = unmet / demand if demand > 0 else 0.0
    flows = t.get("flows")
    if flows is not None and len(flows):
        out_of = flows[flows["origin"].isin(restricted) & ~flows["destination"].isin(restricted)]
        for c, q in out_of.groupby("commodity")["quantity_t"].sum().items():
            out["restricted_imports", c] = float(q)
    stocks = t.get("stocks")
    if stocks is not None and len(stocks):
        part = stocks[stocks["year"].isin(years)]
        for (pile, y), q in part.groupby(["stockpile", "year"])["level_t"].sum().items():
            out["stock_level", f"{pile} {int(y)}"] = float(q)
    return out


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label}#{seen[label]}")
    return out


def kpi_table(views: list[RunView], years: list[int], restricted_override=None):
    import pandas as pd

    labels = _unique([v.label for v in views])
    values: dict[str, dict] = {}
    for label, view in zip(labels, views, strict=True):
        restricted = restricted_override if restricted_override is not None else view.restricted
        if restricted is None:
            raise StudyError(
                f"{view.source}: summary.json does not list the restricted origins (a run "
                "from an older allycap). Fix: solve it again, or pass --restricted CHN,RUS."
            )
        values[label] = view_kpis(view, years, list(restricted))
    _changes(values, labels)
    keys = sorted(
        {k for v in values.values() for k in v},
        key=lambda k: (ORDER.index(k[0]), _natural(k[1])),
    )
    rows = []
    for kpi, detail in keys:
        row = {"kpi": kpi, "detail": detail, "unit": UNITS[kpi]}
        for label, view in zip(labels, views, strict=True):
            v = values[label].get((kpi, detail))
            if v is None and kpi in ZERO_IF_ABSENT and view.objective is not None:
                v = 0.0
            row[label] = math.nan if v is None else v
        rows.append(row)
    return pd.DataFrame(rows, columns=["kpi", "detail", "unit", *labels])


def _changes(values: dict[str, dict], labels: list[str]) -> None:
    """Each account's change from the first run, in every run's column (the first's is 0)."""
    first = values[labels[0]]
    detail = f"vs {labels[0]}"
    for label in labels:
        for kpi in ACCOUNTS:
            mine, base = values[label].get((kpi, "")), first.get((kpi, ""))
            if mine is not None and base is not None:
                values[label][f"{kpi}_change", detail] = mine - base


def _natural(text: str) -> tuple:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in text.replace("/", " ").split())


def investment_diff(views: list[RunView]):
    """Total new capacity by facility in each run, and each run's difference to the first."""
    import pandas as pd

    labels = _unique([v.label for v in views])
    keys = ["facility", "region", "stage"]
    merged = None
    for label, view in zip(labels, views, strict=True):
        inv = view.tables.get("investments")
        if inv is None or not len(inv):
            part = pd.DataFrame(columns=[*keys, label])
        else:
            part = inv.groupby(keys, as_index=False)["new_capacity_t"].sum()
            part = part.rename(columns={"new_capacity_t": label})
        merged = part if merged is None else merged.merge(part, on=keys, how="outer")
    merged = merged.fillna(dict.fromkeys(labels, 0.0))
    for label in labels:
        merged[label] = merged[label].astype(float)
    first = merged[labels[0]]
    for label in labels[1:]:
        diff = merged[label] - first
        # run folders hold 9 significant digits: a difference within that rounding is none
        noise = diff.abs() <= 1e-8 * pd.concat([merged[label].abs(), first.abs()], axis=1).max(
            axis=1
        )
        merged[f"diff_{label}"] = diff.mask(noise, 0.0)
    return merged.sort_values(keys, kind="mergesort").reset_index(drop=True)


def compare(
    sources: list[str],
    input: str | Path = "inputs/base.yaml",
    overrides: list[str] | None = None,
    years: list[int] | None = None,
    restricted: list[str] | None = None,
    strict: bool | None = None,
    time_limit: float | None = None,
    threads: int = 1,
    workers: int | None = None,
    scheduler: str | None = None,
    progress=None,
) -> Comparison:
    """Read run folders, solve scenario files (in parallel if asked), and compare them all."""
    from allycap.studies.batch import run_batch
    from allycap.studies.cases import parse_cases

    if len(sources) < 1:
        raise StudyError("give at least one run folder or scenario file to compare.")
    slots: list[Any] = []
    tasks = []
    for src in sources:
        path = Path(src)
        if path.is_dir():
            slots.append(load_folder(path))
        elif src == BASE or path.suffix in (".yaml", ".yml"):
            case = parse_cases([src], what="compare")[0]
            slots.append(len(tasks))
            tasks.append(
                (
                    solve_view,
                    (
                        str(Path(input).resolve()),
                        case,
                        tuple(overrides or []),
                        strict,
                        time_limit,
                        threads,
                    ),
                )
            )
        elif not path.exists():
            raise StudyError(
                f"run folder {src!r} not found. Fix: pass folders written by `allycap solve`, "
                "or scenario YAML files."
            )
        else:
            raise StudyError(
                f"{src!r} is neither a run folder nor a scenario file (.yaml). Fix: pass "
                "folders written by `allycap solve`, or scenario YAML files."
            )
    done = (lambda i: progress(1)) if progress else None
    solved = run_batch(tasks, workers, scheduler, done) if tasks else []
    views = [v for slot in slots for v in (slot if isinstance(slot, list) else [solved[slot]])]
    model_years = _model_years(views)
    if years is None:
        years = (
            sorted({model_years[0], model_years[len(model_years) // 2], model_years[-1]})
            if model_years
            else []
        )
    else:
        unknown = [y for y in years if y not in model_years]
        if unknown:
            shown = ", ".join(map(str, model_years)) or "none"
            raise StudyError(f"--years: {unknown[0]} is not a model year (model years: {shown}).")
    return Comparison(kpi_table(views, years, restricted), investment_diff(views), views, years)


def format_kpis(frame) -> str:
    """The KPI table for the terminal: shares as percentages, money and tonnes with commas."""
    labels = [c for c in frame.columns if c not in ("kpi", "detail", "unit")]

    def cell(unit: str, v) -> str:
        if isinstance(v, str):
            return v
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return ""
        if unit == "share":
            return f"{v:.1%}"
        return f"{v:,.1f}"

    shown = frame.copy()
    for label in labels:
        shown[label] = [cell(u, v) for u, v in zip(frame["unit"], frame[label], strict=True)]
    return shown.to_string(index=False)


def write_compare(out: Path, comparison: Comparison, sources: list[str]) -> Path:
    """compare.csv, investment_diff.csv and manifest.json into `out` (atomically)."""
    from allycap.studies.output import versions, write_study

    manifest = {
        "kind": "compare",
        "sources": list(sources),
        "runs": [
            {"label": v.label, "source": v.source, "status": v.status} for v in comparison.views
        ],
        "years": comparison.years,
        "versions": versions(),
    }
    return write_study(
        out,
        {"compare.csv": comparison.kpis, "investment_diff.csv": comparison.investments},
        {"manifest.json": manifest},
    )
