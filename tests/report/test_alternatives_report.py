"""The report of an `allycap alternatives` folder (issue 14 item 4), on the hand-made fixture
tests/report/fixtures/alternatives: ranges.csv as the contract says (quantity, kind, region,
stage, slack, min, optimum, max, unit), 8 quantities at slacks 0.01 and 0.05, summary.json with
the default chains (stage display names) and two extreme-plan run folders under plans/.

Geometry, derived by hand from svg._ranges: the plot spans x = 190 .. 580 (390 px); the new
capacity panels of both slacks share one axis, 0 .. 40,000 t/yr (the largest value of the kind,
USA magnet's max at 5%, and nice_ticks(0, 40000, 4) = 0, 10k, .., 40k). So CAN separation's bar
runs from 190 to 190 + 390 x 24,000 / 40,000 = 424.0 at 1% and to 190 + 390 x 30,000 / 40,000 =
482.5 at 5%, and its least-cost mark (3 px wide) is centred on 190 + 390 x 5,400 / 40,000 = 242.65
in both. AUS metal is 0 .. 0 at both slacks: left out of the picture, kept in the table.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from allycap.report import ReportError, alternatives_report, write_report
from tests.report.conftest import allycap
from tests.report.test_report import page_of

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "alternatives"
PLOT_LEFT, PLOT_WIDTH, AXIS_MAX = 190.0, 390.0, 40000.0


@pytest.fixture
def study(tmp_path) -> Path:
    target = tmp_path / "alternatives"
    shutil.copytree(FIXTURE, target)
    return target


def svg_of(text: str, chart_id: str) -> str:
    start = text.index(f'id="chart-{chart_id}"')
    return text[start : text.index("</svg>", start)]


def rects(svg: str) -> dict[str, list[tuple[float, float]]]:
    """{tooltip: [(x, width)]} of the rectangles that carry a tooltip."""
    out: dict[str, list[tuple[float, float]]] = {}
    pattern = r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"[^>]*><title>([^<]*)</title>'
    for x, w, tip in re.findall(pattern, svg):
        out.setdefault(tip, []).append((float(x), float(w)))
    return out


def sx(v: float) -> float:
    return PLOT_LEFT + PLOT_WIDTH * v / AXIS_MAX


def test_ranges_drawn_around_the_optimum_per_stage_and_region(study):
    written = write_report(study)
    assert written == [study / "report.html"]
    text, page = page_of(study)
    charts = {a["id"] for a in page.find("svg", data_chart="ranges")}
    assert charts == {
        f"chart-ranges-{kind}-{pct}"
        for kind in ("new-capacity", "group", "clean-share")
        for pct in ("1", "5")
    }
    assert "8 quantities at slack 1%, 5%; least cost 139,248.7 M$ PV" in text
    for pct, top in (("1", 24000.0), ("5", 30000.0)):
        svg = svg_of(text, f"ranges-new-capacity-{pct}")
        # rows in chain order (Separation, Metal and alloy, Magnet making), then region; stage
        # display names from summary.json's chains, region ids as written ("NA" stays "NA")
        labels = re.findall(r'text-anchor="end">([^<]*)</text>', svg)
        assert labels == [
            "Separation · CAN",
            "Separation · USA",
            "Metal and alloy · NA",
            "Magnet making · CAN",
            "Magnet making · USA",
        ]
        tip = f"Separation · CAN: 0 t/yr to {top:,.0f} t/yr; least-cost plan 5,400 t/yr"
        (bar, mark) = rects(svg)[tip]
        assert bar[0] == pytest.approx(sx(0), abs=0.06)
        assert bar[0] + bar[1] == pytest.approx(sx(top), abs=0.11)
        assert mark[0] + mark[1] / 2 == pytest.approx(sx(5400), abs=0.06)
        assert "AUS" not in svg
        assert "1 quantity at 0 at every slack: only in the table." in text
    # the data table: every row of ranges.csv, and one per panel folded under it
    (table,) = page.find("div", data_table="ranges.csv")
    assert table is not None
    start = text.index('data-table="ranges.csv"')
    body = text[start : text.index("</table>", start)]
    assert body.count("<tr>") == 1 + 16
    assert "new_capacity AUS metal" in body
    # the extreme plans are listed (no report.html in them yet: no link)
    assert "plans/max_CAN_separation_1pct" in text and "plans/min_CAN_separation_1pct" in text
    assert 'href="plans/' not in text
    assert "http://" not in text and "https://" not in text and "<script" not in text


def test_cli_writes_png_and_excel_and_links_plan_reports(study):
    (study / "plans" / "max_CAN_separation_1pct" / "report.html").write_text("<html></html>")
    proc = allycap("report", str(study), "--png", "--excel")
    assert proc.returncode == 0, proc.stderr
    pngs = sorted(p.name for p in (study / "charts").glob("*.png"))
    assert pngs == sorted(
        f"ranges-{kind}-{pct}.png"
        for kind in ("new-capacity", "group", "clean-share")
        for pct in ("1", "5")
    )
    from openpyxl import load_workbook

    wb = load_workbook(study / "tables.xlsx", read_only=True)
    assert "ranges" in wb.sheetnames
    assert sum(1 for _ in wb["ranges"].iter_rows()) == 1 + 16
    text, _ = page_of(study)
    assert 'href="plans/max_CAN_separation_1pct/report.html"' in text


def test_without_summary_stage_ids_are_shown(study):
    """summary.json is read defensively: without it (and without chains in the plans'), the
    stages keep their ids and the page is still written."""
    (study / "summary.json").unlink()
    alternatives_report(study)
    text, _ = page_of(study)
    svg = svg_of(text, "ranges-new-capacity-1")
    assert "separation · CAN" in svg
    assert "least cost" not in text.split("</header>")[0]


def test_missing_column_is_a_clear_error(study):
    path = study / "ranges.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(",".join(c for i, c in enumerate(r.split(",")) if i != 7)
                              for r in lines) + "\n")  # fmt: skip
    with pytest.raises(ReportError, match="no column max"):
        alternatives_report(study)
    proc = allycap("report", str(study))
    assert proc.returncode == 2
    assert "no column max" in proc.stderr and "Traceback" not in proc.stderr


def test_summary_json_is_the_study_not_a_run(study):
    """The folder also has summary.json, yet it is drawn as a study, not as a run."""
    payload = json.loads((study / "summary.json").read_text())
    assert payload["study"] == "alternatives"
    write_report(study)
    text, _ = page_of(study)
    assert text.count("<h1>allycap alternatives: alternatives</h1>") == 1
