"""Inline SVG for the report page: each chart as one self-contained <svg> element.

No scripts and no fonts: text uses the reader's system sans-serif. Every <svg> carries
`data-chart="<group>"`, `id="chart-<id>"`, `role="img"` and a <title> and <desc>; every bar,
cell, point and band has its own <title>, which browsers show as a tooltip.
"""

from __future__ import annotations

import math
from html import escape

from allycap.report.charts import Chart, Series, sankey_layout

WIDTH = 600  # bars, lines and bar lists: two to a row on a wide screen
WIDE = 960  # the Sankey and the heat maps: the page's full width
SANKEY_SIZE = (WIDE, 540)
LEGEND_W = 150
GRID = "#e3e3e3"
AXIS = "#555555"


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values covering lo..hi (about n of them), always including 0 when in range."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:  # a flat line: a narrow band around it (or 0 to 1 around zero)
        span = abs(hi) * 0.05
        lo, hi = (lo - span, hi + span) if span else (0.0, 1.0)
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step + 1e-9) * step
    ticks, t = [], start
    while t < hi - 1e-9 * step:
        ticks.append(round(t, 12))
        t += step
    ticks.append(round(t, 12))
    return ticks


def short(v: float) -> str:
    """Axis labels: 1.2M, 250k, 12.5, 0.35."""
    a = abs(v)
    if a >= 1e9:
        return f"{v / 1e9:.3g}G"
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e4:
        return f"{v / 1e3:.3g}k"
    if a >= 100 or v == 0:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def number(v: float | None, unit: str = "") -> str:
    """A value in a tooltip: 12,345 t/yr; 0.12 M$; 45%."""
    if v is None:
        return "n/a"
    if unit == "share":
        return f"{v:.1%}"
    text = f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3g}"
    return f"{text} {unit}".strip()


def _t(text) -> str:
    return escape(str(text), quote=True)


def _legend(items: list[tuple[str, str, str]], x: float, y: float) -> str:
    """Legend rows: (label, colour, "bar"|"line")."""
    out = []
    for i, (name, color, style) in enumerate(items):
        yy = y + i * 18
        if style in ("line", "curve"):  # a line over bars is dashed, a curve solid
            dash = ' stroke-dasharray="4 2"' if style == "line" else ""
            out.append(
                f'<line x1="{x}" y1="{yy + 6}" x2="{x + 14}" y2="{yy + 6}" stroke="{color}" '
                f'stroke-width="2"{dash}/>'
            )
        else:
            out.append(f'<rect x="{x}" y="{yy}" width="12" height="12" fill="{color}"/>')
        label = name if len(name) <= 22 else name[:21] + "…"
        out.append(f'<text x="{x + 18}" y="{yy + 10}">{_t(label)}</text>')
    return "".join(out)


def _y_axis(ticks, sy, left, right_x, unit) -> str:
    out = []
    for v in ticks:
        y = sy(v)
        stroke = AXIS if v == 0 else GRID
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right_x}" y2="{y:.1f}" stroke="{stroke}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_t(short(v))}</text>'
        )
    mid = (sy(ticks[0]) + sy(ticks[-1])) / 2
    out.append(
        f'<text transform="translate(14 {mid:.1f}) rotate(-90)" text-anchor="middle">'
        f"{_t(unit)}</text>"
    )
    return "".join(out)


def _x_labels(labels: list, xs: list[float], y: float, band: float) -> str:
    if _slanted(labels, band):
        return "".join(
            f'<text transform="translate({x:.1f} {y - 4}) rotate(-35)" text-anchor="end">'
            f"{_t(_clip(str(label), 28))}</text>"
            for label, x in zip(labels, xs, strict=True)
        )
    every = max(1, math.ceil(40 / max(band, 1e-9)))
    return "".join(
        f'<text x="{x:.1f}" y="{y}" text-anchor="middle">{_t(label)}</text>'
        for i, (label, x) in enumerate(zip(labels, xs, strict=True))
        if i % every == 0 or i == len(xs) - 1 and i % every > every // 2
    )


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _slanted(labels: list, band: float) -> bool:
    """Text labels (run names) wider than their slot are drawn slanted, every one of them."""
    longest = max((len(str(x)) for x in labels), default=0)
    return any(isinstance(x, str) for x in labels) and longest * 6.5 > band


