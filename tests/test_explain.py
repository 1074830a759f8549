"""`allycap explain`: a facility's economics and a market's make-up, read from a run folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ALLYCAP = str(Path(sys.executable).parent / "allycap")

# One year, no discounting. A needs 10 t; China sells at 1 M$/t. A's own plant would cost
# 10 M$ per t/yr over 10 years (1 M$ per t/yr for the one year in the horizon) plus 0.5 M$/t
# to run: 1.5 > 1, so nothing is built. B's plant (capex 2, i.e. 0.2 a year, plus 0.5) beats
# China at 0.7 < 1 and supplies B's 5 t.
CASE = {
    "horizon": {"start": 2030, "end": 2030},
    "discount_rate": 0.0,
    "regions": {"A": {"bloc": "allied"}, "B": {"bloc": "allied"}, "CHN": {"bloc": "restricted"}},
    "commodities": {"magnet": {}},
    "processes": {"make": {"stage": "magnet", "output": "magnet"}},
    "facilities": {
        "china": {"region": "CHN", "process": "make", "existing": 100, "variable_cost": 1},
        "a_plant": {
            "region": "A",
            "process": "make",
            "variable_cost": 0.5,
            "expansion": {"capex": 10, "lifetime": 10},
        },
        "b_plant": {
            "region": "B",
            "process": "make",
            "variable_cost": 0.5,
            "expansion": {"capex": 2, "lifetime": 10, "max": 5},
        },
    },
    "demand": {"A": {"magnet": 10}, "B": {"magnet": 5}},
    "trade": {"transport_cost": {"magnet": 0.0}},
    "options": {"retag_cost": 0.0},
}


def solved(tmp_path: Path) -> Path:
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(CASE, sort_keys=False))
    out = tmp_path / "run"
    proc = subprocess.run(
        [ALLYCAP, "solve", str(path), "--out", str(out), "--quiet"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return out


def explain(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([ALLYCAP, "explain", *args], capture_output=True, text=True)


def test_explain_a_rejected_and_a_built_facility(tmp_path: Path) -> None:
    run = solved(tmp_path)
    rejected = explain(str(run), "--facility", "a_plant")
    assert rejected.returncode == 0, rejected.stderr
    assert "No new capacity was built." in rejected.stdout
    # capital annuity 10 / 10 years = 1 M$ per t/yr = 1,000 USD/kg of capacity per year
    assert "1,000.00 USD/kg of capacity per year" in rejected.stdout
    built = explain(str(run), "--facility", "b_plant")
    assert "Built 5 t/yr decided in 2030" in built.stdout
    assert "capex 10.0 M$" in built.stdout
    assert "Binding: saving from allowing one more t/yr of new capacity (max)" in built.stdout


def test_explain_a_market(tmp_path: Path) -> None:
    """A's 10 t all come from China at the margin price of 1 M$/t = 1,000 USD/kg."""
    run = solved(tmp_path)
    proc = explain(str(run), "--region", "A", "--commodity", "magnet", "--year", "2030")
    assert proc.returncode == 0, proc.stderr
    assert "Demand 10 t: clean 0 t, other 10 t, unmet 0 t (clean share 0.0%)." in proc.stdout
    assert "Marginal cost of one more tonne delivered: 1,000.00 USD/kg" in proc.stdout
    assert "from CHN (other): 10 t" in proc.stdout


def test_explain_errors_are_clear(tmp_path: Path) -> None:
    run = solved(tmp_path)
    missing = explain(str(tmp_path / "nope"), "--facility", "x")
    assert missing.returncode == 2
    assert "needs the folder of a solved run" in missing.stderr
    unknown = explain(str(run), "--facility", "a_plnt")
    assert unknown.returncode == 2 and "facility 'a_plnt'" in unknown.stderr
    nothing = explain(str(run))
    assert nothing.returncode == 2 and "give --facility ID" in nothing.stderr
    assert "Traceback" not in missing.stderr + unknown.stderr + nothing.stderr
