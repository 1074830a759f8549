"""allycap benchmark: prints sizes, stage timings, peak memory and ratios; fits cost vs size.

Not part of the test run (machines are noisy; read the ratios). Usage:

    python benchmarks/bench.py                 # default inputs + synthetic sizes up to ~1M nnz
    python benchmarks/bench.py --quick         # smaller sizes only (a minute or two)
    python benchmarks/bench.py --sizes 6x16x2 12x16x4
    python benchmarks/bench.py --sizes 6x16x2 --sweep-check-all   # all 21 sweep points checked

On the default inputs it also times a 21-point sweep of an allied clean share (0 to 100%, the
price of independence curve; `allycap sweep`, one persistent HiGHS model) against one solve,
and checks the sweep's objectives against fresh single solves.

It also times `allycap alternatives` on the default inputs: the ranges of new capacity of the 8
allied regions x 5 stages at 1% slack (a min and a max per region and stage with a candidate
facility; pairs without one have no decision to range), on one persistent HiGHS model, as a
multiple of one full solve (target <= 15x). `--alternatives-only` runs just that.

Each measurement runs in a fresh process, so peak memory (max RSS) is that run's alone.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = ["6x16x2", "12x16x3", "18x16x4", "26x16x5", "36x16x6"]
QUICK_SIZES = ["6x16x2", "10x16x3", "14x16x4"]


def measure(inputs: str) -> dict:
    """Run the pipeline stage by stage on `inputs` and return figures (called in a subprocess)."""
    import resource

    from allycap.data import prepare
    from allycap.formulation.build import build_model
    from allycap.highs_bridge import lp as highs_lp
    from allycap.inputs.load import load_inputs
    from allycap.inputs.validate import validate
    from allycap.results import extract
    from allycap.run import Run, manifest_payload, summary_payload
    from allycap.solve import solve_model
    from allycap.write import write_run

    t = {}
    s = time.perf_counter()
    raw = load_inputs(inputs)
    inp = validate(raw)
    t["load_validate"] = time.perf_counter() - s
    s = time.perf_counter()
    data = prepare(inp)
    t["prepare"] = time.perf_counter() - s
    s = time.perf_counter()
    model = build_model(data)
    t["build"] = time.perf_counter() - s
    outcome = solve_model(model)
    t["handoff"] = outcome.handoff_seconds
    t["highs"] = outcome.highs_seconds
    t["solve_other"] = outcome.solve_seconds - outcome.handoff_seconds - outcome.highs_seconds
    lp = highs_lp(outcome.solver)
    s = time.perf_counter()
    results = extract(model, data, outcome, "bench")
    t["extract"] = time.perf_counter() - s
    s = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        r = Run(raw, inp, data, results, [], dict(t), model, "bench")
        write_run(results, Path(tmp) / "run", summary_payload(r), manifest_payload(r, {}))
    t["write"] = time.perf_counter() - s
    outside = sum(v for k, v in t.items() if k != "highs")
    return {
        "status": outcome.status,
        "vars": int(lp.num_col_),
        "cons": int(lp.num_row_),
        "nnz": int(len(lp.a_matrix_.value_)),
        "times": t,
        "outside": outside,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _in_subprocess(inputs: str) -> dict:
    here = str(Path(__file__).parent)
    code = (
        f"import json, sys; sys.path.insert(0, {here!r}); from bench import measure; "
        f"print(json.dumps(measure({inputs!r})))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


# The swept rule: allied magnet supply at least `share` clean from 2030 (2025 is too early for
# any clean chain to be built), added to the default inputs with --set.
SWEEP_RULE = (
    "independence.bench_allied_clean={kind: min_clean_share, regions: [allied], "
    "commodity: magnet, share: 0, start: 2030}"
)
SWEEP_KEY = "independence.bench_allied_clean.share"


def sweep_ratio(points: int = 21, check_all: bool = False) -> dict:
    """In one fresh process: one full pipeline run of the default inputs (load, validate,
    prepare, build, solve, extract), then `points` clean shares from 0 to 100% with
    allycap.studies.sweep (built once, re-solved on one persistent HiGHS model), then fresh
    single solves at the first, middle and last point (every point with `check_all`): the
    largest relative difference of their objectives from the sweep's."""
    step = 1 / (points - 1)
    code = f"""
import json, time
import allycap.formulation.build, allycap.results, allycap.solve  # imports outside the timing
from allycap.run import run
from allycap.studies.sweep import plan_sweep, run_sweep
base = {str(ROOT / "inputs" / "base.yaml")!r}
started = time.perf_counter()
r = run(base, overrides=[{SWEEP_RULE!r}])
one = time.perf_counter() - started
started = time.perf_counter()
plan = plan_sweep(base, [], [{SWEEP_RULE!r}], ["{SWEEP_KEY}=0:1:{step!r}"])
frame = run_sweep(plan).frame
sweep = time.perf_counter() - started
idx = list(range(len(frame))) if {check_all!r} else [0, len(frame) // 2, len(frame) - 1]
worst = 0.0
for i in idx:
    value = float(frame["{SWEEP_KEY}"].iloc[i])
    fresh = run(base, overrides=[{SWEEP_RULE!r}, f"{SWEEP_KEY}={{value!r}}"]).results.objective
    got = frame["objective_musd_pv"].iloc[i]
    if fresh is not None and got == got:
        worst = max(worst, abs(got - fresh) / abs(fresh))
optimal = int((frame["status"] == "optimal").sum())
print(json.dumps({{"one": one, "sweep": sweep, "optimal": optimal, "points": len(frame),
                  "checked": len(idx), "max_rel_diff": worst}}))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def alternatives_ratio(slack: str = "0.01") -> dict:
    """In one fresh process: one full pipeline run of the default inputs, then
    allycap.studies.alternatives at `slack` for new capacity per allied region and stage (no
    plan folders written): build, least-cost solve, and a min and a max per quantity."""
    code = f"""
