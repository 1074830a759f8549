"""Trace a variable or constraint of the LP back to the input element that produced it.

One table, `input_path`, used by infeasibility diagnosis, numerical health and `explain`: from a
Pyomo component's family name and index to the key path in the inputs (which the loader can
locate to a file and line).
"""

from __future__ import annotations

from allycap.data import ModelData


def family_and_index(component) -> tuple[str, tuple]:
    """('clean_share', (3,)) for m.clean_share[3]."""
    index = component.index()
    if index is None:
        index = ()
    elif not isinstance(index, tuple):
        index = (index,)
    return component.parent_component().local_name, index


def input_path(family: str, index: tuple, data: ModelData) -> tuple:
    """The inputs key path behind one row or column of the LP (empty if none in particular)."""
    if family in ("new", "online", "online_balance", "build_ramp"):
        return ("facilities", index[0], "expansion")
    if family == "build_max":
        return ("facilities", index[0], "expansion", "max")
    if family == "resource_limit":
        return ("facilities", index[0], "resource")
    if family in ("prod", "capacity_limit"):
        return ("facilities", index[0])
    if family == "clean_share":
        return ("independence", data.clean_share_rows[index[0]].rule)
    if family == "origin_share":
        return ("independence", data.origin_share_rows[index[0]].rule)
    if family == "export_control":
        return ("export_controls", data.export_control_rows[index[0]].control)
    if family.startswith("sharing") or family == "alloc":
        if family in ("sharing_shipped", "sharing_shipped_max"):
            host, partner, commodity, year = index
            ids = [
                a.id
                for a in data.agreements.values()
                if a.host == host and partner in a.min_share and a.commodity == commodity
            ]
            return ("sharing", ids[0]) if ids else ("sharing",)
        return ("sharing", index[0])
    if family in ("budget_per_year", "budget_total"):
        return ("budgets", index[0])
    if family in ("stock", "stock_cover"):
        pile = data.stockpiles.get((index[0], index[1]))
        return ("stockpiles", pile.id) if pile else ("stockpiles",)
    if family in ("demand_met", "deliver", "unmet"):
        return ("demand", index[0], index[1])
    if family in ("ship", "no_reexport"):
        return ("trade",)
    if family in ("balance", "retag"):
        return ("commodities", index[1])
    return ()


def label(family: str, index: tuple) -> str:
    """`clean_share[3]`, `balance[USA,good,2030,clean]`."""
    return f"{family}[{','.join(str(i) for i in index)}]" if index else family
