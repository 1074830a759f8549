"""`allycap alternatives`: near-optimal ranges, hand-solved.

The hand instance (`TWO`): one stage, one commodity (magnet), years 2025 and 2026 (step 1),
discount rate 0, demand 100 t/yr in region D (no facility) in both years, no transport cost.
Regions A and B can each build a magnet plant, lead time 0, lifetime 10, no O&M or variable
cost. With r = 0 the capital recovery factor is 1/10 and there is no interest during
construction, so a t/yr of capacity costs capex / 10 M$ for each model year it is online. A
plant decided in 2025 is online in 2025 and 2026 (costs 2 capex / 10); one decided in 2026 is
online in 2026 only (capex / 10). Unmet magnets cost `penalty` M$/t.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pyomo.environ as pyo
import pytest

from allycap.studies.alternatives import (
    Session,
    cost_cap,
    parse_slacks,
    plan_alternatives,
    run_alternatives,
    study,
)
from allycap.studies.cases import StudyError
from tests.invariants import check_invariants
from tests.studies.conftest import dump
from tests.studies.test_cli_studies import allycap, error_line, ok

TWO = {
    "horizon": {"start": 2025, "end": 2026, "step": 1},
    "discount_rate": 0.0,
    "regions": {
        "A": {"bloc": "allied"},
        "B": {"bloc": "allied"},
        "D": {"bloc": "allied"},
    },
    "commodities": {"magnet": {"unmet_penalty": 10.0}},
    "processes": {"make": {"stage": "magnet", "output": "magnet"}},
    "facilities": {
        "a_plant": {
            "region": "A",
            "process": "make",
            "expansion": {"capex": 1.0, "lead_time": 0, "lifetime": 10},
        },
        "b_plant": {
            "region": "B",
            "process": "make",
            "expansion": {"capex": 1.0, "lead_time": 0, "lifetime": 10},
        },
    },
    "demand": {"D": {"magnet": 100}},
    "trade": {"transport_cost": {"magnet": 0.0}},
}


def write(tmp_path: Path, changes=None) -> Path:
    data = copy.deepcopy(TWO)
    for fid, expansion in (changes or {}).items():
        data["facilities"][fid]["expansion"].update(expansion)
    return dump(data, tmp_path / "two.yaml")


def ranges(path: Path, slack: str, **kw) -> dict[str, tuple[float, float, float]]:
    plan = plan_alternatives(path, slack=slack, plans=False, **kw)
    result = run_alternatives(plan)
    assert result.optimum["status"] == "optimal"
    assert (result.solves["status"] == "optimal").all()
    return {(r.quantity, r.slack): (r.min, r.optimum, r.max) for r in result.ranges.itertuples()}


def test_identical_costs_give_the_full_range_at_slack_0(tmp_path):
    """A and B cost the same, so every split of the 100 t/yr decided in 2025 between them is
    optimal (cost 100 * 2 * 0.1 = 20 M$), and nothing else is: a 2026 build adds cost. At slack
    0 each region ranges over [0, 100], the whole total."""
    got = ranges(write(tmp_path), "0")
    for region in ("A", "B"):
        low, _, high = got[f"{region} magnet", 0.0]
        assert low == pytest.approx(0.0, abs=1e-6)
        assert high == pytest.approx(100.0, rel=1e-9)


def test_a_unique_optimum_has_no_range_at_slack_0(tmp_path):
    """B's plant costs 1.2 M$ per t/yr: the optimum builds 100 t/yr in A in 2025 and nothing in
    B, and it is the only plan at that cost: min = optimum = max (100 for A, 0 for B)."""
    got = ranges(write(tmp_path, {"b_plant": {"capex": 1.2}}), "0")
    assert got["A magnet", 0.0] == pytest.approx((100.0, 100.0, 100.0), rel=1e-9)
    assert got["B magnet", 0.0] == pytest.approx((0.0, 0.0, 0.0), abs=1e-6)


def test_a_10_percent_slack_allows_a_stated_range(tmp_path):
    """Capex A 1.0, B 1.2: C* = 100 * 2 * 0.1 = 20 M$; at 10% slack the cap is 22 M$, 2 M$ to
    spend.
    - max B: a t/yr moved from A to B in 2025 costs 2 * (0.12 - 0.1) = 0.04, an extra B plant in
      2026 0.12: best 2 / 0.04 = 50 t/yr. So B is in [0, 50] and A's min is 100 - 50 = 50.
    - max A: an extra t/yr of A decided in 2026 (online in 2026 only) costs 0.1: 2 / 0.1 = 20
      more, so A's new capacity summed over decisions reaches 120 (idle capacity built late is
      cheap: the end effect the docs warn about).
    - with --years 2025 (decisions of 2025 only) the cheap 2026 builds do not count; an extra
      t/yr of A decided in 2025 is online in both years, 0.2: 2 / 0.2 = 10 more, max 110."""
    path = write(tmp_path, {"b_plant": {"capex": 1.2}})
    got = ranges(path, "0.1")
    assert got["A magnet", 0.1] == pytest.approx((50.0, 100.0, 120.0), rel=1e-9)
    assert got["B magnet", 0.1][0] == pytest.approx(0.0, abs=1e-6)
    assert got["B magnet", 0.1][2] == pytest.approx(50.0, rel=1e-9)
    early = ranges(path, "0.1", years="2025")
    assert early["A magnet", 0.1] == pytest.approx((50.0, 100.0, 110.0), rel=1e-9)


def test_groups_and_slacks_in_percent(tmp_path):
    """A group of both regions is the total 2025+2026 build: 100 at the optimum; at 10% slack
    its max is the cheapest extra capacity, A decided in 2026 at 0.1 per t/yr: 100 + 20 = 120;
    its min stays 100 (demand needs 100 online in 2025). `10%` is the slack 0.1."""
    got = ranges(
        write(tmp_path, {"b_plant": {"capex": 1.2}}), "10%", by="none", groups=["both=A+B:magnet"]
    )
    assert got["both", 0.1] == pytest.approx((100.0, 100.0, 120.0), rel=1e-9)


SHORT = {"a_plant": {"max": 60}, "b_plant": {"max": 0}}


def test_the_shortage_cap_holds(tmp_path):
    """A can build at most 60 t/yr (B nothing) and unmet magnets cost 0.15 M$/t: building
    (0.1 per t/yr and year) beats leaving demand unmet, so the optimum builds 60 in 2025 and
    leaves 40 t/yr unmet in both years: C* = 60 * 0.2 + 80 * 0.15 = 24, shortage S* = 12.
    At 10% slack (cap 26.4):
    - with the shortage cap, 0.15 (200 - 2 n25 - n26) <= 12 and n25 + n26 <= 60 force n25 = 60:
      A's range is [60, 60];
    - without it, a t/yr not built in 2025 saves 0.2 and costs 0.3 of unmet demand, +0.1 each:
      2.4 / 0.1 = 24 fewer, A's min is 36."""
    path = write(tmp_path, SHORT)
    data = yaml_data(path)
    data["commodities"]["magnet"]["unmet_penalty"] = 0.15
    dump(data, path)
    kept = ranges(path, "0.1", by="region")
    assert kept["A", 0.1] == pytest.approx((60.0, 60.0, 60.0), rel=1e-9)
    allowed = ranges(path, "0.1", by="region", keep_shortfall=False)
    assert allowed["A", 0.1][0] == pytest.approx(36.0, rel=1e-9)
    plan = plan_alternatives(path, slack="0.1", by="region", plans=False)
    session = Session(plan)
    assert session.optimum["objective_musd_pv"] == pytest.approx(24.0, rel=1e-9)
    assert session.optimum["shortage_cost_musd_pv"] == pytest.approx(12.0, rel=1e-9)
    for qi, si, sense in plan.items():
        row = session.solve(qi, si, sense, None)
        assert row["shortage_cost_musd_pv"] <= 12.0 * (1 + 1e-9)


