"""Known answers for formulation/provenance.py: clean/other tags along the chain.

A restricted region (bloc `restricted`, or `restricted_origins`) makes only `other`; a source
facility elsewhere makes only `clean`; clean output needs clean inputs; nothing clean is
shipped into or out of a restricted region; clean material may be re-tagged `other` at
options.retag_cost per tonne.
"""

from __future__ import annotations

import pytest

REL = 1e-6


def magnet_chain(oxide_plants: dict[str, float], magnet_region: str = "USA", **extra) -> dict:
    """Oxide (a source) made in the given regions at the given variable cost; magnets (1 t of
    oxide per t) made in `magnet_region`; demand 10 t of magnets in the USA; free oxide trade."""
    data = {
        "horizon": {"start": 2030, "end": 2030},
        "discount_rate": 0.0,
        "regions": {
            "USA": {"bloc": "allied"},
            "AUS": {"bloc": "allied"},
            "CHN": {"bloc": "restricted"},
            "ROW": {"bloc": "other"},
        },
        "commodities": {"oxide": {}, "magnet": {}},
        "processes": {
            "separation": {"stage": "separation", "output": "oxide"},
            "magnet": {"stage": "magnet", "output": "magnet", "inputs": {"oxide": 1.0}},
        },
        "facilities": {
            **{
                f"{r.lower()}_oxide": {
                    "region": r,
                    "process": "separation",
                    "existing": 100,
                    "variable_cost": cost,
                }
                for r, cost in oxide_plants.items()
            },
            "magnet_plant": {"region": magnet_region, "process": "magnet", "existing": 100},
        },
        "demand": {"USA": {"magnet": 10}},
        "trade": {"transport_cost": {"oxide": 0.0, "magnet": 0.0}},
        # default retag_cost (1e-6 M$/t): no case below re-tags except where it says so, and the
        # small cost keeps the tags of a clean chain from being thrown away for nothing
        "options": {"unmet_penalty": 100.0},
    }
    data.update(extra)
    return data


def mix(res) -> dict:
    return res.tables["supply_mix"].iloc[0].to_dict()


def test_allied_magnet_from_restricted_oxide_is_not_clean(solve):
    """Oxide only from CHN (restricted): it is `other`, so the US magnet made from it is `other`
    although the magnet plant is allied. 10 t of oxide at 1 M$/t:
        cost = 10; delivered clean 0, other 10; clean_share 0, restricted_share 1.
    """
    res = solve(magnet_chain({"CHN": 1.0})).results
    assert res.objective == pytest.approx(10.0, rel=REL)
    row = mix(res)
    assert row["clean_share"] == 0.0
    assert row["delivered_other_t"] == pytest.approx(10.0, rel=REL)
    assert row["restricted_share"] == pytest.approx(1.0, rel=REL)
    made = res.tables["production"]
    magnet = made[(made["facility"] == "magnet_plant") & (made["role"] == "output")]
    assert magnet.set_index("tag")["quantity_t"].to_dict() == pytest.approx({"other": 10.0})


def test_allied_magnet_from_clean_oxide_is_clean(solve):
    """Oxide only from AUS (an allied source, so clean) at 2 M$/t: the US magnet made from it
    is clean:
        cost = 2 * 10 = 20; clean_share 1.
    """
    res = solve(magnet_chain({"AUS": 2.0})).results
    assert res.objective == pytest.approx(20.0, rel=REL)
    row = mix(res)
    assert row["clean_share"] == pytest.approx(1.0, rel=REL)
    assert row["delivered_other_t"] == pytest.approx(0.0, abs=1e-9)
    flows = res.tables["flows"]
    assert flows.set_index(["origin", "tag"])["quantity_t"].to_dict() == pytest.approx(
        {("AUS", "clean"): 10.0}
    )


def test_restricted_origins_selector_taints_a_non_restricted_bloc(solve):
    """ROW has bloc `other`, which is clean by default; listing it in restricted_origins makes
    its oxide `other`. Oxide from ROW at 1 M$/t: clean_share 1 by default, 0 when listed;
    cost 10 either way."""
    res = solve(magnet_chain({"ROW": 1.0})).results
    assert mix(res)["clean_share"] == pytest.approx(1.0, rel=REL)
    res = solve(magnet_chain({"ROW": 1.0}, restricted_origins=["ROW", "restricted"])).results
    assert res.objective == pytest.approx(10.0, rel=REL)
    assert mix(res)["clean_share"] == 0.0


def test_clean_oxide_through_a_restricted_magnet_plant_comes_back_other(solve):
    """Clean AUS oxide (1 M$/t) shipped to a magnet plant in CHN: nothing clean may enter CHN,
    so the oxide must be re-tagged `other` in AUS (retag cost 0.001 M$/t) before it ships, and
    the magnet from CHN is `other`:
        cost = 1 * 10 + 0.001 * 10 = 10.01; clean_share 0; flows AUS->CHN oxide tagged other.
    """
    data = magnet_chain({"AUS": 1.0}, magnet_region="CHN")
    data["options"]["retag_cost"] = 0.001
    res = solve(data).results
    assert res.objective == pytest.approx(10.01, rel=REL)
    assert mix(res)["clean_share"] == 0.0
    flows = res.tables["flows"].set_index(["commodity", "origin", "destination", "tag"])
    assert flows["quantity_t"].to_dict() == pytest.approx(
        {("oxide", "AUS", "CHN", "other"): 10.0, ("magnet", "CHN", "USA", "other"): 10.0}
    )
    by_cat = res.tables["costs"].groupby("category")["present_value_musd"].sum()
    assert by_cat["retag"] == pytest.approx(0.01, rel=REL)


def test_three_stage_chain_is_clean_only_if_every_stage_is(solve):
    """Mine (CHN, restricted) -> concentrate -> separation (AUS) -> oxide -> magnet (USA). The
    concentrate is `other`, so AUS oxide made from it is `other`, and so is the US magnet, even
    though the last two stages are allied. Concentrate at 1 M$/t, 1 t per t at each stage:
        cost = 10; clean_share 0. Replacing the CHN mine by an AUS mine makes it clean, cost 10.
    """

    def chain(mine_region: str) -> dict:
        data = magnet_chain({})
        data["commodities"]["concentrate"] = {}
        data["processes"]["mining"] = {"stage": "extraction", "output": "concentrate"}
        data["processes"]["separation"]["inputs"] = {"concentrate": 1.0}
        data["facilities"]["mine"] = {
            "region": mine_region,
            "process": "mining",
            "existing": 100,
            "variable_cost": 1.0,
        }
        data["facilities"]["aus_separation"] = {
            "region": "AUS",
            "process": "separation",
            "existing": 100,
        }
        data["trade"]["transport_cost"]["concentrate"] = 0.0
        return data

    res = solve(chain("CHN")).results
    assert res.objective == pytest.approx(10.0, rel=REL)
    assert mix(res)["clean_share"] == 0.0
    res = solve(chain("AUS")).results
    assert res.objective == pytest.approx(10.0, rel=REL)
    assert mix(res)["clean_share"] == pytest.approx(1.0, rel=REL)
