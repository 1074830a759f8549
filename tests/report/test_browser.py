"""The report in a real browser: headless Chromium, driven by its plain command line.

One call per page does everything: `--dump-dom` prints the DOM after load (the charts are
there), `--screenshot` writes the picture (kept in tests/artifacts/), and
`--enable-logging=stderr --v=1` prints every console message as an `INFO:CONSOLE` line (errors,
uncaught exceptions, and the Content-Security-Policy's refusals of anything external). A control
page proves that capture works. A second call on a copy with a small probe script measures each
chart's rendered size, since a chart in the DOM could still be drawn at zero size.

Skips only when no Chromium is installed; `.ci/run` installs Debian's chromium so CI runs it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from allycap.report import comparison_report, sweep_report
from tests.report.conftest import REPO
from tests.report.test_report import COMPARE, SWEEP, png_size

CHROMIUM = next(
    (
        shutil.which(name)
        for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
        if shutil.which(name)
    ),
    None,
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium installed (Debian: apt-get install chromium); .ci/run installs it",
)
ARTIFACTS = REPO / "tests" / "artifacts"
SIZE = (1280, 2000)
PROBE = """<script>
document.body.setAttribute("data-probe", JSON.stringify(
  [...document.querySelectorAll("svg[data-chart]")].map(s => {
    const b = s.getBoundingClientRect();
    return [s.id, s.dataset.chart, b.width, b.height,
            s.querySelectorAll("rect, path, circle, polyline").length];
  })));
</script>"""


@dataclass
class Visit:
    dom: str
    console: list[str]  # one line per console message of the page
    stderr: str


def visit(page: Path, profile: Path, screenshot: Path | None = None) -> Visit:
    args = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=1",
        f"--window-size={SIZE[0]},{SIZE[1]}",
    ]
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        args.append(f"--screenshot={screenshot}")
    args += ["--dump-dom", page.resolve().as_uri()]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return Visit(proc.stdout, console, proc.stderr)


class Dom(HTMLParser):
    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def probe(report: Path, tmp_path: Path) -> list[list]:
    """Each chart's id, group, rendered width and height (px) and number of marks."""
    html = report.read_text(encoding="utf-8")
    html = html.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
    html = html.replace("</body>", PROBE + "</body>")
    copy = tmp_path / "probe.html"
    copy.write_text(html, encoding="utf-8")
    v = visit(copy, tmp_path / "profile-probe")
    assert not v.console, v.console
    (body,) = [a for t, a in Dom(v.dom).tags if t == "body"]
    return json.loads(body["data-probe"])


def check_page(report: Path, tmp_path: Path, groups: set[str], shot: str) -> Visit:
    """Renders, holds the charts, logs nothing to the console; screenshot kept as artifact."""
    screenshot = ARTIFACTS / shot
    v = visit(report, tmp_path / "profile", screenshot)
    assert not v.console, "console messages:\n" + "\n".join(v.console)
    assert "<html" in v.dom and "</body>" in v.dom
    dom = Dom(v.dom)
    svgs = [a for t, a in dom.tags if t == "svg"]
    assert {a["data-chart"] for a in svgs} >= groups
    assert all(a.get("role") == "img" for a in svgs)
    assert png_size(screenshot) == SIZE
    try:
        from PIL import Image
    except ImportError:
        pass
    else:
        with Image.open(screenshot) as im:
            colors = im.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colors is None or len(colors) > 50, "the screenshot is (nearly) blank"
    rendered = probe(report, tmp_path)
    assert len(rendered) == len(svgs)
    for chart_id, group, width, height, marks in rendered:
        assert width > 300 and height > 100, (chart_id, width, height)
        assert marks > 0, chart_id
        assert group in groups or group in {a["data-chart"] for a in svgs}
    return v


def test_console_capture_works(tmp_path):
    """Control: a console error, an uncaught exception and an external image (refused by the
    page's policy, as in the report) all show up, so a clean log means a clean page."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "script-src 'unsafe-inline'; img-src data:\">"
        '<link rel="icon" href="data:,"><title>t</title></head>'
        '<body><img src="https://example.invalid/x.png" alt="">'
        '<script>console.error("boom"); notDefined();</script></body></html>',
        encoding="utf-8",
    )
    v = visit(bad, tmp_path / "profile")
    text = "\n".join(v.console)
    assert '"boom"' in text
    assert "notDefined is not defined" in text
    assert "example.invalid/x.png' violates the following Content Security Policy" in text


def test_run_report_in_chromium(run_folder, tmp_path):
    """The run report: renders, every chart group drawn at a real size, no console message;
    tests/artifacts/report.png is the screenshot."""
    v = check_page(
        run_folder / "report.html",
        tmp_path,
        {"capacity", "sankey", "clean-share", "costs"},
        "report.png",
    )
    assert "allycap run: synthetic" in v.dom


def test_study_reports_in_chromium(tmp_path):
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "sweep.csv").write_text(SWEEP)
    sweep_report(sweep)
    check_page(sweep / "report.html", tmp_path / "s", {"curve"}, "report-sweep.png")
    compare = tmp_path / "compare"
    compare.mkdir()
    (compare / "compare.csv").write_text(COMPARE)
    comparison_report(compare)
    check_page(compare / "report.html", tmp_path / "c", {"kpi"}, "report-compare.png")