def yaml_data(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_every_alternative_passes_the_invariants_and_the_cap(chain, tmp_path):
    """On the studies' three-stage instance with a clean-share rule of 30%: every extreme of
    every quantity at slack 0.05 is a feasible plan of the model (tests/invariants.py) whose
    objective is at most 1.05 C*, and its run folder is one that `stress` reads."""
    from allycap.results import extract
    from allycap.run import Run
    from allycap.studies.stress import read_portfolio

    plan = plan_alternatives(
        chain["base"],
        overrides=["independence.allied_clean.share=0.3"],
        slack="0.05",
        clean_shares=["allied_clean"],
    )
    session = Session(plan)
    assert session.optimum["status"] == "optimal"
    cap = cost_cap(session.cost, 0.05)
    assert cap == pytest.approx(1.05 * session.cost)
    for qi, si, sense in plan.items():
        row = session.solve(qi, si, sense, tmp_path / "plans")
        assert row["status"] == "optimal"
        cost = pyo.value(session.m.total_cost)
        assert cost <= cap * (1 + 1e-9)
        assert row["objective_musd_pv"] == pytest.approx(cost)
        results = extract(session.m, session.data, session.last, "alt")
        run = Run(session.raw, session.inputs, session.data, results, [])
        assert check_invariants(run) == [], (row["quantity"], sense)
        folder = tmp_path / row["plan"]
        assert read_portfolio(folder).capacity is not None
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["alternative"]["quantity"] == row["quantity"]
    share = [q for q in plan.quantities if q.kind == "clean_share"][0]
    low = session.solve(plan.quantities.index(share), 0, "min", None)["value"]
    assert low >= 0.3 - 1e-9  # the rule still holds in every alternative


def test_workers_give_the_serial_result(chain):
    """Each solve starts from the least-cost basis, so two workers (each its own model, half of
    the solves) return exactly what one process returns."""
    from allycap.options import BatchOptions

    plan = plan_alternatives(chain["base"], slack="0.02", plans=False)
    serial = run_alternatives(plan).ranges
    parallel = run_alternatives(plan, BatchOptions(workers=2)).ranges
    assert serial[["min", "optimum", "max"]].equals(parallel[["min", "optimum", "max"]])


def test_the_study_folder(chain, tmp_path):
    """ranges.csv, solves.csv, summary.json, manifest.json (tool allycap) and plans/."""
    plan = plan_alternatives(chain["base"], slack="0.01", by="stage")
    out = tmp_path / "alts"
    result = study(out, plan)
    assert (out / "ranges.csv").is_file() and (out / "solves.csv").is_file()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tool"] == "allycap" and manifest["kind"] == "alternatives"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["optimum"]["objective_musd_pv"] == pytest.approx(
        result.optimum["objective_musd_pv"]
    )
    assert (out / "plans" / "optimum" / "investments.csv").is_file()
    for rel in result.ranges["max_plan"]:
        assert (out / rel / "summary.json").is_file()


