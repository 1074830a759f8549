"""`allycap alternatives`: what else costs almost the same (modelling to generate alternatives).

The least-cost plan is one point of a set of plans that cost almost as much. For each chosen
quantity q (new capacity of a region and stage, of a named group of regions and stages, or the
clean share of a clean-share rule's group) and each slack s, this module solves

    min q  and  max q   subject to every row of the model, and
    total_cost <= C* + s |C*|                       (the cost cap; C* the least-cost objective)
    shortage_cost <= S*                             (with keep_shortfall, the default; S* the
                                                     least-cost plan's shortage account)

and reports [min, max] beside the least-cost plan's value. `total_cost` is the model's objective
(both accounts, resource and shortage, as discounted in formulation/objective.py) and
`shortage_cost` the sum of the shortage account's cost terms (objective.shortage_terms) weighed
the same way. Without the shortage cap an alternative could move spending into unserved demand,
which the objective prices but which is not the same service: the cap keeps the shortage account
at most where the optimum left it (less shortage is allowed).

Quantities, all linear in the model's variables:
- capacity: sum of new[f, v] over the facilities f of a region and stage (or of a group's regions
  and stages) and their decision years v (all, or those in `years`): t/yr of new capacity decided.
- clean share: sum of clean deliveries of the rule's commodity to the group's regions over the
  rule's active years (those in `years`) divided by the group's demand over the same years. The
  demand is an input, so the share is linear in the deliveries.

One persistent HiGHS model per worker: built, solved at least cost (the optimum), then the cap
rows (mutable right-hand sides) and one objective sum_q w[q] q (mutable weights, +1 to minimize
q, -1 to maximize it, 0 for the others) are added to the same HiGHS instance, and each
(quantity, slack, sense) is a parameter-only re-solve from the least-cost basis (the solver
cleared first), with the primal simplex (that basis is primal feasible for every alternative, so
the simplex starts in phase 2): what a re-solve returns does not depend on which ran before it,
so workers each taking a share of the solves give the serial result.

A sub-solve that does not end optimal is recorded with its status and never reported as a range
end: its column is blank in ranges.csv.

SPORES (`spores` > 0): for each slack, spore 0 is the least-cost plan and spore k minimizes
sum_f w_f * (new capacity of candidate f, summed over its decisions) under the same caps, w_f
the number of spores before k that built f (the integer weighting of Calliope's SPORES): a
menu of portfolios that differ, each within the slack. The weights are mutable parameters of
the same objective; the spores of a slack run in order in the first worker.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from allycap.options import BatchOptions, SolveOptions
from allycap.studies.cases import StudyError, split_top

SENSES = ("min", "max")
BY_KEYS = ("region", "stage")
_SAFE = re.compile(r"[^A-Za-z0-9_.+\-]+")


@dataclass(frozen=True)
class Quantity:
    """One quantity whose range is sought (pickles cheaply: ids only, no model objects)."""

    name: str
    kind: str  # "capacity", "group" or "clean_share"
    region: str  # region id, or ids joined by "+", or "all"
    stage: str  # stage id, or ids joined by "+", or "all" ("" for a clean share)
    unit: str  # "t/yr" or "share"
    facilities: tuple[str, ...] = ()  # capacity and group: the facilities summed
    years: tuple[int, ...] | None = None  # decision years (capacity), delivery years (share)
    rule: str | None = None  # clean share: the rule
    regions: tuple[str, ...] = ()  # clean share: the group's regions
    commodity: str | None = None  # clean share: the rule's commodity


@dataclass(frozen=True)
class AltPlan:
    """Everything a worker needs to solve its share of the alternatives."""

    input: str
    scenarios: tuple[str, ...]
    overrides: tuple[str, ...]
    slacks: tuple[float, ...]
    quantities: tuple[Quantity, ...]
    keep_shortfall: bool = True
    years: tuple[int, ...] | None = None
    plans: bool = True  # write a run folder for each extreme
    spores: int = 0  # SPORES: this many diverse alternatives per slack after the least-cost plan
    options: SolveOptions = SolveOptions()

    def items(self) -> list[tuple[int, int, str]]:
        """(quantity index, slack index, sense) of every solve after the optimum, in order."""
        return [
            (q, s, sense)
            for s in range(len(self.slacks))
            for q in range(len(self.quantities))
            for sense in SENSES
        ]


@dataclass
class AltResult:
    ranges: Any  # pandas.DataFrame, one row per quantity and slack
    solves: Any  # pandas.DataFrame, one row per sub-solve
    optimum: dict  # the least-cost plan: status, accounts, caps
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    spores: Any = None  # pandas.DataFrame, one row per slack and spore (with plan.spores)


# --- parsing ---------------------------------------------------------------------------------


def parse_slacks(text: str) -> tuple[float, ...]:
    """`0.01,0.05` or `1%,5%` -> (0.01, 0.05): each a finite number >= 0, no repeats."""
    fix = "Fix: write --slack 0.01,0.05 (or 1%,5%): fractions of the least cost, each >= 0."
    out: list[float] = []
    for item in split_top(text or ""):
        if not item:
            raise StudyError(f"--slack {text!r}: empty value. {fix}")
        try:
            value = float(item[:-1]) / 100 if item.endswith("%") else float(item)
        except ValueError:
            raise StudyError(f"--slack {text!r}: {item!r} is not a number. {fix}") from None
        if not math.isfinite(value) or value < 0:
            raise StudyError(f"--slack {text!r}: {item!r} is not a number >= 0. {fix}")
        if value in out:
            raise StudyError(f"--slack {text!r}: {item!r} is given twice. {fix}")
        out.append(value)
    if not out:
        raise StudyError(f"--slack: no value. {fix}")
    return tuple(out)


def parse_by(text: str | None) -> tuple[str, ...]:
    """`region,stage` (default), `region`, `stage` or `none` (only groups and clean shares)."""
    if text is None:
        return BY_KEYS
    if text.strip().lower() == "none":
        return ()
    keys = tuple(k.strip() for k in text.split(","))
    bad = [k for k in keys if k not in BY_KEYS]
    if bad or not keys or len(set(keys)) != len(keys):
        raise StudyError(
            f"--by {text!r}: give region, stage, region,stage or none. "
            "Fix: e.g. --by region,stage (new capacity per region and stage)."
        )
    return keys


def parse_years(text: str | None, model_years: list[int]) -> tuple[int, ...] | None:
    if text is None:
        return None
    fix = f"Fix: give model years separated by commas (model years: {_span(model_years)})."
    years = []
    for item in split_top(text):
        if not re.fullmatch(r"\d{4}", item):
            raise StudyError(f"--years {text!r}: {item!r} is not a year. {fix}")
        if int(item) not in model_years:
            raise StudyError(f"--years {text!r}: {item} is not a model year. {fix}")
        years.append(int(item))
    return tuple(sorted(set(years)))


def _span(years: list[int]) -> str:
    if len(years) > 2 and all(
        b - a == years[1] - years[0] for a, b in zip(years, years[1:], strict=False)
    ):
        return f"{years[0]}-{years[-1]} every {years[1] - years[0]}"
    return ", ".join(map(str, years))


def _did_you_mean(word: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, known, n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def parse_group(text: str, regions: list[str], blocs: dict[str, str], stages: list[str]):
    """`NAME=REGIONS:STAGES` -> (name, region ids, stage ids). REGIONS and STAGES are joined by
    `+`; a region may be a bloc name; `*` means all (all regions: those outside the restricted
    origins are not singled out, every region counts)."""
    fix = (
        'Fix: write --group "NAME=REGIONS:STAGES", regions and stages joined by +, e.g. '
        '--group "North America separation=CAN+USA:separation".'
    )
    name, eq, spec = text.partition("=")
    name = name.strip()
    if not eq or not name or spec.count(":") != 1:
        raise StudyError(f"--group {text!r}: not NAME=REGIONS:STAGES. {fix}")
    region_part, stage_part = (p.strip() for p in spec.split(":"))
    if not region_part or not stage_part:
        raise StudyError(f"--group {text!r}: empty region or stage list. {fix}")
    chosen_regions: list[str] = []
    for item in region_part.split("+"):
        item = item.strip()
        if item == "*":
            chosen_regions.extend(regions)
        elif item in regions:
            chosen_regions.append(item)
        elif item in set(blocs.values()):
            chosen_regions.extend(r for r in regions if blocs[r] == item)
        else:
            raise StudyError(
                f"--group {text!r}: unknown region {item!r}.{_did_you_mean(item, regions)} "
                f"Fix: use region ids or bloc names of the inputs ({', '.join(regions)})."
            )
    chosen_stages: list[str] = []
    for item in stage_part.split("+"):
        item = item.strip()
        if item == "*":
            chosen_stages.extend(stages)
        elif item in stages:
            chosen_stages.append(item)
        else:
            raise StudyError(
                f"--group {text!r}: unknown stage {item!r}.{_did_you_mean(item, stages)} "
                f"Fix: use stage ids of the inputs ({', '.join(stages)})."
            )
    return name, tuple(dict.fromkeys(chosen_regions)), tuple(dict.fromkeys(chosen_stages))


def focus_regions(data) -> list[str]:
    """The regions whose capacity `--by` ranges: bloc `allied` if the inputs have one, else
    every region outside the restricted origins."""
    allied = [r for r in data.regions if data.bloc.get(r) == "allied"]
    return allied or [r for r in data.regions if r not in data.restricted]


def plan_alternatives(
    input: str | Path,
    scenarios: list[str | Path] | None = None,
    overrides: list[str] | None = None,
    slack: str = "0.01",
    by: str | None = None,
    years: str | None = None,
    groups: list[str] | None = None,
    clean_shares: list[str] | None = None,
    keep_shortfall: bool = True,
    plans: bool = True,
    options: SolveOptions | None = None,
    spores: int = 0,
) -> AltPlan:
    """Check the options against the inputs and list the quantities (raises StudyError,
    InputError). Quantities without any decision variable (a region and stage with no
    candidate facility) are left out of the default `--by` list; a named group without one is
    an error."""
    from allycap.studies.cases import prepare_case

    slacks = parse_slacks(slack)
    if spores < 0:
        raise StudyError(
            f"--spores {spores}: give a number of alternatives >= 0. Fix: e.g. --spores 5."
        )
    keys = parse_by(by)
    scenarios = [str(Path(s).resolve()) for s in scenarios or []]
    overrides = list(overrides or [])
    options = options or SolveOptions()
    data = prepare_case(input, scenarios, overrides, options.strict)
    chosen_years = parse_years(years, data.years)
    stages = list(dict.fromkeys(s.id for chain in data.chains for s in chain.stages))
    stages += [
        s for s in dict.fromkeys(f.stage for f in data.facilities.values()) if s not in stages
    ]
    candidates = {f: data.facilities[f] for f in data.vintages}  # facilities that can expand

    def decided(facs) -> bool:
        # a capacity quantity with no decision variable in the chosen years is a constant
        return any(
            chosen_years is None or any(v in chosen_years for v in data.vintages[f].decisions)
            for f in facs
        )

    quantities: list[Quantity] = []
    if keys:
        regions = focus_regions(data)
        region_list = regions if "region" in keys else ["all"]
        stage_list = stages if "stage" in keys else ["all"]
        for s in stage_list:
            for r in region_list:
                facs = tuple(
                    f
                    for f, fac in candidates.items()
                    if (r == "all" and fac.region in regions or fac.region == r)
                    and (s == "all" or fac.stage == s)
                )
                if facs and decided(facs):
                    name = " ".join(x for x in (r, s) if x != "all") or "all"
                    quantities.append(Quantity(name, "capacity", r, s, "t/yr", facs, chosen_years))
    for text in groups or []:
        name, g_regions, g_stages = parse_group(text, data.regions, data.bloc, stages)
        facs = tuple(
            f for f, fac in candidates.items() if fac.region in g_regions and fac.stage in g_stages
        )
        if not facs or not decided(facs):
            raise StudyError(
                f"--group {text!r}: no facility of these regions and stages can build new "
                "capacity" + (" in --years" if chosen_years else "") + ", so its range is 0. "
                "Fix: choose regions and stages with candidate facilities (expansion: in the "
                "inputs)."
            )
        quantities.append(
            Quantity(
                name, "group", "+".join(g_regions), "+".join(g_stages), "t/yr", facs, chosen_years
            )
        )
    for text in clean_shares or []:
        quantities.extend(_clean_share_quantities(text, data, chosen_years))
    names = [q.name for q in quantities]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise StudyError(f"quantity {twice[0]!r} is asked for twice. Fix: give it once.")
    if not quantities:
        raise StudyError(
            "no quantity to range: no region and stage has a candidate facility"
            + (" deciding in --years" if chosen_years else "")
            + ". Fix: add --group or --clean-share, or widen --years."
        )
    return AltPlan(
        str(Path(input).resolve()),
        tuple(scenarios),
        tuple(overrides),
        slacks,
        tuple(quantities),
        keep_shortfall,
        chosen_years,
        plans,
        spores,
        options,
    )


def _clean_share_quantities(text: str, data, years) -> list[Quantity]:
    """`RULE` (every group of the rule: one, or one per region with each_region) or
    `RULE:REGION+REGION` (that group)."""
    rules = {k: v for k, v in data.independence.items() if v.kind == "min_clean_share"}
    rule_id, _, group = text.partition(":")
    rule_id = rule_id.strip()
    if rule_id not in rules:
        known = ", ".join(sorted(rules)) or "none"
        raise StudyError(
            f"--clean-share {text!r}: no min_clean_share rule {rule_id!r}."
            f"{_did_you_mean(rule_id, sorted(rules))} Fix: name one of the inputs' clean-share "
            f"rules ({known}), optionally RULE:GROUP."
        )
    rule = rules[rule_id]
    groups = list(rule.groups)
    if group:
        wanted = tuple(x.strip() for x in group.split("+"))
        match = [g for g in groups if set(g) == set(wanted)]
        if not match:
            shown = ", ".join("+".join(g) for g in groups)
            raise StudyError(
                f"--clean-share {text!r}: rule {rule_id!r} has no group {group!r}. "
                f"Fix: use one of its groups ({shown}), or the rule alone."
            )
        groups = match
    active = tuple(y for y in rule.years if years is None or y in years)
    out = []
    for g in groups:
        demand = sum(data.demand.get((r, rule.commodity, y), 0.0) for r in g for y in active)
        if demand <= 0:
            raise StudyError(
                f"--clean-share {text!r}: group {'+'.join(g)} has no {rule.commodity} demand in "
                "the rule's active years" + (" among --years" if years else "") + ". Fix: "
                "choose years in which the rule applies and the group has demand."
            )
        label = f"clean share {rule_id}" + (f" {'+'.join(g)}" if len(rule.groups) > 1 else "")
        out.append(
            Quantity(
                label,
                "clean_share",
                "+".join(g),
                "",
                "share",
                (),
                active,
                rule_id,
                tuple(g),
                rule.commodity,
            )
        )
    return out


# --- the solves ------------------------------------------------------------------------------


def quantity_expr(m, data, q: Quantity):
    """q as a linear Pyomo expression of the model's variables."""
    from allycap.data import CLEAN

    if q.kind in ("capacity", "group"):
        return sum(
            m.new[f, v]
            for f in q.facilities
            for v in data.vintages[f].decisions
            if q.years is None or v in q.years
        )
    demand = sum(data.demand.get((r, q.commodity, y), 0.0) for r in q.regions for y in q.years)
    clean = sum(
        m.deliver[r, q.commodity, y, CLEAN]
        for r in q.regions
        for y in q.years
        if (r, q.commodity, y, CLEAN) in m.deliver
    )
    return clean / demand


