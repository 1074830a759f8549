"""report.html, charts/*.png and tables.xlsx: what is written, that it is self-contained, that its
numbers are the run's, and how `allycap report` fails. The browser test is test_browser.py."""

from __future__ import annotations

import csv
import math
import shutil
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import pytest

from allycap.report import (
    ReportError,
    comparison_report,
    run_report,
    sweep_report,
    write_report,
)
from tests.report.conftest import allycap, summary_of

CHART_GROUPS = {"capacity", "sankey", "clean-share", "costs"}


class Page(HTMLParser):
    """Every start tag with its attributes, plus the text inside <title> elements."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.stack: list[str] = []
        self.texts: dict[str, list[str]] = {}
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self.stack.append(tag)

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data):
        if self.stack:
            self.texts.setdefault(self.stack[-1], []).append(data)

    def find(self, tag: str, **attrs) -> list[dict]:
        return [
            a
            for t, a in self.tags
            if t == tag and all(a.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]


def page_of(folder: Path) -> tuple[str, Page]:
    text = (folder / "report.html").read_text(encoding="utf-8")
    return text, Page(text)


def rows_of(path: Path) -> int:
    with open(path, newline="", encoding="utf-8") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def lookup(payload: dict, key: str):
    """summary.json value at a dotted key (keys themselves have no dots in these paths)."""
    value = payload
    for part in key.split("."):
        value = value[part]
    return value


# -- the page ----------------------------------------------------------------------------------


def test_solve_writes_report_with_the_run(run_folder):
    """write_run (what `allycap solve` calls) leaves report.html beside the tables, and no
    temporary file of the report behind."""
    assert (run_folder / "report.html").is_file()
    assert not [p for p in run_folder.iterdir() if p.name.startswith(".")]
    assert not (run_folder / "charts").exists()  # PNGs only on request
    assert not (run_folder / "tables.xlsx").exists()


def test_report_is_self_contained(run_folder):
    """Nothing to fetch: no URL at all, no script, no external stylesheet, font or image; a
    Content-Security-Policy that would block any that slipped in."""
    text, page = page_of(run_folder)
    assert "http://" not in text and "https://" not in text
    assert "<script" not in text.lower()
    assert "@import" not in text and "url(" not in text
    for tag, attrs in page.tags:
        for name in ("src", "href", "xlink:href", "srcset", "data"):
            if name in attrs:
                value = attrs[name]
                assert value.startswith(("#", "data:")), f"<{tag} {name}={value!r}>"
    (csp,) = page.find("meta", http_equiv="Content-Security-Policy")
    assert "default-src 'none'" in csp["content"]
    assert page.find("meta", charset="utf-8")


def test_report_has_every_chart_accessibly(run_folder):
    """Capacity panels, the Sankey, clean share and costs; each SVG has role=img, a <title> and
    a <desc> it is labelled by, a caption and a data table."""
    text, page = page_of(run_folder)
    svgs = [a for t, a in page.tags if t == "svg"]
    groups = {a["data-chart"] for a in svgs}
    assert groups >= CHART_GROUPS
    assert len([a for a in svgs if a["data-chart"] == "capacity"]) >= 3
    all_ids = [a["id"] for t, a in page.tags if "id" in a]
    assert len(all_ids) == len(set(all_ids)), "duplicate ids"
    ids = set(all_ids)
    for svg in svgs:
        assert svg["role"] == "img"
        title_id, desc_id = svg["aria-labelledby"].split()
        assert title_id in ids and desc_id in ids
        assert svg["id"].startswith("chart-")
    assert len(page.find("figcaption")) == len(svgs)
    assert text.count("<summary>Data table</summary>") == len(svgs)
    assert "chart-sankey" in ids and "chart-costs-by-category" in ids
    titles = " ".join(page.texts.get("title", []))
    assert "Material along the chain in" in titles


def test_kpi_numbers_equal_summary(run_folder):
    """Every number the key-figure tables show carries its summary.json key and exact value."""
    summary = summary_of(run_folder)
    _, page = page_of(run_folder)
    cells = [a for t, a in page.tags if t == "td" and "data-key" in a]
    keys = {a["data-key"] for a in cells}
    expected = {"status", "objective_musd_pv", "kpis.demand_t_total", "kpis.shortfall_t_total"}
    expected |= {"kpis.resource_cost_musd_pv", "kpis.shortage_cost_musd_pv"}
    expected |= {
        f"kpis.cost_by_category_musd_pv.{c}" for c in summary["kpis"]["cost_by_category_musd_pv"]
    }
    for region, stages in summary["kpis"]["new_capacity_t_by_region_stage"].items():
        expected |= {f"kpis.new_capacity_t_by_region_stage.{region}.{s}" for s in stages}
    assert expected <= keys
    checked = 0
    for a in cells:
        value = lookup(summary, a["data-key"])
        if "data-value" in a:
            assert float(a["data-value"]) == value, a["data-key"]
            checked += 1
        else:
            assert a["data-key"] == "status"
    assert checked >= len(expected) - 1
    assert summary["objective_musd_pv"] == pytest.approx(
        sum(summary["kpis"]["cost_by_category_musd_pv"].values())
    )


def test_investments_table_lists_every_row(run_folder):
    text, page = page_of(run_folder)
    n = rows_of(run_folder / "investments.csv")
    assert n > 0
    (block,) = [a for t, a in page.tags if a.get("data-table") == "investments"]
    assert block
    start = text.index('data-table="investments"')
    body = text[start : text.index("</table>", start)]
    assert body.count("<tr>") == n + 1  # header and one row per investment


def test_sankey_year_option(run_copy):
    """--sankey-year picks the year; a year outside the model is refused with the years."""
    with open(run_copy / "capacity.csv", newline="") as handle:
        years = sorted({int(r["year"]) for r in csv.DictReader(handle)})
    write_report(run_copy, sankey_year=years[0])
    text, _ = page_of(run_copy)
    assert f"Material along the chain in {years[0]}" in text
    with pytest.raises(ReportError, match=f"model years: {years[0]}-{years[-1]}"):
        write_report(run_copy, sankey_year=1900)


def test_sankey_balances_made_and_used(run_folder):
    """Band values leaving the Mining column equal what the next stages took from it: the
    attribution keeps tonnes (within rounding and the small-band cut)."""
    import pandas as pd

    from allycap.report import read_csv
    from allycap.report.charts import region_colors, sankey_chart

    tables = {
        n: read_csv(run_folder / f"{n}.csv")
        for n in ("production", "flows", "supply_mix", "capacity")
    }
    year = int(tables["production"]["year"].max())
    chart = sankey_chart(tables, year, region_colors(tables))
    s = chart.sankey
    delivered = tables["supply_mix"]
    delivered = delivered[delivered["year"] == year]
    to_markets = sum(v for a, b, v, _ in s.links if s.nodes[b][0] == len(s.columns) - 1)
    total = float((delivered["delivered_clean_t"] + delivered["delivered_other_t"]).sum())
    assert to_markets == pytest.approx(total, rel=2e-3)
    assert isinstance(tables["flows"], pd.DataFrame)


def test_escapes_text(run_copy):
    """Labels are text, never markup: a scenario label with <, & and quotes is escaped."""
    import json

    summary = summary_of(run_copy)
    summary["scenario"] = 'a<b & "c"'
    (run_copy / "summary.json").write_text(json.dumps(summary))
    write_report(run_copy)
    text, _ = page_of(run_copy)
    assert "a&lt;b &amp; &quot;c&quot;" in text
    assert 'a<b & "c"' not in text


def test_report_of_a_run_with_empty_tables(run_copy):
    """Header-only tables (nothing built, nothing shipped, no costs) still give a page."""
    for name in ("investments", "flows", "costs", "capacity", "production"):
        path = run_copy / f"{name}.csv"
        header = path.read_text().splitlines()[0]
        path.write_text(header + "\n")
    write_report(run_copy)
    text, page = page_of(run_copy)
    groups = {a["data-chart"] for t, a in page.tags if t == "svg"}
    assert groups == {"clean-share", "costs"}  # costs: present values from summary.json
    assert "No capacity in this run." in text
    assert "No new capacity decided." in text


def test_a_failing_report_never_costs_the_run(solved, tmp_path, monkeypatch):
    """If drawing fails, the run folder is still written (with a warning), without report."""
    import allycap.report as report
    from allycap.run import manifest_payload, run, summary_payload
    from allycap.write import write_run

    def broken(*args, **kwargs):
        raise ValueError("cannot draw")

    monkeypatch.setattr(report, "run_report", broken)
    r = run(solved[0])
    with pytest.warns(RuntimeWarning, match="report not written.*cannot draw"):
        out = write_run(r.results, tmp_path / "run", summary_payload(r), manifest_payload(r, {}))
    assert (out / "summary.json").exists() and not (out / "report.html").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# -- PNG and Excel -----------------------------------------------------------------------------


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_png_charts(run_copy):
    pytest.importorskip("matplotlib")
    written = write_report(run_copy, png=True)
    _, page = page_of(run_copy)
    ids = {a["id"].removeprefix("chart-") for t, a in page.tags if t == "svg"}
    pngs = sorted((run_copy / "charts").glob("*.png"))
    assert {p.stem for p in pngs} == ids
    assert set(pngs) <= set(written)
    for p in pngs:
        width, height = png_size(p)
        assert width >= 600 and height >= 200
    # a second report replaces the folder: no stale chart survives
    (run_copy / "charts" / "stale.png").write_bytes(b"x")
    write_report(run_copy, png=True)
    assert not (run_copy / "charts" / "stale.png").exists()


def test_excel_workbook_has_every_table(run_copy):
    openpyxl = pytest.importorskip("openpyxl")
    write_report(run_copy, excel=True)
    wb = openpyxl.load_workbook(run_copy / "tables.xlsx")
    csvs = sorted(p.stem for p in run_copy.glob("*.csv"))
    assert wb.sheetnames[0] == "summary"
    assert sorted(n for n in wb.sheetnames if n not in ("summary", "manifest")) == csvs
    for name in csvs:
        rows = list(wb[name].iter_rows(values_only=True))
        with open(run_copy / f"{name}.csv", newline="", encoding="utf-8") as handle:
            expected = list(csv.reader(handle))
        assert len(rows) == len(expected), name
        assert list(rows[0]) == expected[0], name
    summary = dict(wb["summary"].iter_rows(min_row=2, values_only=True))
    expected = summary_of(run_copy)["objective_musd_pv"]
    assert summary["objective_musd_pv"] == pytest.approx(expected, rel=1e-14)  # Excel's digits
    wb.close()


# -- the command line --------------------------------------------------------------------------


def test_cli_report_regenerates(run_copy):
    (run_copy / "report.html").unlink()
    proc = allycap("report", str(run_copy))
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {run_copy / 'report.html'}" in proc.stdout
    assert (run_copy / "report.html").is_file()


def test_cli_report_excel(run_copy):
    pytest.importorskip("openpyxl")
    proc = allycap("report", str(run_copy), "--excel")
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {run_copy / 'tables.xlsx'}" in proc.stdout
    assert (run_copy / "tables.xlsx").is_file()


def test_cli_solve_png(solved, tmp_path):
    """`allycap solve --png` puts the charts in the run folder, inside the atomic write (the
    --excel flag takes the same path)."""
    pytest.importorskip("matplotlib")
    out = tmp_path / "run"
    proc = allycap("solve", str(solved[0]), "--out", str(out), "--quiet", "--png")
    assert proc.returncode == 0, proc.stderr
    assert (out / "report.html").is_file() and list((out / "charts").glob("*.png"))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "no/such/run"], "no/such/run: no such folder"),
        (["report", "."], "not a run folder (no summary.json"),
    ],
)
def test_cli_report_bad_folder_exits_2(args, message, tmp_path):
    proc = allycap(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Fix:" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_report_bad_sankey_year_exits_2(run_copy):
    proc = allycap("report", str(run_copy), "--sankey-year", "1900")
    assert proc.returncode == 2
    assert "--sankey-year 1900 is not a model year" in proc.stderr


BLOCKED = textwrap.dedent(
    """
    import sys
    sys.modules["matplotlib"] = None  # import matplotlib -> ImportError
    sys.modules["openpyxl"] = None
    from allycap.cli import main
    sys.argv = ["allycap", *sys.argv[1:]]
    main()
    """
)


@pytest.mark.parametrize("flag", ["--png", "--excel"])
def test_missing_extra_exits_2_with_the_fix(flag, run_copy, solved, tmp_path):
    """Without matplotlib/openpyxl, --png/--excel stop with exit 2 and the pip command; solve
    stops before solving (no run folder)."""
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-c", BLOCKED, "report", str(run_copy), flag],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert 'pip install "allycap[report]"' in proc.stderr
    out = tmp_path / "never"
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKED, "solve", str(solved[0]), "--out", str(out), flag],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert 'pip install "allycap[report]"' in proc.stderr
    assert not out.exists()
    # the page itself needs neither
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKED, "report", str(run_copy)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


# -- comparisons and sweeps ----------------------------------------------------------------------


COMPARE = """\
kpi,unit,base,china_export_ban,allied_independence
total_cost_musd_pv,M$ PV,134307.03,143761.59,136903.70
unmet_t_total,t/yr,0,0,0
clean_share_magnet_2040,share,0,0.12,0.5
new_capacity_extraction_t,t/yr,1051640,990000,1100000
status,,optimal,optimal,optimal
"""


COMPARE_DETAIL = """\
kpi,detail,unit,base,china_export_ban,allied_independence
status,,,optimal,optimal,optimal
total_cost,,M$ PV,138255.6,861975.0,138489.8
cost,capital,M$ PV,10201.5,11729.7,10400.1
cost,variable,M$ PV,126451.8,123901.6,126547.9
cost,unmet,M$ PV,0,725173.4,0
new_capacity,CHN/magnet,t/yr,437639,300000,400000
new_capacity,USA/magnet,t/yr,0,15000,9000
clean_share,all 2030,share,0.04,0.5,0.2
clean_share,all 2040,share,0.06,0.74,0.38
clean_share,USA 2040,share,0.3,0.9,0.6
unmet_share,,share,0,0.0128,0
"""


def test_comparison_report_with_details(tmp_path):
    """compare.csv as `allycap compare` writes it (kpi, detail, unit, runs): one number per
    run is a bar per run, details by year are lines over the years, other details stack."""
    (tmp_path / "compare.csv").write_text(COMPARE_DETAIL)
    comparison_report(tmp_path)
    text, page = page_of(tmp_path)
    charts = {a["id"]: a for t, a in page.tags if t == "svg"}
    assert set(charts) == {
        "chart-kpi-total-cost",
        "chart-kpi-cost",
        "chart-kpi-new-capacity",
        "chart-kpi-clean-share",
        "chart-kpi-unmet-share",
    }
    assert "3 runs: base, china_export_ban, allied_independence" in text
    start = text.index('id="chart-kpi-clean-share"')
    clean = text[start : text.index("</svg>", start)]
    assert clean.count("<polyline") == 3  # one line per run, over 2030 and 2040
    assert ">2030<" in clean and ">2,030<" not in clean
    assert "clean share for all in each run; the others (USA) are in the table." in text


def test_comparison_report(tmp_path):
    (tmp_path / "compare.csv").write_text(COMPARE)
    written = comparison_report(tmp_path)
    assert written == [tmp_path / "report.html"]
    text, page = page_of(tmp_path)
    charts = [a for t, a in page.tags if t == "svg"]
    assert {a["data-chart"] for a in charts} == {"kpi"}
    assert len(charts) == 4  # the numeric KPIs; status is text
    assert "chart-kpi-total-cost-musd-pv" in {a["id"] for a in charts}
    (table,) = [a for t, a in page.tags if a.get("data-table") == "compare.csv"]
    assert table
    for run in ("base", "china_export_ban", "allied_independence"):
        assert run in text
    assert "143,762" in text  # the KPI table shows the numbers
    assert "http://" not in text and "https://" not in text and "<script" not in text


SWEEP = """\
point,independence.allied.share,status,objective_musd_pv,marginal_musd_per_point,unmet_t,clean_share_min,clean_share_2030,message
0,0,optimal,134307.0,0,0,0,0.1,
1,0.25,optimal,134800.5,20.1,0,0.25,0.3,
2,0.5,optimal,136903.7,95.3,0,0.5,0.6,
3,0.75,infeasible,,,,,,the model is infeasible
"""


def test_sweep_report(tmp_path):
    (tmp_path / "sweep.csv").write_text(SWEEP)
    sweep_report(tmp_path)
    text, page = page_of(tmp_path)
    charts = [a for t, a in page.tags if t == "svg"]
    assert {a["data-chart"] for a in charts} == {"curve"}
    assert {a["id"] for a in charts} == {
        "chart-curve-objective_musd_pv",
        "chart-curve-marginal_musd_per_point",
        "chart-curve-unmet_t",
        "chart-curve-clean_share_min",
    }
    assert "against independence.allied.share" in text
    assert "Points without an optimal solution: independence.allied.share 0.75 (infeasible)" in text
    assert "4 points over independence.allied.share; 3 optimal" in text


def test_sweep_report_two_keys_and_text_keys(tmp_path):
    """Two numeric keys: one curve per value of the second; a text key: x is the point."""
    grid = "point,a,b,status,objective_musd_pv,marginal_musd_per_point,unmet_t\n"
    grid += "".join(
        f"{i},{a},{b},optimal,{100 + a * 10 + b},{a},0\n"
        for i, (a, b) in enumerate((a, b) for b in (1, 2) for a in (0, 1, 2))
    )
    (tmp_path / "sweep.csv").write_text(grid)
    write_report(tmp_path)
    text, _ = page_of(tmp_path)
    assert "b = 1" in text and "b = 2" in text
    other = tmp_path / "text"
    other.mkdir()
    (other / "sweep.csv").write_text(
        "point,demand,status,objective_musd_pv,marginal_musd_per_point,unmet_t\n"
        "0,demand_low.csv,optimal,1,0,0\n1,demand_high.csv,optimal,2,0,0\n"
    )
    write_report(other)
    text, _ = page_of(other)
    assert "Objective (resource + shortage cost) against point" in text


def test_study_report_in_a_temporary_folder_is_titled_for_its_target(tmp_path):
    """The studies draw the report inside their atomic write, before the rename."""
    folder = tmp_path / ".sweep-share.tmp-4242"
    folder.mkdir()
    (folder / "sweep.csv").write_text(SWEEP)
    sweep_report(folder)
    text, _ = page_of(folder)
    assert "<title>allycap sweep: sweep-share</title>" in text


def test_study_report_errors(tmp_path):
    with pytest.raises(ReportError, match="no compare.csv"):
        comparison_report(tmp_path)
    with pytest.raises(ReportError, match="no sweep.csv"):
        sweep_report(tmp_path)
    (tmp_path / "sweep.csv").write_text("a,b\n")
    with pytest.raises(ReportError, match="no points"):
        sweep_report(tmp_path)


def test_study_png_and_excel(tmp_path):
    pytest.importorskip("matplotlib")
    openpyxl = pytest.importorskip("openpyxl")
    (tmp_path / "sweep.csv").write_text(SWEEP)
    write_report(tmp_path, png=True, excel=True)
    assert {p.stem for p in (tmp_path / "charts").glob("*.png")} == {
        "curve-objective_musd_pv",
        "curve-marginal_musd_per_point",
        "curve-unmet_t",
        "curve-clean_share_min",
    }
    wb = openpyxl.load_workbook(tmp_path / "tables.xlsx")
    assert wb.sheetnames == ["sweep"]
    assert len(list(wb["sweep"].iter_rows())) == 5
    wb.close()


def test_run_report_directly_and_nan_free(run_copy):
    """run_report returns what it wrote; the page never prints 'nan'."""
    written = run_report(run_copy)
    assert written == [run_copy / "report.html"]
    text = written[0].read_text()
    assert ">nan<" not in text.lower() and "NaN" not in text
    assert not math.isnan(len(text))
    shutil.rmtree(run_copy)


# -- drawing helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lo", "hi"),
    [(0, 678867), (0, 0.0128), (138255.7, 138255.7), (0, 0), (-5, 12), (2025, 2040), (-3, -3)],
)
def test_nice_ticks_cover_the_range_evenly(lo, hi):
    from allycap.report.svg import nice_ticks

    ticks = nice_ticks(lo, hi)
    assert ticks[0] <= lo and ticks[-1] >= hi and ticks[0] < ticks[-1]
    assert 2 <= len(ticks) <= 12
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1
    if lo <= 0 <= hi:
        assert 0 in ticks
