"""Chart data: a run's tables -> chart specifications that the SVG and PNG writers both draw.

No drawing here. Each `Chart` has a stable id (the `data-chart` group and the `id` of its SVG),
a title, a description for screen readers, its series, and a data table that stands in for the
picture. `sankey_layout` is the one piece of geometry, shared by the SVG and PNG writers.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

from allycap.chains import ChainInfo, StageBook, from_tables

# Stage order, display names and chain-diagram columns come from the run's chains (summary.json
# `chains`, declared in the inputs); `StageBook` answers for every stage.
CATEGORIES = ("capital", "fixed_om", "variable", "transport", "tariff", "unmet", "holding", "retag")
CATEGORY_COLORS = {
    "capital": "#1f77b4",
    "fixed_om": "#aec7e8",
    "variable": "#ff7f0e",
    "transport": "#2ca02c",
    "tariff": "#d62728",
    "unmet": "#7f7f7f",
    "holding": "#9467bd",
    "retag": "#8c564b",
}
# 20 distinct colours for regions, largest first; grey is kept for "other regions".
PALETTE = (
    "#4e79a7", "#e15759", "#f28e2b", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#17becf",
    "#bcbd22", "#8c564b", "#393b79", "#637939",
)  # fmt: skip
OTHER = "other regions"
OTHER_COLOR = "#a5a5a5"
LINE_COLOR = "#222222"
TOP_REGIONS = 7  # regions shown by name in a capacity panel or a Sankey column


@dataclass
class Series:
    name: str
    values: list  # float, or None where there is no value
    color: str
    style: str = "bar"  # "bar" (stacked) or "line" (drawn over the bars)
    colors: list[str] | None = None  # one colour per bar (horizontal bar charts)


@dataclass
class Table:
    columns: list[str]
    rows: list[list]


@dataclass
class Sankey:
    columns: list[str]  # column headings, left to right
    nodes: list[tuple[int, str, str]]  # (column, label, colour), in drawing order
    links: list[tuple[int, int, float, str]]  # (source node, target node, t, what moves)


@dataclass
class Chart:
    id: str  # stable: the SVG's id is "chart-<id>", the PNG is charts/<id>.png
    group: str  # the data-chart attribute: capacity, sankey, clean-share, costs, kpi, curve
    kind: str  # bars, lines, heatmap, sankey, hbars, ranges
    title: str
    desc: str
    x: list = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    unit: str = ""
    x_label: str = ""
    caption: str = ""
    table: Table | None = None
    sankey: Sankey | None = None
    x_range: tuple[float, float] | None = None  # ranges: the value axis, shared across panels


def _f(v) -> float | None:
    """A float, or None for a missing number."""
    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) else v


def _book(chains: list[ChainInfo] | StageBook | None, tables: dict) -> StageBook:
    if isinstance(chains, StageBook):
        return chains
    return StageBook(chains if chains else from_tables(tables))


def region_colors(tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    """One colour per region for every chart, the largest regions (capacity, then demand) first."""
    size: dict[str, float] = defaultdict(float)
    cap = tables.get("capacity")
    if cap is not None and len(cap):
        for r, v in cap.groupby("region")["capacity_t"].sum().items():
            size[r] += float(v)
    mix = tables.get("supply_mix")
    if mix is not None and len(mix):
        for r, v in mix.groupby("region")["demand_t"].sum().items():
            size[r] += float(v) * 1e-6  # demand only orders regions with no capacity
    for name in ("flows",):
        t = tables.get(name)
        if t is not None and len(t):
            for r in set(t["origin"]) | set(t["destination"]):
                size[r] += 0.0
    ordered = sorted(size, key=lambda r: (-size[r], r))
    return {r: PALETTE[i % len(PALETTE)] for i, r in enumerate(ordered)}


def _color(colors: dict[str, str], region: str) -> str:
    return OTHER_COLOR if region == OTHER else colors.get(region, OTHER_COLOR)


def _top(totals: dict[str, float], top: int) -> tuple[list[str], list[str]]:
    """The `top` largest keys by value (ties by name), and the rest; no "rest" of one."""
    ordered = sorted((k for k in totals if totals[k] > 0), key=lambda k: (-totals[k], k))
    if len(ordered) <= top + 1:
        return ordered, []
    return ordered[:top], ordered[top:]


def capacity_charts(
    capacity: pd.DataFrame,
    colors: dict[str, str],
    chains: list[ChainInfo] | StageBook | None = None,
) -> list[Chart]:
    """One stacked-bar panel per stage and output: capacity by region over the years, with the
    total production drawn as a line. Stages in chain order, under their display names."""
    if capacity is None or capacity.empty:
        return []
    book = _book(chains, {"capacity": capacity})
    years = sorted(int(y) for y in capacity["year"].unique())
    cap = capacity.groupby(["stage", "commodity", "region", "year"])["capacity_t"].sum()
    prod = capacity.groupby(["stage", "commodity", "year"])["production_t"].sum()
    cap_d: dict = defaultdict(lambda: defaultdict(dict))
    for (s, c, r, y), v in cap.items():
        cap_d[s, c][r][int(y)] = float(v)
    prod_d: dict = defaultdict(dict)
    for (s, c, y), v in prod.items():
        prod_d[s, c][int(y)] = float(v)
    charts = []
    for s, c in sorted(cap_d, key=lambda k: (book.key(k[0]), k[0], k[1])):
        by_region = cap_d[s, c]
        totals = {r: sum(v.values()) for r, v in by_region.items()}
        shown, rest = _top(totals, TOP_REGIONS)
        series = [
            Series(r, [by_region[r].get(y, 0.0) for y in years], _color(colors, r)) for r in shown
        ]
        if rest:
            other = [sum(by_region[r].get(y, 0.0) for r in rest) for y in years]
            series.append(Series(OTHER, other, OTHER_COLOR))
        produced = [prod_d[s, c].get(y, 0.0) for y in years]
        series.append(Series("total production", produced, LINE_COLOR, "line"))
        stage = book.name(s)
        what = f"{stage} capacity ({c})"
        peak = max(
            (sum(x.values[i] for x in series if x.style == "bar") for i in range(len(years))),
            default=0.0,
        )
        last = series[0].name if series and series[0].style == "bar" else "none"
        charts.append(
            Chart(
                id=f"capacity-{s}-{c}",
                group="capacity",
                kind="bars",
                title=f"{what}, t/yr",
                desc=(
                    f"Stacked bars: {stage.lower()} capacity for {c} by region, {years[0]} to "
                    f"{years[-1]}, in t/yr, peaking at {peak:,.0f} t/yr; the line is total "
                    f"production. Largest region over the horizon: {last}."
                ),
                x=years,
                series=series,
                unit="t/yr",
                x_label="year",
                caption=(
                    f"{what} by region (bars, t/yr) and production in all regions (line). "
                    + (f"{len(rest)} smaller regions are grouped as '{OTHER}'." if rest else "")
                ),
                table=Table(
                    ["series", *map(str, years)],
                    [[x.name, *x.values] for x in series],
                ),
            )
        )
    return charts


def clean_share_charts(
    supply_mix: pd.DataFrame, chains: list[ChainInfo] | StageBook | None = None
) -> list[Chart]:
    """A heat map per demanded commodity: clean share of demand by region (rows) and year; the
    chains' headline commodities first, under their display names."""
    if supply_mix is None or supply_mix.empty:
        return []
    book = _book(chains, {"supply_mix": supply_mix})
    label = {ch.headline: ch.headline_name for ch in book.chains if ch.headline}
    first = book.headlines
    charts = []
    years = sorted(int(y) for y in supply_mix["year"].unique())
    groups = dict(tuple(supply_mix.groupby("commodity", sort=True)))
    ordered = [c for c in first if c in groups] + [c for c in groups if c not in first]
    for c in ordered:
        part = groups[c]
        shown = f"{label[c]} ({c})" if c in label and label[c] != c else c
        demand = part.groupby("region")["demand_t"].sum()
        regions = sorted((r for r in demand.index if demand[r] > 0), key=lambda r: (-demand[r], r))
        share = {(r, int(y)): _f(v) for r, y, v in part[["region", "year", "clean_share"]].values}
        dem = {(r, int(y)): float(v) for r, y, v in part[["region", "year", "demand_t"]].values}
        by_year = part.groupby("year")[["demand_t", "delivered_clean_t"]].sum()
        total = [
            (float(by_year.at[y, "delivered_clean_t"] / by_year.at[y, "demand_t"]))
            if y in by_year.index and by_year.at[y, "demand_t"] > 0
            else None
            for y in years
        ]
        series = [Series("all regions", total, LINE_COLOR)]
        for r in regions:
            values = [share.get((r, y)) if dem.get((r, y), 0.0) > 0 else None for y in years]
            series.append(Series(r, values, ""))
        last = total[-1]
        charts.append(
            Chart(
                id=f"clean-share-{c}",
                group="clean-share",
                kind="heatmap",
                title=f"Clean share of {shown} demand by region and year",
                desc=(
                    f"Heat map: the share of each region's {shown} demand met with clean "
                    f"(restricted-free) material, {years[0]} to {years[-1]}; darker is cleaner, "
                    "grey where there is no demand. All regions together in "
                    f"{years[-1]}: " + ("no demand" if last is None else f"{last:.0%}") + "."
                ),
                x=years,
                series=series,
                unit="share",
                x_label="year",
                caption=(
                    f"Clean share of {shown} demand (delivered clean / demand), regions by total "
                    "demand; the first row is all regions together. Empty where demand is 0."
                ),
                table=Table(["region", *map(str, years)], [[x.name, *x.values] for x in series]),
            )
        )
    return charts


