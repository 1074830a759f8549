"""Assemble the LP: each family of the registry in turn, in the order of docs/formulation.md,
then the objective (the families' cost terms)."""

from __future__ import annotations

import pyomo.environ as pyo

from allycap.data import ModelData
from allycap.formulation.objective import add_objective
from allycap.formulation.registry import FAMILIES


def build_model(data: ModelData) -> pyo.ConcreteModel:
    """A Pyomo model of `data`; variables and constraints are named after their family."""
    m = pyo.ConcreteModel(name="allycap")
    build_into(m, data)
    return m


def build_into(m: pyo.Block, data: ModelData) -> pyo.Block:
    """Add every family of `data` to the block `m` (a model, or one scenario's block of a robust
    model); the block's objective is `m.total_cost`, which a caller may deactivate."""
    for family in FAMILIES:
        family.build(m, data)
    add_objective(m, data)
    return m
