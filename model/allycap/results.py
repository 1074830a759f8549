"""Extract stage: the solved model -> `Results`, tidy DataFrames with named columns.

Every table carries the run's scenario label and is sorted, so two runs of the same inputs
write identical files. Money columns are M$ (2024 USD); `present_value_musd` is discounted to
the start year and sums to the objective; `annual_musd` is one year's cost in that year.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd
import pyomo.environ as pyo

from allycap.data import CLEAN, OTHER, TAGS, ModelData
from allycap.formulation.family import RESOURCE, SHORTAGE
from allycap.formulation.objective import CATEGORIES, cost_terms
from allycap.formulation.registry import DUAL_ROWS, account_of, dual_families, shortfall_rows
from allycap.formulation.stockpiles import required
from allycap.solve import SolveOutcome
from allycap.tables import TABLES


@dataclass
class Results:
    scenario: str
    status: str
    message: str
    objective: float | None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)


def _v(var) -> float:
    value = var.value
    return 0.0 if value is None or abs(value) < 1e-9 else float(value)


def extract(m: pyo.ConcreteModel, d: ModelData, outcome: SolveOutcome, scenario: str) -> Results:
    res = Results(scenario, outcome.status, outcome.message, outcome.objective)
    if not outcome.has_solution:
        res.tables = {name: pd.DataFrame() for name in TABLES}
        return res
    fac = d.facilities
    payers = d.payers

    rows = []
    for f, v in m.new:
        q = _v(m.new[f, v])
        if q <= 0:
            continue
        facility = fac[f]
        lead, life, capex = (
            facility.expansion.lead_time,
            facility.expansion.lifetime,
            facility.expansion.capex,
        )
        rows.append(
            {
                "facility": f,
                "name": facility.name,
                "region": facility.region,
                "stage": facility.stage,
                "process": facility.process,
                "decision_year": v,
                "online_year": v + lead,
                "retire_year": v + lead + life,
                "new_capacity_t": q,
                "capex_musd": q * capex,
                "payers": ";".join(f"{p}:{s:g}" for p, s in sorted(payers[f].items())),
            }
        )
    investments = _frame(
        rows,
        ["facility", "decision_year"],
        [
            "facility",
            "name",
            "region",
            "stage",
            "process",
            "decision_year",
            "online_year",
            "retire_year",
            "new_capacity_t",
            "capex_musd",
            "payers",
        ],
    )

    out_by_fy: dict[tuple, dict[str, float]] = defaultdict(lambda: dict.fromkeys(TAGS, 0.0))
    for f, y, k in d.prod_index:
        out_by_fy[f, y][k] = _v(m.prod[f, y, k])
    rows = []
    for f, facility in fac.items():
        for y in d.years:
            online = _v(m.online[f, y]) if f in d.vintages else 0.0
            cap = d.existing[f, y] + online
            made = sum(out_by_fy[f, y].values()) if (f, y) in out_by_fy else 0.0
            if cap <= 0 and made <= 0:
                continue
            rows.append(
                {
                    "facility": f,
                    "region": facility.region,
                    "stage": facility.stage,
                    "commodity": facility.output,
                    "year": y,
                    "existing_t": d.existing[f, y],
                    "new_online_t": online,
                    "capacity_t": cap,
                    "available_t": cap * d.availability[f, y],
                    "production_t": made,
                    "utilization": made / cap if cap > 0 else float("nan"),
                }
            )
    capacity = _frame(
        rows,
        ["facility", "year"],
        [
            "facility",
            "region",
            "stage",
            "commodity",
            "year",
            "existing_t",
            "new_online_t",
            "capacity_t",
            "available_t",
            "production_t",
            "utilization",
        ],
    )

    rows = []
    for (f, y), by_tag in out_by_fy.items():
        for k, q in by_tag.items():
            if q <= 0:
                continue
            base = {
                "facility": f,
                "region": fac[f].region,
                "stage": fac[f].stage,
                "year": y,
                "tag": k,
            }
            main = fac[f].output
            for c, a in d.outputs[f].items():
                rows.append(
                    {
                        **base,
                        "commodity": c,
                        "role": "output" if c == main else "coproduct",
                        "quantity_t": a * q,
                    }
                )
            for c, a in d.inputs_per_unit[f].items():
                rows.append({**base, "commodity": c, "role": "input", "quantity_t": a * q})
    production = _frame(
        rows,
        ["facility", "year", "commodity", "role", "tag"],
        ["facility", "region", "stage", "commodity", "role", "year", "tag", "quantity_t"],
    )

    rows = []
    for c, o, dest, y, k in d.ship_index:
        q = _v(m.ship[c, o, dest, y, k])
        if q > 0:
            rows.append(
                {
                    "commodity": c,
                    "origin": o,
                    "destination": dest,
                    "year": y,
                    "tag": k,
                    "quantity_t": q,
                    "transport_musd_per_t": d.transport_cost[c, o, dest, y],
                    "tariff_musd_per_t": d.tariff_cost[c, o, dest, y],
                }
            )
    flows = _frame(
        rows,
        ["commodity", "origin", "destination", "year", "tag"],
        [
            "commodity",
            "origin",
            "destination",
            "year",
            "tag",
            "quantity_t",
            "transport_musd_per_t",
            "tariff_musd_per_t",
        ],
    )

    rows = []
    for (r, c, y), dem in d.demand.items():
        clean = _v(m.deliver[r, c, y, CLEAN]) if (r, c, y, CLEAN) in m.deliver else 0.0
        other = _v(m.deliver[r, c, y, OTHER])
        unmet = _v(m.unmet[r, c, y]) if not d.strict else 0.0
        rows.append(
            {
                "region": r,
                "commodity": c,
                "year": y,
                "demand_t": dem,
                "delivered_clean_t": clean,
                "delivered_other_t": other,
                "unmet_t": unmet,
                "clean_share": clean / dem if dem > 0 else float("nan"),
                "restricted_share": other / dem if dem > 0 else float("nan"),
                "unmet_share": unmet / dem if dem > 0 else float("nan"),
            }
        )
    supply_mix = _frame(
        rows,
        ["region", "commodity", "year"],
        [
            "region",
            "commodity",
            "year",
            "demand_t",
            "delivered_clean_t",
            "delivered_other_t",
            "unmet_t",
            "clean_share",
            "restricted_share",
            "unmet_share",
        ],
    )

    rows = []
    for r, c, y, k in d.stock_index:
        pile = d.stockpiles[r, c]
        rows.append(
            {
                "stockpile": pile.id,
                "region": r,
                "commodity": c,
                "year": y,
                "tag": k,
                "level_t": _v(m.stock[r, c, y, k]),
                "required_t": required(d, pile, y),
            }
        )
    stocks = _frame(
        rows,
        ["stockpile", "year", "tag"],
        ["stockpile", "region", "commodity", "year", "tag", "level_t", "required_t"],
    )

    costs = _costs(m, d)
    shortfall = _shortfall(m, d)
    duals = _duals(m, d, outcome)
    marginals = _marginals(m, d, outcome)
    res.tables = {
        "investments": investments,
        "capacity": capacity,
        "production": production,
        "flows": flows,
        "supply_mix": supply_mix,
        "stocks": stocks,
        "costs": costs,
        "shortfall": shortfall,
        "duals": duals,
        "marginals": marginals,
    }
    for table in res.tables.values():
        table.insert(0, "scenario", scenario)
    res.summary = _kpis(res, d)
    res.summary["alternative_optima"] = alternative_builds(m, d, outcome)
    return res


def _frame(rows: list[dict], sort: list[str], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    if len(frame):
        frame = frame.sort_values(sort, kind="mergesort").reset_index(drop=True)
    return frame


def _costs(m, d: ModelData) -> pd.DataFrame:
    """Cost by year, category and region: annual (undiscounted) and present value.

    Read off the cost terms the families declare, the very terms of the objective: the present
    values add up to the objective. `account` says which of the two accounts a category is in
    (`registry.account_of`): resource (what is spent) or shortage (what unserved demand is worth
    to its users); the objective is their sum."""
    acc: dict[tuple[int, str, str], float] = defaultdict(float)  # annual M$
    for category, terms in cost_terms(m, d).items():
        for t in terms:
            annual = t.coef * (_v(t.var) if t.var is not None else 1.0)
            if not annual:
                continue
            if isinstance(t.region, str):
                acc[t.year, category, t.region] += annual
            else:
                for region, share in t.region:
                    acc[t.year, category, region] += annual * share
    rows = [
        {
            "year": y,
            "category": cat,
            "account": account_of(cat),
            "region": r,
            "annual_musd": v,
            "present_value_musd": v * d.weight[y],
        }
        for (y, cat, r), v in acc.items()
        if v != 0
    ]
    return _frame(
        rows,
        ["year", "category", "region"],
        ["year", "category", "account", "region", "annual_musd", "present_value_musd"],
    )


SHORTFALL_COLUMNS = ["region", "commodity", "sector", "year", "kind", "tonnes", "cost_musd_per_t"]


def _shortfall(m, d: ModelData) -> pd.DataFrame:
    """Demand not served, by region, commodity, sector, year and kind (`registry.shortfall_rows`:
    every family with demand reports its own). `cost_musd_per_t` is that tranche's cost per
    tonne in that year's money; tonnes x cost x the year's weight is the row's share of the
    shortage account."""
    rows = [
        {
            "region": row.region,
            "commodity": row.commodity,
            "sector": row.sector,
            "year": row.year,
            "kind": row.kind,
            "tonnes": row.tonnes,
            "cost_musd_per_t": row.cost,
        }
        for row in shortfall_rows(m, d)
        if row.tonnes > 1e-9
    ]
    return _frame(rows, ["region", "commodity", "sector", "year", "kind"], SHORTFALL_COLUMNS)


MARGINAL_COLUMNS = [
    "facility",
    "region",
    "stage",
    "commodity",
    "year",
    "tag",
    "production_t",
    "capacity_t",
    "output_value_musd_per_t",
    "input_cost_musd_per_t",
    "variable_cost_musd_per_t",
    "margin_musd_per_t",
    "capacity_rent_musd_per_t_yr",
    "annual_cost_musd_per_t_yr",
    "new_capacity_reduced_cost_musd_pv",
]


def _marginals(m, d: ModelData, outcome: SolveOutcome) -> pd.DataFrame:
    """Each facility's economics at the optimum, in that year's money per tonne.

    output value and input cost use the balance shadow prices of the facility's region (so a
    plant is worth running when its margin is positive); the capacity rent is what one more
    t/yr of capacity would save that year; the reduced cost of new capacity decided that year
    is what building one more t/yr would add to the total cost (zero for a build the optimum
    makes, positive for one it rejects).
    """
    duals, reduced = outcome.duals, outcome.reduced_costs
    if not duals:
        return pd.DataFrame(columns=MARGINAL_COLUMNS)
    fac = d.facilities
    balance = {key: duals.get(con, 0.0) for key, con in m.balance.items()}
    limit = {key: duals.get(con, 0.0) for key, con in m.capacity_limit.items()}
    rows = []
    for f, y, k in d.prod_index:
        r, w = fac[f].region, d.weight[y]
        value = sum(a * balance.get((r, c, y, k), 0.0) for c, a in d.outputs[f].items()) / w
        cost = sum(a * balance.get((r, c, y, k), 0.0) for c, a in d.inputs_per_unit[f].items()) / w
        variable = d.variable_cost[f, y]
        online = _v(m.online[f, y]) if f in d.vintages else 0.0
        rc = None
        if f in d.vintages and y in d.vintages[f].decisions:
            rc = float(reduced.get(m.new[f, y], 0.0)) if reduced else None
        rows.append(
            {
                "facility": f,
                "region": r,
                "stage": fac[f].stage,
                "commodity": fac[f].output,
                "year": y,
                "tag": k,
                "production_t": _v(m.prod[f, y, k]),
                "capacity_t": d.existing[f, y] + online,
                "output_value_musd_per_t": value,
                "input_cost_musd_per_t": cost,
                "variable_cost_musd_per_t": variable,
                "margin_musd_per_t": value - cost - variable,
                "capacity_rent_musd_per_t_yr": -limit.get((f, y), 0.0) * d.availability[f, y] / w,
                "annual_cost_musd_per_t_yr": d.annualized_capex.get(f, 0.0) + fac[f].fixed_om,
                "new_capacity_reduced_cost_musd_pv": rc,
            }
        )
    return _frame(rows, ["facility", "year", "tag"], MARGINAL_COLUMNS)


DUAL_COLUMNS = ["family", "rule", "region", "commodity", "year", "dual", "value", "unit", "meaning"]


def _duals(m, d: ModelData, outcome: SolveOutcome) -> pd.DataFrame:
    """Shadow prices in user terms, for every row whose family declares a dual (`DualSpec`).
    A row's index names its input, so its columns are read off the index. A degenerate LP can
    have several valid duals."""
    duals = outcome.duals
    if not duals:
        return pd.DataFrame(columns=DUAL_COLUMNS)
    rows = []
    for spec in DUAL_ROWS:
        component = getattr(m, spec.component, None)
        if component is None:
            continue
        ds = spec.dual
        for index, con in component.items():
            dual = duals.get(con, 0.0)
            if abs(dual) <= 1e-12:
                continue
            key = index if isinstance(index, tuple) else (index,)
            rule, region, commodity, year = ds.where(key, d)
            rows.append(
                {
                    "family": ds.family,
                    "rule": rule,
                    "region": region,
                    "commodity": commodity,
                    "year": year,
                    "dual": dual,
                    "value": ds.value(dual, key, d),
                    "unit": ds.unit,
                    "meaning": ds.meaning,
                }
            )
    frame = pd.DataFrame(rows, columns=DUAL_COLUMNS)
    if len(frame):
        frame["year"] = frame["year"].astype("Int64")
        frame = frame.sort_values(
            ["family", "rule", "region", "commodity", "year"], kind="mergesort"
        ).reset_index(drop=True)
    return frame


def _kpis(res: Results, d: ModelData) -> dict:
    t = res.tables
    costs = t["costs"]
    by_cat = costs.groupby("category")["present_value_musd"].sum() if len(costs) else {}
    inv = t["investments"]
    new_cap: dict = {}
    if len(inv):
        for (r, s), q in inv.groupby(["region", "stage"])["new_capacity_t"].sum().items():
            new_cap.setdefault(r, {})[s] = round(float(q), 6)
    mix = t["supply_mix"]
    clean: dict = {}
    for (r, c, y), row in mix.set_index(["region", "commodity", "year"]).iterrows():
        clean.setdefault(c, {}).setdefault(r, {})[int(y)] = (
            None if row["demand_t"] <= 0 else round(float(row["clean_share"]), 6)
        )
    demand = float(mix["demand_t"].sum()) if len(mix) else 0.0
    short = t["shortfall"]
    # the shortfall the check threshold tests is every tonne of demand not served, whatever its
    # kind (curtailed or unmet): read off the families' shortfall rows, not one variable
    unmet = float(short["tonnes"].sum()) if len(short) else 0.0
    by_sector: dict = {}
    if len(short):
        for (sector, kind), q in short.groupby(["sector", "kind"])["tonnes"].sum().items():
            by_sector.setdefault(sector, {})[kind] = round(float(q), 6)
    accounts = accounts_of(costs)
    return {
        "resource_cost_musd_pv": accounts[RESOURCE],
        "shortage_cost_musd_pv": accounts[SHORTAGE],
        "objective_musd_pv": res.objective,
        "objective_is": "resource_cost_musd_pv + shortage_cost_musd_pv",
        "cost_by_category_musd_pv": {c: float(by_cat.get(c, 0.0)) for c in CATEGORIES},
        "account_of_category": {c: account_of(c) for c in CATEGORIES},
        "shortfall_t_by_sector_kind": by_sector,
        "new_capacity_t_by_region_stage": new_cap,
        "clean_share_by_commodity_region_year": clean,
        "demand_t_total": demand,
        "shortfall_t_total": unmet,
        "unmet_share": unmet / demand if demand > 0 else 0.0,
        "shadow_prices": _shadow_prices(t["duals"]),
        "restricted_origins": sorted(d.restricted),
    }


def accounts_of(costs: pd.DataFrame) -> dict[str, float]:
    """{resource: M$ PV, shortage: M$ PV} of a costs table (its `account` column)."""
    out = {RESOURCE: 0.0, SHORTAGE: 0.0}
    if len(costs):
        for account, v in costs.groupby("account")["present_value_musd"].sum().items():
            out[str(account)] = float(v)
    return out


def _shadow_prices(duals: pd.DataFrame) -> dict:
    """The policy shadow prices, by family and rule: {year: value} with the unit beside."""
    out: dict = {}
    policy = duals[duals.family.isin(dual_families(summary=True))]
    for (family, rule), part in policy.groupby(["family", "rule"], sort=True):
        by_year = {
            ("total" if pd.isna(y) else int(y)): round(float(v), 9)
            for y, v in part.groupby("year", dropna=False)["value"].sum().items()
        }
        out.setdefault(family, {})[rule] = {"unit": part["unit"].iloc[0], "by_year": by_year}
    return out


# A reduced cost or dual this close to zero is zero to HiGHS (its default dual feasibility
# tolerance): moving along it changes the objective by less than 1e-7 M$ per unit.
ZERO_REDUCED_COST = 1e-7
CHANGED = 1e-6  # t/yr: a build that moves by less is not counted as changed
EXAMPLES = 5  # alternative builds named in the statement and kept in summary.json


def alternative_builds(m, d: ModelData, outcome: SolveOutcome) -> dict:
    """Is the least-cost plan unique? One small LP over the optimal face, read off the solve.

    By complementary slackness every feasible point that keeps each column with a nonzero
    reduced cost at its value and each row with a nonzero dual at its activity costs exactly
    the optimum: that set is the optimal face. On it, maximize the builds the plan does not take
    but could (new[f,v] at zero with a zero reduced cost). A positive maximum is another
    least-cost plan; the builds that differ from the optimum in it are reported.

    Why not read it off the reduced costs alone: a nonbasic build with a zero reduced cost is
    another optimum only if the simplex can step along it, and this LP is highly degenerate
    (every row of an unbuilt plant sits at zero). On the default inputs 246 unbuilt decisions
    are nonbasic with a reduced cost of exactly 0 and none of them can step; in the hand case of
    two identical plants the second plant's build is basic at zero and the zero-cost direction
    runs through its production column. The face LP settles both.

    Returns {"status": "not_unique" | "none_found" | "unknown", "zero_cost_builds": N or None,
    "examples": [...], "cost_change_musd_pv", "unbuilt_zero_reduced_cost" (the builds the face
    LP could take up), "statement"}. "none_found" means no build can move
    at no extra cost; other columns (flows, the tags of production) may still have ties."""
    out = {
        "status": "unknown",
        "zero_cost_builds": None,
        "examples": [],
        "cost_change_musd_pv": None,
        "unbuilt_zero_reduced_cost": None,
        "tolerance_musd_pv_per_t_yr": ZERO_REDUCED_COST,
        "statement": "",
    }
    builds = list(getattr(m, "new", {}).items()) if hasattr(m, "new") else []
    if outcome.status != "optimal":
        return out
    if not builds:
        out.update(status="none_found", zero_cost_builds=0)
        out["statement"] = uniqueness_statement(out)
        return out
    from allycap import highs_bridge as bridge

    opt = outcome.solver
    if opt is None or bridge.highs_of(opt) is None or not outcome.reduced_costs:
        out["statement"] = "Whether the plan is unique was not tested (no solved LP to read)."
        return out
    face = bridge.optimal_face(opt, ZERO_REDUCED_COST)
    if face is None:
        out["statement"] = "Whether the plan is unique was not tested (HiGHS kept no solution)."
        return out
    lp, value, reduced = face
    cols = {}
    for key, var in builds:
        col = bridge.column_of(opt, var)
        if col is not None:
            cols[col] = key
    free = [c for c in cols if value[c] <= CHANGED and abs(reduced[c]) <= ZERO_REDUCED_COST]
    out["unbuilt_zero_reduced_cost"] = len(free)
    if not free:
        out.update(status="none_found", zero_cost_builds=0, cost_change_musd_pv=0.0)
        out["statement"] = uniqueness_statement(out)
        return out
    alt = bridge.maximize_on_face(lp, free, cap=1e6)
    if alt is None:
        out["statement"] = "Whether the plan is unique was not tested (the face LP failed)."
        return out
    import numpy as np

    cost = np.asarray(lp.col_cost_)
    out["cost_change_musd_pv"] = float(cost @ (alt - value))
    found = []
    for col, (f, v) in sorted(cols.items(), key=lambda kv: kv[1]):
        if abs(alt[col] - value[col]) > CHANGED:
            fac = d.facilities[f]
            found.append(
                {
                    "facility": f,
                    "region": fac.region,
                    "stage": fac.stage,
                    "decision_year": int(v),
                    "optimum_t": round(float(value[col]), 6) + 0.0,
                    "alternative_t": round(float(alt[col]), 6) + 0.0,
                }
            )
    # builds taken up first: they are the news ("X could be built instead")
    found.sort(key=lambda x: (x["optimum_t"] > CHANGED, -x["alternative_t"]))
    out["status"] = "not_unique" if found else "none_found"
    out["zero_cost_builds"] = len(found)
    out["examples"] = found[:EXAMPLES]
    out["statement"] = uniqueness_statement(out)
    return out


def uniqueness_statement(entry: dict) -> str:
    """The one sentence the console and the report print about the plan's uniqueness."""
    if entry.get("status") == "none_found":
        return "No zero-cost alternative build was found."
    if entry.get("status") != "not_unique":
        return entry.get("statement") or ""
    n = entry.get("zero_cost_builds") or 0
    eg = "; ".join(
        f"{x['facility']} ({x['region']}, {x['stage']}) decided in {x['decision_year']}: "
        f"{x['optimum_t']:,.0f} -> {x['alternative_t']:,.0f} t/yr"
        for x in (entry.get("examples") or [])[:3]
    )
    s = "s" if n != 1 else ""
    return (
        f"The least-cost plan is not unique: {n} build decision{s} could change at no extra "
        f"cost, e.g. {eg}. Run `allycap alternatives` to see the ranges."
    )