def _bars(c: Chart) -> tuple[int, int, str]:
    width, height = WIDTH, 320
    left, top, bottom = 70, 12, 40
    n = max(len(c.x), 1)
    if _slanted(c.x, (width - LEGEND_W - 10 - left) / n):
        extra = min(max(len(str(x)) for x in c.x), 28) * 4.5
        height, bottom = int(height + extra), int(bottom + extra)
    right = width - LEGEND_W - 10
    pw, ph = right - left, height - top - bottom
    bars = [s for s in c.series if s.style == "bar"]
    lines = [s for s in c.series if s.style == "line"]
    pos = [sum(max(s.values[i] or 0.0, 0.0) for s in bars) for i in range(len(c.x))]
    neg = [sum(min(s.values[i] or 0.0, 0.0) for s in bars) for i in range(len(c.x))]
    extra = [v for s in lines for v in s.values if v is not None]
    ticks = nice_ticks(min([0.0, *neg, *extra]), max([0.0, *pos, *extra]))
    y0, y1 = ticks[0], ticks[-1]

    def sy(v: float) -> float:
        return top + ph - (v - y0) / (y1 - y0) * ph

    band = pw / n
    bw = band * 0.72
    xs = [left + band * (i + 0.5) for i in range(len(c.x))]
    out = [_y_axis(ticks, sy, left, right, c.unit)]
    for i, xlab in enumerate(c.x):
        up, down = 0.0, 0.0
        for s in bars:
            v = s.values[i] or 0.0
            if v == 0:
                continue
            base = up if v > 0 else down
            ya, yb = sy(base), sy(base + v)
            if v > 0:
                up += v
            else:
                down += v
            out.append(
                f'<rect x="{xs[i] - bw / 2:.1f}" y="{min(ya, yb):.1f}" width="{bw:.1f}" '
                f'height="{max(abs(ya - yb), 0.3):.1f}" fill="{s.color}">'
                f"<title>{_t(s.name)}, {_t(xlab)}: {_t(number(v, c.unit))}</title></rect>"
            )
    for s in lines:
        out.append(_polyline(s, xs, sy, c))
    out.append(_x_labels(c.x, xs, top + ph + 16, band))
    if c.x_label and not _slanted(c.x, band):
        out.append(
            f'<text x="{(left + right) / 2}" y="{height - 4}" text-anchor="middle">'
            f"{_t(c.x_label)}</text>"
        )
    out.append(_legend([(s.name, s.color, s.style) for s in c.series], right + 16, top + 4))
    return width, height, "".join(out)


def _polyline(s: Series, xs: list[float], sy, c: Chart) -> str:
    out, run = [], []
    for x, v in zip(xs, s.values, strict=True):
        if v is None:
            if run:
                out.append(run)
            run = []
        else:
            run.append((x, sy(v)))
    if run:
        out.append(run)
    dash = ' stroke-dasharray="5 3"' if c.kind == "bars" else ""
    parts = [
        f'<polyline fill="none" stroke="{s.color}" stroke-width="2"{dash} '
        f'points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in pts)}"/>'
        for pts in out
        if len(pts) > 1
    ]
    for xlab, x, v in zip(c.x, xs, s.values, strict=True):
        if v is not None:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{sy(v):.1f}" r="3" fill="{s.color}">'
                f"<title>{_t(s.name)}, {_t(xlab)}: {_t(number(v, c.unit))}</title></circle>"
            )
    return "".join(parts)


