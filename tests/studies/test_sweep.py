"""allycap sweep (studies/sweep.py) on the small chain of conftest.py.

The persistent sweep must give what fresh single solves give at the same points, the cost of
independence must not fall as the required clean share rises, and the dual-based marginal price
must be a slope of that curve: between the left and right finite differences of neighbouring
points (the LP's cost is convex and piecewise linear in the share), and equal to them where the
curve is smooth.
"""

from __future__ import annotations

import math

import pytest

from allycap.run import run
from allycap.studies.cases import StudyError
from allycap.studies.sweep import parse_vary, plan_sweep, run_sweep

KEY = "independence.allied_clean.share"
REL = 1e-6


def sweep(chain, vary, **kw):
    plan = plan_sweep(chain["base"], kw.pop("scenarios", []), kw.pop("overrides", []), vary, **kw)
    return plan, run_sweep(plan).frame


def test_sweep_objectives_equal_fresh_single_solves(chain):
    """Six points from 0 to 100% on one persistent model against six fresh pipelines run with
    `--set independence.allied_clean.share=<value>`: objective and unmet demand agree."""
    plan, frame = sweep(chain, [f"{KEY}=0:1:0.2"])
    assert plan.persistent
    assert list(frame[KEY]) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert set(frame["status"]) == {"optimal"}
    for _, row in frame.iterrows():
        fresh = run(chain["base"], overrides=[f"{KEY}={row[KEY]!r}"])
        assert fresh.results.status == "optimal"
        assert row["objective_musd_pv"] == pytest.approx(fresh.results.objective, rel=REL)
        summary = fresh.results.summary
        assert row["unmet_t"] == pytest.approx(summary["shortfall_t_total"], abs=1e-6)
        assert row["shortfall_t"] == pytest.approx(summary["shortfall_t_total"], abs=1e-6)


def test_sweep_accounts_equal_fresh_single_solves(chain):
    """Under the export ban with magnet shortage at 0.03 M$/t (part of the demand unmet), the
    persistent sweep's resource and shortage cost at each point equal a fresh solve's
    summary.json (costs.csv added by account), and add up to the objective; the shortage
    account is not empty, so the shortage terms' variables were loaded at every point."""
    sets = ["commodities.magnet.unmet_penalty=0.03", "horizon.step=1"]
    plan, frame = sweep(chain, [f"{KEY}=0:1:0.5"], scenarios=[chain["export_ban"]], overrides=sets)
    assert plan.persistent
    assert set(frame["status"]) == {"optimal"}
    for _, row in frame.iterrows():
        fresh = run(chain["base"], [chain["export_ban"]], [*sets, f"{KEY}={row[KEY]!r}"])
        k = fresh.results.summary
        assert row["resource_cost_musd_pv"] == pytest.approx(k["resource_cost_musd_pv"], rel=REL)
        assert row["shortage_cost_musd_pv"] == pytest.approx(k["shortage_cost_musd_pv"], rel=REL)
        both = row["resource_cost_musd_pv"] + row["shortage_cost_musd_pv"]
        assert both == pytest.approx(row["objective_musd_pv"], rel=1e-9)
        assert row["shortfall_t"] == pytest.approx(k["shortfall_t_total"], rel=REL, abs=1e-6)
    # at 0 and 50% clean some demand goes unmet; at 100% the rule forces clean deliveries
    assert (frame["shortage_cost_musd_pv"].iloc[:2] > 0).all()


def test_cost_of_independence_is_non_decreasing(chain):
    """11 points, 0 to 100%: every point optimal, the clean share reached at least the one
    required, and the cost never lower than at a smaller requirement (a relaxation)."""
    _, frame = sweep(chain, [f"{KEY}=0%:100%:10%"])
    assert len(frame) == 11
    assert set(frame["status"]) == {"optimal"}
    costs = list(frame["objective_musd_pv"])
    for lower, higher in zip(costs, costs[1:], strict=False):
        assert higher >= lower - 1e-9 * abs(lower)
    assert costs[-1] > costs[0] * (1 + 1e-4)  # independence is not free on this instance
    for share, reached in zip(frame[KEY], frame["clean_share_min"], strict=True):
        assert reached >= share - 1e-7
    assert frame["marginal_musd_per_point"].iloc[0] == pytest.approx(0.0, abs=1e-9)
    assert (frame["marginal_musd_per_point"].iloc[1:] > 0).all()


def test_marginal_price_is_the_slope_of_the_curve(chain):
    """Points 1% apart around 20-80%. The cost f(s) is convex and piecewise linear in s, and the
    marginal price (the rule's duals, M$ PV per percentage point) is a slope of f at s:
        (f(s) - f(s - h)) / h  <=  marginal(s)  <=  (f(s + h) - f(s)) / h   (h in points).
    Where both differences agree (no kink between the neighbours) the marginal equals them."""
    _, frame = sweep(chain, [f"{KEY}=0.2:0.8:0.01"])
    f = list(frame["objective_musd_pv"])
    marginal = list(frame["marginal_musd_per_point"])
    smooth = 0
    for i in range(1, len(f) - 1):
        left, right = f[i] - f[i - 1], f[i + 1] - f[i]  # per point: h = 1 percentage point
        tol = 1e-6 * max(1.0, abs(right))
        assert left - tol <= marginal[i] <= right + tol, (frame.iloc[i][KEY], left, right)
        if abs(right - left) <= 1e-7 * abs(right):
            smooth += 1
            assert marginal[i] == pytest.approx(right, rel=1e-6)
    assert smooth >= 10