RESOURCE, SHORTAGE = "resource", "shortage"  # the accounts (formulation.family), without Pyomo


def account_map(summary: dict, costs: pd.DataFrame | None = None) -> dict[str, str]:
    """category -> account ("resource" or "shortage"): summary.json `kpis.account_of_category`,
    else costs.csv's `account` column (runfolder adds it to an older folder's costs.csv)."""
    found = dict((summary.get("kpis") or {}).get("account_of_category") or {})
    if costs is not None and len(costs) and "account" in costs.columns:
        for cat, account in zip(costs["category"], costs["account"], strict=True):
            found.setdefault(str(cat), str(account))
    return found


def account_totals(summary: dict, costs: pd.DataFrame | None = None) -> dict[str, float] | None:
    """{resource: M$ PV, shortage: M$ PV}: summary.json's kpis, else costs.csv by account; None
    when neither says."""
    k = summary.get("kpis") or {}
    if "resource_cost_musd_pv" in k and "shortage_cost_musd_pv" in k:
        return {RESOURCE: k["resource_cost_musd_pv"], SHORTAGE: k["shortage_cost_musd_pv"]}
    if costs is not None and len(costs) and "account" in costs.columns:
        by = costs.groupby("account")["present_value_musd"].sum()
        return {a: float(by.get(a, 0.0)) for a in (RESOURCE, SHORTAGE)}
    return None