def _lines(c: Chart) -> tuple[int, int, str]:
    """Curves over a numeric x axis (or evenly spaced categories)."""
    width, height = WIDTH, 300
    left, top, bottom = 70, 12, 40
    legend = len(c.series) > 1  # one curve: the title says what it is
    right = width - (LEGEND_W + 10 if legend else 20)
    pw, ph = right - left, height - top - bottom
    values = [v for s in c.series for v in s.values if v is not None] or [0.0]
    lo, hi = min(values), max(values)
    if lo >= 0 and lo <= 0.25 * hi or hi <= 0 and hi >= 0.25 * lo:
        lo, hi = min(lo, 0.0), max(hi, 0.0)  # close to zero: show zero
    ticks = nice_ticks(lo, hi)
    y0, y1 = ticks[0], ticks[-1]

    def sy(v: float) -> float:
        return top + ph - (v - y0) / (y1 - y0) * ph

    numeric = bool(c.x) and all(isinstance(v, int | float) for v in c.x)
    out = [_y_axis(ticks, sy, left, right, c.unit)]
    if numeric and len(c.x) > 1 and min(c.x) < max(c.x):
        xt = nice_ticks(min(c.x), max(c.x))
        xt = [t for t in xt if min(c.x) - 1e-12 <= t <= max(c.x) + 1e-12] or [min(c.x)]
        lo, hi = min(c.x), max(c.x)
        pad = 12

        def sx(v: float) -> float:
            return left + pad + (v - lo) / (hi - lo) * (pw - 2 * pad)

        xs = [sx(v) for v in c.x]
        years = all(float(v).is_integer() and 1000 <= v <= 2999 for v in c.x)
        if years:  # 2030, not 2,030; whole years only
            xt = [t for t in xt if float(t).is_integer()]

        def label(t: float) -> str:
            return str(int(t)) if years else short(t)

        out += [
            f'<text x="{sx(t):.1f}" y="{top + ph + 16}" text-anchor="middle">{_t(label(t))}</text>'
            for t in xt
        ]
    else:
        band = pw / max(len(c.x), 1)
        xs = [left + band * (i + 0.5) for i in range(len(c.x))]
        out.append(_x_labels(c.x, xs, top + ph + 16, band))
    for s in c.series:
        out.append(_polyline(s, xs, sy, c))
    if c.x_label:
        out.append(
            f'<text x="{(left + right) / 2}" y="{height - 4}" text-anchor="middle">'
            f"{_t(c.x_label)}</text>"
        )
    if legend:
        out.append(_legend([(s.name, s.color, "curve") for s in c.series], right + 16, top + 4))
    return width, height, "".join(out)


GREENS = ((0.0, (247, 252, 245)), (0.5, (116, 196, 118)), (1.0, (0, 68, 27)))


def share_color(v: float) -> str:
    v = min(max(v, 0.0), 1.0)
    for (a, ca), (b, cb) in zip(GREENS, GREENS[1:], strict=False):
        if v <= b:
            f = (v - a) / (b - a)
            rgb = [round(x + (y - x) * f) for x, y in zip(ca, cb, strict=True)]
            return "#" + "".join(f"{x:02x}" for x in rgb)
    return "#00441b"


def _heatmap(c: Chart) -> tuple[int, int, str]:
    left, top, legend = 120, 8, 70
    width = WIDE
    cell_w = (width - left - legend - 10) / max(len(c.x), 1)
    cell_h = 20
    rows = len(c.series)
    gap = 6  # between the "all regions" row and the regions
    height = top + rows * cell_h + gap + 40
    out = []
    for j, s in enumerate(c.series):
        y = top + j * cell_h + (gap if j else 0)
        weight = ' font-weight="bold"' if j == 0 else ""
        out.append(
            f'<text x="{left - 8}" y="{y + 14}" text-anchor="end"{weight}>{_t(s.name)}</text>'
        )
        for i, (year, v) in enumerate(zip(c.x, s.values, strict=True)):
            x = left + i * cell_w
            fill = "#ececec" if v is None else share_color(v)
            tip = f"{s.name}, {year}: " + ("no demand" if v is None else f"{v:.1%} clean")
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{cell_w - 1:.1f}" height="{cell_h - 1}" '
                f'fill="{fill}"><title>{_t(tip)}</title></rect>'
            )
            if v is not None and cell_w >= 26:
                ink = "#ffffff" if v > 0.55 else "#222222"
                out.append(
                    f'<text x="{x + cell_w / 2:.1f}" y="{y + 14}" text-anchor="middle" '
                    f'font-size="10" fill="{ink}">{v * 100:.0f}</text>'
                )
    base = top + rows * cell_h + gap
    band = cell_w
    xs = [left + (i + 0.5) * cell_w for i in range(len(c.x))]
    out.append(_x_labels(c.x, xs, base + 14, band))
    lx = width - legend + 6
    out.append(f'<text x="{lx}" y="{top + 10}">clean %</text>')
    for k, v in enumerate((1.0, 0.75, 0.5, 0.25, 0.0)):
        y = top + 18 + k * 16
        out.append(
            f'<rect x="{lx}" y="{y}" width="14" height="14" fill="{share_color(v)}" '
            f'stroke="#ccc"/><text x="{lx + 20}" y="{y + 11}">{v:.0%}</text>'
        )
    y = top + 18 + 5 * 16
    out.append(
        f'<rect x="{lx}" y="{y}" width="14" height="14" fill="#ececec" stroke="#ccc"/>'
        f'<text x="{lx + 20}" y="{y + 11}">none</text>'
    )
    return width, max(height, y + 24), "".join(out)