def shortage_expr(m, data):
    """The shortage account as an expression (None when it has no variable: strict inputs)."""
    from allycap.formulation.objective import shortage_terms

    terms = [t for t in shortage_terms(m, data) if t.var is not None]
    if not terms:
        return None
    return sum(data.weight[t.year] * t.coef * t.var for t in terms)


def _tidy(value) -> float:
    """Solver noise (|v| < 1e-6: a millionth of a tonne, or of a share) read as 0, as results.py
    reads values below 1e-9, and never -0."""
    value = float(value)
    return 0.0 if abs(value) < 1e-6 else value


def cost_cap(optimum: float, slack: float) -> float:
    """The cap on the objective at `slack`: C* + slack |C*| (C* itself at slack 0: the
    least-cost basis meets it within HiGHS's primal feasibility tolerance, so no margin is
    added, and a margin would let a slack-0 range widen)."""
    return optimum + slack * abs(optimum)


class Session:
    """One persistent model: solved at least cost, then re-solved for alternatives."""

    def __init__(self, plan: AltPlan):
        from allycap.formulation.build import build_model
        from allycap.formulation.objective import shortage_cost
        from allycap.run import load_and_validate
        from allycap.solve import solve_model

        self.plan = plan
        self.timings: dict[str, float] = {}
        t = time.perf_counter()
        self.raw, self.inputs, self.warnings = load_and_validate(
            plan.input, list(plan.scenarios), list(plan.overrides)
        )
        from allycap.data import prepare

        self.data = prepare(self.inputs, strict=plan.options.strict)
        self.m = build_model(self.data)
        self.timings["build"] = time.perf_counter() - t
        self.first = solve_model(self.m, plan.options, health=False)
        self.timings["optimum_solve"] = self.first.solve_seconds
        self.opt = self.first.solver
        self.optimum: dict[str, Any] = {"status": self.first.status}
        if self.first.status != "optimal":
            self.optimum["message"] = self.first.message
            return
        m, data = self.m, self.data
        self.exprs = [quantity_expr(m, data, q) for q in plan.quantities]
        import pyomo.environ as pyo

        cost = float(self.first.objective)
        shortage = shortage_cost(m, data)
        self.optimum.update(
            objective_musd_pv=cost,
            shortage_cost_musd_pv=shortage,
            resource_cost_musd_pv=cost - shortage,
            values=[_tidy(pyo.value(e)) for e in self.exprs],
        )
        self.cost = cost
        if plan.spores:
            from pyomo.core.expr.visitor import identify_variables

            read = {id(v): v for e in self.exprs for v in identify_variables(e)}
            read.update({id(v): v for v in m.new.values()})
            self.optimum_values = [(v, v.value) for v in read.values()]
            self.optimum_built = {
                f: sum(m.new[f, v].value or 0.0 for v in vint.decisions)
                for f, vint in data.vintages.items()
                if vint.decisions
            }
        self._add_alternative_rows(shortage)

    def _add_alternative_rows(self, shortage: float) -> None:
        import pyomo.environ as pyo

        from allycap import highs_bridge as bridge

        m, data, plan = self.m, self.data, self.plan
        t = time.perf_counter()
        self.basis = bridge.basis(self.opt)
        n = len(plan.quantities)
        m.alt_weight = pyo.Param(range(n), mutable=True, initialize=0.0)
        m.alt_cost_cap = pyo.Param(mutable=True, initialize=cost_cap(self.cost, 0.0))
        m.alt_cost = pyo.Constraint(expr=m.total_cost.expr <= m.alt_cost_cap)
        rows = [m.alt_cost]
        expr = shortage_expr(m, data) if plan.keep_shortfall else None
        self.shortage_cap = None
        if expr is not None:
            self.shortage_cap = shortage
            m.alt_shortage_cap = pyo.Param(mutable=True, initialize=self.shortage_cap)
            m.alt_shortage = pyo.Constraint(expr=expr <= m.alt_shortage_cap)
            rows.append(m.alt_shortage)
        objective = sum(m.alt_weight[i] * e for i, e in enumerate(self.exprs))
        if plan.spores:
            # SPORES: a weight on each candidate's new capacity, summed over its decisions
            self.spore_facilities = [f for f, vint in data.vintages.items() if vint.decisions]
            m.spore_weight = pyo.Param(self.spore_facilities, mutable=True, initialize=0.0)
            objective = objective + sum(
                m.spore_weight[f] * sum(m.new[f, v] for v in data.vintages[f].decisions)
                for f in self.spore_facilities
            )
        m.alt_objective = pyo.Objective(expr=objective, sense=pyo.minimize)
        m.total_cost.deactivate()  # still evaluated for each plan's cost; no longer minimized
        # Without plan folders a solve loads only the variables its row reads: the quantity's,
        # and the shortage terms' when no shortage row reports that account. The plan's cost
        # is the cap row's activity in HiGHS plus the objective's constant.
        from pyomo.core.expr.visitor import identify_variables
        from pyomo.repn import generate_standard_repn

        from allycap.formulation.objective import shortage_terms

        self.cost_constant = float(
            generate_standard_repn(m.total_cost.expr, compute_values=True).constant
        )
        self.short_terms = [
            (data.weight[t.year] * t.coef, t.var)
            for t in shortage_terms(m, data)
            if t.var is not None
        ]
        extra = [] if expr is not None else [v for _, v in self.short_terms]
        self.watched = [
            list(identify_variables(e, include_fixed=False)) + extra for e in self.exprs
        ]
        if plan.spores:
            found = {id(v): v for group in self.watched for v in group}
            found.update({id(v): v for v in m.new.values()})
            found.update({id(v): v for _, v in self.short_terms})
            self.spore_watched = list(found.values())
        bridge.add_rows(self.opt, rows, [m.alt_cost_cap, *m.alt_weight.values()])
        bridge.set_objective(self.opt, m.alt_objective)
        # the least-cost basis is primal feasible for every alternative (the least-cost plan
        # meets the caps): the primal simplex starts from it in phase 2
        bridge.prefer_primal_simplex(self.opt)
        self.timings["add_rows"] = time.perf_counter() - t

    def _resolve(self, load):
        """Re-solve the persistent model from the least-cost basis (only parameters changed),
        loading `load` variables (None: all of them)."""
        from allycap import highs_bridge as bridge
        from allycap.solve import solve_model

        bridge.restart_from(self.opt, self.basis)
        return solve_model(
            self.m,
            self.plan.options,
            solver=self.opt,
            health=False,
            params_only=True,
            load=load,
            duals=False,
        )

    def solve(self, qi: int, si: int, sense: str, plans_dir: Path | None) -> dict:
        """min or max quantity `qi` under slack `si`: one row of the solves table."""
        import pyomo.environ as pyo

        from allycap import highs_bridge as bridge

        m, plan = self.m, self.plan
        q, slack = plan.quantities[qi], plan.slacks[si]
        for i in m.alt_weight:
            m.alt_weight[i] = 0.0
        m.alt_weight[qi] = 1.0 if sense == "min" else -1.0
        if plan.spores:
            for f in self.spore_facilities:
                m.spore_weight[f] = 0.0
        m.alt_cost_cap = cost_cap(self.cost, slack)
        load = None if plans_dir is not None else self.watched[qi]
        outcome = self._resolve(load)
        self.last = outcome  # the plan just solved (tests extract it to check invariants)
        row: dict[str, Any] = {
            "quantity": q.name,
            "slack": slack,
            "sense": sense,
            "status": outcome.status,
            "value": math.nan,
            "objective_musd_pv": math.nan,
            "shortage_cost_musd_pv": math.nan,
            "plan": "",
            "seconds": outcome.solve_seconds,
            "message": "" if outcome.status == "optimal" else outcome.message,
        }
        if outcome.status == "optimal":
            row["value"] = _tidy(pyo.value(self.exprs[qi]))
            if load is None:  # every variable loaded: the objective evaluated on the plan
                row["objective_musd_pv"] = float(outcome.objective)
            else:
                cost = bridge.row_activity(self.opt, m.alt_cost) + self.cost_constant
                row["objective_musd_pv"] = cost
            if load is not None and self.shortage_cap is not None:
                row["shortage_cost_musd_pv"] = bridge.row_activity(self.opt, m.alt_shortage)
            else:
                row["shortage_cost_musd_pv"] = sum(
                    c * (v.value or 0.0) for c, v in self.short_terms
                )
            if plans_dir is not None:
                folder = plans_dir / plan_folder(plan, qi, si, sense)
                self.write_plan(folder, outcome, q, slack, sense)
                row["plan"] = str(Path("plans") / folder.relative_to(plans_dir))
        return row

    def spores(self, si: int, plans_dir: Path | None) -> list[dict]:
        """SPORES at slack `si`: the least-cost plan is spore 0; spore k minimizes
        sum_f w_f * (new capacity of candidate f, summed over decisions) under the caps, where
        w_f counts the spores before k that built f (the integer weighting of Lombardi et al.,
        2020): each spore moves away from the capacity the ones before it used. A spore that
        does not end optimal ends the series (the next ones would be weighted by it)."""
        import pyomo.environ as pyo

        from allycap import highs_bridge as bridge

        m, data, plan = self.m, self.data, self.plan
        slack = plan.slacks[si]

        def built() -> dict[str, float]:
            return {
                f: sum(m.new[f, v].value or 0.0 for v in data.vintages[f].decisions)
                for f in self.spore_facilities
            }

        def row_of(k: int, status: str, cost, shortage, used: dict, where: str) -> dict:
            row: dict[str, Any] = {"slack": slack, "spore": k, "status": status}
            row["objective_musd_pv"] = cost
            row["shortage_cost_musd_pv"] = shortage
            row["new_capacity_t"] = sum(used.values()) if used else math.nan
            row["facilities_built"] = sum(1 for q in used.values() if q > 1e-6)
            for q, e in zip(plan.quantities, self.exprs, strict=True):
                row[q.name] = _tidy(pyo.value(e)) if status == "optimal" else math.nan
            row["plan"] = where
            return row

        previous = self.optimum_built
        weights = dict.fromkeys(self.spore_facilities, 0.0)
        self._restore_optimum()
        rows = [
            row_of(
                0,
                "optimal",
                self.cost,
                self.optimum["shortage_cost_musd_pv"],
                previous,
                "plans/optimum" if plans_dir is not None else "",
            )
        ]
        for i in m.alt_weight:
            m.alt_weight[i] = 0.0
        m.alt_cost_cap = cost_cap(self.cost, slack)
        load = None if plans_dir is not None else self.spore_watched
        for k in range(1, plan.spores + 1):
            for f in self.spore_facilities:
                weights[f] += 1.0 if previous.get(f, 0.0) > 1e-6 else 0.0
                m.spore_weight[f] = weights[f]
            outcome = self._resolve(load)
            if outcome.status != "optimal":
                rows.append(row_of(k, outcome.status, math.nan, math.nan, {}, ""))
                break
            if load is None:
                cost = float(outcome.objective)
            else:
                cost = bridge.row_activity(self.opt, m.alt_cost) + self.cost_constant
            shortage = sum(c * (v.value or 0.0) for c, v in self.short_terms)
            previous = built()
            where = ""
            if plans_dir is not None:
                folder = plans_dir / f"slack-{slack:g}" / f"spore-{k}"
                self.write_plan(folder, outcome, None, slack, f"spore {k}")
                where = str(Path("plans") / folder.relative_to(plans_dir))
            rows.append(row_of(k, "optimal", cost, shortage, previous, where))
        return rows

    def _restore_optimum(self) -> None:
        """Put the least-cost values of the variables a spore row reads back into the model."""
        for var, value in self.optimum_values:
            var.set_value(value, skip_validation=True)

    def write_plan(self, folder: Path, outcome, q: Quantity | None, slack, sense) -> None:
        """A run folder for the plan just solved (compare, stress and report read it)."""
        from allycap.results import extract
        from allycap.run import Run, manifest_payload, summary_payload
        from allycap.write import write_run

        label = folder.name
        results = extract(self.m, self.data, outcome, label)
        r = Run(self.raw, self.inputs, self.data, results, self.warnings, label=label)
        about = {
            "quantity": None if q is None else q.name,
            "kind": None if q is None else q.kind,
            "sense": sense,
            "slack": slack,
            "least_cost_musd_pv": self.cost,
            "cost_cap_musd_pv": None if not sense else cost_cap(self.cost, slack),
            "shortage_cap_musd_pv": self.shortage_cap,
            "note": (
                "the least-cost plan"
                if not sense
                else f"a near-optimal alternative ({sense}, SPORES): moves away from the "
                f"capacity of the spores before it at a cost at most {slack:.4g} above the "
                "least cost; its duals are not prices (not written)"
                if q is None
                else f"a near-optimal alternative: {sense}imizes {q.name} at a cost at most "
                f"{slack:.4g} above the least cost; its duals are not prices (not written)"
            ),
        }
        summary = {**summary_payload(r), "alternative": about}
        manifest = {
            **manifest_payload(r, self.plan.options.manifest()),
            "alternative": about,
        }
        write_run(results, folder, summary, manifest, report=False)