def cost_chart(costs: pd.DataFrame, summary: dict) -> Chart | None:
    """Stacked bars: one year's cost by category, each model year (M$/yr, undiscounted)."""
    if costs is None or costs.empty:
        return None
    years = sorted(int(y) for y in costs["year"].unique())
    annual = costs.groupby(["category", "year"])["annual_musd"].sum()
    pv = costs.groupby("category")["present_value_musd"].sum()
    present = [c for c in CATEGORIES if c in pv.index] + sorted(
        c for c in pv.index if c not in CATEGORIES
    )
    series = [
        Series(
            c,
            [float(annual.get((c, y), 0.0)) for y in years],
            CATEGORY_COLORS.get(c, OTHER_COLOR),
        )
        for c in present
    ]
    pv_kpi = (summary.get("kpis") or {}).get("cost_by_category_musd_pv") or {}
    biggest = max(present, key=lambda c: pv[c]) if present else "none"
    accounts = account_map(summary, costs)
    return Chart(
        id="costs-by-category",
        group="costs",
        kind="bars",
        title="Cost by category, M$ per year",
        desc=(
            f"Stacked bars: one year's cost by category, {years[0]} to {years[-1]}, in million "
            f"2024 US dollars per year, undiscounted. Largest category in present value: "
            f"{biggest}."
        ),
        x=years,
        series=series,
        unit="M$/yr",
        x_label="year",
        caption=(
            "One year's cost in each model year by category (M$/yr, undiscounted; capital is the "
            "annuity on capacity online). The table gives each category's account (resource: "
            "what is spent; shortage: what unserved demand is worth to its users) and its "
            "present value."
        ),
        table=Table(
            ["category", "account", "present value, M$", *map(str, years)],
            [
                [x.name, accounts.get(x.name, ""), _f(pv_kpi.get(x.name, pv[x.name])), *x.values]
                for x in series
            ],
        ),
    )


def cost_pv_chart(summary: dict, costs: pd.DataFrame | None) -> Chart | None:
    """Horizontal bars: present value of each cost category over the horizon (M$ PV)."""
    by_cat = (summary.get("kpis") or {}).get("cost_by_category_musd_pv") or {}
    if not by_cat and costs is not None and len(costs):
        by_cat = costs.groupby("category")["present_value_musd"].sum().to_dict()
    cats = [c for c in CATEGORIES if abs(by_cat.get(c) or 0.0) > 1e-9]
    cats += sorted(c for c in by_cat if c not in CATEGORIES and abs(by_cat[c] or 0.0) > 1e-9)
    if not cats:
        return None
    values = [float(by_cat[c]) for c in cats]
    accounts = account_map(summary, costs)
    totals = account_totals(summary, costs)
    if totals is None:
        total = f"objective {sum(values):,.0f} M$"
    else:
        total = (
            f"resource cost {totals[RESOURCE]:,.0f} M$, shortage cost {totals[SHORTAGE]:,.0f} "
            f"M$, objective (their sum) {sum(values):,.0f} M$"
        )
    return Chart(
        id="costs-present-value",
        group="costs",
        kind="hbars",
        title="Present value by cost category, M$ PV",
        desc=(
            f"Bar chart: present value of each cost category over the horizon, in million 2024 "
            f"US dollars discounted to the start year; {total}. "
            + "; ".join(
                f"{c} ({accounts[c]}) {v:,.0f}" if c in accounts else f"{c} {v:,.0f}"
                for c, v in zip(cats, values, strict=True)
            )
            + "."
        ),
        x=cats,
        series=[
            Series(
                "present value",
                values,
                CATEGORY_COLORS["capital"],
                colors=[CATEGORY_COLORS.get(c, OTHER_COLOR) for c in cats],
            )
        ],
        unit="M$ PV",
        caption="Each category's present value over the horizon (M$, discounted to the start "
        "year), in its account: resource (what is spent) or shortage (what unserved demand is "
        "worth to its users). The categories sum to the objective, resource + shortage. "
        "Categories that are zero are left out.",
        table=Table(
            ["category", "account", "M$ PV"],
            [[c, accounts.get(c, ""), v] for c, v in zip(cats, values, strict=True)],
        ),
    )


def shortfall_chart(
    shortfall: pd.DataFrame | None, model_years: list[int] | None = None
) -> Chart | None:
    """Stacked bars: demand not served each model year, by sector and kind (t/yr); every model
    year is on the axis, so a shortage shows when it happens within the horizon."""
    if shortfall is None or shortfall.empty or "tonnes" not in shortfall.columns:
        return None
    years = sorted({int(y) for y in shortfall["year"].unique()} | set(model_years or []))
    by = shortfall.groupby(["sector", "kind", "year"])["tonnes"].sum()
    keys = list(dict.fromkeys((s, k) for s, k, _ in by.index))
    series = [
        Series(
            f"{s} {k}",
            [float(by.get((s, k, y), 0.0)) for y in years],
            PALETTE[i % len(PALETTE)],
        )
        for i, (s, k) in enumerate(keys)
    ]
    total = float(shortfall["tonnes"].sum())
    return Chart(
        id="shortfall-by-sector",
        group="shortfall",
        kind="bars",
        title="Demand not served by sector and kind, t/yr",
        desc=(
            f"Stacked bars: demand not served in each model year, {years[0]} to {years[-1]}, "
            f"by sector and kind (curtailed or unmet), in tonnes per year; {total:,.0f} t/yr "
            "summed over model years."
        ),
        x=years,
        series=series,
        unit="t/yr",
        x_label="year",
        caption=(
            "Tonnes of demand not served each model year (shortfall.csv), by sector and kind: "
            "curtailed (a tranche of price-responsive demand given up) or unmet (at the "
            "sector's shortage cost). Their cost is the shortage account."
        ),
        table=Table(
            ["sector", "kind", "total, t/yr summed", *map(str, years)],
            [[*key, sum(x.values), *x.values] for key, x in zip(keys, series, strict=True)],
        ),
    )


