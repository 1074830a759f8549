"""The CSV tables of a run folder, in the order they are written.

Kept in a module of its own, with no imports, so that readers of run folders (the report, the
studies) share the list with `results` without loading pandas or Pyomo.
"""

TABLES = (
    "investments",
    "capacity",
    "production",
    "flows",
    "supply_mix",
    "stocks",
    "costs",
    "shortfall",
    "duals",
    "marginals",
)
