"""The price of independence as a range: sweep the ex-China cost premium and the demand growth.

Usage (from the repository root, `allycap` importable):
    python scripts/independence_range.py [--premium 0,0.5,1,1.5,2] [--demand low,base,high]
        [--input inputs/base.yaml] [--rule inputs/scenarios/allied_independence.yaml]
        [--china CHN] [--workers N] [--out outputs/independence_range]

For each premium multiplier m and each demand case it solves the inputs twice, without and with
the independence rule, and reports what the rule costs there.

The premium. Each generic candidate's `variable_cost` in inputs/parts/candidates.yaml is China's
cost of the stage times the region's operating-cost factor (the header of that file), so
`own - china` is the ex-China premium of that candidate. For a multiplier m the overlay sets

    variable_cost = china + m * (own - china)      (written m * own + (1 - m) * china, exact
                                                    at m = 0 and m = 1)

where `china` is the variable cost of the facility of the same process in the China region
(`--china`; exactly one per process, e.g. china_separation). m = 1 is the sourced premium (the
numbers unchanged), m = 0 puts every candidate at China's cost, m = 2 doubles the premium. A
candidate cheaper than China (Africa's mine, factor 0.97) gets cheaper still as m grows; a value
that would fall below 0 is written as 0. Year maps are handled exactly: the result is evaluated
at the union of both maps' years, and the model interpolates linearly between them as it does
for the inputs themselves.

Only candidates (`status: candidate`, outside the restricted origins) change, never named
projects (operating, construction or planned plants in facilities.yaml): their costs are not
built as China's cost times a factor but entered per project (a filing such as Wicheeda's
pre-feasibility cash cost, or the flat `assumption_costs` figures), so there is no premium term
in them to scale; and the plants that exist run on feed tied by ownership and offtake, so the
premium that decides where new capacity goes is the one on new builds (docs/data-sources.md,
"Regional economics"). Chinese and Russian facilities are the reference and stay as they are.

Demand cases: `base` (the inputs' demand), `low` and `high` (inputs/scenarios/low_demand.yaml and
high_demand.yaml, next to the rule's file). Scenario overlays combine in order (the run API's
`scenarios` list, the CLI's repeated `-s`): premium overlay, demand case, then the rule. They
touch disjoint keys (candidates' variable_cost, demand, independence), so the order does not
matter.

Writes to --out: overlays/premium_<m>.yaml (each point can be re-solved by hand with
`allycap solve inputs/base.yaml -s <overlay> [-s <demand>] [-s <rule>]`), independence_range.csv
(one row per premium and demand case, columns in COLUMNS_DOC) and independence_range.md (the
tables of docs/studies.md).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

import yaml

DEMANDS = {"low": "low_demand.yaml", "base": None, "high": "high_demand.yaml"}
PREMIUMS = (0.0, 0.5, 1.0, 1.5, 2.0)
COLUMNS_DOC = """\
premium_m, demand: the point (multiplier of the ex-China premium; demand case).
status_without, status_with: solver status without and with the rule.
objective_without_musd_pv, objective_with_musd_pv: objective (resource + shortage), M$ PV 2025.
resource_without_musd_pv, resource_with_musd_pv: resource account (what is spent), M$ PV.
shortage_without_musd_pv, shortage_with_musd_pv: shortage account (unserved demand), M$ PV.
rule_cost_musd_pv: objective with minus without the rule; rule_cost_pct: that in % of the
    objective without it.
rule_resource_musd_pv, rule_shortage_musd_pv: the same difference in each account.
new_exchina_<process>_t_without, new_exchina_<process>_t_with: new capacity decided over the
    horizon (t/yr, summed over decision years) in regions outside the restricted origins, one
    pair per process of the inputs, in their order (default: mining, separation, hre_separation,
    metal, magnet, recycling, magnet_recycling)."""


class RangeError(Exception):
    """Bad options or inputs the study cannot use (printed without a traceback, exit code 2)."""


# -- the premium overlay ----------------------------------------------------------------------


def _at(value: float | dict[int, float], year: int) -> float:
    """A year map's value in `year`: linear between points, flat outside (as the model)."""
    from allycap.data import interpolate

    return interpolate(value, [year])[year]


def _tidy(x: float) -> float:
    """12 significant digits, floored at 0: 2 x 0.005586 - 0.004 is 0.007172, not 0.00717199..."""
    return max(0.0, float(f"{x:.12g}"))