def model_years(tables: dict[str, pd.DataFrame]) -> list[int]:
    years: set[int] = set()
    for name in ("capacity", "supply_mix", "production"):
        t = tables.get(name)
        if t is not None and len(t):
            years |= {int(y) for y in t["year"].unique()}
    return sorted(years)


def sankey_chart(
    tables: dict[str, pd.DataFrame],
    year: int,
    colors: dict[str, str],
    top: int = TOP_REGIONS,
    chains: list[ChainInfo] | StageBook | None = None,
) -> Chart | None:
    """Material along the chain in one year: stage x region nodes, bands for what moves.

    Each commodity goes from the stage and region that made it to the stage (or the market)
    that used it; columns are the chains' diagram columns (stages that make the same commodity
    share one), markets last. Within an importing region, supply (what it made and kept, plus
    imports) is attributed to its users in proportion; stock changes are not drawn. Links that
    run back up the chain (scrap from a late stage to an earlier one) are left out and named in
    the caption.
    """
    book = _book(chains, tables)
    production = tables.get("production")
    if production is None or production.empty:
        return None
    prod = production[production["year"] == year]
    if prod.empty:
        return None
    flows = tables.get("flows")
    mix = tables.get("supply_mix")
    made: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(float)))  # c -> r -> s
    used: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(float)))  # c -> r -> user
    sums = prod.groupby(["commodity", "region", "stage", "role"])["quantity_t"].sum()
    for (c, r, s, role), q in sums.items():
        (used if role == "input" else made)[c][r][s] += float(q)
    if mix is not None and len(mix):
        m = mix[mix["year"] == year]
        got = (m["delivered_clean_t"] + m["delivered_other_t"]).groupby(
            [m["commodity"], m["region"]]
        )
        for (c, r), q in got.sum().items():
            if q > 0:
                used[c][r]["market"] += float(q)
    exports: dict = defaultdict(float)
    imports: dict = defaultdict(list)
    if flows is not None and len(flows):
        f = flows[(flows["year"] == year) & (flows["origin"] != flows["destination"])]
        shipped = f.groupby(["commodity", "origin", "destination"])["quantity_t"].sum()
        for (c, a, b), q in shipped.items():
            exports[c, a] += float(q)
            imports[c, b].append((a, float(q)))

    market = max((book.column(s) for s in set(prod["stage"])), default=0) + 1

    def rank(stage: str) -> int:
        return market if stage == "market" else book.column(stage)

    raw: dict = defaultdict(float)  # ((stage, region), (user, region), commodity) -> t
    dropped: dict = defaultdict(float)
    for c, by_region in used.items():
        for b, users in by_region.items():
            sources = []
            here = sum(made[c][b].values())
            domestic = max(0.0, here - exports[c, b])
            if here > 0 and domestic > 0:
                sources += [(s, b, domestic * q / here) for s, q in made[c][b].items()]
            for a, q in imports[c, b]:
                there = sum(made[c][a].values())
                if there > 0:
                    sources += [(s, a, q * p / there) for s, p in made[c][a].items()]
            supply = sum(q for _, _, q in sources)
            need = sum(users.values())
            if supply <= 0 or need <= 0:
                continue
            for user, q_user in users.items():
                for s, a, q_src in sources:
                    q = q_user * q_src / max(supply, need)
                    if q <= 0:
                        continue
                    if rank(s) >= rank(user):
                        dropped[c, s, user] += q
                    else:
                        raw[(s, a), (user, b), c] += q
    if not raw:
        return None

    # Name the largest regions of each column; group the rest as "other regions".
    size: dict = defaultdict(float)  # (stage, region) -> max(in, out)
    inflow: dict = defaultdict(float)
    outflow: dict = defaultdict(float)
    for (src, dst, _), q in raw.items():
        outflow[src] += q
        inflow[dst] += q
    for node in set(inflow) | set(outflow):
        size[node] = max(inflow[node], outflow[node])
    by_column: dict = defaultdict(dict)
    for (s, r), v in size.items():
        by_column[rank(s)][s, r] = v
    keep: set = set()
    for nodes in by_column.values():
        shown, _ = _top({f"{s}\0{r}": v for (s, r), v in nodes.items()}, top)
        keep |= {tuple(k.split("\0")) for k in shown}

    def group(node):
        return node if node in keep else (node[0], OTHER)

    links: dict = defaultdict(lambda: defaultdict(float))  # (src, dst) -> commodity -> t
    for (src, dst, c), q in raw.items():
        links[group(src), group(dst)][c] += q
    biggest = max(
        (sum(v for (s, _), v in nodes.items()) for nodes in by_column.values()), default=0.0
    )
    small = 1e-3 * biggest
    links = {k: v for k, v in links.items() if sum(v.values()) >= small}

    nodes_used = {n for pair in links for n in pair}
    ranks = sorted({rank(s) for s, _ in nodes_used})
    column_of = {k: i for i, k in enumerate(ranks)}
    node_size: dict = defaultdict(float)
    n_in: dict = defaultdict(float)
    n_out: dict = defaultdict(float)
    for (src, dst), cs in links.items():
        n_out[src] += sum(cs.values())
        n_in[dst] += sum(cs.values())
    for n in nodes_used:
        node_size[n] = max(n_in[n], n_out[n])
    headings = []
    for k in ranks:
        stages = sorted({s for s, _ in nodes_used if rank(s) == k}, key=book.key)
        headings.append(
            "Markets (delivered)"
            if stages == ["market"]
            else " / ".join(book.name(s) for s in stages)
        )
    multi = {k for k in ranks if len({s for s, _ in nodes_used if rank(s) == k}) > 1}

    def order(n):
        s, r = n
        return (column_of[rank(s)], book.key(s), r == OTHER, -node_size[n], r)

    ordered = sorted(nodes_used, key=order)
    index = {n: i for i, n in enumerate(ordered)}

    def label(n):
        s, r = n
        return f"{r} ({book.name(s).lower()})" if rank(s) in multi else r

    nodes = [(column_of[rank(n[0])], label(n), _color(colors, n[1])) for n in ordered]
    link_rows = []
    for (src, dst), cs in sorted(links.items(), key=lambda kv: (index[kv[0][0]], index[kv[0][1]])):
        what = ", ".join(f"{c} {q:,.0f} t" for c, q in sorted(cs.items(), key=lambda x: -x[1]))
        link_rows.append((index[src], index[dst], sum(cs.values()), what))
    skipped = ", ".join(
        f"{c} from {book.name(s).lower()} to {book.name(u).lower()} ({q:,.0f} t)"
        for (c, s, u), q in sorted(dropped.items())
    )
    names = [n[1] for n in nodes]
    table = Table(
        ["from", "to", "t/yr", "commodities"],
        [[names[a], names[b], v, w] for a, b, v, w in link_rows],
    )
    return Chart(
        id="sankey",
        group="sankey",
        kind="sankey",
        title=f"Material along the chain in {year}, t/yr",
        desc=(
            f"Sankey diagram for {year}: columns are the stages of the chain ("
            + ", ".join(headings)
            + "), boxes are regions, and bands are tonnes of material moving from the region "
            f"and stage that made it to the one that used it ({len(link_rows)} bands)."
        ),
        unit="t/yr",
        caption=(
            f"Material flows along the chain in {year} (t/yr; band widths are tonnes of each "
            "stage's own product, so widths are not comparable between stages). Supply in an "
            "importing region is attributed to its users in proportion; stock changes are not "
            f"drawn. Beyond the {top} largest regions per column, regions are grouped as "
            f"'{OTHER}'; bands under 0.1% of the largest column are left out."
            + (f" Not drawn (runs back up the chain): {skipped}." if skipped else "")
        ),
        table=table,
        sankey=Sankey(headings, nodes, link_rows),
    )


