"""Infeasibility explained in input terms; shadow prices checked against finite differences;
coefficient ranges that are too wide named by their inputs.

Each infeasible case is built so that the conflict, and the number the explanation quotes, can
be worked out by hand (see each docstring).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from allycap.run import run

ALLYCAP = str(Path(sys.executable).parent / "allycap")


def chain(**extra) -> dict:
    """Region A (allied) buys magnets; China (restricted) has 100 t/yr; A may build its own
    plant (capex 1 M$ per t/yr, lead time 3 years). Years 2025-2030, no discounting."""
    data = {
        "horizon": {"start": 2025, "end": 2030},
        "discount_rate": 0.0,
        "regions": {"A": {"bloc": "allied"}, "CHN": {"bloc": "restricted"}},
        "commodities": {"magnet": {}},
        "processes": {"make": {"stage": "magnet", "output": "magnet"}},
        "facilities": {
            "china": {"region": "CHN", "process": "make", "existing": 100, "variable_cost": 1},
            "a_plant": {
                "region": "A",
                "process": "make",
                "variable_cost": 2,
                "expansion": {"capex": 1.0, "lifetime": 20, "lead_time": 3},
            },
        },
        "demand": {"A": {"magnet": 10}},
        "trade": {"transport_cost": {"magnet": 0.0}},
        "options": {"retag_cost": 0.0},
    }
    for key, value in extra.items():
        data[key] = value
    return data


def write(tmp_path: Path, data: dict, name: str = "case.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def solve_cli(path: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ALLYCAP, "solve", str(path), "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def explained(tmp_path: Path, data: dict, *args: str) -> tuple[str, dict]:
    out = tmp_path / "out"
    proc = solve_cli(write(tmp_path, data), out, *args)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    # files are shown relative to the inputs folder's parent: drop the temporary folder's name
    text = proc.stderr.replace(f"{tmp_path.name}/", "")
    return text, json.loads((out / "infeasibility.json").read_text())


def test_independence_share_before_clean_capacity_can_be_online(tmp_path: Path) -> None:
    """A must meet all its demand cleanly from 2026, but its only clean source is a plant that
    can be online in 2028 at the earliest (decided in 2025 + 3 years). In 2026 the rule needs
    10 t clean and at most 0 t clean can be delivered."""
    data = chain(
        independence={
            "all_clean": {
                "kind": "min_clean_share",
                "regions": ["A"],
                "commodity": "magnet",
                "share": 1.0,
                "start": 2026,
            }
        }
    )
    text, diagnosis = explained(tmp_path, data)
    assert diagnosis["method"] == "iis"
    assert "independence rule all_clean (case.yaml:" in text
    assert "requires 100% of magnet demand in A in 2026 to be clean: 10 t" in text
    assert "at most 0 t" in text
    assert "a_plant (lead time 3 years) could be online from 2028" in text
    rules = {c["input"] for c in diagnosis["conflicts"] if c["policy_rule"]}
    assert rules == {"independence.all_clean"}


def test_budget_below_the_cost_of_any_feasible_build(tmp_path: Path) -> None:
    """Strict mode, no China: A's 10 t/yr from 2028 need a 10 t/yr plant at 1 M$ per t/yr =
    10 M$, but the budget allows 4 M$ in total."""
    data = chain(
        budgets={"fund": {"payer": "A", "total": 4}},
        demand={"A": {"magnet": {2025: 0, 2027: 0, 2028: 10}}},
    )
    del data["facilities"]["china"]
    text, diagnosis = explained(tmp_path, data, "--strict")
    assert "budget fund (case.yaml:" in text
    assert "allows 4.0 M$ in total" in text
    assert "need at least 10.0 M$" in text
    assert {"budgets.fund"} <= {c["input"] for c in diagnosis["conflicts"]}


def test_export_ban_with_strict_demand(tmp_path: Path) -> None:
    """China bans magnet exports to A from 2025 and demand may not go unmet, but A's plant
    cannot be online before 2028: in 2025 the ban allows 0 t where 10 t are needed."""
    data = chain(
        export_controls={
            "ban": {
                "origins": ["CHN"],
                "destinations": ["A"],
                "commodities": ["magnet"],
                "limit": 0,
            }
        }
    )
    text, diagnosis = explained(tmp_path, data, "--strict")
    assert "export control ban (case.yaml:" in text
    assert "limits magnet to 0 t in 202" in text
    assert "need at least 10 t through it" in text
    families = {c["family"] for c in diagnosis["conflicts"]}
    assert {"export_control", "demand_met"} <= families


def test_sharing_caps_that_cannot_cover_the_output(tmp_path: Path) -> None:
    """Two partners, each capped at 40% of the agreement's output: 80% < 100%, so the shared
    plant can produce nothing, while strict demand in A needs its 10 t from 2028 (China is
    gone)."""
    data = chain(
        regions={"A": {"bloc": "allied"}, "B": {"bloc": "allied"}},
        demand={"A": {"magnet": {2025: 0, 2027: 0, 2028: 10}}, "B": {"magnet": 1}},
        sharing={
            "pool": {
                "facilities": ["a_plant"],
                "max_market_share": 0.4,
                "partners": {"A": {}, "B": {}},
            }
        },
    )
    del data["facilities"]["china"]
    data["demand"]["B"] = {"magnet": 0}
    text, diagnosis = explained(tmp_path, data, "--strict")
    assert "sharing agreement pool (case.yaml:" in text
    assert any(c["input"] == "sharing.pool" for c in diagnosis["conflicts"])


def test_sharing_minimums_above_one_are_rejected_before_solving(tmp_path: Path) -> None:
    data = chain(
        sharing={
            "pool": {
                "facilities": ["a_plant"],
                "partners": {"A": {"min_share": 0.7}, "CHN": {"min_share": 0.6}},
            }
        }
    )
    proc = solve_cli(write(tmp_path, data), tmp_path / "out")
    assert proc.returncode == 2
    assert "sharing.pool.partners: partner min_share values sum to 1.3, above 1" in proc.stderr


def test_stockpile_cover_larger_than_any_possible_supply(tmp_path: Path) -> None:
    """A holds a plant of 10 t/yr and needs 5 t/yr; the stockpile must hold 10 years of demand
    (50 t) in 2026. Even leaving all demand unmet, two years of output give 20 t."""
    data = chain(
        horizon={"start": 2025, "end": 2026},
        stockpiles={
            "reserve": {"region": "A", "commodity": "magnet", "cover": {2025: 0, 2026: 10}}
        },
        demand={"A": {"magnet": 5}},
    )
    data["facilities"] = {"a_plant": {"region": "A", "process": "make", "existing": 10}}
    text, _ = explained(tmp_path, data)
    assert "stockpile reserve (case.yaml:" in text
    assert "requires 50 t of magnet in A in 2026" in text
    assert "at most 20 t can be held then" in text


# -- shadow prices against finite differences ---------------------------------------------------


def _objective(tmp_path: Path, data: dict, name: str) -> float:
    r = run(write(tmp_path, data, name))
    assert r.results.status == "optimal"
    return r.results.objective


def _dual(tmp_path: Path, data: dict, family: str) -> float:
    r = run(write(tmp_path, data, "dual.yaml"))
    duals = r.results.tables["duals"]
    rows = duals[duals.family == family]
    assert len(rows) == 1, rows
    return float(rows.iloc[0]["dual"]), float(rows.iloc[0]["value"])


def test_independence_dual_matches_finite_difference(tmp_path: Path) -> None:
    """Clean supply costs 2 + capital, China 1: raising the clean share raises the cost; the
    change per percentage point equals the reported price of independence."""

    def case(share):
        return chain(
            horizon={"start": 2030, "end": 2030},
            facilities={
                **chain()["facilities"],
                "a_plant": {"region": "A", "process": "make", "existing": 100, "variable_cost": 2},
            },
            independence={
                "clean": {
                    "kind": "min_clean_share",
                    "regions": ["A"],
                    "commodity": "magnet",
                    "share": share,
                }
            },
        )

    step = 0.01
    fd = _objective(tmp_path, case(0.51), "hi.yaml") - _objective(tmp_path, case(0.50), "lo.yaml")
    dual, per_point = _dual(tmp_path, case(0.50), "independence")
    assert fd == pytest.approx(per_point * step * 100, rel=1e-6)
    assert fd == pytest.approx(0.1, rel=1e-6)  # 1 M$/t dearer on 1% of 10 t


def test_budget_dual_matches_finite_difference(tmp_path: Path) -> None:
    """No China; A needs 10 t/yr from 2028 and a plant costs 1 M$ per t/yr (0.05 a year over
    20 years, charged 2028-2030) plus 2 M$/t to run, against 10 M$/t for unmet demand. A 4 M$
    budget builds 4 t/yr; one more M$ builds one more, saving 3 * (10 - 2) - 0.15 = 23.85."""

    def case(total):
        data = chain(
            budgets={"fund": {"payer": "A", "total": total}},
            demand={"A": {"magnet": {2025: 0, 2027: 0, 2028: 10}}},
        )
        del data["facilities"]["china"]
        return data

    fd = _objective(tmp_path, case(5), "hi.yaml") - _objective(tmp_path, case(4), "lo.yaml")
    dual, value = _dual(tmp_path, case(4), "budget")
    assert fd == pytest.approx(-23.85, rel=1e-6)
    assert fd == pytest.approx(dual * 1.0, rel=1e-6)
    assert value == pytest.approx(-fd, rel=1e-6)


def test_export_control_dual_matches_finite_difference(tmp_path: Path) -> None:
    """A 3 t quota on Chinese magnets in 2030: each extra tonne replaces a tonne of A's own
    supply (2 M$/t) by a Chinese one (1 M$/t)."""

    def case(limit):
        data = chain(
            horizon={"start": 2030, "end": 2030},
            export_controls={
                "quota": {
                    "origins": ["CHN"],
                    "destinations": ["A"],
                    "commodities": ["magnet"],
                    "limit": limit,
                }
            },
        )
        data["facilities"]["a_plant"] = {
            "region": "A",
            "process": "make",
            "existing": 100,
            "variable_cost": 2,
        }
        return data

    fd = _objective(tmp_path, case(4), "hi.yaml") - _objective(tmp_path, case(3), "lo.yaml")
    dual, _ = _dual(tmp_path, case(3), "export_control")
    assert fd == pytest.approx(dual, rel=1e-6)
    assert fd == pytest.approx(-1.0, rel=1e-6)


def test_stock_cover_dual_matches_finite_difference(tmp_path: Path) -> None:
    """Holding stock costs 0.5 M$/t a year and the stock must be bought: one more tonne of
    required stock costs its production (2) plus a year's holding (0.5)."""

    def case(level):
        data = chain(
            horizon={"start": 2030, "end": 2030},
            stockpiles={
                "reserve": {
                    "region": "A",
                    "commodity": "magnet",
                    "min_level": level,
                    "holding_cost": 0.5,
                }
            },
        )
        data["facilities"] = {
            "a_plant": {"region": "A", "process": "make", "existing": 100, "variable_cost": 2}
        }
        return data

    fd = _objective(tmp_path, case(6), "hi.yaml") - _objective(tmp_path, case(5), "lo.yaml")
    dual, _ = _dual(tmp_path, case(5), "stockpile")
    assert fd == pytest.approx(dual, rel=1e-6)
    assert fd == pytest.approx(2.5, rel=1e-6)


# -- numerical health -----------------------------------------------------------------------------


def test_wide_coefficient_range_is_named(tmp_path: Path) -> None:
    """A variable cost of 1e-7 M$/t beside an unmet penalty of 10 M$/t and transport of 1e3
    spans more than 1e8: the warning names the facility that carries the tiny cost."""
    data = chain(horizon={"start": 2030, "end": 2030})
    data["facilities"]["a_plant"] = {"region": "A", "process": "make", "existing": 1}
    data["facilities"]["china"]["variable_cost"] = 1e-7
    data["trade"]["transport_cost"]["magnet"] = 1000.0
    proc = solve_cli(write(tmp_path, data), tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    text = proc.stderr.replace(f"{tmp_path.name}/", "")
    assert "warning: numerics: cost coefficients span 1e-07 to 1e+03" in text
    assert "smallest 1e-07 in prod[china,2030,other] from facilities.china (case.yaml:" in text
    assert "largest 1e+03 in ship[magnet,CHN,A,2030,other] from trade (case.yaml:" in text
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["numerics"]["cost"]["ratio"] == pytest.approx(1e10, rel=1e-6)
