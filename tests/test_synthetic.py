"""The synthetic generator makes valid, solvable inputs with every rule family present."""

from __future__ import annotations

from pathlib import Path

import pytest

from allycap.run import run
from allycap.synthetic import generate, write
from tests.invariants import check_invariants


@pytest.mark.parametrize("size", [(3, 2, 1), (5, 4, 2), (7, 6, 3)])
def test_synthetic_instances_solve_and_hold_the_invariants(tmp_path: Path, size) -> None:
    data = generate(*size)
    for family in ("independence", "export_controls", "sharing", "budgets", "stockpiles"):
        assert data[family], family
    assert data["trade"]["tariffs"]
    r = run(write(data, tmp_path))
    assert r.results.status == "optimal"
    assert check_invariants(r) == []
    assert len(r.inputs.regions) == size[0]
    assert len(r.data.years) == size[1]
    assert len(r.inputs.facilities) == size[0] * 5 * size[2]


def test_generator_is_deterministic() -> None:
    assert generate(6, 5, 2) == generate(6, 5, 2)


def test_generator_rejects_degenerate_sizes() -> None:
    with pytest.raises(ValueError):
        generate(2, 5, 1)