@dataclass
class SankeyGeometry:
    nodes: list[tuple[float, float, float, float]]  # x, y, width, height per node
    bands: list[tuple[float, float, float, float, float]]  # x0, y0, x1, y1, thickness per link
    column_x: list[float]


def sankey_layout(
    s: Sankey, width: float, height: float, top: float = 28.0, node_w: float = 12.0, pad=8.0
) -> SankeyGeometry:
    """Node boxes stacked in their columns (centred), one scale of px per tonne for the whole
    diagram, bands leaving and entering each box in the order of the boxes they connect."""
    n = len(s.nodes)
    inflow, outflow = [0.0] * n, [0.0] * n
    for a, b, v, _ in s.links:
        outflow[a] += v
        inflow[b] += v
    value = [max(i, o) for i, o in zip(inflow, outflow, strict=True)]
    ncols = len(s.columns)
    cols = [[i for i, node in enumerate(s.nodes) if node[0] == k] for k in range(ncols)]
    avail = height - top - 4
    scales = [
        (avail - pad * (len(col) - 1)) / total
        for col in cols
        if col and (total := sum(value[i] for i in col)) > 0
    ]
    k = max(min(scales), 0.0) if scales else 0.0
    step = (width - node_w) / (ncols - 1) if ncols > 1 else 0.0
    column_x = [j * step for j in range(ncols)]
    boxes: list = [None] * n
    for j, col in enumerate(cols):
        used = sum(max(value[i] * k, 1.0) for i in col) + pad * (len(col) - 1)
        y = top + max(0.0, (avail - used) / 2)
        for i in col:
            h = max(value[i] * k, 1.0)
            boxes[i] = (column_x[j], y, node_w, h)
            y += h + pad
    out_y = [b[1] for b in boxes]
    in_y = [b[1] for b in boxes]
    starts: dict[int, float] = {}
    for li in sorted(range(len(s.links)), key=lambda i: (s.links[i][0], boxes[s.links[i][1]][1])):
        a = s.links[li][0]
        starts[li] = out_y[a]
        out_y[a] += s.links[li][2] * k
    ends: dict[int, float] = {}
    for li in sorted(range(len(s.links)), key=lambda i: (s.links[i][1], boxes[s.links[i][0]][1])):
        b = s.links[li][1]
        ends[li] = in_y[b]
        in_y[b] += s.links[li][2] * k
    bands = [
        (boxes[a][0] + node_w, starts[li], boxes[b][0], ends[li], v * k)
        for li, (a, b, v, _) in enumerate(s.links)
    ]
    return SankeyGeometry(boxes, bands, column_x)


