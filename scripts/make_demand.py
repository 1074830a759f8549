"""Write inputs/demand.csv (base) and inputs/demand_high.csv, inputs/demand_low.csv (scenarios).

Magnet demand in t/yr of finished sintered NdFeB, 2025-2040, yearly. The derivation is in
docs/data-sources.md ("Demand"); the numbers here are the ones it quotes:

- World 2025 = what the 2025 chain makes from documented mine output (WORLD_2025, checked against
  the base solve: no unmet demand, every stage's observed share reproduced).
- China = world - ex-China output (EX_CHINA_OUTPUT) - China's exports (58,152 t, Adamas).
- EU 20,000 t (ECA 2026); US 12,000 t (solidwastemag: 2,000 t = 17%), of which 5% is defence
  (USD, assumption); Korea 4,821 x 12/9 / 0.9 = 7,140 t (Argus); the rest are labelled
  assumptions and the rest of the world takes the remainder.
- Growth per year: base 8.7% (Adamas to 2040), US 7.2% (Sec. 232: doubling in a decade);
  high 13.3% to 2030 (2023 consumption growth, Adamas) then 8.7%; low 5.0% (IEA APS 93 kt in
  2023 to 131 kt in 2030), US scaled alike.

Run from the repository root: python scripts/make_demand.py
"""

from __future__ import annotations

from pathlib import Path

WORLD_2025 = 196_500.0
EX_CHINA_OUTPUT = 11_780.0  # ex-China magnet output available in 2025 (facilities.yaml)
CHINA_EXPORTS = 58_152.0
US_TOTAL = 12_000.0
DEFENSE_SHARE = 0.05
FIXED = {  # region: (2025 t, sources)
    "EU": (20_000.0, "eca_2026"),
    "KOR": (7_140.0, "argus_korea_2023;derived_demand_2025"),
    "JPN": (10_000.0, "assumption_demand_split"),
    "GBR": (2_000.0, "assumption_demand_split"),
    "CAN": (1_000.0, "assumption_demand_split"),
    "AUS": (500.0, "assumption_demand_split"),
    "VNM": (1_000.0, "assumption_demand_split"),
    "MYS": (500.0, "assumption_demand_split"),
    "BRA": (1_500.0, "assumption_demand_split"),
    "AFR": (500.0, "assumption_demand_split"),
    "RUS": (1_500.0, "assumption_demand_split"),
}
YEARS = range(2025, 2041)


def levels_2025() -> dict[str, tuple[float, str]]:
    china = WORLD_2025 - EX_CHINA_OUTPUT - CHINA_EXPORTS
    out = {"CHN": (china, "smm_2024;adamas_exports_2024;derived_demand_2025")}
    out["USA"] = (US_TOTAL * (1 - DEFENSE_SHARE), "solidwastemag_2020;us_imports_2026")
    out["USD"] = (US_TOTAL * DEFENSE_SHARE, "solidwastemag_2020;assumption_defense_share")
    out.update(FIXED)
    rest = WORLD_2025 - sum(v for v, _ in out.values())
    out["ROW"] = (rest, "derived_demand_2025;assumption_demand_split")
    return dict(sorted(out.items()))


def growth(case: str, region: str, year: int) -> float:
    """Multiplier on the 2025 level."""
    us = region in ("USA", "USD")
    n = year - 2025
    if case == "base":
        return (1.072 if us else 1.087) ** n
    if case == "low":
        return 1.050**n
    if case == "high":  # 13.3% to 2030 then 8.7% (US: 7.2% scaled by 13.3/8.7 to 2030)
        first = 1.0 + (0.072 * 13.3 / 8.7 if us else 0.133)
        later = 1.072 if us else 1.087
        return first ** min(n, 5) * later ** max(n - 5, 0)
    raise ValueError(case)


GROWTH_SOURCE = {
    "base": {"us": "sec232_2022", "other": "adamas_2040"},
    "low": {"us": "iea_gcmo2024", "other": "iea_gcmo2024"},
    "high": {"us": "adamas_2040;sec232_2022", "other": "adamas_2040"},
}


def write(case: str, path: Path) -> None:
    rows = ["region,commodity,year,value,source"]
    for region, (level, src) in levels_2025().items():
        for year in YEARS:
            value = round(level * growth(case, region, year))
            cite = src
            if year > 2025 or case != "base":
                key = "us" if region in ("USA", "USD") else "other"
                cite = f"{src};{GROWTH_SOURCE[case][key]}"
            if case != "base":
                cite += ";assumption_scenarios"
            rows.append(f"{region},magnet,{year},{value},{cite}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1] / "inputs"
    write("base", root / "demand.csv")
    write("high", root / "demand_high.csv")
    write("low", root / "demand_low.csv")
    for region, (level, _) in levels_2025().items():
        print(f"{region:4s} {level:10,.0f}")
    print(f"world {sum(v for v, _ in levels_2025().values()):10,.0f}")