def plan_folder(plan: AltPlan, qi: int, si: int, sense: str) -> str:
    """`slack-0.01/CAN.separation.max`: a plain name (targets.NAME_PATTERN) per extreme."""
    return f"slack-{plan.slacks[si]:g}/{safe_name(plan, qi)}.{sense}"


def safe_name(plan: AltPlan, qi: int) -> str:
    """A quantity's folder name: its name with anything but letters, digits and _ . + -
    replaced by `_` (and its index appended if two names would collide)."""
    names = [_SAFE.sub("_", q.name.replace(" ", ".")).strip("._") or "q" for q in plan.quantities]
    name = names[qi][:80]
    if names.count(names[qi]) > 1:
        name = f"{name}-{qi}"
    return name


def _chunk(plan: AltPlan, items: list[int], plans_dir: str | None, first: bool, progress=None):
    """Build, solve at least cost, then every item of `items` (indices into plan.items())."""
    session = Session(plan)
    out: dict[str, Any] = {"optimum": session.optimum, "rows": [], "timings": session.timings}
    if session.optimum["status"] != "optimal":
        return out
    folder = Path(plans_dir) if plans_dir else None
    if first and folder is not None:
        session.write_plan(folder / "optimum", session.first, None, 0.0, "")
    all_items = plan.items()
    for i in items:
        qi, si, sense = all_items[i]
        out["rows"].append({"item": i, **session.solve(qi, si, sense, folder)})
        if progress:
            progress(1)
    if first and plan.spores:
        out["spores"] = []
        for si in range(len(plan.slacks)):
            out["spores"].extend(session.spores(si, folder))
            if progress:
                progress(plan.spores)
    return out


