"""Invariants on the default inputs and on every scenario shipped in inputs/scenarios/."""

from __future__ import annotations

from pathlib import Path

import pytest

from allycap.run import run
from tests.invariants import check_invariants

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "inputs" / "base.yaml"
SCENARIOS = sorted((ROOT / "inputs" / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("scenario", [None, *SCENARIOS], ids=lambda s: s.stem if s else "base")
def test_solution_invariants(scenario: Path | None) -> None:
    r = run(BASE, [scenario] if scenario else None)
    assert r.results.status == "optimal", r.results.message
    assert check_invariants(r) == []


def test_invariants_catch_a_broken_solution() -> None:
    """The checker is not vacuous: corrupt one table and it must complain."""
    r = run(BASE)
    flows = r.results.tables["flows"]
    flows.loc[flows.index[0], "quantity_t"] += 1000.0
    problems = check_invariants(r)
    assert any("mass balance" in p for p in problems)
    r.results.tables["costs"].loc[0, "present_value_musd"] += 1.0
    assert any("objective" in p for p in check_invariants(r))