def scale_premium(
    own: float | dict[int, float], china: float | dict[int, float], m: float
) -> float | dict[int, float]:
    """China's cost plus m times the premium `own - china`; a year map if either is one.

    Both sides are linear between their points, so evaluating at the union of the two maps'
    years gives the exact result; negative values are written as 0 (a cost cannot be negative).
    """
    if not isinstance(own, dict) and not isinstance(china, dict):
        return _tidy(m * float(own) + (1.0 - m) * float(china))
    years = sorted(
        {*(own if isinstance(own, dict) else {}), *(china if isinstance(china, dict) else {})}
    )
    return {y: _tidy(m * _at(own, y) + (1.0 - m) * _at(china, y)) for y in years}


def restricted_regions(inputs: Any) -> set[str]:
    """The restricted origins, as the model reads them (allycap.data.prepare)."""
    from allycap.data import _select

    if inputs.restricted_origins is None:
        return {r for r, reg in inputs.regions.items() if reg.bloc == "restricted"}
    return set(_select(inputs.restricted_origins, inputs))


def china_costs(inputs: Any, china: str = "CHN") -> dict[str, float | dict[int, float]]:
    """{process: variable_cost} of the facilities in the China region, one per process."""
    found: dict[str, list[str]] = {}
    for fid, f in inputs.facilities.items():
        if f.region == china and f.status != "candidate":
            found.setdefault(f.process, []).append(fid)
    several = {p: ids for p, ids in found.items() if len(ids) > 1}
    if several:
        p, ids = next(iter(several.items()))
        raise RangeError(
            f"{china} has {len(ids)} facilities of process {p!r} ({', '.join(ids)}): the study "
            "needs one Chinese cost per stage."
        )
    return {p: inputs.facilities[ids[0]].variable_cost for p, ids in found.items()}


def premium_costs(
    inputs: Any, m: float, china: str = "CHN"
) -> dict[str, tuple[float | dict, float | dict, float | dict]]:
    """{facility: (own, china, new)} for every generic candidate outside the restricted origins
    and the China region, at multiplier m. Named projects are left out (module docstring)."""
    if not math.isfinite(m) or m < 0:
        raise RangeError(f"--premium {m!r}: a multiplier must be a number >= 0.")
    ref = china_costs(inputs, china)
    if not ref:
        raise RangeError(f"no facility in region {china!r}: pass the China region with --china.")
    skip = restricted_regions(inputs) | {china}
    out = {}
    for fid, f in inputs.facilities.items():
        if f.status != "candidate" or f.region in skip:
            continue
        if f.process not in ref:
            raise RangeError(
                f"candidate {fid!r} ({f.process}) has no Chinese facility of its process to "
                "measure its premium against."
            )
        out[fid] = (
            f.variable_cost,
            ref[f.process],
            scale_premium(f.variable_cost, ref[f.process], m),
        )
    return out


def overlay(inputs: Any, m: float, china: str = "CHN") -> dict:
    """The scenario overlay of multiplier m: {description, facilities: {id: {variable_cost}}}."""
    costs = premium_costs(inputs, m, china)
    return {
        "description": f"Ex-China cost premium of the generic candidates x {m:g}.",
        "facilities": {fid: {"variable_cost": new} for fid, (_, _, new) in costs.items()},
    }


def _label(m: float) -> str:
    return f"{m:g}".replace(".", "p")