import json, time
import allycap.formulation.build, allycap.results, allycap.solve  # imports outside the timing
from allycap.run import run
from allycap.studies.alternatives import plan_alternatives, run_alternatives
base = {str(ROOT / "inputs" / "base.yaml")!r}
started = time.perf_counter()
r = run(base)
one = time.perf_counter() - started
highs = r.timings["highs"]
started = time.perf_counter()
plan = plan_alternatives(base, slack={slack!r}, plans=False)
result = run_alternatives(plan)
total = time.perf_counter() - started
solves = result.solves
print(json.dumps({{"one": one, "highs": highs, "total": total, "solves": len(solves),
                  "quantities": len(plan.quantities),
                  "optimal": int((solves["status"] == "optimal").sum()),
                  "mean_solve": float(solves["seconds"].mean()),
                  "optimum_solve": result.timings["optimum_solve"]}}))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def print_alternatives() -> None:
    a = alternatives_ratio()
    print(
        f"alternatives, 1% slack:              {a['quantities']} allied region-stage pairs with "
        f"a candidate, {a['solves']} solves ({a['optimal']} optimal) in {a['total']:.1f} s "
        f"(build and least-cost solve included) vs {a['one']:.2f} s for one full pipeline "
        f"run: ratio {a['total'] / a['one']:.1f} (target <= 15)"
    )
    print(
        f"alternatives, per solve:             {a['mean_solve']:.2f} s mean re-solve from the "
        f"least-cost basis vs {a['optimum_solve']:.2f} s for the least-cost solve "
        f"({a['mean_solve'] / a['optimum_solve']:.2f} x)"
    )


