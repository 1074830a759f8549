"""Shared fixtures for the known-answer formulation tests.

Each test writes a tiny instance as YAML into pytest's tmp_path and runs the whole pipeline on
it (load, validate, prepare, build, solve, extract), so the numbers it checks are the ones a
modeler would read. Year keys in year maps must be ints so that they dump as YAML integers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from allycap.run import Run, run


def write_inputs(data: dict, path: Path) -> Path:
    """Write `data` as YAML at `path` (keys that are years stay ints) and return the path."""
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def solve(tmp_path: Path) -> Callable[..., Run]:
    """`solve(data, **run_kwargs)`: write `data` as YAML and run the pipeline on it."""
    counter = itertools.count()

    def _solve(data: dict, **kwargs) -> Run:
        path = write_inputs(data, tmp_path / f"case{next(counter)}.yaml")
        return run(path, **kwargs)

    return _solve
