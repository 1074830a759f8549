"""`allycap check` thresholds: unmet demand and minimum clean share, judged on the solution."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

ALLYCAP = str(Path(sys.executable).parent / "allycap")

TINY = {
    "horizon": {"start": 2030, "end": 2031},
    "discount_rate": 0.0,
    "regions": {"A": {"bloc": "allied"}, "CHN": {"bloc": "restricted"}},
    "commodities": {"magnet": {}},
    "processes": {"make": {"stage": "magnet", "output": "magnet"}},
    "facilities": {
        "china": {"region": "CHN", "process": "make", "existing": 100, "variable_cost": 1},
        "a_plant": {"region": "A", "process": "make", "existing": 100, "variable_cost": 2},
    },
    "demand": {"A": {"magnet": 10}},
    "trade": {"transport_cost": {"magnet": 0.0}},
    # A buys from China (cheaper) except what the rule forces: exactly 40% clean every year.
    "independence": {
        "forty": {"kind": "min_clean_share", "regions": ["A"], "commodity": "magnet", "share": 0.4}
    },
}


def check(tmp_path: Path, *scenarios: dict) -> subprocess.CompletedProcess:
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump(TINY, sort_keys=False))
    args = [ALLYCAP, "check", str(base), "--junit", str(tmp_path / "r.xml")]
    for i, scenario in enumerate(scenarios):
        path = tmp_path / f"s{i}.yaml"
        path.write_text(yaml.safe_dump(scenario, sort_keys=False))
        args += ["--scenario", str(path)]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def threshold(share: float, from_year: int | None = None) -> dict:
    rule = {"regions": ["allied"], "commodity": "magnet", "share": share}
    if from_year is not None:
        rule["from_year"] = from_year
    return {"check": {"min_clean_share": {"allied_magnets": rule}}}


def test_clean_share_at_the_threshold_passes(tmp_path: Path) -> None:
    proc = check(tmp_path, threshold(0.4))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("PASS") == 2


def test_clean_share_below_the_threshold_fails(tmp_path: Path) -> None:
    proc = check(tmp_path, threshold(0.5))
    assert proc.returncode == 1
    assert "clean share check allied_magnets: magnet in A was 40.0% in 2030, below 50.0%" in (
        proc.stdout
    )
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert suite.get("failures") == "1"


def test_threshold_applies_from_its_first_year(tmp_path: Path) -> None:
    """Raising the rule to 60% in 2031 only: a 50% threshold from 2031 passes, from 2030 not."""
    rule = {"independence": {"forty": {"share": {2030: 0.4, 2031: 0.6}}}}
    assert check(tmp_path, {**rule, **threshold(0.5, 2031)}).returncode == 0
    assert check(tmp_path, {**rule, **threshold(0.5, 2030)}).returncode == 1


def test_threshold_with_an_unknown_region_is_invalid(tmp_path: Path) -> None:
    bad = threshold(0.5)
    bad["check"]["min_clean_share"]["allied_magnets"]["regions"] = ["alied"]
    proc = check(tmp_path, bad)
    assert proc.returncode == 2
    assert "check.min_clean_share.allied_magnets.regions.0" in proc.stdout


# China's plant gone and A's held to 7 t: of A's 10 t a year, 7 t come from A at 2 M$/t and 3 t
# go unmet at 5 M$/t. Two years at a 0% rate: resource cost 2 x 7 x 2 = 28 M$, shortage cost
# 2 x 3 x 5 = 30 M$, objective 58 M$; 6 of 20 t not served, a share of 30%.
SHORT = {
    "commodities": {"magnet": {"unmet_penalty": 5}},
    "facilities": {"china": {"existing": 0}, "a_plant": {"existing": 7}},
}


def test_detail_gives_both_accounts_and_the_threshold_counts_the_shortfall(tmp_path: Path):
    import json
    import re

    passing = {**SHORT, "check": {"max_unmet_share": 0.3}}
    failing = {**SHORT, "check": {"max_unmet_share": 0.29}}
    proc = check(tmp_path, passing, failing)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = {line.split()[1]: line for line in proc.stdout.splitlines()}
    accounts = "resource cost 28.0 M$ + shortage cost 30.0 M$ = objective 58.0 M$"
    assert lines["s0"].startswith("PASS") and accounts in lines["s0"]
    assert "shortfall (curtailed + unmet) 30.0000% (threshold 30.0000%)" in lines["s0"]
    assert lines["s1"].startswith("FAIL") and accounts in lines["s1"]
    assert re.search(r"30\.0000% of demand exceeds the threshold 29\.0000%", lines["s1"])
    args = [ALLYCAP, "check", str(tmp_path / "base.yaml"), "-s", str(tmp_path / "s0.yaml")]
    outcomes = json.loads(
        subprocess.run([*args, "--json"], capture_output=True, text=True, timeout=120).stdout
    )
    got = {o["name"]: o for o in outcomes}["s0"]
    assert got["resource_cost"] == pytest.approx(28.0)
    assert got["shortage_cost"] == pytest.approx(30.0)
    assert got["objective"] == pytest.approx(58.0)
    assert got["unmet_share"] == pytest.approx(0.3)