def wall(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        s = time.perf_counter()
        subprocess.run(cmd, capture_output=True, cwd=ROOT, check=True)
        times.append(time.perf_counter() - s)
    return statistics.median(times)


def fit_exponent(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log y against log x."""
    lx, ly = [math.log(x) for x in xs], [math.log(max(y, 1e-9)) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sum(
        (a - mx) ** 2 for a in lx
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--sizes", nargs="*", help="REGIONSxYEARSxFACILITIES, e.g. 12x16x4")
    parser.add_argument(
        "--synthetic-only",
        action="store_true",
        help="skip the default inputs (CLI timings, sweep, default row)",
    )
    parser.add_argument(
        "--sweep-check-all",
        action="store_true",
        help="check every sweep point against a fresh solve (not only 3)",
    )
    parser.add_argument(
        "--alternatives-only",
        action="store_true",
        help="only time `allycap alternatives` on the default inputs (80 solves at most)",
    )
    args = parser.parse_args()
    if args.alternatives_only:
        print_alternatives()
        return
    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    allycap = str(Path(sys.executable).parent / "allycap")

    print(f"allycap benchmark on {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    help_wall = wall([allycap, "--help"], 5)
    print(f"allycap --help:                      {help_wall:6.2f} s (median of 5)")
    if not args.synthetic_only:
        with tempfile.TemporaryDirectory() as tmp:
            solve_wall = wall([allycap, "solve", "--out", str(Path(tmp) / "run"), "--quiet"], 3)
        print(f"allycap solve (default inputs, CLI): {solve_wall:6.2f} s wall (median of 3)")
        with tempfile.TemporaryDirectory() as tmp:
            sweep_wall = wall(
                [
                    allycap,
                    "sweep",
                    "--set",
                    SWEEP_RULE,
                    "--vary",
                    f"{SWEEP_KEY}=0:1:0.05",
                    "--out",
                    str(Path(tmp) / "sweep"),
                    "--quiet",
                ],
                3,
            )
        print(
            f"allycap sweep, 21 points (CLI):      {sweep_wall:6.2f} s wall (median of 3): "
            f"{sweep_wall / solve_wall:.2f} x one solve"
        )
        s = sweep_ratio(check_all=args.sweep_check_all)
        print(
            f"21-point clean-share sweep:          {s['sweep']:6.2f} s in-process ({s['optimal']}"
            f" of {s['points']} optimal, build included) vs {s['one']:.2f} s for one full "
            f"pipeline run: ratio {s['sweep'] / s['one']:.2f}"
        )
        print(
            f"sweep vs fresh single solves:        largest relative objective difference "
            f"{s['max_rel_diff']:.1e} over {s['checked']} point(s)"
        )
        print_alternatives()
    print()
    header = (
        f"{'instance':<14}{'vars':>9}{'cons':>9}{'nnz':>10}{'load':>7}{'build':>7}"
        f"{'handoff':>8}{'HiGHS':>7}{'extract':>8}{'write':>7}{'outside':>8}{'ratio':>7}"
        f"{'peak MB':>9}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    cases = [] if args.synthetic_only else [("default", str(ROOT / "inputs" / "base.yaml"))]
    with tempfile.TemporaryDirectory() as tmp:
        from allycap.synthetic import generate, write

        for size in sizes:
            r, y, f = (int(v) for v in size.split("x"))
            cases.append((size, str(write(generate(r, y, f), Path(tmp) / size))))
        for name, path in cases:
            m = _in_subprocess(path)
            t = m["times"]
            ratio = m["outside"] / max(t["highs"], 1e-9)
            print(
                f"{name:<14}{m['vars']:>9,}{m['cons']:>9,}{m['nnz']:>10,}"
                f"{t['load_validate']:>7.2f}{t['prepare'] + t['build']:>7.2f}{t['handoff']:>8.2f}"
                f"{t['highs']:>7.2f}{t['extract']:>8.2f}{t['write']:>7.2f}{m['outside']:>8.2f}"
                f"{ratio:>7.2f}{m['peak_mb']:>9.0f}"
            )
            if name != "default":
                rows.append(m)
    print(
        "(seconds; build includes prepare; handoff = Pyomo handing the LP to HiGHS; outside ="
        " everything but HiGHS's own solve; ratio = outside / HiGHS)"
    )
    if len(rows) >= 2:
        nnz = [m["nnz"] for m in rows]
        build = [m["times"]["build"] + m["times"]["prepare"] for m in rows]
        outside = [m["outside"] for m in rows]
        total = [m["outside"] + m["times"]["highs"] for m in rows]
        print()
        print(f"fitted exponent, build time vs nnz:   {fit_exponent(nnz, build):.2f}")
        print(f"fitted exponent, outside HiGHS vs nnz: {fit_exponent(nnz, outside):.2f}")
        print(f"fitted exponent, total vs nnz:        {fit_exponent(nnz, total):.2f}")


if __name__ == "__main__":
    main()