def run_alternatives(
    plan: AltPlan,
    batch: BatchOptions | None = None,
    progress: Callable[[int], None] | None = None,
    plans_dir: Path | None = None,
) -> AltResult:
    """Every (quantity, slack, sense) solve; plan folders under `plans_dir` (if plan.plans)."""
    import pandas as pd

    from allycap.studies.batch import chunks, cluster_workers, run_batch

    batch = batch or BatchOptions()
    started = time.perf_counter()
    n = len(plan.items())
    where = str(plans_dir) if plans_dir is not None and plan.plans else None
    if batch.serial:
        parts = [_chunk(plan, list(range(n)), where, True, progress)]
    else:
        workers = batch.workers or cluster_workers(batch.scheduler)
        pieces = chunks(range(n), workers)
        tasks = [(_chunk, (plan, piece, where, k == 0)) for k, piece in enumerate(pieces)]
        spored = plan.spores * len(plan.slacks)  # the first task also runs the spores

        def done(i: int) -> None:
            progress(len(pieces[i]) + (spored if i == 0 else 0))

        parts = run_batch(tasks, batch.workers, batch.scheduler, done if progress else None)
    optimum = parts[0]["optimum"]
    spores = pd.DataFrame(parts[0]["spores"]) if parts[0].get("spores") else None
    rows = [row for part in parts for row in part["rows"]]
    solves = pd.DataFrame(rows, columns=SOLVE_COLUMNS if not rows else None)
    if len(solves):
        solves = solves.sort_values("item").drop(columns="item").reset_index(drop=True)
    seconds = time.perf_counter() - started
    timings = dict(parts[0]["timings"])
    if len(solves):
        timings["alternatives_solves"] = float(solves["seconds"].sum())
        timings["alternatives_solve_mean"] = float(solves["seconds"].mean())
    return AltResult(ranges_table(plan, optimum, solves), solves, optimum, seconds, timings, spores)


