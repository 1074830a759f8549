"""allycap: an optimization model for allied critical-mineral capacity.

Public API (imports are lazy so that `allycap --help` starts fast):
    load_inputs(path, scenarios, overrides) -> RawInputs
    validate(raw) -> Inputs
    prepare(inputs) -> ModelData
    build_model(data) -> pyomo ConcreteModel
    solve_model(model) -> SolveOutcome
    run(path, ...) -> Run (all of the above plus extract)
"""

from __future__ import annotations

__version__ = "0.1.0"

_EXPORTS = {
    "load_inputs": "allycap.inputs.load",
    "validate": "allycap.inputs.validate",
    "prepare": "allycap.data",
    "build_model": "allycap.formulation.build",
    "solve_model": "allycap.solve",
    "run": "allycap.run",
    "Results": "allycap.results",
    "InputError": "allycap.errors",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(name)