def run_charts(
    tables: dict[str, pd.DataFrame],
    summary: dict,
    sankey_year: int | None,
    chains: list[ChainInfo] | None = None,
):
    """All charts of a run, in page order: capacity, Sankey, clean share, costs. `chains` are
    the run's chains (`allycap.chains.of_run`); inferred from the tables when not given."""
    book = _book(chains, tables)
    colors = region_colors(tables)
    years = model_years(tables)
    year = sankey_year if sankey_year is not None else (years[-1] if years else None)
    charts = {
        "capacity": capacity_charts(tables.get("capacity"), colors, book),
        "sankey": (
            [c for c in [sankey_chart(tables, year, colors, chains=book)] if c] if year else []
        ),
        "clean-share": clean_share_charts(tables.get("supply_mix"), book),
        "costs": [
            c
            for c in [
                cost_chart(tables.get("costs"), summary),
                cost_pv_chart(summary, tables.get("costs")),
            ]
            if c
        ],
        "shortfall": [c for c in [shortfall_chart(tables.get("shortfall"), years)] if c],
    }
    return charts, year


COMPARE_FIXED = ("detail", "unit")


def compare_runs(compare: pd.DataFrame) -> list[str]:
    """The run columns of compare.csv: all but the first (the KPI), `detail` and `unit`."""
    return [str(c) for c in compare.columns[1:] if c not in COMPARE_FIXED]


def _slug(text: str) -> str:
    out = "".join(ch if ch.isalnum() else "-" for ch in text.lower())
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")


def _year_detail(detail: str) -> tuple[str, int] | None:
    """ "USA 2035" -> ("USA", 2035); None when the detail does not end with a year."""
    key, _, year = detail.rpartition(" ")
    return (key, int(year)) if year.isdigit() and len(year) == 4 else None


def comparison_charts(compare: pd.DataFrame, limit: int = 12) -> list[Chart]:
    """Charts of compare.csv (rows: `kpi`, optional `detail`, `unit`, one column per run), one
    per KPI, the first `limit`: a KPI with one number per run is a bar per run; one with details
    by year (clean share "USA 2035") is a line per run over the years, for `all` regions (or the
    first key); one with other details (cost by category, capacity by region/stage) is stacked
    bars per run, the largest details by name."""
    name_col = str(compare.columns[0])
    runs = compare_runs(compare)
    has_detail = "detail" in compare.columns
    groups: dict[str, list] = {}
    for _, row in compare.iterrows():
        values = [_f(pd.to_numeric(row[r], errors="coerce")) for r in runs]
        if all(v is None for v in values):
            continue
        detail = "" if not has_detail or pd.isna(row["detail"]) else str(row["detail"])
        unit = "" if "unit" not in compare.columns or pd.isna(row["unit"]) else str(row["unit"])
        groups.setdefault(str(row[name_col]), []).append((detail, unit, values))
    charts = []
    for kpi, rows in groups.items():
        unit = rows[0][1]
        what = kpi.replace("_", " ")
        title = what + (f", {unit}" if unit and unit != "share" else "")
        if len(rows) == 1:
            detail, _, values = rows[0]
            label = f"{what} ({detail})" if detail else what
            charts.append(
                Chart(
                    id=f"kpi-{_slug(kpi)}",
                    group="kpi",
                    kind="hbars",
                    title=(f"{label}, {unit}" if unit and unit != "share" else label),
                    desc=f"Bar chart of {label} for {len(runs)} runs: "
                    + "; ".join(
                        f"{r} {'n/a' if v is None else f'{v:,.4g}'}"
                        for r, v in zip(runs, values, strict=True)
                    )
                    + ".",
                    x=runs,
                    series=[Series(label, values, PALETTE[0])],
                    unit=unit,
                )
            )
        elif all(_year_detail(d) for d, _, _ in rows):
            keyed: dict[str, dict[int, list]] = {}
            for d, _, values in rows:
                key, year = _year_detail(d)
                keyed.setdefault(key, {})[year] = values
            key = "all" if "all" in keyed else next(iter(keyed))
            years = sorted(keyed[key])
            series = [
                Series(r, [keyed[key][y][i] for y in years], PALETTE[i % len(PALETTE)], "line")
                for i, r in enumerate(runs)
            ]
            others = [k for k in keyed if k != key]
            named = ", ".join(others[:5]) + (", …" if len(others) > 5 else "")
            charts.append(
                Chart(
                    id=f"kpi-{_slug(kpi)}",
                    group="kpi",
                    kind="lines",
                    title=f"{what} ({key}), by year" + (f", {unit}" if unit != "share" else ""),
                    desc=f"Line chart: {what} for {key}, {years[0]} to {years[-1]}, one line "
                    f"per run ({', '.join(runs)}).",
                    x=years,
                    series=series,
                    unit=unit,
                    x_label="year",
                    caption=f"{what} for {key} in each run"
                    + (f"; the others ({named}) are in the table." if others else "."),
                )
            )
        else:
            totals = {d: sum(abs(v or 0.0) for v in values) for d, _, values in rows}
            shown, rest = _top(totals, TOP_REGIONS)
            by = {d: values for d, _, values in rows}
            named = CATEGORY_COLORS if all(d in CATEGORY_COLORS for d in shown) else {}
            series = [
                Series(d, [v or 0.0 for v in by[d]], named.get(d, PALETTE[i % len(PALETTE)]))
                for i, d in enumerate(shown)
            ]
            if rest:
                other = [sum(by[d][i] or 0.0 for d in rest) for i in range(len(runs))]
                series.append(Series(f"{len(rest)} others", other, OTHER_COLOR))
            if not series:
                continue
            charts.append(
                Chart(
                    id=f"kpi-{_slug(kpi)}",
                    group="kpi",
                    kind="bars",
                    title=title,
                    desc=f"Stacked bars: {what} by {len(rows)} details for each of "
                    f"{len(runs)} runs; largest: {', '.join(shown[:3])}.",
                    x=runs,
                    series=series,
                    unit=unit,
                    caption=f"{what} in each run, by detail"
                    + (f"; the {len(rest)} smallest grouped." if rest else "."),
                )
            )
        if len(charts) >= limit:
            break
    return charts