SOLVE_COLUMNS = [
    "item",
    "quantity",
    "slack",
    "sense",
    "status",
    "value",
    "objective_musd_pv",
    "shortage_cost_musd_pv",
    "plan",
    "seconds",
    "message",
]

RANGE_COLUMNS = [
    "quantity",
    "kind",
    "region",
    "stage",
    "slack",
    "min",
    "optimum",
    "max",
    "unit",
    "min_status",
    "max_status",
    "min_plan",
    "max_plan",
]


def ranges_table(plan: AltPlan, optimum: dict, solves):
    """ranges.csv: one row per quantity and slack. A bound whose solve was not optimal is blank
    (its status says why)."""
    import pandas as pd

    values = optimum.get("values") or [math.nan] * len(plan.quantities)
    rows = []
    index = (
        {(r.quantity, r.slack, r.sense): r for r in solves.itertuples(index=False)}
        if len(solves)
        else {}
    )
    for slack in plan.slacks:
        for q, value in zip(plan.quantities, values, strict=True):
            row = {
                "quantity": q.name,
                "kind": q.kind,
                "region": q.region,
                "stage": q.stage,
                "slack": slack,
                "optimum": value,
                "unit": q.unit,
            }
            for sense in SENSES:
                found = index.get((q.name, slack, sense))
                # no solve: the least-cost solve failed (its status), or it never ran
                fallback = optimum.get("status", "")
                status = (
                    found.status
                    if found is not None
                    else (fallback if fallback != "optimal" else "not solved")
                )
                good = found is not None and status == "optimal"
                row[sense] = found.value if good else math.nan
                row[f"{sense}_status"] = status
                row[f"{sense}_plan"] = found.plan if good else ""
            rows.append(row)
    return pd.DataFrame(rows, columns=RANGE_COLUMNS)


