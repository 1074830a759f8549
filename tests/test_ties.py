"""Where to build is decided by costs, not by ties (issue 13).

The default base is solved twice: as read, and from a copy whose element maps (every map that
`allycap.inputs.schema.ELEMENT_MAPS` and `VALUE_MAPS` declare: sources, regions, commodities,
sectors, chains, processes, facilities, rules, budgets, stockpiles, tariffs, transport costs;
plus the demand tables, keyed by region) are listed in reverse order. Trade routes keep their
order: it is part of their meaning (docs/inputs.md: "applied in order, later ones win"; reversed,
the base costs 33% more because a general route then overrides a specific one). The LP is the same
problem, so both solves have the same optimum (asserted: the objectives agree to 1e-7). If two
allied candidates cost the same, HiGHS's pick between them follows the column order, which follows
the map order, and the new capacity moves between regions at no change in cost: the plan is a tie.
With regional economics (capex location factors, operating-cost factors and lead times by region,
docs/data-sources.md "Regional economics") the plan must be the same whichever way round the
maps are read: new capacity by region and stage within 2% of the stage's non-Chinese new capacity.

Why the test cannot pass by accident: it asserts that the reversed copy really is reversed (the
first facility of one is the last of the other), that the plan is not trivial (the allies and
partners build tens of kt of mining and separation, in at least two regions each), and that the
generic candidates of different regions differ in cost stage by stage (the cause of the ties the
issue measured: 4.3 kt/yr of mining moving between the EU and the US at the same cost).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
import yaml

from allycap.inputs.load import load_inputs
from allycap.inputs.schema import ELEMENT_MAPS, VALUE_MAPS
from allycap.run import run

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "inputs" / "base.yaml"
TOLERANCE = 0.02  # of the stage's non-Chinese new capacity
# Maps whose order means something: routes apply in order, later ones winning.
ORDERED_MAPS = {("trade", "routes")}


def _reverse_at(data: dict, path: tuple[str, ...]) -> None:
    node = data
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            return
    last = path[-1]
    if isinstance(node, dict) and isinstance(node.get(last), dict):
        node[last] = dict(reversed(list(node[last].items())))


def _reversed_copy(tmp_path: Path) -> tuple[Path, dict, dict]:
    """The merged base inputs written as one YAML file with every element map reversed."""
    raw = load_inputs(BASE).data
    data = copy.deepcopy(raw)
    for path in [*ELEMENT_MAPS, *VALUE_MAPS, ("demand",), ("demand_sectors",)]:
        if path not in ORDERED_MAPS:
            _reverse_at(data, path)
    for rid, per_region in list(data.get("demand", {}).items()):
        if isinstance(per_region, dict):
            data["demand"][rid] = dict(reversed(list(per_region.items())))
    out = tmp_path / "base_reversed.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out, raw, data


def _new_capacity(r) -> pd.DataFrame:
    inv = r.results.tables["investments"]
    return inv.groupby(["region", "stage"]).new_capacity_t.sum()


@pytest.fixture(scope="module")
def solves(tmp_path_factory):
    path, raw, rev = _reversed_copy(tmp_path_factory.mktemp("ties"))
    forward = run(BASE)
    backward = run(path)
    assert forward.results.status == "optimal", forward.results.message
    assert backward.results.status == "optimal", backward.results.message
    return forward, backward, raw, rev


def test_the_copy_is_reversed(solves):
    _, _, raw, rev = solves
    fwd, bwd = list(raw["facilities"]), list(rev["facilities"])
    assert fwd == bwd[::-1] and fwd[0] != bwd[0]
    assert list(raw["regions"]) == list(rev["regions"])[::-1]


def test_same_problem_same_optimum(solves):
    forward, backward, _, _ = solves
    a, b = forward.results.objective, backward.results.objective
    assert abs(a - b) <= 1e-7 * abs(a), (a, b)


def test_the_plan_is_not_trivial(solves):
    """Outside China the base builds >10 kt of mining and >5 kt of NdPr separation, each in at
    least two regions (measured: ~90 kt of mining in six regions, ~18 kt of separation)."""
    forward, _, _, _ = solves
    new = _new_capacity(forward)
    ex_china = new[new.index.get_level_values("region") != "CHN"]
    for stage, floor in [("extraction", 10_000.0), ("separation", 5_000.0)]:
        s = ex_china.xs(stage, level="stage")
        assert s.sum() > floor, (stage, s.sum())
        assert (s > 100.0).sum() >= 2, (stage, s.to_dict())


def test_new_capacity_by_region_and_stage_does_not_depend_on_map_order(solves):
    forward, backward, _, _ = solves
    a, b = _new_capacity(forward), _new_capacity(backward)
    both = pd.concat({"forward": a, "backward": b}, axis=1).fillna(0.0)
    both = both[both.index.get_level_values("region") != "CHN"]
    for stage, rows in both.groupby(level="stage"):
        total = max(rows.forward.sum(), rows.backward.sum())
        worst = (rows.forward - rows.backward).abs().max()
        assert worst <= TOLERANCE * total + 1e-6, (stage, worst, total, rows.to_dict())


def test_generic_candidates_of_different_regions_differ_in_cost():
    """No two generic candidates of one process in different regions share (capex, variable
    cost): the ties the issue found came from identical generic candidates."""
    data = load_inputs(BASE).data
    seen: dict[tuple, str] = {}
    count = 0
    for fid, f in data["facilities"].items():
        if f.get("status") != "candidate":
            continue
        count += 1
        e = f["expansion"]
        key = (f["process"], float(e["capex"]), float(f["variable_cost"]))
        assert key not in seen, (fid, seen.get(key), key)
        seen[key] = fid
    assert count >= 30  # all the generic candidates were looked at


# The documented factor tables (docs/data-sources.md "Regional economics", note of
# econ_regional_factors), restated here so that the candidates' numbers can be re-derived.
WAGE = {  # US$ per hour: BLS 2012 (bls_ilc_2012); EU = mean of Germany 45.79 and France 39.81
    "USA": 35.67, "CAN": 36.59, "AUS": 47.68, "EU": 42.80, "GBR": 31.23, "JPN": 35.34,
    "KOR": 20.72, "BRA": 11.20,
}  # fmt: skip
WAGE_CHINA = 7.7  # china_wages_2023: 120,698 yuan a year, ~7.1 yuan per US$, ~2,200 h
LABOUR_SHARE_OF_CAPEX = 0.35
MINE_CAPEX_FACTOR = {"BRA": 0.76, "AFR": 0.90, "ROW": 0.85}
LABOUR = {"AFR": 0.50, "ROW": 0.60}  # vs China; the rest 0.5 x WAGE / WAGE_CHINA
ENERGY = {
    "USA": 0.94, "CAN": 0.85, "AUS": 1.19, "EU": 2.50, "GBR": 2.75, "JPN": 2.00, "KOR": 1.30,
    "BRA": 1.50, "AFR": 1.20, "ROW": 1.10,
}  # fmt: skip
REAGENTS = 1.10
WASTE = {"BRA": 1.5, "AFR": 1.5, "ROW": 1.5}  # 2.0 in allied regions
SHARES = {  # labour, energy, reagents, waste
    "mining": (0.35, 0.20, 0.30, 0.15),
    "separation": (0.20, 0.15, 0.45, 0.20),
    "hre_separation": (0.20, 0.15, 0.45, 0.20),
    "metal": (0.25, 0.45, 0.20, 0.10),
    "magnet": (0.45, 0.30, 0.15, 0.10),
    "recycling": (0.35, 0.25, 0.25, 0.15),
}
CHINA_COST = {  # assumption_costs
    "mining": 0.012, "separation": 0.030, "hre_separation": 0.15, "metal": 0.004,
    "magnet": 0.016, "recycling": 0.020,
}  # fmt: skip
CAPEX_BASIS = {  # derived_capex; magnets by the basis region of the observation
    "mining": 0.10, "separation": 0.08, "hre_separation": 0.40, "metal": 0.03, "recycling": 0.14,
}  # fmt: skip
MAGNET_BASIS = {"USA": 0.12, "CAN": 0.12, "AUS": 0.10}  # EU, GBR, JPN, KOR: 0.05
MINE_LEAD = {"AUS": 6, "CAN": 7, "USA": 8, "EU": 8, "BRA": 5, "AFR": 5, "ROW": 5}


def _expected(region: str, process: str) -> tuple[float, float]:
    if region in MINE_CAPEX_FACTOR:
        capex_factor = MINE_CAPEX_FACTOR[region]
    else:
        capex_factor = 1 + LABOUR_SHARE_OF_CAPEX * (WAGE[region] / WAGE["USA"] - 1)
    basis = MAGNET_BASIS.get(region, 0.05) if process == "magnet" else CAPEX_BASIS[process]
    labour = LABOUR.get(region, 0.5 * WAGE.get(region, 0.0) / WAGE_CHINA)
    prices = (labour, ENERGY[region], REAGENTS, WASTE.get(region, 2.0))
    opex_factor = sum(s * p for s, p in zip(SHARES[process], prices, strict=True))
    return basis * capex_factor, CHINA_COST[process] * opex_factor


def test_candidates_carry_the_documented_regional_factors():
    """Every generic candidate's capex and variable cost are the documented factors applied
    (to the 4 significant digits written in candidates.yaml), and mines have the regional lead
    times. Hand check, US separation: capex 0.08 x 1.000 = 0.08; opex 0.030 x (0.20 x 2.316 +
    0.15 x 0.94 + 0.45 x 1.10 + 0.20 x 2.0) = 0.030 x 1.4993 = 0.04498."""
    data = load_inputs(BASE).data
    seen = 0
    for fid, f in data["facilities"].items():
        if f.get("status") != "candidate":
            continue
        seen += 1
        capex, opex = _expected(f["region"], f["process"])
        e = f["expansion"]
        assert float(e["capex"]) == pytest.approx(capex, rel=0.001), (fid, e["capex"], capex)
        assert float(f["variable_cost"]) == pytest.approx(opex, rel=0.001), (fid, opex)
        if f["process"] == "mining":
            assert e["lead_time"] == MINE_LEAD[f["region"]], fid
    assert seen == 36
    # the ex-China premium: every new plant outside China costs more to run than China's
    # (partner and other regions' mines excepted: Africa's and the rest of the world's labour
    # is cheaper than China's)
    for fid, f in data["facilities"].items():
        if f.get("status") == "candidate" and f["region"] not in ("AFR", "ROW"):
            assert float(f["variable_cost"]) > CHINA_COST[f["process"]], fid
