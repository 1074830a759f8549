"""Export controls: for each control, commodity and year,
sum over the listed origins, destinations and tags of ship[c,o,d,y,k] <= limit(y)  (0 = ban).
"""

from __future__ import annotations

import pyomo.environ as pyo

from allycap.data import TAGS, ModelData


def add_export_controls(m: pyo.ConcreteModel, d: ModelData) -> None:
    rows = [i for i, row in enumerate(d.export_control_rows) if row.lanes]

    def rule(m, i):
        row = d.export_control_rows[i]
        shipped = sum(
            m.ship[c, o, dest, row.year, k]
            for c, o, dest in row.lanes
            for k in TAGS
            if (c, o, dest, row.year, k) in m.ship
        )
        return shipped <= row.limit

    m.export_control = pyo.Constraint(rows, rule=rule)