def test_origin_share_rule_is_swept_on_the_persistent_model(chain):
    """A max_origin_share rule (its share multiplies variables, not a constant): the sweep's
    objectives equal fresh solves, the cost does not rise as the limit loosens, and the
    marginal price is never positive (a looser limit saves or changes nothing)."""
    rule = (
        "independence.usa_oxide={kind: max_origin_share, regions: [USA], commodity: magnet, "
        "origins: [CHN], share: 1.0, start: 2030}"
    )
    key = "independence.usa_oxide.share"
    plan, frame = sweep(chain, [f"{key}=0.2,0.3,0.4,0.6,1.0"], overrides=[rule])
    assert plan.persistent and plan.headline == "usa_oxide"
    costs = list(frame["objective_musd_pv"])
    assert all(b <= a + 1e-9 * abs(a) for a, b in zip(costs, costs[1:], strict=False))
    assert costs[0] > costs[-1]
    for _, row in frame.iterrows():
        fresh = run(chain["base"], overrides=[rule, f"{key}={row[key]!r}"])
        assert row["objective_musd_pv"] == pytest.approx(fresh.results.objective, rel=REL)
    # the limit multiplies supply, a variable, so the cost need not be convex in it: assert the
    # sign (a looser limit never costs) and that the binding 20% limit has a price
    assert (frame["marginal_musd_per_point"] <= 1e-9).all()
    assert frame["marginal_musd_per_point"].iloc[0] < 0


def test_infeasible_point_is_a_row_and_the_next_point_recovers(chain):
    """With the rule from 2025 nothing clean exists in time, so any positive share is
    infeasible: that point is a row with status infeasible and no objective, and the point
    after it (share 0 again) gets the first point's answer."""
    _, frame = sweep(chain, [f"{KEY}=0,0.5,0"], overrides=["independence.allied_clean.start=2025"])
    assert list(frame["status"]) == ["optimal", "infeasible", "optimal"]
    assert math.isnan(frame["objective_musd_pv"].iloc[1])
    assert "infeasible" in frame["message"].iloc[1]
    assert frame["objective_musd_pv"].iloc[2] == frame["objective_musd_pv"].iloc[0]


def test_other_keys_re_run_the_pipeline(chain):
    """discount_rate is not a mutable parameter: each point re-runs the pipeline with --set."""
    plan, frame = sweep(chain, ["discount_rate=0.05,0.07"], rule="allied_clean")
    assert not plan.persistent
    for _, row in frame.iterrows():
        fresh = run(chain["base"], overrides=[f"discount_rate={row['discount_rate']!r}"])
        assert row["objective_musd_pv"] == pytest.approx(fresh.results.objective, rel=REL)
    assert "marginal_musd_per_point" in frame and "clean_share_min" in frame


def test_two_keys_make_a_grid_with_the_first_varying_slowest(chain):
    rule = (
        "independence.us_clean={kind: min_clean_share, regions: [USA], commodity: magnet, "
        "share: 0, start: 2030}"
    )
    plan, frame = sweep(
        chain, [f"{KEY}=0,0.5", "independence.us_clean.share=0,0.8"], overrides=[rule]
    )
    assert plan.persistent
    assert list(zip(frame[KEY], frame["independence.us_clean.share"], strict=True)) == [
        (0, 0),
        (0, 0.8),
        (0.5, 0),
        (0.5, 0.8),
    ]
    assert "marginal_musd_per_point.us_clean" in frame
    fresh = run(chain["base"], overrides=[rule, f"{KEY}=0.5", "independence.us_clean.share=0.8"])
    assert frame["objective_musd_pv"].iloc[3] == pytest.approx(fresh.results.objective, rel=REL)


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("k=0:1:0.25", [0.0, 0.25, 0.5, 0.75, 1.0]),
        ("k=0%:100%:50%", [0.0, 0.5, 1.0]),
        ("k=3:7:2", [3, 5, 7]),
        ("k=0:1:0.3", [0.0, 0.3, 0.6, 0.9]),
        ("k=1:0:-0.5", [1.0, 0.5, 0.0]),
        ("k=0.1,0.2", [0.1, 0.2]),
        ("k=a,{2030: 0, 2040: 1}", ["a", "{2030: 0, 2040: 1}"]),
    ],
)
def test_parse_vary(text, values):
    key, parsed = parse_vary(text)
    assert key == "k"
    assert [v for v, _ in parsed] == values


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("share", "has no '='"),
        ("=0:1:0.1", "empty key path"),
        ("k=", "no values"),
        ("k=0:1", "exactly START:STOP:STEP"),
        ("k=0:1:0", "STEP must be non-zero"),
        ("k=1:0:0.1", "STEP must be non-zero and lead from START to STOP"),
        ("k=0:x:0.1", "three numbers"),
        ("k=0,,1", "empty value"),
    ],
)
def test_parse_vary_errors(text, message):
    with pytest.raises(StudyError, match=message):
        parse_vary(text)


def test_plan_rejects_unknown_rules_and_bad_shares(chain):
    with pytest.raises(StudyError, match="no independence rule 'nope'"):
        plan_sweep(chain["base"], [], [], ["independence.nope.share=0:1:0.5"])
    with pytest.raises(StudyError, match="from 0 to 1"):
        plan_sweep(chain["base"], [], [], [f"{KEY}=0:2:1"])
    with pytest.raises(StudyError, match="needs --rule"):
        plan_sweep(chain["base"], [], [], ["share=0,1"])
    plan = plan_sweep(chain["base"], [], [], ["share=0,1"], rule="allied_clean")
    assert plan.axes[0].key == KEY