def _sankey(c: Chart) -> tuple[int, int, str]:
    width, height = SANKEY_SIZE
    s = c.sankey
    margin = 4
    geo = sankey_layout(s, width - 2 * margin, height - 8)
    out = []
    for j, (x, heading) in enumerate(zip(geo.column_x, s.columns, strict=True)):
        x += margin
        anchor = "start" if j == 0 else "end" if j == len(s.columns) - 1 else "middle"
        hx = x if j == 0 else x + 12 if j == len(s.columns) - 1 else x + 6
        out.append(
            f'<text x="{hx:.1f}" y="16" text-anchor="{anchor}" font-weight="bold">'
            f"{_t(heading)}</text>"
        )
    names = [n[1] for n in s.nodes]
    for (a, b, _, what), (x0, y0, x1, y1, t) in zip(s.links, geo.bands, strict=True):
        x0, x1 = x0 + margin, x1 + margin
        xm = (x0 + x1) / 2
        path = (
            f"M{x0:.1f},{y0:.1f}C{xm:.1f},{y0:.1f} {xm:.1f},{y1:.1f} {x1:.1f},{y1:.1f}"
            f"L{x1:.1f},{y1 + t:.1f}C{xm:.1f},{y1 + t:.1f} {xm:.1f},{y0 + t:.1f} "
            f"{x0:.1f},{y0 + t:.1f}Z"
        )
        out.append(
            f'<path d="{path}" fill="{s.nodes[a][2]}" fill-opacity="0.45">'
            f"<title>{_t(names[a])} → {_t(names[b])}: {_t(what)}</title></path>"
        )
    last = len(s.columns) - 1
    inflow = [0.0] * len(s.nodes)
    outflow = [0.0] * len(s.nodes)
    for a, b, v, _ in s.links:
        outflow[a] += v
        inflow[b] += v
    for i, ((col, name, color), (x, y, w, h)) in enumerate(zip(s.nodes, geo.nodes, strict=True)):
        x += margin
        total = max(inflow[i], outflow[i])
        out.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{color}">'
            f"<title>{_t(name)}: {_t(number(total, 't/yr'))}</title></rect>"
        )
        if h >= 7:
            tx, anchor = (x - 4, "end") if col == last else (x + w + 4, "start")
            out.append(
                f'<text x="{tx:.1f}" y="{y + h / 2 + 4:.1f}" text-anchor="{anchor}">'
                f"{_t(name)} {_t(short(total))}</text>"
            )
    return width, height, "".join(out)


