"""A small instance for the studies tests, written into tmp_path (never the default inputs).

Three allied regions and China, three stages (mine -> separation -> magnet making), 2025-2040 in
five-year steps (lead times are at least the step, so no vintage is online in the period it is
decided in). China is cheap and large; allied separation and magnet plants are candidates, so
a clean share of allied magnets costs money and an export ban of oxide and magnets from China
leaves a portfolio without allied separation short of magnets. Solves take a few hundredths of a
second.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

BASE = {
    "horizon": {"start": 2025, "end": 2040, "step": 5},
    "discount_rate": 0.07,
    "regions": {
        "USA": {"bloc": "allied"},
        "CAN": {"bloc": "allied"},
        "EU": {"bloc": "allied"},
        "CHN": {"bloc": "restricted"},
    },
    "commodities": {
        "concentrate": {},
        "oxide": {},
        "magnet": {"unmet_penalty": 0.5},
    },
    "processes": {
        "mining": {"stage": "extraction", "output": "concentrate"},
        "separation": {"stage": "separation", "output": "oxide", "inputs": {"concentrate": 1.2}},
        "magnet_making": {"stage": "magnet", "output": "magnet", "inputs": {"oxide": 0.4}},
    },
    "facilities": {
        "chn_mines": {
            "region": "CHN",
            "process": "mining",
            "existing": 260000,
            "variable_cost": 0.004,
        },
        "chn_separation": {
            "region": "CHN",
            "process": "separation",
            "existing": 160000,
            "variable_cost": 0.006,
        },
        "chn_magnets": {
            "region": "CHN",
            "process": "magnet_making",
            "existing": 320000,
            "variable_cost": 0.012,
        },
        "usa_mine": {
            "region": "USA",
            "process": "mining",
            "existing": 40000,
            "variable_cost": 0.007,
            "expansion": {"capex": 0.05, "lead_time": 5, "lifetime": 25, "max": 40000},
        },
        "can_mine": {
            "region": "CAN",
            "process": "mining",
            "variable_cost": 0.008,
            "expansion": {"capex": 0.06, "lead_time": 5, "lifetime": 25, "max": 60000},
        },
        "usa_separation": {
            "region": "USA",
            "process": "separation",
            "variable_cost": 0.010,
            "expansion": {"capex": 0.15, "lead_time": 5, "lifetime": 25, "max": 30000},
        },
        "eu_separation": {
            "region": "EU",
            "process": "separation",
            "variable_cost": 0.011,
            "expansion": {"capex": 0.16, "lead_time": 5, "lifetime": 25, "max": 20000},
        },
        "usa_magnets": {
            "region": "USA",
            "process": "magnet_making",
            "variable_cost": 0.018,
            "expansion": {"capex": 0.08, "lead_time": 5, "lifetime": 20, "max": 60000},
        },
        "eu_magnets": {
            "region": "EU",
            "process": "magnet_making",
            "existing": 20000,
            "variable_cost": 0.017,
            "expansion": {"capex": 0.09, "lead_time": 5, "lifetime": 20, "max": 40000},
        },
    },
    "demand": {
        "USA": {"magnet": {2025: 30000, 2040: 45000}},
        "EU": {"magnet": {2025: 25000, 2040: 35000}},
        "CAN": {"magnet": {2025: 2000, 2040: 3000}},
        "CHN": {"magnet": {2025: 250000, 2040: 300000}},
    },
    "trade": {"transport_cost": {"concentrate": 0.0003, "oxide": 0.0005, "magnet": 0.0005}},
    "independence": {
        "allied_clean": {
            "kind": "min_clean_share",
            "regions": ["allied"],
            "commodity": "magnet",
            "share": 0,
            "start": 2030,
        }
    },
}

EXPORT_BAN = {
    "export_controls": {
        "china_ban": {
            "origins": ["CHN"],
            "destinations": ["allied"],
            "commodities": ["oxide", "magnet"],
            "limit": 0,
            "start": 2030,
        }
    }
}
DEMAND_SHOCK = {
    "demand": {
        "USA": {"magnet": {2025: 30000, 2030: 49000, 2040: 63000}},
        "EU": {"magnet": {2025: 25000, 2030: 39667, 2040: 49000}},
    }
}
SEPARATION_DELAY = {"facilities": {"usa_separation": {"expansion": {"lead_time": 10}}}}


def dump(data: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def chain(tmp_path: Path) -> dict[str, Path]:
    """The instance and its scenarios as files: keys base, export_ban, demand_shock, delay."""
    return {
        "base": dump(copy.deepcopy(BASE), tmp_path / "inputs" / "base.yaml"),
        "export_ban": dump(EXPORT_BAN, tmp_path / "inputs" / "scenarios" / "export_ban.yaml"),
        "demand_shock": dump(DEMAND_SHOCK, tmp_path / "inputs" / "scenarios" / "demand_shock.yaml"),
        "delay": dump(SEPARATION_DELAY, tmp_path / "inputs" / "scenarios" / "delay.yaml"),
    }


def solve_to_folder(base: Path, out: Path, scenarios=(), overrides=()) -> Path:
    """`allycap solve` without the CLI: run the pipeline and write the run folder."""
    from allycap.run import manifest_payload, run, summary_payload
    from allycap.write import write_run

    r = run(base, list(scenarios), list(overrides))
    assert r.results.status == "optimal", r.results.message
    write_run(r.results, out, summary_payload(r), manifest_payload(r, {}))
    return out
