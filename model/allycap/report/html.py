"""The self-contained report page: inline CSS, inline SVG, no scripts, nothing fetched.

A Content-Security-Policy forbids every outside request (scripts, styles, fonts, images), so
the page works offline and a browser would flag anything that tried to load. Every chart sits
in a <figure> with its caption and, folded under it, the numbers it draws.
"""

from __future__ import annotations

import math
from html import escape

from allycap.report.charts import (
    CATEGORIES,
    RESOURCE,
    SHORTAGE,
    Chart,
    Table,
    account_map,
    account_totals,
)
from allycap.report.svg import number, render

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
color:#1d1d1d;background:#f6f6f4;margin:0}
header,nav,main,footer{max-width:1260px;margin:0 auto;padding:0 18px}
header{padding-top:18px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid #d8d8d2;padding-bottom:4px}
h3{font-size:14px;margin:0 0 6px}
nav{font-size:13px;margin:8px auto 0}
nav a{margin-right:12px;color:#2b5d8a}
.status{font-size:15px;margin:2px 0}
.status.bad{color:#a11}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:14px}
figure{margin:0;background:#fff;border:1px solid #dcdcd6;border-radius:4px;padding:10px}
figcaption{font-size:12px;color:#444;margin-top:6px}
svg.chart{display:block;width:100%;height:auto;background:#fff}
details{margin-top:6px;font-size:12px}
summary{cursor:pointer;color:#2b5d8a}
.scroll{overflow-x:auto;max-width:100%}
.tall{max-height:520px;overflow:auto;border:1px solid #dcdcd6}
table{border-collapse:collapse;font-size:12px;background:#fff}
th,td{padding:3px 8px;border-bottom:1px solid #ececec;text-align:left;white-space:nowrap}
th{background:#f0f0ec;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.card{background:#fff;border:1px solid #dcdcd6;border-radius:4px;padding:10px}
.note{font-size:12px;color:#555}
.notunique{border-color:#c98b00;background:#fff8e6;margin-bottom:12px}
ul.issues li{margin:2px 0}
footer{font-size:12px;color:#666;margin:30px auto 24px}
@media print{nav,details{display:none}.grid{display:block}figure{break-inside:avoid}}
"""


def t(text) -> str:
    return escape(str(text), quote=True)


def cell(v, unit: str = "") -> str:
    """A table cell: numbers right-aligned and formatted, None as an empty cell."""
    if v is None or isinstance(v, float) and math.isnan(v):
        return '<td class="num"></td>'
    if isinstance(v, bool) or not isinstance(v, int | float):
        return f"<td>{t(v)}</td>"
    return f'<td class="num">{t(number(float(v), unit) if unit else fmt(v))}</td>'


def fmt(v) -> str:
    if isinstance(v, int):
        return str(v) if 1000 <= v <= 2999 else f"{v:,}"  # years stay 2030, not 2,030
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if v == 0:
        return "0"
    return f"{v:,.3g}"


def table(tab: Table, unit: str = "", limit: int | None = None, cls: str = "") -> str:
    rows = tab.rows if limit is None else tab.rows[:limit]
    head = "".join(f"<th>{t(c)}</th>" for c in tab.columns)
    body = "".join("<tr>" + "".join(cell(v, unit) for v in row) + "</tr>" for row in rows)
    more = ""
    if limit is not None and len(tab.rows) > limit:
        more = f'<p class="note">First {limit} of {len(tab.rows)} rows.</p>'
    klass = f' class="{cls}"' if cls else ""
    return (
        f'<div class="scroll"><table{klass}><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>{more}"
    )


def figure(c: Chart) -> str:
    unit = "share" if c.kind == "heatmap" else ""
    data = ""
    if c.table is not None:
        data = f"<details><summary>Data table</summary>{table(c.table, unit)}</details>"
    # the figcaption is the figure's last child (HTML): the caption, then the data table
    caption = f"<figcaption>{t(c.caption)}{data}</figcaption>" if c.caption or data else ""
    head = f"<h3>{t(c.title)}</h3>"
    return f'<figure id="fig-{t(c.id)}">{head}{render(c)}{caption}</figure>'


def page(title: str, status_line: str, ok: bool, sections: list[tuple[str, str, str]], foot: str):
    """The whole page; sections are (anchor, heading, inner HTML)."""
    nav = " ".join(f'<a href="#{a}">{t(h)}</a>' for a, h, _ in sections)
    body = "".join(
        f'<section id="{a}"><h2>{t(h)}</h2>{inner}</section>' for a, h, inner in sections
    )
    klass = "status" if ok else "status bad"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<link rel="icon" href="data:,">'
        f"<title>{t(title)}</title><style>{CSS}</style></head>"
        f'<body><header><h1>{t(title)}</h1><p class="{klass}">{t(status_line)}</p></header>'
        f"<nav>{nav}</nav><main>{body}</main><footer>{foot}</footer></body></html>\n"
    )


def _kv(label: str, key: str, value, unit: str) -> str:
    """A KPI row; data-key/data-value carry the exact number of summary.json for tests/tools."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        shown = number(float(value), "share") if unit == "share" else fmt(float(value))
        v = f'<td class="num" data-key="{t(key)}" data-value="{value!r}">{t(shown)}</td>'
    else:
        v = f'<td data-key="{t(key)}">{t("" if value is None else value)}</td>'
    return f"<tr><th>{t(label)}</th>{v}<td>{t(unit)}</td></tr>"


def chain_card(chains: list) -> str:
    """Each chain of the run: its stages in order (display names) and its headline commodity."""
    items = []
    for ch in chains:
        stages = " → ".join(t(s.name) for s in ch.stages) or "no stages"
        head = (
            f"{t(ch.headline_name)} (<code>{t(ch.headline)}</code>, {t(ch.unit)})"
            if ch.headline
            else "none"
        )
        how = "" if ch.declared else " (inferred from the processes: no <code>chains:</code>)"
        items.append(
            f'<li data-chain="{t(ch.id)}"><strong>{t(ch.name)}</strong>{how}: {stages}. '
            f"Headline: {head}.</li>"
        )
    if not items:
        return ""
    return (
        '<div class="card" data-table="chains"><h3>Chains</h3>'
        f'<ul class="issues">{"".join(items)}</ul></div>'
    )


def kpi_tables(summary: dict, chains: list | None = None, costs=None) -> str:
    from allycap.chains import StageBook

    book = StageBook(chains or [])
    k = summary.get("kpis") or {}
    rows = [_kv("Status", "status", summary.get("status"), "")]
    by_cat = k.get("cost_by_category_musd_pv") or {}
    accounts = account_map(summary, costs)
    totals = account_totals(summary, costs)
    cats = [*[c for c in CATEGORIES if c in by_cat], *sorted(set(by_cat) - set(CATEGORIES))]
    # each account on a row of its own with its categories under it; the objective is labelled
    # as their sum, never printed as a bare "total cost"
    for account, title in ((RESOURCE, "Resource cost"), (SHORTAGE, "Shortage cost")):
        if totals is not None:
            rows.append(_kv(title, f"kpis.{account}_cost_musd_pv", totals[account], "M$ PV"))
        for c in cats:
            if accounts.get(c, RESOURCE) == account:
                rows.append(
                    _kv(f"{title}: {c}", f"kpis.cost_by_category_musd_pv.{c}", by_cat[c], "M$ PV")
                )
    rows.append(
        _kv(
            "Objective (resource + shortage cost)",
            "objective_musd_pv",
            summary.get("objective_musd_pv"),
            "M$ PV",
        )
    )
    for key, label, unit in (
        ("demand_t_total", "Demand, all regions and years", "t/yr, summed over model years"),
        (
            "shortfall_t_total",
            "Demand not served (curtailed + unmet)",
            "t/yr, summed over model years",
        ),
        ("unmet_t_total", "Unmet demand", "t/yr, summed over model years"),  # older folders
        ("unmet_share", "Share of demand not served", "share"),
    ):
        if key in k:
            rows.append(_kv(label, f"kpis.{key}", k[key], unit))
    for sector, kinds in (k.get("shortfall_t_by_sector_kind") or {}).items():
        for kind, q in kinds.items():
            rows.append(
                _kv(
                    f"Not served: {sector}, {kind}",
                    f"kpis.shortfall_t_by_sector_kind.{sector}.{kind}",
                    q,
                    "t/yr, summed over model years",
                )
            )
    out = [
        '<div class="grid"><div class="card" data-table="kpis"><h3>Status, cost and demand</h3>'
        f'<table class="kpis">{"".join(rows)}</table></div>'
    ]
    new = k.get("new_capacity_t_by_region_stage") or {}
    if new:
        stages = sorted({s for v in new.values() for s in v}, key=lambda s: (book.key(s), s))
        head = "".join(
            f'<th class="num" data-stage="{t(s)}">{t(book.name(s))}</th>' for s in stages
        )
        body = []
        for r in sorted(new, key=lambda r: (-sum(new[r].values()), r)):
            cells = []
            for s in stages:
                v = new[r].get(s)
                key = f"kpis.new_capacity_t_by_region_stage.{r}.{s}"
                cells.append(
                    '<td class="num"></td>'
                    if v is None
                    else f'<td class="num" data-key="{t(key)}" data-value="{v!r}">{fmt(v)}</td>'
                )
            body.append(f"<tr><th>{t(r)}</th>{''.join(cells)}</tr>")
        out.append(
            '<div class="card" data-table="new-capacity"><h3>New capacity decided over the '
            "horizon, t/yr</h3>"
            f'<div class="scroll"><table><thead><tr><th>region</th>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div></div>"
        )
    else:
        out.append('<div class="card"><h3>New capacity</h3><p>None built.</p></div>')
    out.append(chain_card(book.chains))
    out.append("</div>")
    return "".join(out)


def shadow_price_table(summary: dict) -> str:
    prices = (summary.get("kpis") or {}).get("shadow_prices") or {}
    rows = []
    cols: list[str] = []
    for family in sorted(prices):
        for rule in sorted(prices[family]):
            for y in prices[family][rule].get("by_year") or {}:
                if str(y) not in cols:
                    cols.append(str(y))
    cols.sort(key=lambda y: (not y.isdigit(), y))
    for family in sorted(prices):
        for rule in sorted(prices[family]):
            entry = prices[family][rule]
            by_year = {str(y): v for y, v in (entry.get("by_year") or {}).items()}
            cells = []
            for y in cols:
                v = by_year.get(y)
                key = f"kpis.shadow_prices.{family}.{rule}.by_year.{y}"
                cells.append(
                    '<td class="num"></td>'
                    if v is None
                    else f'<td class="num" data-key="{t(key)}" data-value="{v!r}">{fmt(v)}</td>'
                )
            rows.append(
                f"<tr><td>{t(family)}</td><td>{t(rule)}</td><td>{t(entry.get('unit', ''))}</td>"
                + "".join(cells)
                + "</tr>"
            )
    if not rows:
        return ""
    head = "".join(f'<th class="num">{t(y)}</th>' for y in cols)
    return (
        '<p class="note">What each policy rule costs at the margin (dual prices; see '
        "docs/outputs.md on reading duals with care).</p>"
        f'<div class="scroll card" data-table="shadow-prices"><table><thead><tr><th>family</th>'
        f"<th>rule</th><th>unit</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def manifest_block(manifest: dict) -> str:
    if not manifest:
        return '<p class="note">No manifest.json in this folder.</p>'
    items = [
        ("inputs", manifest.get("inputs_root", "")),
        ("scenarios", ", ".join(manifest.get("scenarios") or []) or "none"),
        ("overrides (--set)", "; ".join(manifest.get("overrides") or []) or "none"),
        (
            "options",
            ", ".join(f"{k}={v}" for k, v in sorted((manifest.get("options") or {}).items())),
        ),
        (
            "versions",
            ", ".join(f"{k} {v}" for k, v in sorted((manifest.get("versions") or {}).items())),
        ),
    ]
    rows = "".join(f"<tr><th>{t(k)}</th><td>{t(v)}</td></tr>" for k, v in items)
    files = "".join(
        f"<tr><td>{t(f)}</td><td><code>{t(str(h)[:12])}</code></td></tr>"
        for f, h in sorted((manifest.get("input_files") or {}).items())
    )
    return (
        f'<div class="card"><table>{rows}</table>'
        f"<details><summary>Input files (sha256, first 12 digits)</summary>"
        f"<table>{files}</table></details></div>"
    )


def uniqueness_note(summary: dict) -> str:
    """The plan's uniqueness (summary.json kpis.alternative_optima), stated plainly above the
    key figures: a warning card when another least-cost plan exists, a note when none was found,
    nothing for a folder written before the check existed or without an optimal solution."""
    entry = (summary.get("kpis") or {}).get("alternative_optima") or {}
    status = entry.get("status")
    if status == "not_unique":
        rows = "".join(
            f"<tr><td>{t(x.get('facility'))}</td><td>{t(x.get('region'))}</td>"
            f"<td>{t(x.get('stage'))}</td>{cell(x.get('decision_year'))}"
            f"{cell(x.get('optimum_t'))}{cell(x.get('alternative_t'))}</tr>"
            for x in entry.get("examples") or []
        )
        table_html = (
            "<table><thead><tr><th>facility</th><th>region</th><th>stage</th>"
            '<th class="num">decided</th><th class="num">this plan, t/yr</th>'
            '<th class="num">another least-cost plan, t/yr</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>"
        )
        return (
            '<div class="card notunique" data-uniqueness="not_unique" '
            f'data-count="{t(entry.get("zero_cost_builds"))}"><p><strong>'
            f"{t(entry.get('statement') or 'The least-cost plan is not unique.')}</strong></p>"
            f'<div class="scroll">{table_html}</div>'
            '<p class="note">Found on the optimal face of the solved LP: every column with a '
            "nonzero reduced cost and every row with a nonzero dual held at its value, the "
            "unbuilt zero-reduced-cost builds maximized (docs/outputs.md).</p></div>"
        )
    if status == "none_found":
        return (
            '<p class="note" data-uniqueness="none_found">No zero-cost alternative build was '
            "found: no build decision can change without raising the cost. Plans that cost "
            "slightly more: <code>allycap alternatives</code>.</p>"
        )
    return ""


def run_page(
    summary: dict,
    manifest: dict,
    charts: dict[str, list[Chart]],
    sankey_year: int | None,
    investments: Table | None,
    version: str,
    notes: list[str],
    start_year: int | None = None,
    chains: list | None = None,
    costs=None,
) -> str:
    """The page of a run folder. `costs` (costs.csv) gives the two accounts of a folder whose
    summary.json predates them."""
    label = summary.get("scenario", "run")
    status = summary.get("status", "unknown")
    objective = summary.get("objective_musd_pv")
    start = f" (PV {start_year})" if start_year else ""
    totals = account_totals(summary, costs)
    if not isinstance(objective, int | float):
        line = f"{status}: " + (summary.get("message") or "no solution")
    elif totals is None:
        line = f"{status}: objective {objective:,.1f} M${start}"
    else:
        line = (
            f"{status}: resource cost {totals[RESOURCE]:,.1f} + shortage cost "
            f"{totals[SHORTAGE]:,.1f} = objective {objective:,.1f} M${start}"
        )
    sections = [
        ("kpis", "Key figures", uniqueness_note(summary) + kpi_tables(summary, chains, costs))
    ]
    if summary.get("infeasibility"):
        diag = summary["infeasibility"]
        items = "".join(f"<li>{t(x)}</li>" for x in diag.get("explanation") or [])
        sections.append(
            (
                "why",
                "Why there is no solution",
                f'<div class="card"><p>{t(summary.get("message", ""))}</p>'
                f'<ul class="issues">{items}</ul><p class="note">{t(diag.get("note", ""))}'
                " Every conflicting row is in infeasibility.json.</p></div>",
            )
        )

    def grid(cs: list[Chart], empty: str) -> str:
        if not cs:
            return f'<p class="note">{t(empty)}</p>'
        return '<div class="grid">' + "".join(figure(c) for c in cs) + "</div>"

    sections += [
        (
            "capacity",
            "Capacity by stage and region",
            grid(charts.get("capacity", []), "No capacity in this run."),
        ),
        (
            "chain",
            f"Material along the chain, {sankey_year}"
            if sankey_year
            else "Material along the chain",
            "".join(figure(c) for c in charts.get("sankey", []))
            or f'<p class="note">{t("No production in this run.")}</p>',
        ),
        (
            "clean-share",
            "Clean share by region and year",
            "".join(figure(c) for c in charts.get("clean-share", []))
            or '<p class="note">No demand in this run.</p>',
        ),
        (
            "costs",
            "Costs by account and category",
            grid(charts.get("costs", []), "No costs in this run."),
        ),
        (
            "shortfall",
            "Demand not served, by sector",
            grid(charts.get("shortfall", []), "All demand served in this run."),
        ),
    ]
    prices = shadow_price_table(summary)
    if prices:
        sections.append(("prices", "Price of policy rules", prices))
    if investments is not None:
        inner = (
            table(investments, limit=400)
            if investments.rows
            else '<p class="note">No new capacity decided.</p>'
        )
        sections.append(
            ("investments", "Investments", f'<div data-table="investments">{inner}</div>')
        )
    if notes:
        items = "".join(f"<li>{t(n)}</li>" for n in notes)
        sections.append(("notes", "Warnings", f'<ul class="issues">{items}</ul>'))
    sections.append(("run", "Run", manifest_block(manifest)))
    foot = (
        f"Written by allycap {t(version)} from the tables in this folder (CSV files, "
        "summary.json, manifest.json); every number here is in those files. Money in million "
        "2024 US dollars (M$); quantities in t/yr."
    )
    return page(f"allycap run: {label}", line, status == "optimal", sections, foot)


def study_page(
    title: str, status_line: str, charts: list[Chart], data: Table, data_name: str, note: str
) -> str:
    """A comparison or sweep folder: the KPI table (or sweep points) and the charts."""
    grid = '<div class="grid">' + "".join(figure(c) for c in charts) + "</div>"
    sections = [
        (
            "table",
            "KPI table" if data_name == "compare.csv" else "Points",
            f'<p class="note">{t(note)}</p><div class="card tall" data-table="{t(data_name)}">'
            f"{table(data)}</div>",
        ),
        ("charts", "Curves" if data_name == "sweep.csv" else "KPIs by run", grid),
    ]
    foot = f"Written by allycap from {t(data_name)} in this folder."
    return page(title, status_line, True, sections, foot)


def alternatives_page(
    title: str,
    status_line: str,
    charts: list[Chart],
    data: Table,
    plans: list[tuple[str, str, object, bool]],
    manifest: dict,
) -> str:
    """An `allycap alternatives` folder: the ranges drawn (one panel per kind and slack), the
    rows of ranges.csv, and the run folders of the extreme plans (name, status, objective,
    whether it has a report.html to link to)."""
    grid = '<div class="grid">' + "".join(figure(c) for c in charts) + "</div>"
    if not charts:
        grid = '<p class="note">No quantity in ranges.csv has a number to draw.</p>'
    items = []
    for name, status, objective, has_report in plans:
        cost = f", {objective:,.1f} M$ PV" if isinstance(objective, int | float) else ""
        link = f' (<a href="{t(name)}/report.html">report</a>)' if has_report else ""
        items.append(f"<li><code>{t(name)}</code>: {t(status)}{t(cost)}{link}</li>")
    plan_html = (
        '<p class="note">Each extreme is a run folder: <code>allycap report</code>, '
        "<code>compare</code> and <code>stress</code> work on it.</p>"
        f'<ul class="issues" data-table="plans">{"".join(items)}</ul>'
        if items
        else '<p class="note">No run folders of the extreme plans in this folder.</p>'
    )
    sections = [
        ("ranges", "Ranges around the least-cost plan", grid),
        (
            "table",
            "Ranges",
            '<p class="note">One row per quantity and slack (from ranges.csv): the least and '
            "the most it can be in a plan that costs at most (1 + slack) times the least cost, "
            "and its value in the least-cost plan.</p>"
            f'<div class="card tall" data-table="ranges.csv">{table(data)}</div>',
        ),
        ("plans", "Plans behind the extremes", plan_html),
        ("run", "Study", manifest_block(manifest)),
    ]
    foot = "Written by allycap from ranges.csv, summary.json and manifest.json in this folder."
    return page(title, status_line, True, sections, foot)
