"""Assemble the LP: one call per constraint family, in the order of docs/formulation.md."""

from __future__ import annotations

import pyomo.environ as pyo

from allycap.data import ModelData
from allycap.formulation.balance import add_balance
from allycap.formulation.budgets import add_budgets
from allycap.formulation.capacity import add_capacity
from allycap.formulation.export_controls import add_export_controls
from allycap.formulation.independence import add_independence
from allycap.formulation.objective import add_objective
from allycap.formulation.provenance import add_provenance
from allycap.formulation.sharing import add_sharing
from allycap.formulation.stockpiles import add_stockpiles
from allycap.formulation.trade import add_trade


def build_model(data: ModelData) -> pyo.ConcreteModel:
    """A Pyomo model of `data`; variables and constraints are named after their family."""
    m = pyo.ConcreteModel(name="allycap")
    build_into(m, data)
    return m


def build_into(m: pyo.Block, data: ModelData) -> pyo.Block:
    """Add every family of `data` to the block `m` (a model, or one scenario's block of a robust
    model); the block's objective is `m.total_cost`, which a caller may deactivate."""
    add_capacity(m, data)
    add_provenance(m, data)
    add_stockpiles(m, data)
    add_trade(m, data)
    add_balance(m, data)
    add_independence(m, data)
    add_export_controls(m, data)
    add_sharing(m, data)
    add_budgets(m, data)
    add_objective(m, data)
    return m