SWEEP_FIXED = (
    "point",
    "status",
    "resource_cost_musd_pv",
    "shortage_cost_musd_pv",
    "objective_musd_pv",
    "marginal_musd_per_point",
    "shortfall_t",
    "unmet_t",
)
SWEEP_CURVES = (
    ("resource_cost_musd_pv", "Resource cost", "M$ PV"),
    ("shortage_cost_musd_pv", "Shortage cost", "M$ PV"),
    ("objective_musd_pv", "Objective (resource + shortage cost)", "M$ PV"),
    ("marginal_musd_per_point", "Marginal cost per point", "M$ PV per point"),
    ("shortfall_t", "Demand not served (curtailed + unmet)", "t/yr"),
    ("unmet_t", "Unmet demand", "t/yr"),
    ("clean_share_min", "Clean share reached (lowest year)", "share"),
)


def sweep_keys(sweep: pd.DataFrame) -> list[str]:
    """The varied keys: the columns between `point` and `status`."""
    cols = [str(c) for c in sweep.columns]
    if "point" in cols and "status" in cols and cols.index("point") < cols.index("status"):
        return cols[cols.index("point") + 1 : cols.index("status")]
    skip = ("marginal_musd_per_point", "clean_share_", "message")
    return [c for c in cols if c not in SWEEP_FIXED and not c.startswith(skip)]


def sweep_axis(sweep: pd.DataFrame) -> tuple[str, list, list[tuple[str, list[int]]]]:
    """The x axis of a sweep and its curves: x is the first varied key when it is numeric (one
    curve per value of a second key, if any), else the point number (one curve).
    Returns (x name, x value of each row, [(curve label, row positions)])."""
    keys = sweep_keys(sweep)
    rows = list(range(len(sweep)))
    if keys and len(keys) <= 2:
        x = pd.to_numeric(sweep[keys[0]], errors="coerce")
        if x.notna().all():
            xs = [float(v) for v in x]
            if len(keys) == 1:
                return keys[0], xs, [("", rows)]
            groups: dict = {}
            for i, v in enumerate(sweep[keys[1]]):
                groups.setdefault(v, []).append(i)
            return keys[0], xs, [(f"{keys[1]} = {v}", idx) for v, idx in groups.items()]
    points = [int(v) if float(v).is_integer() else float(v) for v in sweep["point"]]
    return "point", points, [("", rows)]


def sweep_charts(sweep: pd.DataFrame) -> list[Chart]:
    """Curves of sweep.csv: cost, marginal cost, unmet demand and the clean share reached,
    against the varied key."""
    x_name, xs, groups = sweep_axis(sweep)
    x = sorted(set(xs))
    status = [str(s) for s in sweep["status"]] if "status" in sweep.columns else []
    off = [f"{x_name} {xv:g} ({s})" for xv, s in zip(xs, status, strict=False) if s != "optimal"]
    charts = []
    for col, what, unit in SWEEP_CURVES:
        if col not in sweep.columns:
            continue
        column = [_f(v) for v in pd.to_numeric(sweep[col], errors="coerce")]
        if all(v is None for v in column):
            continue
        series = []
        for k, (name, idx) in enumerate(groups):
            at = {xs[i]: column[i] for i in idx}
            series.append(
                Series(name or what, [at.get(v) for v in x], PALETTE[k % len(PALETTE)], "line")
            )
        shown = [v for v in column if v is not None]
        charts.append(
            Chart(
                id=f"curve-{col}",
                group="curve",
                kind="lines",
                title=f"{what} against {x_name}" + ("" if unit == "share" else f", {unit}"),
                desc=(
                    f"Line chart: {what.lower()} ({unit}) at {len(xs)} points of {x_name}, from "
                    f"{min(shown):,.4g} to {max(shown):,.4g}"
                    + (
                        f", one line per {groups[0][0].split(' = ')[0]}."
                        if len(groups) > 1
                        else "."
                    )
                ),
                x=x,
                series=series,
                unit=unit,
                x_label=x_name,
                caption=(
                    f"{what} ({unit}) at each point of the sweep."
                    + (f" Points without an optimal solution: {', '.join(off)}." if off else "")
                ),
            )
        )
    return charts


# -- near-optimal ranges (an `allycap alternatives` folder) ---------------------------------------

RANGE_COLUMNS = ("quantity", "slack", "min", "optimum", "max")
RANGE_COLOR = "#9ecae1"  # the band from min to max
OPTIMUM_COLOR = "#08306b"  # the least-cost plan's value
RANGE_KINDS = (
    ("new_capacity", "New capacity by stage and region"),
    ("group", "Groups"),
    ("clean_share", "Clean share"),
)


def slack_label(slack) -> str:
    """0.01 -> "1%", 0.005 -> "0.5%"; a slack that is not a number is shown as written."""
    v = _f(pd.to_numeric(pd.Series([slack]), errors="coerce").iloc[0])
    return str(slack) if v is None else f"{v * 100:.4g}%"