@pytest.mark.parametrize("text", ["-0.01", "abc", "0.01,0.01", ""])
def test_bad_slacks(text):
    with pytest.raises(StudyError, match="Fix"):
        parse_slacks(text)


def test_bad_inputs_exit_2_with_a_fix(chain, tmp_path):
    base = str(chain["base"])
    line = error_line(
        allycap("alternatives", base, "--slack", "-0.01", "--out", str(tmp_path / "a"))
    )
    assert "--slack" in line and "Fix" in line
    line = error_line(
        allycap(
            "alternatives", base, "--group", "x=USA+MEX:separation", "--out", str(tmp_path / "a")
        )
    )
    assert "unknown region 'MEX'" in line and "Fix" in line
    line = error_line(
        allycap("alternatives", base, "--group", "x=USA:separaton", "--out", str(tmp_path / "a"))
    )
    assert "unknown stage 'separaton'" in line and "separation" in line
    line = error_line(
        allycap("alternatives", base, "--clean-share", "nope", "--out", str(tmp_path / "a"))
    )
    assert "nope" in line and "Fix" in line
    line = error_line(
        allycap("alternatives", base, "--years", "2031", "--out", str(tmp_path / "a"))
    )
    assert "2031" in line and "Fix" in line
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "keep.txt").write_text("mine")
    line = error_line(allycap("alternatives", base, "--out", str(theirs)))
    assert "did not write" in line and "Fix" in line
    assert (theirs / "keep.txt").read_text() == "mine"