def _hbars(c: Chart) -> tuple[int, int, str]:
    width = WIDTH
    left, top, row = 200, 8, 22
    values = c.series[0].values if c.series else []
    n = len(c.x)
    height = top + n * row + 30
    right = width - 90
    vals = [v for v in values if v is not None]
    ticks = nice_ticks(min([0.0, *vals]), max([0.0, *vals]), 4)
    x0, x1 = ticks[0], ticks[-1]

    def sx(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * (right - left)

    out = []
    for t in ticks:
        out.append(
            f'<line x1="{sx(t):.1f}" y1="{top}" x2="{sx(t):.1f}" y2="{top + n * row}" '
            f'stroke="{AXIS if t == 0 else GRID}"/>'
            f'<text x="{sx(t):.1f}" y="{top + n * row + 14}" text-anchor="middle">'
            f"{_t(short(t))}</text>"
        )
    color = c.series[0].color if c.series else "#4e79a7"
    colors = (c.series[0].colors if c.series else None) or [color] * n
    for i, (name, v) in enumerate(zip(c.x, values, strict=True)):
        y = top + i * row
        label = str(name) if len(str(name)) <= 30 else str(name)[:29] + "…"
        out.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{_t(label)}</text>')
        if v is None:
            out.append(f'<text x="{sx(0) + 4:.1f}" y="{y + 15}">n/a</text>')
            continue
        xa, xb = sorted((sx(0), sx(v)))
        out.append(
            f'<rect x="{xa:.1f}" y="{y + 4}" width="{max(xb - xa, 0.5):.1f}" height="{row - 8}" '
            f'fill="{colors[i]}"><title>{_t(name)}: {_t(number(v, c.unit))}</title></rect>'
            f'<text x="{xb + 4:.1f}" y="{y + 15}">{_t(number(v))}</text>'
        )
    return width, height, "".join(out)


def _ranges(c: Chart) -> tuple[int, int, str]:
    """One row per quantity: a bar from its min to its max, the least-cost value as a dark tick
    (series min, least-cost plan, max). A missing value (a solve that failed) draws nothing."""
    width = WIDTH
    left, top, row = 190, 24, 20
    lows, opts, highs = (s.values for s in c.series[:3])
    n = len(c.x)
    height = top + n * row + 30
    right = width - 20
    vals = [v for vs in (lows, opts, highs) for v in vs if v is not None]
    lo, hi = c.x_range or (min([0.0, *vals]), max([0.0, *vals]))
    ticks = nice_ticks(lo, hi, 4)
    x0, x1 = ticks[0], ticks[-1]

    def sx(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * (right - left)

    band, mark = c.series[0].color, c.series[1].color
    out = [
        f'<rect x="{left}" y="4" width="14" height="10" fill="{band}"/>'
        f'<text x="{left + 18}" y="13">range within the slack</text>'
        f'<rect x="{left + 170}" y="3" width="3" height="12" fill="{mark}"/>'
        f'<text x="{left + 178}" y="13">least-cost plan</text>'
    ]
    for t in ticks:
        out.append(
            f'<line x1="{sx(t):.1f}" y1="{top}" x2="{sx(t):.1f}" y2="{top + n * row}" '
            f'stroke="{AXIS if t == 0 else GRID}"/>'
            f'<text x="{sx(t):.1f}" y="{top + n * row + 14}" text-anchor="middle">'
            f"{_t(short(t) if c.unit != 'share' else f'{t:.0%}')}</text>"
        )
    for i, (name, a, o, b) in enumerate(zip(c.x, lows, opts, highs, strict=True)):
        y = top + i * row
        label = str(name) if len(str(name)) <= 30 else str(name)[:29] + "…"
        out.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end">{_t(label)}</text>')
        tip = (
            f"{name}: {number(a, c.unit)} to {number(b, c.unit)}; "
            f"least-cost plan {number(o, c.unit)}"
        )
        if a is not None and b is not None:
            xa, xb = sorted((sx(a), sx(b)))
            out.append(
                f'<rect x="{xa:.1f}" y="{y + 4}" width="{max(xb - xa, 1.0):.1f}" '
                f'height="{row - 8}" fill="{band}"><title>{_t(tip)}</title></rect>'
            )
        if o is not None:
            out.append(
                f'<rect x="{sx(o) - 1.5:.1f}" y="{y + 1}" width="3" height="{row - 2}" '
                f'fill="{mark}"><title>{_t(tip)}</title></rect>'
            )
        if a is None and b is None and o is None:
            out.append(f'<text x="{left + 4}" y="{y + 14}">n/a</text>')
    return width, height, "".join(out)


DRAW = {
    "bars": _bars,
    "lines": _lines,
    "heatmap": _heatmap,
    "sankey": _sankey,
    "hbars": _hbars,
    "ranges": _ranges,
}


def render(c: Chart) -> str:
    """The chart as an <svg> element, scaled to its container by CSS (it has a viewBox)."""
    width, height, body = DRAW[c.kind](c)
    cid = f"chart-{c.id}"
    return (
        f'<svg id="{_t(cid)}" data-chart="{_t(c.group)}" '
        f'class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-labelledby="{_t(cid)}-title {_t(cid)}-desc" font-size="11">'
        f'<title id="{_t(cid)}-title">{_t(c.title)}</title>'
        f'<desc id="{_t(cid)}-desc">{_t(c.desc)}</desc>{body}</svg>'
    )
