"""scripts/independence_range.py: the premium overlay, and one tiny end-to-end study.

The overlay sets each generic candidate's variable_cost to china + m * (own - china), where
china is the variable cost of the Chinese facility of the candidate's process. Hand-checked on
the default inputs (inputs/parts/candidates.yaml and facilities.yaml):

- can_separation_new: own 0.04493, china_separation 0.030 M$/t. m = 1: 0.04493 (unchanged);
  m = 0: 0.030; m = 2: 0.030 + 2 x 0.01493 = 0.05986; m = 0.5: 0.030 + 0.007465 = 0.037465.
- afr_mining_new: own 0.01164, china_mining 0.012 (a premium of -0.00036: Africa operates below
  China's cost). m = 2: 0.012 - 0.00072 = 0.01128 (the discount doubles too).
- usa_magnet_new: own 0.02703, china_magnets 0.016. m = 2: 0.016 + 0.02206 = 0.03806.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "inputs" / "base.yaml"


def _script():
    spec = importlib.util.spec_from_file_location(
        "independence_range", ROOT / "scripts" / "independence_range.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


ir = _script()


@pytest.fixture(scope="module")
def inputs():
    from allycap.run import load_and_validate

    return load_and_validate(BASE)[1]


HAND = {  # facility: {m: variable_cost}, derived in the module docstring
    "can_separation_new": {0.0: 0.030, 0.5: 0.037465, 1.0: 0.04493, 2.0: 0.05986},
    "afr_mining_new": {0.0: 0.012, 1.0: 0.01164, 2.0: 0.01128},
    "usa_magnet_new": {0.0: 0.016, 1.0: 0.02703, 2.0: 0.03806},
}


def test_china_costs_are_the_chinese_facility_of_each_process(inputs):
    assert ir.china_costs(inputs) == {
        "mining": 0.012,
        "separation": 0.030,
        "hre_separation": 0.15,
        "metal": 0.004,
        "magnet": 0.016,
        "recycling": 0.020,
    }


@pytest.mark.parametrize("m", [0.0, 0.5, 1.0, 2.0])
def test_overlay_hand_checked(inputs, m):
    costs = ir.overlay(inputs, m)["facilities"]
    for fid, by_m in HAND.items():
        if m in by_m:
            assert costs[fid]["variable_cost"] == pytest.approx(by_m[m], rel=1e-12), fid


def test_m1_leaves_every_number_unchanged_and_m0_gives_chinas_cost(inputs):
    china = ir.china_costs(inputs)
    one = ir.overlay(inputs, 1.0)["facilities"]
    zero = ir.overlay(inputs, 0.0)["facilities"]
    # the 36 generic candidates of candidates.yaml, every one outside the restricted origins
    assert len(one) == 36
    for fid in one:
        f = inputs.facilities[fid]
        assert one[fid]["variable_cost"] == f.variable_cost  # exactly, not approximately
        assert zero[fid]["variable_cost"] == china[f.process]


def test_m2_doubles_each_premium(inputs):
    china = ir.china_costs(inputs)
    two = ir.overlay(inputs, 2.0)["facilities"]
    for fid, new in two.items():
        f = inputs.facilities[fid]
        premium = f.variable_cost - china[f.process]
        assert new["variable_cost"] - china[f.process] == pytest.approx(2 * premium, abs=1e-12)


def test_named_projects_untouched_when_the_overlay_is_loaded(inputs, tmp_path):
    """Solve-ready check: the written overlay, merged by the loader, changes the candidates'
    variable_cost and nothing of any other facility."""
    from allycap.run import load_and_validate

    path = ir.write_overlay(tmp_path / "premium_2.yaml", inputs, 2.0)
    over = load_and_validate(BASE, [path])[1]
    changed = set()
    for fid, f in inputs.facilities.items():
        g = over.facilities[fid]
        assert g.model_dump(exclude={"variable_cost"}) == f.model_dump(exclude={"variable_cost"})
        if g.variable_cost != f.variable_cost:
            changed.add(fid)
            assert f.status == "candidate"
    assert over.facilities["can_separation_new"].variable_cost == pytest.approx(0.05986)
    assert over.facilities["afr_mining_new"].variable_cost == pytest.approx(0.01128)
    # named projects keep their own cost (Wicheeda's PFS cash cost, the MP/Lynas plants)
    named = [fid for fid, f in inputs.facilities.items() if f.status != "candidate"]
    assert named and not changed & set(named)
    assert len(changed) == 36  # no candidate's premium is zero


def test_year_maps_are_scaled_at_the_union_of_their_years():
    """own {2025: 0.03, 2035: 0.05} (0.04 in 2030), china {2030: 0.02} (flat): m = 2 gives
    2 own - china = {2025: 0.04, 2030: 0.06, 2035: 0.08}; m = 0 the China map's value in each
    of those years (0.02). A premium pushed below zero is written as 0."""
    own, china = {2025: 0.03, 2035: 0.05}, {2030: 0.02}
    assert ir.scale_premium(own, china, 2.0) == pytest.approx({2025: 0.04, 2030: 0.06, 2035: 0.08})
    assert ir.scale_premium(own, china, 0.0) == {2025: 0.02, 2030: 0.02, 2035: 0.02}
    assert ir.scale_premium(0.01, 0.012, 10.0) == 0.0  # 0.1 - 0.108 < 0
    with pytest.raises(ir.RangeError):
        ir.premium_costs(None, -1.0)


# -- a tiny end-to-end study ------------------------------------------------------------------

TINY = {
    "horizon": {"start": 2025, "end": 2025, "step": 1},
    "discount_rate": 0.0,
    "regions": {"USA": {"bloc": "allied"}, "CHN": {"bloc": "restricted"}},
    "commodities": {"magnet": {"unmet_penalty": 10.0}},
    "processes": {"magnet": {"stage": "magnet", "output": "magnet"}},
    "facilities": {
        "chn_making": {
            "region": "CHN",
            "process": "magnet",
            "existing": 1000,
            "variable_cost": 0.010,
        },
        "usa_making_new": {
            "region": "USA",
            "process": "magnet",
            "status": "candidate",
            "variable_cost": 0.016,
            "expansion": {"capex": 0.0, "lead_time": 0, "lifetime": 25},
        },
    },
    "demand": {"USA": {"magnet": {2025: 100}}},
    "trade": {"transport_cost": {"magnet": 0.0}},  # tradable, at no cost
}
RULE = {
    "independence": {
        "clean": {
            "kind": "min_clean_share",
            "regions": ["USA"],
            "commodity": "magnet",
            "share": 0.5,
        }
    }
}
HIGH = {"demand": {"USA": {"magnet": {2025: 200}}}}


def test_tiny_study_end_to_end(tmp_path):
    """One year, no discounting, one stage, free trade: 100 t of US demand (200 t in the `high`
    case), China at 0.010 M$/t, a free-to-build US plant at 0.016 (premium 0.006).

    Without the rule China supplies everything: 100 x 0.010 = 1.0 M$ (high: 2.0). With half the
    demand clean, half comes from the US plant at china + m x 0.006: the rule costs
    50 x m x 0.006 = 0.3 m M$ (high: 0.6 m), i.e. 30 m % of the objective, and builds 50 t (100 t)
    of ex-China capacity. m = 0.5: 0.15 M$ (15 %); m = 2: 0.6 M$ (60 %); high, m = 2: 1.2 M$."""
    folder = tmp_path / "inputs"
    (folder / "scenarios").mkdir(parents=True)
    (folder / "base.yaml").write_text(yaml.safe_dump(TINY), encoding="utf-8")
    rule = folder / "scenarios" / "allied_independence.yaml"
    rule.write_text(yaml.safe_dump(RULE), encoding="utf-8")
    (folder / "scenarios" / "high_demand.yaml").write_text(yaml.safe_dump(HIGH), encoding="utf-8")

    frame = ir.run_study(folder / "base.yaml", [0.5, 2.0], ["base", "high"], tmp_path / "out")
    assert list(zip(frame.premium_m, frame.demand, strict=True)) == [
        (0.5, "base"),
        (0.5, "high"),
        (2.0, "base"),
        (2.0, "high"),
    ]
    assert (frame.status_without == "optimal").all() and (frame.status_with == "optimal").all()
    assert list(frame.objective_without_musd_pv) == pytest.approx([1.0, 2.0, 1.0, 2.0])
    assert list(frame.rule_cost_musd_pv) == pytest.approx([0.15, 0.3, 0.6, 1.2])
    assert list(frame.rule_cost_pct) == pytest.approx([15.0, 15.0, 60.0, 60.0])
    assert list(frame.rule_resource_musd_pv) == pytest.approx([0.15, 0.3, 0.6, 1.2])
    assert list(frame.rule_shortage_musd_pv) == pytest.approx([0.0] * 4, abs=1e-9)
    assert list(frame.new_exchina_magnet_t_without) == pytest.approx([0.0] * 4, abs=1e-6)
    assert list(frame.new_exchina_magnet_t_with) == pytest.approx([50.0, 100.0, 50.0, 100.0])
    written = yaml.safe_load((tmp_path / "out" / "overlays" / "premium_2.yaml").read_text())
    assert written["facilities"] == {"usa_making_new": {"variable_cost": pytest.approx(0.022)}}
