"""Provenance: every quantity carries a tag, clean or other.

The tag rules are enforced by which variables exist (built in `data.prepare`):
- a facility in a restricted origin produces `other` only; a source facility (no inputs)
  elsewhere produces `clean` only; any other facility may produce either;
- `clean` output draws `clean` inputs and `other` output draws `other` inputs (balance rows are
  per tag), so a product is clean only if no stage upstream touched a restricted origin;
- nothing clean is shipped to, from, stocked or delivered in a restricted origin;
- clean material may be re-tagged `other` anywhere else (retag), at a tiny cost so that tags are
  not thrown away for nothing and reported clean shares are the largest the flows allow.
"""

from __future__ import annotations

import pyomo.environ as pyo

from allycap.data import ModelData
from allycap.formulation.family import CostTerm, Family, VarSpec


def add_provenance(m: pyo.ConcreteModel, d: ModelData) -> None:
    m.retag = pyo.Var(
        d.retag_index, within=pyo.NonNegativeReals, doc="clean material re-tagged other, t/yr"
    )


def cost_terms(m, d: ModelData) -> dict[str, list[CostTerm]]:
    if d.retag_cost <= 0:
        return {"retag": []}
    return {"retag": [CostTerm(y, r, d.retag_cost, m.retag[r, c, y]) for r, c, y in d.retag_index]}


FAMILY = Family(
    name="provenance",
    build=add_provenance,
    variables=(
        VarSpec(
            "retag",
            ("region", "commodity", "year"),
            lambda index, d: ("commodities", index[1]),
            "t/yr",
        ),
    ),
    categories=("retag",),
    cost_terms=cost_terms,
)
