"""Print the tables of docs/results-note.md from one or more run folders.

Usage (after `allycap solve` and `allycap solve -s inputs/scenarios/china_export_ban.yaml`):
    python scripts/summarize_run.py outputs/base outputs/china_export_ban
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from allycap.runfolder import read_table

ALLIED = ["CAN", "USA", "USD", "AUS", "EU", "GBR", "JPN", "KOR"]
STAGES = [
    ("extraction", "concentrate", "mining"),
    ("separation", "ndpr_oxide", "NdPr sep."),
    ("separation", "dytb_oxide", "Dy/Tb sep."),
    ("metal", "metal", "metal"),
    ("magnet", "magnet", "magnets"),
]


def summarize(folder: Path) -> None:
    inv = read_table(folder, "investments")
    prod = read_table(folder, "production")
    mix = read_table(folder, "supply_mix")
    costs = read_table(folder, "costs")
    print(f"== {folder.name} ==")

    print("\nNew capacity coming online, t/yr, by region and stage (online years):")
    labels = ["2025-29", "2030-34", "2035-40"]
    inv = inv.assign(period=pd.cut(inv.online_year, [2024, 2029, 2034, 2040], labels=labels))
    table = inv.pivot_table(
        index=["region", "stage"],
        columns="period",
        values="new_capacity_t",
        aggfunc="sum",
        fill_value=0,
        observed=False,
    ).round(0)
    table = table[(table != 0).any(axis=1)]
    print(table.to_string())
    cap = inv.groupby(inv.region.isin(["CHN"]).map({True: "China", False: "outside China"}))
    print("\nCapex decided 2025-2040, M$ (undiscounted):")
    print(cap.capex_musd.sum().round(0).to_string())

    print("\nChina's share of output by stage, %:")
    out = prod[prod.role == "output"]
    rows = {}
    for stage, commodity, label in STAGES:
        q = out[(out.stage == stage) & (out.commodity == commodity)]
        tot = q.groupby("year").quantity_t.sum()
        chn = q[q.region == "CHN"].groupby("year").quantity_t.sum()
        rows[label] = (100 * chn.reindex(tot.index, fill_value=0) / tot).round(1)
    shares = pd.DataFrame(rows)
    print(shares.loc[[2025, 2027, 2030, 2035, 2040]].to_string())

    print("\nAllied magnet demand (CAN, USA, USD, AUS, EU, GBR, JPN, KOR), t/yr, and clean share:")
    al = mix[mix.region.isin(ALLIED) & (mix.commodity == "magnet")]
    g = al.groupby("year")[["demand_t", "delivered_clean_t", "unmet_t"]].sum()
    g["clean_%"] = (100 * g.delivered_clean_t / g.demand_t).round(1)
    usd = mix[(mix.region == "USD")].set_index("year")
    g["USD_clean_%"] = (100 * usd.delivered_clean_t / usd.demand_t).round(1)
    g["world_unmet_t"] = mix.groupby("year").unmet_t.sum()
    tonnes = ["demand_t", "delivered_clean_t", "unmet_t", "world_unmet_t"]
    g[tonnes] = g[tonnes].round(0).astype(int)
    print(g.to_string())

    print("\nCost, M$ present value 2025, by category:")
    c = costs.groupby("category").present_value_musd.sum()
    # the two accounts apart (costs.csv `account`; runfolder fills it in for older folders):
    # what is spent, and what unserved demand is worth; their sum is the objective
    accounts = costs.groupby("account").present_value_musd.sum()
    c["resource cost"] = accounts.get("resource", 0.0)
    c["shortage cost"] = accounts.get("shortage", 0.0)
    c["objective (resource + shortage)"] = c["resource cost"] + c["shortage cost"]
    print(c.round(1).to_string())
    print()


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["outputs/base"]:
        summarize(Path(arg))
