"""Independent cross-check of allycap's optimum against a second formulation of the same LP.

For a few hundred small random instances (generate.py), the instance is written as YAML, run
through the whole allycap pipeline (`allycap.run.run`), and also solved as a plain matrix LP built
straight from the input dict (reference_lp.py, no code shared with allycap's data.py or
formulation/). Both must agree on feasibility and, when optimal, on the objective.

The instances are derandomized, so CI sees the same ones on every run; hypothesis still shrinks
a failure to a small instance, which it prints as a dict (dump it with yaml.safe_dump to get an
input file). Hand-checked instances live in cases/*.yaml: each says in its comments what the
conventions give and why, and those marked BUG reproduce a disagreement where allycap is wrong.

A cross-check only means something if the instances exercise the model, so
test_instances_exercise_every_family checks, on the reference alone, that every constraint
family changes the optimum (status or objective) of some generated instance when dropped, and
that both optimal and infeasible instances occur.
"""

from __future__ import annotations

import math
import tempfile
from collections import Counter
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from allycap.run import run

from .generate import features, instances
from .reference_lp import FAMILIES, Answer, solve

EXAMPLES = 400
REL_TOL = 1e-6
ABS_TOL = 1e-6
CASES = sorted((Path(__file__).parent / "cases").glob("*.yaml"))

DETERMINISTIC = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def allycap_answer(path: Path) -> tuple[str, float | None]:
    results = run(path).results
    return results.status, results.objective


def agree(a: tuple[str, float | None], b: Answer) -> bool:
    status, objective = a
    if status != b.status:
        return False
    if status != "optimal":
        return True
    return math.isclose(objective, b.objective, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def check(inst: dict, path: Path) -> None:
    path.write_text(yaml.safe_dump(inst, sort_keys=False), encoding="utf-8")
    ours = allycap_answer(path)
    ref = solve(inst)
    assert ours[0] in ("optimal", "infeasible"), f"allycap status {ours[0]!r}"
    assert agree(ours, ref), (
        f"allycap: {ours[0]} {ours[1]!r}; reference LP: {ref.status} {ref.objective!r} "
        f"({ref.num_vars} variables, {ref.num_rows} rows)"
    )


@DETERMINISTIC
@given(inst=instances())
def test_allycap_matches_reference_lp(inst: dict) -> None:
    with tempfile.TemporaryDirectory() as folder:
        check(inst, Path(folder) / "instance.yaml")


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_case(case: Path) -> None:
    """A stored instance: the reference matches the hand-checked `# expect: <status> [objective]`
    comment, and allycap matches the reference. A case marked `# or: rejected` also passes when
    allycap refuses the input in validation (a fix that forbids the ambiguous input)."""
    text = case.read_text(encoding="utf-8")
    inst = yaml.safe_load(text)
    ref = solve(inst)
    for line in text.splitlines():
        if line.startswith("# expect:"):
            words = line.split(":", 1)[1].split()
            expected = (words[0], float(words[1]) if len(words) > 1 else None)
            assert agree(expected, ref), f"reference gives {ref.status} {ref.objective!r}"
    try:
        ours = allycap_answer(case)
    except Exception as exc:  # by name: this check imports nothing from allycap but run()
        if type(exc).__name__ == "InputError" and "# or: rejected" in text:
            return
        raise
    assert agree(ours, ref), (
        f"allycap: {ours[0]} {ours[1]!r}; reference LP: {ref.status} {ref.objective!r}"
    )


def test_instances_exercise_every_family() -> None:
    seen: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    binding: Counter[str] = Counter()

    @DETERMINISTIC
    @given(inst=instances())
    def collect(inst: dict) -> None:
        seen.update(features(inst))
        base = solve(inst)
        statuses[base.status] += 1
        for family in FAMILIES:
            if not agree((base.status, base.objective), solve(inst, frozenset([family]))):
                binding[family] += 1

    collect()
    wanted = {
        "min_clean_share",
        "min_clean_share_each",
        "max_origin_share",
        "export_ban",
        "export_limit",
        "sharing_min_share",
        "sharing_cofinance",
        "sharing_max_market_share",
        "two_agreements",
        "budget_payer",
        "budget_facilities",
        "budget_per_year",
        "budget_total",
        "stock_cover",
        "stock_min_level",
        "stock_initial",
        "stock_initial_clean_share",
        "stock_holding_cost",
        "stock_release_during",
        "stock_release_years",
        "stock_release_max_rate",
        "strict",
        "sectors",
        "tranches",
        "ad_valorem",
        "per_tonne",
        "closed_route",
        "route",
        "coproduct",
        "coproduct_override",
        "recycling",
        "input_override",
        "lead_time",
        "lead_shorter_than_step",
        "construction_interest",
        "earliest",
        "max",
        "ramp",
        "resource",
        "availability",
        "variable_cost",
        "fixed_om",
        "restricted_origins",
        "two_restricted_regions",
        "step=1",
        "step=2",
        "step=5",
        "years=1",
        "years=3",
        "discounted",
    }
    assert not wanted - set(seen), f"never generated: {sorted(wanted - set(seen))}"
    assert not set(FAMILIES) - set(binding), (
        f"families that never change an optimum: {sorted(set(FAMILIES) - set(binding))}"
    )
    assert statuses["optimal"] >= EXAMPLES // 2, statuses
    assert statuses["infeasible"] >= EXAMPLES // 10, statuses
