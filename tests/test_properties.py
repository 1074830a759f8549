"""Property tests: every optimal solution of a random instance satisfies the invariants.

Instances come from the cross-check's generator (tests/crosscheck/generate.py: every
constraint family appears across the draws). The invariants (tests/invariants.py) are checked
from the output tables a user reads: mass balance (all tags and clean alone), capacity,
provenance (no clean output in or shipments touching restricted regions; clean use covered by
clean supply), demand identity, rule shares, export controls, budgets, stock covers,
non-negativity, and costs adding up to the objective.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings

from allycap.run import run
from tests.crosscheck.generate import instances
from tests.invariants import check_invariants


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(instances())
def test_every_optimal_solution_holds_the_invariants(inst: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.yaml"
        path.write_text(yaml.safe_dump(inst, sort_keys=False))
        r = run(path, explain=False)
    if r.results.status != "optimal":
        return  # infeasible draws are the cross-check's business
    assert check_invariants(r) == []
