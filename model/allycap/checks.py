"""`allycap check`: validate and solve each case, judge it against its thresholds, report for CI.

The unmet-share threshold (`check.max_unmet_share`, `--max-unmet`) counts every tonne of demand
not served, curtailed or unmet (summary.json `kpis.unmet_share`, from shortfall.csv). A passing
case's detail gives the two cost accounts apart: resource cost and shortage cost, and the
objective as their sum.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from pathlib import Path

from allycap.options import SolveOptions


@dataclass
class CheckOutcome:
    name: str
    verdict: str  # pass, fail, invalid
    detail: str
    exit_code: int
    seconds: float
    status: str = ""
    unmet_share: float | None = None  # curtailed + unmet tonnes over demand
    objective: float | None = None  # resource_cost + shortage_cost
    resource_cost: float | None = None  # M$ PV
    shortage_cost: float | None = None  # M$ PV

    def as_dict(self) -> dict:
        return asdict(self)


def run_checks(
    input: Path,
    cases: list[Path | None],
    max_unmet: float | None = None,
    options: SolveOptions | None = None,
) -> list[CheckOutcome]:
    """Each case run with `options` (the inputs' own strictness unless `options.strict`)."""
    from allycap.errors import InputError
    from allycap.run import run

    outcomes = []
    for case in cases:
        name = "base" if case is None else Path(case).stem
        started = time.perf_counter()
        try:
            r = run(input, [case] if case is not None else None, options=options)
        except InputError as exc:
            detail = "; ".join(i.format() for i in exc.issues[:5])
            if len(exc.issues) > 5:
                detail += f"; and {len(exc.issues) - 5} more"
            outcomes.append(CheckOutcome(name, "invalid", detail, 2, time.perf_counter() - started))
            continue
        elapsed = time.perf_counter() - started
        res, expect = r.results, r.inputs.check
        threshold = expect.max_unmet_share if max_unmet is None else max_unmet
        solved = res.objective is not None
        unmet = res.summary.get("unmet_share") if solved else None
        resource = res.summary.get("resource_cost_musd_pv") if solved else None
        shortage = res.summary.get("shortage_cost_musd_pv") if solved else None
        if expect.expect == "infeasible":
            ok = res.status == "infeasible"
            detail = f"expected infeasible; solver says {res.status}"
        elif res.status != "optimal":
            ok, detail = False, f"{res.status}: {res.message}"
            if r.diagnosis is not None and r.diagnosis.explanation:
                detail = f"{res.status}: " + " ".join(r.diagnosis.explanation[:3])
        elif unmet is not None and unmet > threshold + 1e-9:
            ok = False
            detail = (
                f"shortfall (curtailed + unmet) {unmet:.4%} of demand exceeds the threshold "
                f"{threshold:.4%}; {_accounts(resource, shortage, res.objective)}"
            )
        elif short := _clean_share_shortfalls(r):
            ok = False
            detail = "; ".join(short)
        else:
            ok = True
            detail = (
                f"optimal, {_accounts(resource, shortage, res.objective)}, shortfall "
                f"(curtailed + unmet) {unmet:.4%} (threshold {threshold:.4%})"
            )
        if r.warnings:
            detail += f"; {len(r.warnings)} network warning(s)"
        outcomes.append(
            CheckOutcome(
                name,
                "pass" if ok else "fail",
                detail,
                0 if ok else 1,
                elapsed,
                res.status,
                unmet,
                res.objective,
                resource,
                shortage,
            )
        )
    return outcomes


def _accounts(resource: float, shortage: float, objective: float) -> str:
    """The two accounts apart, and the objective labelled as their sum (M$ PV)."""
    return (
        f"resource cost {resource:,.1f} M$ + shortage cost {shortage:,.1f} M$ "
        f"= objective {objective:,.1f} M$"
    )


def _clean_share_shortfalls(r) -> list[str]:
    """Each `check.min_clean_share` threshold the solution misses, in words."""
    mix = r.results.tables["supply_mix"]
    inp = r.inputs
    found = []
    for cid, c in inp.check.min_clean_share.items():
        wanted = set(c.regions)
        group = [g for g, reg in inp.regions.items() if g in wanted or reg.bloc in wanted]
        rows = mix[(mix.commodity == c.commodity) & mix.region.isin(group)]
        if c.from_year is not None:
            rows = rows[rows.year >= c.from_year]
        for year, part in rows.groupby("year"):
            demand = part.demand_t.sum()
            if demand <= 0:
                continue
            share = part.delivered_clean_t.sum() / demand
            if share < c.share - 1e-9:
                found.append(
                    f"clean share check {cid}: {c.commodity} in {'+'.join(group)} was "
                    f"{share:.1%} in {year}, below {c.share:.1%}"
                )
                break
    return found


JUNIT_SUITE = "allycap check"  # the suite name: how `--junit` recognizes a file it wrote


def write_junit(path: Path, outcomes: list[CheckOutcome]) -> None:
    suite = ET.Element(
        "testsuite",
        name=JUNIT_SUITE,
        tests=str(len(outcomes)),
        failures=str(sum(o.verdict == "fail" for o in outcomes)),
        errors=str(sum(o.verdict == "invalid" for o in outcomes)),
        time=f"{sum(o.seconds for o in outcomes):.3f}",
    )
    for o in outcomes:
        case = ET.SubElement(
            suite, "testcase", classname="allycap.scenarios", name=o.name, time=f"{o.seconds:.3f}"
        )
        if o.verdict == "fail":
            ET.SubElement(case, "failure", message=o.detail).text = o.detail
        elif o.verdict == "invalid":
            ET.SubElement(case, "error", message="invalid input").text = o.detail
        else:
            ET.SubElement(case, "system-out").text = o.detail
    tree = ET.ElementTree(ET.Element("testsuites"))
    tree.getroot().append(suite)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)