def _slack_key(slack) -> tuple:
    """Numbers in order, then anything else by its text."""
    try:
        return (0, float(slack), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(slack))


def range_label(row: dict, book: StageBook) -> str:
    """A readable row name: "Separation · CAN" for new capacity of a stage in a region, else the
    quantity as written (a group's or clean share's name)."""
    kind = str(row.get("kind") or "")
    stage, region = row.get("stage"), row.get("region")
    if kind == "new_capacity" and stage and region:
        return f"{book.name(str(stage))} · {region}"
    return str(row.get("quantity"))


def _range_value(v: float, unit: str) -> str:
    if unit == "share":
        return f"{v:.0%}"
    return (f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3g}") + (f" {unit}" if unit else "")


def _range_order(row: dict, book: StageBook) -> tuple:
    stage = str(row.get("stage") or "")
    return (book.key(stage) if stage else -1, stage, str(row.get("region") or ""),
            str(row.get("quantity")))  # fmt: skip


def alternatives_charts(ranges: pd.DataFrame, book: StageBook) -> list[Chart]:
    """Charts of ranges.csv (`quantity, kind, region, stage, slack, min, optimum, max, unit`):
    for each kind of quantity (new capacity per stage and region, named groups, clean shares),
    one panel per slack with each quantity as a bar from its min to its max and the least-cost
    plan's value marked. Panels of one kind share their axis, so slacks compare side by side.
    New capacity is in chain order of stages, then region. Quantities whose range is 0 to 0 at
    every slack are left out of the picture (they are in the table)."""
    frame = ranges.copy()
    if "kind" not in frame.columns:
        frame["kind"] = "new_capacity"
    frame["kind"] = frame["kind"].fillna("new_capacity").astype(str)
    for c in ("min", "optimum", "max"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce")
    known = [k for k, _ in RANGE_KINDS]
    kinds = [*known, *sorted(set(frame["kind"]) - set(known))]
    titles = dict(RANGE_KINDS)
    slacks = sorted(dict.fromkeys(frame["slack"]), key=_slack_key)
    charts = []
    for kind in kinds:
        part = frame[frame["kind"] == kind]
        if part.empty:
            continue
        rows = [dict(zip(part.columns, r, strict=True)) for r in part.itertuples(index=False)]
        key = {id(r): (str(r["quantity"]), str(r.get("region")), str(r.get("stage"))) for r in rows}
        span: dict[tuple, float] = defaultdict(float)
        for r in rows:
            for c in ("min", "optimum", "max"):
                v = _f(r[c])
                span[key[id(r)]] = max(span[key[id(r)]], abs(v) if v is not None else 0.0)
        shown = sorted(
            {key[id(r)]: r for r in rows if span[key[id(r)]] > 0}.values(),
            key=lambda r: _range_order(r, book),
        )
        flat = len({key[id(r)] for r in rows}) - len(shown)
        if not shown:
            continue
        order = [key[id(r)] for r in shown]
        labels = [range_label(r, book) for r in shown]
        unit = next((str(r["unit"]) for r in rows if isinstance(r.get("unit"), str)), "")
        values = [v for r in rows for c in ("min", "optimum", "max") if (v := _f(r[c])) is not None]
        x_range = (min([0.0, *values]), max([0.0, *values]))
        for slack in slacks:
            at = {key[id(r)]: r for r in rows if r["slack"] == slack}
            if not at:
                continue
            cols = {c: [_f(at[k][c]) if k in at else None for k in order]
                    for c in ("min", "optimum", "max")}  # fmt: skip
            pct = slack_label(slack)
            what = titles.get(kind, kind.replace("_", " "))
            widest = max(
                ((lo, hi, n) for lo, hi, n in zip(cols["min"], cols["max"], labels, strict=True)
                 if lo is not None and hi is not None),
                key=lambda x: x[1] - x[0], default=None,
            )  # fmt: skip
            desc = (
                f"Ranges of {len(order)} quantities ({what.lower()}) over the plans that cost at "
                f"most {pct} more than the least cost, with the least-cost plan marked"
            )
            if widest:
                lo, hi = (_range_value(v, unit) for v in widest[:2])
                desc += f"; widest: {widest[2]}, {lo} to {hi}"
            charts.append(
                Chart(
                    id=f"ranges-{_slug(kind)}-{_slug(pct)}",
                    group="ranges",
                    kind="ranges",
                    title=f"{what}, within {pct} of the least cost"
                    + (f", {unit}" if unit and unit != "share" else ""),
                    desc=desc + ".",
                    x=labels,
                    series=[
                        Series("min", cols["min"], RANGE_COLOR),
                        Series("least-cost plan", cols["optimum"], OPTIMUM_COLOR),
                        Series("max", cols["max"], RANGE_COLOR),
                    ],
                    unit=unit,
                    caption=(
                        f"Bar: from the least to the most each quantity can be in a plan that "
                        f"costs at most {pct} more than the least cost; mark: the least-cost "
                        "plan."
                        + (
                            f" {flat} quantit{'y' if flat == 1 else 'ies'} at 0 at every slack: "
                            "only in the table."
                            if flat
                            else ""
                        )
                    ),  # fmt: skip
                    table=Table(
                        ["quantity", "min", "least-cost plan", "max", "unit"],
                        [
                            [n, lo, o, hi, unit]
                            for n, lo, o, hi in zip(
                                labels, cols["min"], cols["optimum"], cols["max"], strict=True
                            )
                        ],
                    ),
                    x_range=x_range,
                )
            )
    return charts
