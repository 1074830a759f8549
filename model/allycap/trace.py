"""Trace a variable or constraint of the LP back to the input element that produced it.

Used by infeasibility diagnosis, numerical health and `explain`: from a Pyomo component's
family name and index to the key path in the inputs (which the loader can locate to a file and
line). Each family declares the input path of its rows and variables
(`formulation/family.py`); rows are indexed by the ids of their inputs, so the path is read off
the row's name.
"""

from __future__ import annotations

from allycap.data import ModelData


def family_and_index(component) -> tuple[str, tuple]:
    """('clean_share', ('dfars', 'USD', 2030)) for m.clean_share['dfars', 'USD', 2030]."""
    index = component.index()
    if index is None:
        index = ()
    elif not isinstance(index, tuple):
        index = (index,)
    return component.parent_component().local_name, index


def input_path(family: str, index: tuple, data: ModelData) -> tuple:
    """The inputs key path behind one row or column of the LP (empty if none in particular)."""
    from allycap.formulation.registry import spec_of

    spec = spec_of(family)
    return spec.input_path(index, data) if spec is not None else ()


def label(family: str, index: tuple) -> str:
    """`clean_share[dfars,USD,2030]`, `balance[USA,good,2030,clean]`."""
    return f"{family}[{','.join(str(i) for i in index)}]" if index else family
