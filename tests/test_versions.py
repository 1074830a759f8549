"""Reproducible installs: constraints.txt, pyproject.toml's bounds, versions.REFERENCE and the
README's commands agree, and drift_warning names the packages that differ."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from allycap import versions

ROOT = Path(__file__).resolve().parents[1]


def pins() -> dict[str, str]:
    """constraints.txt as {normalized name: version}; every non-comment line is `name==version`."""
    out = {}
    for raw in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([A-Za-z0-9.+!-]+)", line)
        assert match, f"constraints.txt: {raw!r} is not an exact pin name==version"
        out[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return out


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_reference_agrees_with_constraints():
    pinned = pins()
    for key, (_, dist) in versions.PACKAGES.items():
        assert pinned[dist] == versions.REFERENCE[key], (dist, pinned.get(dist))


def test_constraints_pin_every_dependency_within_its_bounds():
    """Each requirement of the dev install (runtime and extras) is pinned, to a version inside
    pyproject.toml's range, and allycap itself is not pinned."""
    pinned = pins()
    assert "allycap" not in pinned
    spec = project()
    requirements = [*spec["dependencies"], *spec["optional-dependencies"]["dev"]]
    for extra in spec["optional-dependencies"].values():
        requirements += extra
    for text in requirements:
        req = Requirement(text)
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        assert name in pinned, f"{name} is not in constraints.txt"
        assert req.specifier.contains(pinned[name]), (text, pinned[name])


def test_runtime_dependencies_have_upper_bounds():
    spec = project()
    runtime = [*spec["dependencies"], *spec["optional-dependencies"]["parallel"]]
    runtime += spec["optional-dependencies"]["report"]
    for text in runtime:
        ops = {s.operator for s in Requirement(text).specifier}
        assert "<" in ops, f"{text}: no upper bound"


def test_ci_runs_the_readme_test_command_with_the_constraints():
    """.ci/run runs the README's test command (quietly: -q) line by line."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^python3 -m venv .*$", readme, flags=re.M)
    test_command = [c for c in commands if c.endswith("pytest")]
    assert len(test_command) == 1, commands
    parts = test_command[0].split(" && ")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    ci_command = " && ".join(line.replace(" -q ", " ") for line in ci[-3:])
    assert ci_command == " && ".join(parts)
    for command in commands:
        assert "pip install -c constraints.txt -e " in command, command


@pytest.mark.parametrize("key", sorted(versions.REFERENCE))
def test_drift_warning_names_the_package_that_differs(monkeypatch, key):
    now = dict(versions.REFERENCE)
    now[key] = "0.0.1"
    monkeypatch.setattr(versions, "installed", lambda: now)
    text = versions.drift_warning()
    name = versions.PACKAGES[key][0]
    assert text == (
        f"installed {name} 0.0.1 differs from {versions.REFERENCE[key]}, which produced the "
        "figures in README.md and docs/; the plan may differ where costs tie. "
        "Fix: pip install -c constraints.txt -e ."
    )
    assert "\n" not in text


def test_drift_warning_lists_several_and_missing(monkeypatch):
    monkeypatch.setattr(
        versions, "installed", lambda: {"highs": "1.15.1", "pyomo": "6.10.1", "pandas": None}
    )
    text = versions.drift_warning()
    assert text.startswith(
        "installed HiGHS 1.15.1, pandas (not installed) differ from 1.16.0, 3.1.1, which produced"
    )


def test_drift_warning_none_when_versions_match(monkeypatch):
    monkeypatch.setattr(versions, "installed", lambda: dict(versions.REFERENCE))
    assert versions.drift_warning() is None


def test_installed_reads_the_distributions(monkeypatch):
    """highspy provides HiGHS: the key `highs` is looked up under the distribution `highspy`."""
    asked = []

    def fake_version(dist):
        asked.append(dist)
        return "9.9.9"

    monkeypatch.setattr(versions, "version", fake_version)
    assert versions.installed() == {"highs": "9.9.9", "pyomo": "9.9.9", "pandas": "9.9.9"}
    assert asked == ["highspy", "pyomo", "pandas"]