# --- output ----------------------------------------------------------------------------------


def default_folder() -> Path:
    return Path("outputs") / "alternatives"


def study(
    out: Path,
    plan: AltPlan,
    batch: BatchOptions | None = None,
    progress: Callable[[int], None] | None = None,
) -> AltResult:
    """Solve and write `out` atomically: ranges.csv, solves.csv, summary.json, manifest.json
    and plans/ (a run folder per extreme, and plans/optimum). Nothing is written when the
    least-cost solve does not end optimal (the result's optimum says why)."""
    from allycap.studies.output import input_files, versions
    from allycap.targets import stamp
    from allycap.write import atomic_folder, write_json

    class _NoOptimum(Exception):
        pass

    result: AltResult | None = None
    try:
        with atomic_folder(out) as tmp:
            result = run_alternatives(plan, batch, progress, tmp / "plans")
            if result.optimum["status"] != "optimal":
                raise _NoOptimum
            tables = [("ranges.csv", result.ranges), ("solves.csv", result.solves)]
            if result.spores is not None:
                tables.append(("spores.csv", result.spores))
            for name, frame in tables:
                frame.to_csv(tmp / name, index=False, float_format="%.9g", lineterminator="\n")
            write_json(tmp / "summary.json", summary_payload(plan, result))
            manifest = {
                "kind": "alternatives",
                "input": plan.input,
                "input_files": input_files(plan.input, plan.scenarios),
                "scenarios": [Path(s).stem for s in plan.scenarios],
                "overrides": list(plan.overrides),
                "options": {
                    **plan.options.manifest(),
                    **(batch or BatchOptions()).manifest(),
                },
                "versions": versions(),
            }
            write_json(tmp / "manifest.json", stamp(manifest))
    except _NoOptimum:
        pass
    assert result is not None
    return result