def write_overlay(path: Path, inputs: Any, m: float, china: str = "CHN") -> Path:
    """Write the overlay of multiplier m as a scenario file, each line saying where it came from."""
    costs = premium_costs(inputs, m, china)
    lines = [
        "# Written by scripts/independence_range.py: every generic candidate's variable_cost",
        f"# = China's cost of its stage + {m:g} x (its own - China's). Named projects unchanged.",
        f"description: {yaml.safe_dump(overlay(inputs, m, china)['description']).splitlines()[0]}",
        "facilities:",
    ]
    for fid, (own, ref, new) in costs.items():
        value = yaml.safe_dump(new, default_flow_style=True).strip().removesuffix("...").strip()
        lines.append(f"  {fid}: {{variable_cost: {value}}}  # own {own}, China {ref}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- solving ----------------------------------------------------------------------------------


def solve_point(input: str, scenarios: tuple[str, ...], threads: int = 1) -> dict:
    """Solve one case; return its status, accounts and new ex-China capacity by process."""
    from allycap.run import run

    r = run(input, list(scenarios), options=None, threads=threads, explain=False)
    res = r.results
    kpis = res.summary
    out: dict[str, Any] = {
        "status": res.status,
        "objective": res.objective,
        "resource": kpis.get("resource_cost_musd_pv") if kpis else None,
        "shortage": kpis.get("shortage_cost_musd_pv") if kpis else None,
        "new": {},
    }
    inv = res.tables["investments"] if res.status == "optimal" else None
    if inv is not None and len(inv):
        ex = inv[~inv.region.isin(r.data.restricted)]
        for process, q in ex.groupby("process")["new_capacity_t"].sum().items():
            out["new"][str(process)] = float(q)
    return out


def run_study(
    input: str | Path,
    premiums: list[float],
    demands: list[str],
    out: str | Path,
    rule: str | Path | None = None,
    workers: int | None = None,
    china: str = "CHN",
    progress: Any = None,
) -> Any:
    """Write the overlays, solve every point with and without the rule, return the table."""
    import pandas as pd

    from allycap.run import load_and_validate
    from allycap.studies.batch import run_batch

    input = str(Path(input).resolve())
    rule = Path(rule) if rule else Path(input).parent / "scenarios" / "allied_independence.yaml"
    if not rule.is_file():
        raise RangeError(f"--rule {rule}: no such scenario file.")
    unknown = [d for d in demands if d not in DEMANDS]
    if unknown:
        raise RangeError(f"--demand {unknown[0]!r}: choose among {', '.join(DEMANDS)}.")
    demand_files = {}
    for d in demands:
        if DEMANDS[d] is not None:
            f = rule.parent / DEMANDS[d]
            if not f.is_file():
                raise RangeError(f"--demand {d}: {f} not found (looked next to the rule's file).")
            demand_files[d] = str(f.resolve())
    _, inputs, _ = load_and_validate(input)
    out = Path(out)
    overlays = {
        m: str(
            write_overlay(
                out / "overlays" / f"premium_{_label(m)}.yaml", inputs, m, china
            ).resolve()
        )
        for m in premiums
    }
    points = [(m, d) for m in premiums for d in demands]
    tasks = []
    for m, d in points:
        base = (overlays[m], *([demand_files[d]] if d in demand_files else []))
        tasks.append((solve_point, (input, base)))
        tasks.append((solve_point, (input, (*base, str(rule.resolve())))))
    solved = run_batch(tasks, workers, None, progress)
    rows = []
    for k, (m, d) in enumerate(points):
        without, with_ = solved[2 * k], solved[2 * k + 1]
        rows.append(_row(m, d, without, with_, list(inputs.processes)))
    return pd.DataFrame(rows)


def _row(m: float, demand: str, without: dict, with_: dict, processes: list[str]) -> dict:
    row: dict[str, Any] = {
        "premium_m": m,
        "demand": demand,
        "status_without": without["status"],
        "status_with": with_["status"],
    }
    for name, key in (
        ("objective", "objective"),
        ("resource", "resource"),
        ("shortage", "shortage"),
    ):
        row[f"{name}_without_musd_pv"] = without[key]
        row[f"{name}_with_musd_pv"] = with_[key]
    ok = without["status"] == with_["status"] == "optimal"
    nan = float("nan")
    diff = (lambda k: with_[k] - without[k]) if ok else (lambda k: nan)
    row["rule_cost_musd_pv"] = diff("objective")
    row["rule_cost_pct"] = 100 * diff("objective") / without["objective"] if ok else nan
    row["rule_resource_musd_pv"] = diff("resource")
    row["rule_shortage_musd_pv"] = diff("shortage")
    for p in processes:
        row[f"new_exchina_{p}_t_without"] = without["new"].get(p, 0.0)
        row[f"new_exchina_{p}_t_with"] = with_["new"].get(p, 0.0)
    return row


# -- the tables -------------------------------------------------------------------------------


def premium_table(inputs: Any, premiums: list[float], china: str = "CHN") -> str:
    """Markdown: each stage's candidate cost / China's cost (lowest-highest region) at each m."""
    procs: dict[str, list[tuple]] = {}
    for fid, (own, ref, _) in premium_costs(inputs, 1.0, china).items():
        procs.setdefault(inputs.facilities[fid].process, []).append((own, ref))
    head = "| process | China, $/kg | " + " | ".join(f"m = {m:g}" for m in premiums) + " |"
    lines = [head, "|---|---:|" + "---:|" * len(premiums)]
    for p in inputs.processes:
        if p not in procs:
            continue
        ref = procs[p][0][1]
        ref_now = _at(ref, 2025) if isinstance(ref, dict) else ref
        cells = []
        for m in premiums:
            ratios = [
                _at(scale_premium(o, r, m), 2025) / _at(r, 2025)
                if isinstance(o, dict) or isinstance(r, dict)
                else scale_premium(o, r, m) / r
                for o, r in procs[p]
            ]
            lo, hi = min(ratios), max(ratios)
            cells.append(f"{lo:.2f}-{hi:.2f}" if round(lo, 2) != round(hi, 2) else f"{lo:.2f}")
        lines.append(f"| {p} | {1000 * ref_now:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _musd(x: float) -> str:
    """Signed whole M$; a difference that rounds to nothing is 0, not -0."""
    return "0" if abs(x) < 0.5 else f"{x:+,.0f}"


def cost_table(frame: Any) -> str:
    """Markdown: objective without the rule and what the rule costs, per point."""
    lines = [
        "| premium m | demand | objective without, M$ PV | rule cost, M$ PV | rule cost, % "
        "| resource change, M$ | shortage change, M$ |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for _, r in frame.iterrows():
        if r.status_without != "optimal" or r.status_with != "optimal":
            lines.append(
                f"| {r.premium_m:g} | {r.demand} | {r.status_without} / {r.status_with} | | | | |"
            )
            continue
        lines.append(
            f"| {r.premium_m:g} | {r.demand} | {r.objective_without_musd_pv:,.0f} "
            f"| {_musd(r.rule_cost_musd_pv)} | {r.rule_cost_pct:+.2f} "
            f"| {_musd(r.rule_resource_musd_pv)} | {_musd(r.rule_shortage_musd_pv)} |"
        )
    return "\n".join(lines)


def capacity_table(frame: Any) -> str:
    """Markdown: new ex-China capacity by process, kt/yr, without -> with the rule."""
    processes = [c[len("new_exchina_") : -len("_t_with")] for c in frame if c.endswith("_t_with")]
    shown = [
        p
        for p in processes
        if (
            frame[f"new_exchina_{p}_t_without"].abs().sum()
            + frame[f"new_exchina_{p}_t_with"].abs().sum()
        )
        > 0.5
    ]
    lines = [
        "| premium m | demand | " + " | ".join(shown) + " |",
        "|---:|---|" + "---:|" * len(shown),
    ]
    for _, r in frame.iterrows():
        kt = {w: [r[f"new_exchina_{p}_t_{w}"] / 1000 for p in shown] for w in ("without", "with")}
        cells = [f"{a:.1f} -> {b:.1f}" for a, b in zip(kt["without"], kt["with"], strict=True)]
        lines.append(f"| {r.premium_m:g} | {r.demand} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _floats(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise RangeError(
            f"--premium {text!r}: give numbers separated by commas, e.g. 0,1,2."
        ) from None
    if not values:
        raise RangeError("--premium: no values.")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--premium",
        default=",".join(f"{m:g}" for m in PREMIUMS),
        help="multipliers of the ex-China premium, comma-separated",
    )
    parser.add_argument(
        "--demand", default=",".join(DEMANDS), help="demand cases among low, base, high"
    )
    parser.add_argument("--input", default="inputs/base.yaml")
    parser.add_argument(
        "--rule",
        default=None,
        help="the rule's scenario (default: <input dir>/scenarios/allied_independence.yaml)",
    )
    parser.add_argument("--china", default="CHN", help="region whose facilities give China's cost")
    parser.add_argument("--workers", type=int, default=None, help="local worker processes")
    parser.add_argument("--out", default="outputs/independence_range")
    args = parser.parse_args(argv)
    from allycap.errors import InputError
    from allycap.run import load_and_validate
    from allycap.studies.batch import BatchError

    try:
        premiums = _floats(args.premium)
        demands = [d.strip() for d in args.demand.split(",") if d.strip()]
        started = time.perf_counter()
        frame = run_study(
            args.input, premiums, demands, args.out, args.rule, args.workers, args.china
        )
        _, inputs, _ = load_and_validate(args.input)
        ratios = premium_table(inputs, premiums, args.china)
    except (RangeError, BatchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except InputError as exc:
        for issue in exc.issues:
            print(f"error: {issue.format()}", file=sys.stderr)
        return 2
    out = Path(args.out)
    frame.to_csv(out / "independence_range.csv", index=False, float_format="%.10g")
    text = "\n\n".join(
        [
            "Candidate variable cost / China's cost of the stage (lowest-highest over regions):",
            ratios,
            "What the rule costs (with minus without it):",
            cost_table(frame),
            "New ex-China capacity decided 2025-2040, kt/yr, without -> with the rule:",
            capacity_table(frame),
        ]
    )
    (out / "independence_range.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    print(f"\nwrote {out}/independence_range.csv and .md in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
