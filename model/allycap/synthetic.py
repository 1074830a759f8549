"""Synthetic inputs of any size with the structure of the real dataset, for benchmarks and tests.

The chain has the shape of the default dataset's (mining -> separation -> metal -> component
fabrication, fabrication scrap recycled to oxide, a co-product of mining), declared under
`chains:` with its stages in order and its headline commodity (the component); every region has
facilities at every stage, existing and
candidate; trade runs between all regions for every commodity; and each rule family appears:
clean-share and origin-share rules, an export control, a sharing agreement, budgets, stockpiles
and tariffs. Numbers are deterministic functions of the indices (no randomness), so a size
always gives the same instance.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

PRODUCT = "component"  # the headline commodity: what regions demand
PROCESSES = [  # process = stage id, output, inputs, co-products
    ("mining", "concentrate", {}, {"hre": 0.02}),
    ("separation", "oxide", {"concentrate": 1.05}, {}),
    ("metal", "metal", {"oxide": 1.2}, {}),
    ("fabrication", PRODUCT, {"metal": 0.4}, {"scrap": 0.333}),
    ("recycling", "oxide", {"scrap": 2.8}, {}),
]
# The chain in order (recycling makes oxide, so it sits beside separation in the report).
CHAIN = {
    "mining": {"name": "Mining", "makes": "concentrate"},
    "separation": {"name": "Separation", "makes": "oxide"},
    "recycling": {"name": "Recycling", "makes": "oxide"},
    "metal": {"name": "Metal making", "makes": "metal"},
    "fabrication": {"name": "Component fabrication", "makes": PRODUCT},
}


def generate(regions: int = 6, years: int = 16, facilities: int = 2, start: int = 2025) -> dict:
    """An inputs dict: `regions` regions (the first restricted), `years` yearly model years,
    `facilities` facilities per region and stage (half of them candidates that may expand)."""
    if regions < 3 or years < 2 or facilities < 1:
        raise ValueError("need at least 3 regions, 2 years and 1 facility per region and stage")
    end = start + years - 1
    names = [f"R{i:03d}" for i in range(regions)]
    blocs = {
        n: ("restricted" if i == 0 else "partner" if i % 3 == 1 else "allied")
        for i, n in enumerate(names)
    }
    data: dict = {
        "description": f"Synthetic: {regions} regions, {years} years, {facilities} per stage.",
        "sources": {
            "synthetic": {
                "title": "allycap synthetic generator",
                "kind": "assumption",
                "note": "deterministic numbers for benchmarks",
            }
        },
        "horizon": {"start": start, "end": end, "step": 1},
        "discount_rate": 0.05,
        "regions": {n: {"bloc": blocs[n]} for n in names},
        "commodities": {
            c: {"price": p}
            for c, p in [
                ("concentrate", 0.02),
                ("oxide", 0.055),
                ("metal", 0.065),
                (PRODUCT, 0.05),
                ("scrap", 0.005),
                ("hre", 0.3),
            ]
        },
        "chains": {"synthetic": {"name": "Synthetic chain", "headline": PRODUCT, "stages": CHAIN}},
        "processes": {
            name: {"stage": name, "output": out, "inputs": ins, "coproducts": cos}
            for name, out, ins, cos in PROCESSES
        },
        "facilities": {},
        "demand": {},
        "trade": {
            "transport_cost": {
                "concentrate": 0.0003,
                "oxide": 0.0005,
                "metal": 0.0005,
                PRODUCT: 0.0005,
                "scrap": 0.0003,
                "hre": 0.0005,
            },
            "tariffs": {
                "tariff_on_restricted": {
                    "origins": [names[0]],
                    "destinations": ["allied"],
                    "commodities": [PRODUCT],
                    "ad_valorem": {start: 0.0, start + 1: 0.25},
                }
            },
        },
        "options": {"unmet_penalty": 10.0},
    }
    base_size = {
        "mining": 9000,
        "separation": 1800,
        "metal": 1500,
        "fabrication": 3500,
        "recycling": 200,
    }
    for r, region in enumerate(names):
        scale = 6.0 if r == 0 else 1.0
        for position, (name, _, _, _) in enumerate(PROCESSES):
            for k in range(facilities):
                fid = f"{region}_{name}_{k}"
                cheap = 0.7 if r == 0 else 1.0 + 0.05 * ((r + k) % 5)
                facility: dict = {
                    "region": region,
                    "process": name,
                    "variable_cost": round(0.004 * cheap * (1 + position), 6),
                    "fixed_om": 0.001,
                }
                if k % 2 == 0:
                    facility["existing"] = {
                        start: base_size[name] * scale,
                        end: base_size[name] * scale * 0.8,
                    }
                else:
                    facility["expansion"] = {
                        "capex": round(0.02 * cheap * (1 + position), 6),
                        "lead_time": min(1 + (r + k) % 4, years - 1),
                        "lifetime": 25,
                        "max": base_size[name] * 3,
                        "ramp": base_size[name],
                    }
                    if name == "mining":
                        facility["resource"] = base_size[name] * 3 * years
                data["facilities"][fid] = facility
        growth = {start: 3000.0 * scale, end: 4500.0 * scale}
        data["demand"][region] = {PRODUCT: growth}
    allied = [n for n in names if blocs[n] == "allied"]
    partner = next(n for n in names if blocs[n] == "partner")
    data["independence"] = {
        "allied_clean": {
            "kind": "min_clean_share",
            "regions": ["allied"],
            "commodity": PRODUCT,
            "share": {start: 0.0, end: 0.3},
        },
        "origin_cap": {
            "kind": "max_origin_share",
            "regions": [allied[0]],
            "commodity": "oxide",
            "share": 0.65,
        },
    }
    data["export_controls"] = {
        "restricted_oxide": {
            "origins": [names[0]],
            "destinations": ["partner"],
            "commodities": ["oxide"],
            "limit": 2000.0,
            "start": start + 1,
        }
    }
    host = allied[0]
    data["sharing"] = {
        "shared_mine": {
            "facilities": [f"{host}_mining_{1 if facilities > 1 else 0}"],
            "partners": {
                host: {"min_share": 0.2, "cofinance": 0.5},
                (allied[-1] if len(allied) > 1 else partner): {
                    "min_share": 0.2,
                    "cofinance": 0.5,
                },
            },
            "max_market_share": 0.8,
        }
    }
    data["budgets"] = {
        f"fund_{a}": {"payer": a, "per_year": 200.0, "total": 2000.0} for a in allied[:3]
    }
    data["stockpiles"] = {
        f"stock_{a}": {"region": a, "commodity": PRODUCT, "cover": 0.1, "holding_cost": 0.002}
        for a in allied[:2]
    }
    return data


HEADER = "# written by allycap generate: synthetic inputs, safe to overwrite\n"


def write(data: dict, folder: Path) -> Path:
    """Write `data` as folder/base.yaml; returns the path. A base.yaml that `generate` did not
    write is never replaced (OutputTargetError), and the file appears whole or not at all."""
    from allycap.targets import OutputTargetError

    folder = Path(folder)
    path = folder / "base.yaml"
    if folder.exists() and not folder.is_dir():
        raise OutputTargetError(f"--out {folder} is a file; give a folder. Fix: --out synthetic")
    if path.is_symlink() or path.is_dir():
        raise OutputTargetError(f"--out {folder}: {path} is a link or a folder; choose a new one.")
    if path.exists():
        with open(path, encoding="utf-8", errors="replace") as handle:
            if handle.readline() != HEADER:
                raise OutputTargetError(
                    f"--out {folder} already has a base.yaml that allycap generate did not write;"
                    " it would be replaced. Fix: give a new or empty folder."
                )
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".base.yaml.tmp-{os.getpid()}"
    try:
        tmp.write_text(HEADER + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