def summary_payload(plan: AltPlan, result: AltResult) -> dict:
    opt = result.optimum
    statuses = result.solves["status"].value_counts().to_dict() if len(result.solves) else {}
    cost = opt.get("objective_musd_pv")
    return {
        "kind": "alternatives",
        "optimum": {k: v for k, v in opt.items() if k != "values"},
        "slacks": list(plan.slacks),
        "cost_caps_musd_pv": {f"{s:g}": cost_cap(cost, s) for s in plan.slacks},
        "keep_shortfall": plan.keep_shortfall,
        "spores": plan.spores,
        "years": list(plan.years) if plan.years else None,
        "years_are": "decision years (capacity), delivery years (clean share)",
        "quantities": [
            {
                "name": q.name,
                "kind": q.kind,
                "region": q.region,
                "stage": q.stage,
                "unit": q.unit,
                "facilities": list(q.facilities),
                "rule": q.rule,
            }
            for q in plan.quantities
        ],
        "solves": len(result.solves),
        "statuses": statuses,
        "not_optimal": [
            {k: r[k] for k in ("quantity", "slack", "sense", "status", "message")}
            for r in result.solves.to_dict("records")
            if r["status"] != "optimal"
        ],
        "seconds": round(result.seconds, 3),
        "timings_s": {k: round(v, 4) for k, v in result.timings.items()},
    }


def format_ranges(frame) -> str:
    """ranges.csv for the terminal: capacities in t/yr, shares in %."""
    from allycap.studies.output import format_table

    shown = frame[["quantity", "slack", "min", "optimum", "max", "unit"]].copy()
    shown["slack"] = [f"{s:.1%}" for s in frame["slack"]]
    for col in ("min", "optimum", "max"):
        shown[col] = [
            ""
            if v is None or (isinstance(v, float) and math.isnan(v))
            else (f"{v:.1%}" if u == "share" else f"{v:,.0f}")
            for v, u in zip(frame[col], frame["unit"], strict=True)
        ]
    return format_table(shown, {})