def test_the_command(chain, tmp_path):
    out = tmp_path / "alts"
    proc = ok(
        allycap(
            "alternatives",
            str(chain["base"]),
            "--slack",
            "1%",
            "--by",
            "stage",
            "--no-plans",
            "--out",
            str(out),
        )
    )
    assert "ranges.csv" in proc.stdout
    assert not (out / "plans").exists()


def test_without_plans_the_cost_is_read_off_the_cap_row(chain, tmp_path):
    """Without plan folders a solve loads only its quantity's variables and reads the plan's
    cost off the cap row in HiGHS (plus the objective's constant): the same cost, shortage and
    value as the objective evaluated on the fully loaded plan."""
    plan = plan_alternatives(chain["base"], slack="0.03", by="stage")
    session = Session(plan)
    for qi, si, sense in plan.items():
        light = session.solve(qi, si, sense, None)
        full = session.solve(qi, si, sense, tmp_path / "plans")
        assert light["objective_musd_pv"] == pytest.approx(full["objective_musd_pv"], rel=1e-9)
        assert light["objective_musd_pv"] <= cost_cap(session.cost, 0.03) * (1 + 1e-9)
        assert light["value"] == pytest.approx(full["value"], rel=1e-9, abs=1e-6)
        assert light["shortage_cost_musd_pv"] == pytest.approx(
            full["shortage_cost_musd_pv"], abs=1e-6
        )


def test_a_solve_that_is_not_optimal_is_no_range_end(tmp_path):
    """ranges.csv takes a bound only from an optimal solve: a time-limited max is blank, with
    its status beside it, while the optimal min stays."""
    import pandas as pd

    from allycap.studies.alternatives import ranges_table

    plan = plan_alternatives(write(tmp_path), slack="0.1", by="region", plans=False)
    rows = [
        {
            "quantity": "A",
            "slack": 0.1,
            "sense": "min",
            "status": "optimal",
            "value": 0.0,
            "plan": "",
        },
        {
            "quantity": "A",
            "slack": 0.1,
            "sense": "max",
            "status": "time_limit",
            "value": 80.0,
            "plan": "plans/x",
        },
    ]
    table = ranges_table(plan, {"status": "optimal", "values": [50.0, 50.0]}, pd.DataFrame(rows))
    a = table[table["quantity"] == "A"].iloc[0]
    assert a["min"] == 0.0 and a["min_status"] == "optimal"
    assert pd.isna(a["max"]) and a["max_status"] == "time_limit" and a["max_plan"] == ""
    b = table[table["quantity"] == "B"].iloc[0]
    assert pd.isna(b["min"]) and pd.isna(b["max"])  # never solved: no range
    assert b["min_status"] == "not solved"


def test_spores_move_away_from_the_capacity_used_before(tmp_path):
    """SPORES on the tie (A and B cost the same) at slack 0: spore 0 is the least-cost plan,
    which builds the 100 t/yr in one region; spore 1 gives that region's plant weight 1 and the
    other 0, so it builds all 100 in the other region at the same cost (20 M$); spore 2 weighs
    both plants 1, so any split of 100 costs 100 in weight and 20 M$: its total is 100."""
    plan = plan_alternatives(write(tmp_path), slack="0", by="region", plans=False, spores=2)
    result = run_alternatives(plan)
    spores = result.spores.set_index("spore")
    assert list(spores["status"]) == ["optimal"] * 3
    a0, b0 = spores.loc[0, "A"], spores.loc[0, "B"]
    assert sorted([a0, b0]) == pytest.approx([0.0, 100.0], abs=1e-6)
    assert (spores.loc[1, "A"], spores.loc[1, "B"]) == pytest.approx((b0, a0), abs=1e-6)
    assert spores.loc[2, "A"] + spores.loc[2, "B"] == pytest.approx(100.0)
    assert (spores["objective_musd_pv"] <= 20.0 * (1 + 1e-9)).all()
