"""Export controls: for each control, commodity and year,
sum over the listed origins, destinations and tags of ship[c,o,d,y,k] <= limit(y)  (0 = ban).
One row `export_control[control, commodity, year]`, skipped when no lane matches.
"""

from __future__ import annotations

import pyomo.environ as pyo

from allycap.data import TAGS, ModelData
from allycap.formulation.family import DualSpec, Family, RowSpec, where


def add_export_controls(m: pyo.ConcreteModel, d: ModelData) -> None:
    rows = d.export_control_rows
    keys = [key for key, row in rows.items() if row.lanes]

    def rule(m, control, c, y):
        row = rows[control, c, y]
        shipped = sum(
            m.ship[c, o, dest, y, k]
            for c, o, dest in row.lanes
            for k in TAGS
            if (c, o, dest, y, k) in m.ship
        )
        return shipped <= row.limit

    m.export_control = pyo.Constraint(keys, rule=rule)


def _sentence(c, d: ModelData, best) -> str:
    row = d.export_control_rows[c.index]
    text = (
        f"export control {row.control}{where(c)} limits {row.commodity} to {row.limit:,.0f} t in "
        f"{row.year}"
    )
    if best is not None:
        text += f"; the other rules need at least {best:,.0f} t through it"
    return text + "."


FAMILY = Family(
    name="export_controls",
    build=add_export_controls,
    rows=(
        RowSpec(
            "export_control",
            ("control", "commodity", "year"),
            lambda index, d: ("export_controls", index[0]),
            doc="shipments from the control's origins to its destinations are at most its limit",
            policy=True,
            rank=30,
            probe=True,
            sentence=_sentence,
            dual=DualSpec(
                family="export_control",
                title="`export_control`",
                unit="USD/kg",
                meaning="saving from one more tonne allowed through the control, in that year's "
                "money",
                formula="`-dual / w_y * 1000`",
                reads_as="saving from one more tonne allowed through the control, in that year's "
                "money: the cost of the ban at the margin",
                where=lambda index, d: (index[0], "", index[1], index[2]),
                value=lambda dual, index, d: -dual / d.weight[index[2]] * 1e3,
                summary=True,
                explain="market",
            ),
        ),
    ),
)
