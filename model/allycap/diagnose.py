"""Infeasibility in the terms of the input files.

First an irreducible infeasible subset (IIS) from HiGHS (`iis_strategy` 2: in highspy 1.15 the
default strategy returns an empty set even for a two-row conflict). Each row and bound of the
IIS is traced to its constraint family, its indices, and the input element, file and line that
produced it. For each policy rule in the conflict, one more LP measures how far the rest of the
model can go toward it ("requires 9,000 t; at most 3,200 t can be had"), and candidate plants
that cannot be online in time are named. If HiGHS gives no IIS, an elastic re-solve puts a
penalised slack on every policy rule and reports the rules that need slack.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyomo.environ as pyo

from allycap import highs_bridge
from allycap.data import ModelData
from allycap.formulation.family import where
from allycap.formulation.registry import POLICY, ROWS
from allycap.inputs.load import RawInputs
from allycap.options import SolveOptions
from allycap.solve import solve_model
from allycap.trace import family_and_index, input_path, label

# POLICY: the rows a user sets directly, in the order they are explained (each family declares
# its own, `RowSpec.policy` and `rank`); the others (balance, capacity, ...) are physics.
MAX_PROBES = 4  # extra LPs solved to measure how far the model can go toward a rule


@dataclass
class Conflict:
    family: str
    index: tuple
    label: str
    input_path: tuple
    file: str | None
    line: int | None
    bound: str  # "lower", "upper", "equality", or "variable bound"
    policy: bool

    def as_dict(self) -> dict:
        return {
            "family": self.family,
            "index": [str(i) for i in self.index],
            "constraint": self.label,
            "input": ".".join(str(p) for p in self.input_path),
            "file": self.file,
            "line": self.line,
            "bound": self.bound,
            "policy_rule": self.policy,
        }


@dataclass
class Diagnosis:
    method: str  # "iis", "elastic" or "none"
    conflicts: list[Conflict] = field(default_factory=list)
    explanation: list[str] = field(default_factory=list)
    note: str = ""

    def as_dict(self) -> dict:
        return {
            "method": self.method,
            "note": self.note,
            "explanation": self.explanation,
            "conflicts": [c.as_dict() for c in self.conflicts],
        }


def _conflict(component, bound: str, data: ModelData, raw: RawInputs | None) -> Conflict:
    family, index = family_and_index(component)
    path = input_path(family, index, data)
    origin = raw.locate(path) if raw is not None and path else None
    return Conflict(
        family=family,
        index=index,
        label=label(family, index),
        input_path=path,
        file=origin.file if origin else None,
        line=origin.line if origin else None,
        bound=bound,
        policy=family in POLICY,
    )


def _iis(opt, data: ModelData, raw: RawInputs | None) -> list[Conflict] | None:
    found = highs_bridge.iis(opt)  # None when HiGHS gives no IIS: the elastic re-solve explains
    if found is None:
        return None
    rows, cols = found
    conflicts = [_conflict(r.constraint, r.bound, data, raw) for r in rows]
    return conflicts + [_conflict(var, "variable bound", data, raw) for var in cols]


def _policy_components(m: pyo.ConcreteModel):
    for name in POLICY:
        comp = getattr(m, name, None)
        if comp is not None:
            yield from comp.values()


def _elastic(m: pyo.ConcreteModel, data: ModelData, raw, options=None) -> list[Conflict]:
    """Relax every policy row with a penalised slack; the rows that use slack are the conflict.

    Changes `m` for good (the model is not solved again after a diagnosis)."""
    slacks = []
    rows = list(_policy_components(m))
    m._slack = pyo.Var(range(len(rows)), range(2), within=pyo.NonNegativeReals)
    for i, con in enumerate(rows):
        body, lower, upper = con.body, con.lower, con.upper
        relaxed = body + m._slack[i, 0] - m._slack[i, 1]
        con.set_value((lower, relaxed, upper))
        slacks.append((con, m._slack[i, 0], m._slack[i, 1]))
    m.total_cost.deactivate()
    m._elastic_obj = pyo.Objective(expr=sum(m._slack.values()))
    if not solve_model(m, options, health=False, duals=False).has_solution:
        return []
    found = []
    for con, up, down in slacks:
        if (up.value or 0) > 1e-7 or (down.value or 0) > 1e-7:
            found.append(_conflict(con, "relaxed", data, raw))
    return found


def _best_toward(m: pyo.ConcreteModel, con, siblings: list, options=None) -> float | None:
    """The best the rest of the model can do for `con`'s left-hand side, with `con` and the
    other rows of the same rule (`siblings`, e.g. its other years) dropped."""
    sense = pyo.maximize if con.lower is not None else pyo.minimize
    dropped = [c for c in siblings if c.active]
    for c in dropped:
        c.deactivate()
    m.total_cost.deactivate()
    m._probe = pyo.Objective(expr=con.body, sense=sense)
    try:
        if solve_model(m, options, health=False, duals=False).status != "optimal":
            return None
        best = float(pyo.value(con.body))
        return 0.0 if abs(best) < 1e-9 else best
    finally:
        m.del_component(m._probe)
        m.total_cost.activate()
        for c in dropped:
            c.activate()


def _sentence(c: Conflict, m, data: ModelData, best: float | None) -> str:
    """One sentence on a conflicting row: its family's own (`RowSpec.sentence`), or the row's
    label and input."""
    spec = ROWS.get(c.family)
    if spec is not None and spec.sentence is not None:
        return spec.sentence(c, data, best)
    have = "" if best is None else f"; the rest of the model can reach at most {best:,.0f}"
    return f"{c.label}{where(c)} (from {'.'.join(map(str, c.input_path)) or 'the model'}){have}."


def diagnose(
    m: pyo.ConcreteModel,
    data: ModelData,
    raw: RawInputs | None,
    opt,
    options: SolveOptions | None = None,
) -> Diagnosis:
    """Explain why `m` (just found infeasible by `opt`) is infeasible; the probe solves use
    `options`' time limit and threads."""
    conflicts = _iis(opt, data, raw) if opt is not None else None
    method = "iis"
    note = ""
    if not conflicts:
        method = "elastic"
        note = "HiGHS returned no IIS; the rules below needed slack in an elastic re-solve."
    # Rules a user chose first (shares, covers, bans, budgets), then the limits they run into.
    order = {name: i for i, name in enumerate(POLICY)}
    policy = sorted((c for c in (conflicts or []) if c.policy), key=lambda c: order[c.family])
    diagnosis = Diagnosis(method, conflicts or [], note=note)
    probes = 0
    seen = set()
    for c in policy:
        key = (c.family, c.input_path)
        if key in seen:
            continue
        seen.add(key)
        family = getattr(m, c.family)
        comp = family[c.index if len(c.index) != 1 else c.index[0]]
        best = None
        if probes < MAX_PROBES and ROWS[c.family].probe:
            siblings = [
                row
                for row in family.values()
                if input_path(*family_and_index(row), data) == c.input_path
            ]
            best = _best_toward(m, comp, siblings, options)
            probes += 1
        diagnosis.explanation.append(_sentence(c, m, data, best))
    if method == "elastic":
        relaxed = _elastic(m, data, raw, options)
        diagnosis.conflicts = relaxed
        for c in relaxed:
            diagnosis.explanation.append(_sentence(c, m, data, None))
        if not relaxed:
            diagnosis.method = "none"
            diagnosis.note = (
                "HiGHS returned no IIS and relaxing every policy rule does not restore "
                "feasibility: the conflict lies in capacity, balances or trade."
            )
    if not diagnosis.explanation and diagnosis.conflicts:
        for c in diagnosis.conflicts[:6]:
            diagnosis.explanation.append(_sentence(c, m, data, None))
    return diagnosis
