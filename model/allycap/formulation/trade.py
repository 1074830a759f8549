"""Trade: shipments on lanes (commodity, origin, destination), by year and tag.

Lanes come from `data.prepare`: tradable commodities, from a region that makes or stocks the
commodity to one that uses it, minus closed routes. Costs (transport and tariffs) are in the
objective family.
"""

from __future__ import annotations

import pyomo.environ as pyo

from allycap.data import ModelData


def add_trade(m: pyo.ConcreteModel, d: ModelData) -> None:
    m.ship = pyo.Var(d.ship_index, within=pyo.NonNegativeReals, doc="shipments, t/yr")
