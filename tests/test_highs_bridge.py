"""Contract test of allycap.highs_bridge: the Pyomo and highspy internals it relies on.

The bridge is the only module that reads Pyomo's private persistent-interface attributes and
calls HiGHS directly. A Pyomo or highspy release that renames or reshapes any of them must fail
here, loudly and by name, not somewhere in a diagnosis or a sweep.
"""

from __future__ import annotations

import pyomo.environ as pyo
import pytest

from allycap import highs_bridge as bridge
from allycap.options import SolveOptions
from allycap.solve import solve_model


def tiny(demand: float = 3.0, cap: float = 10.0) -> pyo.ConcreteModel:
    """min x + 2y  s.t.  x + y >= demand (mutable),  x <= cap,  x, y >= 0."""
    m = pyo.ConcreteModel()
    m.x = pyo.Var(within=pyo.NonNegativeReals)
    m.y = pyo.Var(within=pyo.NonNegativeReals)
    m.demand = pyo.Param(initialize=demand, mutable=True)
    m.need = pyo.Constraint(expr=m.x + m.y >= m.demand)
    m.cap = pyo.Constraint(expr=m.x <= cap)
    m.total_cost = pyo.Objective(expr=m.x + 2 * m.y)
    return m


def test_private_attributes_exist_with_the_expected_shapes() -> None:
    import highspy

    m = tiny()
    opt = bridge.new_solver()
    assert bridge.highs_of(opt) is None  # nothing loaded yet
    bridge.load(opt, m)
    assert bridge.loaded(opt, m)
    assert opt._model is m
    assert isinstance(opt._solver_model, highspy.Highs)
    # id(var) -> (var, lb, ub, fixed, domain, value)
    assert set(opt._vars) == {id(m.x), id(m.y)}
    for vid, entry in opt._vars.items():
        assert isinstance(entry, tuple) and len(entry) == 6 and id(entry[0]) == vid
    # id(var) -> column; row -> constraint; constraint -> row
    assert sorted(opt._pyomo_var_to_solver_var_map.values()) == [0, 1]
    assert set(opt._pyomo_var_to_solver_var_map) == {id(m.x), id(m.y)}
    assert opt._solver_con_to_pyomo_con_map == {0: m.need, 1: m.cap}
    assert opt._pyomo_con_to_solver_con_map == {m.need: 0, m.cap: 1}


def test_column_and_row_maps_round_trip() -> None:
    m = tiny()
    opt = bridge.new_solver()
    bridge.load(opt, m)
    cols, rows = bridge.columns(opt), bridge.rows(opt)
    assert all(cols[bridge.column_of(opt, v)] is v for v in (m.x, m.y))
    assert all(bridge.column_of(opt, var) == j for j, var in cols.items())
    assert all(bridge.row_of(opt, con) == i for i, con in rows.items())
    assert bridge.column_of(opt, pyo.Var()) is None
    lp = bridge.lp(opt)
    assert (lp.num_col_, lp.num_row_) == (2, 2)
    assert {cols[j].name: c for j, c in enumerate(lp.col_cost_)} == {"x": 1.0, "y": 2.0}


def test_solve_duals_and_a_params_only_re_solve_from_a_basis() -> None:
    m = tiny()
    first = solve_model(m)
    assert first.status == "optimal" and first.objective == pytest.approx(3.0)
    assert first.duals[m.need] == pytest.approx(1.0)
    assert first.reduced_costs[m.y] == pytest.approx(1.0)
    opt = first.solver
    start = bridge.basis(opt)
    m.demand = 12.0  # x is capped at 10: two more units of y
    bridge.restart_from(opt, start)
    again = solve_model(
        m, solver=opt, health=False, params_only=True, load=[m.x, m.y], duals=[m.need]
    )
    assert again.status == "optimal" and again.objective == pytest.approx(14.0)
    assert again.solver is opt and again.duals == {m.need: pytest.approx(2.0)}
    assert (m.x.value, m.y.value) == (pytest.approx(10.0), pytest.approx(2.0))


def test_iis_of_a_two_row_conflict_names_both_rows() -> None:
    m = pyo.ConcreteModel()
    m.x = pyo.Var()
    m.low = pyo.Constraint(expr=m.x >= 2)
    m.high = pyo.Constraint(expr=m.x <= 1)
    m.total_cost = pyo.Objective(expr=m.x)
    outcome = solve_model(m, SolveOptions(), health=False)
    assert outcome.status == "infeasible"
    found = bridge.iis(outcome.solver)
    assert found is not None
    rows, cols = found
    assert {(r.constraint.name, r.bound) for r in rows} == {("low", "lower"), ("high", "upper")}
    assert all(var is m.x for var in cols)  # HiGHS may list the rows' column too


def test_the_interrupt_hooks_exist() -> None:
    import highspy

    h = highspy.Highs()
    assert callable(h.cancelSolve)
    h.HandleUserInterrupt = True  # what interrupt.highs_call switches on
    assert h.HandleUserInterrupt
    assert callable(highspy.Highs.resetGlobalScheduler)
    assert callable(h.getIis) and callable(h.getBasis) and callable(h.setBasis)
    assert callable(h.clearSolver)


def test_status_words_cover_every_status_text() -> None:
    from pyomo.contrib.solver.common.results import TerminationCondition

    from allycap.solve import STATUS_TEXT

    words = {bridge.status_word(tc) for tc in TerminationCondition}
    assert words <= set(STATUS_TEXT)
    assert bridge.version().count(".") == 2


def test_version_prints_nothing_in_a_fresh_process():
    """`compare` of run folders solves nothing itself but records HiGHS's version: asking for
    it must not print HiGHS's banner into the command's output."""
    import subprocess
    import sys

    code = "from allycap.highs_bridge import version; v = version(); print('v=' + v)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip().startswith("v=") and proc.stdout.count("\n") == 1, proc.stdout
    assert "HiGHS" not in proc.stdout + proc.stderr


def test_rows_and_an_objective_added_to_a_loaded_model_follow_their_parameters() -> None:
    """`alternatives`' calls: after the least-cost solve (x = 3, y = 0, cost 3), add the cap
    x + 2y <= c (c mutable) and the objective max y (as min -w y, w mutable), solve from the
    old basis (extended with the new row basic) with the primal simplex. With c = 4 the most y
    is 1 (x = 2, y = 1: cost 4); with c = 5, y = 2; parameter-only re-solves see both."""
    m = tiny()
    first = solve_model(m, SolveOptions(), health=False)
    opt = first.solver
    start = bridge.basis(opt)
    m.c = pyo.Param(initialize=4.0, mutable=True)
    m.w = pyo.Param(initialize=1.0, mutable=True)
    m.cost_cap = pyo.Constraint(expr=m.x + 2 * m.y <= m.c)
    m.alt = pyo.Objective(expr=-m.w * m.y)
    m.total_cost.deactivate()
    bridge.add_rows(opt, [m.cost_cap], [m.c, m.w])
    bridge.set_objective(opt, m.alt)
    bridge.prefer_primal_simplex(opt)
    for cap, most in ((4.0, 1.0), (5.0, 2.0)):
        m.c = cap
        bridge.restart_from(opt, start)
        out = solve_model(m, SolveOptions(), solver=opt, health=False, params_only=True)
        assert out.status == "optimal"
        assert m.y.value == pytest.approx(most)
        assert pyo.value(m.total_cost) == pytest.approx(cap)
