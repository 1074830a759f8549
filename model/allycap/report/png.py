"""charts/*.png for slides: the report's charts drawn with matplotlib (Agg; the `report` extra).

Draws the same chart data as the page (`charts.Chart`), one file per chart, named by its id.
Uses `matplotlib.figure.Figure` directly (no pyplot), so no display and no global state.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from allycap.report.charts import Chart, sankey_layout

DPI = 150


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    return fig, fig.add_subplot()


def _ticks(ax, labels: list) -> None:
    if any(isinstance(x, str) for x in labels):  # run names: every one, slanted if long
        slant = max(len(x) for x in map(str, labels)) * len(labels) > 70
        ax.set_xticks(range(len(labels)), [str(x) for x in labels],
                      rotation=30 if slant else 0, ha="right" if slant else "center")  # fmt: skip
        return
    every = max(1, math.ceil(len(labels) / 12))
    pos = list(range(0, len(labels), every))
    ax.set_xticks(pos, [str(labels[i]) for i in pos])


def _thousands(axis) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(
        FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 1000 else f"{v:g}")
    )


def _bars(c: Chart):
    fig, ax = _figure(9, 4.2)
    xs = list(range(len(c.x)))
    up = [0.0] * len(xs)
    down = [0.0] * len(xs)
    for s in c.series:
        if s.style != "bar":
            continue
        vals = [v or 0.0 for v in s.values]
        bottoms = [u if v >= 0 else d for v, u, d in zip(vals, up, down, strict=True)]
        ax.bar(xs, vals, bottom=bottoms, color=s.color, label=s.name, width=0.72)
        up = [u + max(v, 0.0) for u, v in zip(up, vals, strict=True)]
        down = [d + min(v, 0.0) for d, v in zip(down, vals, strict=True)]
    for s in c.series:
        if s.style == "line":
            ys = [math.nan if v is None else v for v in s.values]
            ax.plot(xs, ys, color=s.color, ls="--", marker="o", ms=3, label=s.name)
    _ticks(ax, c.x)
    _thousands(ax.yaxis)
    ax.set_ylabel(c.unit)
    ax.set_xlabel(c.x_label)
    ax.grid(axis="y", color="#e3e3e3")
    ax.set_axisbelow(True)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    return fig, ax


def _lines(c: Chart):
    fig, ax = _figure(8, 4)
    numeric = all(isinstance(v, int | float) for v in c.x)
    xs = list(c.x) if numeric else list(range(len(c.x)))
    for s in c.series:
        ys = [math.nan if v is None else v for v in s.values]
        ax.plot(xs, ys, color=s.color, marker="o", ms=4, label=s.name)
    if not numeric:
        _ticks(ax, c.x)
    elif all(float(v).is_integer() and 1000 <= v <= 2999 for v in c.x):
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # years: 2030, not 2030.0
    _thousands(ax.yaxis)
    ax.set_ylabel(c.unit)
    ax.set_xlabel(c.x_label)
    ax.grid(color="#e3e3e3")
    if len(c.series) > 1:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    return fig, ax


def _heatmap(c: Chart):
    import numpy as np

    rows = len(c.series)
    fig, ax = _figure(11, 0.32 * rows + 1.6)
    data = np.array([[np.nan if v is None else v for v in s.values] for s in c.series], float)
    image = ax.imshow(np.ma.masked_invalid(data), cmap="Greens", vmin=0, vmax=1, aspect="auto")
    ax.set_facecolor("#ececec")
    ax.set_yticks(range(rows), [s.name for s in c.series])
    _ticks(ax, c.x)
    if len(c.x) <= 24:
        for i in range(rows):
            for j in range(len(c.x)):
                v = data[i, j]
                if not np.isnan(v):
                    ax.text(j, i, f"{v * 100:.0f}", ha="center", va="center", fontsize=7,
                            color="white" if v > 0.55 else "#222")  # fmt: skip
    bar = fig.colorbar(image, ax=ax, fraction=0.03)
    bar.set_label("clean share")
    return fig, ax


def _sankey(c: Chart):
    from matplotlib.patches import PathPatch, Rectangle
    from matplotlib.path import Path as MPath

    width, height = 1200.0, 640.0
    fig, ax = _figure(12, 6.4)
    s = c.sankey
    geo = sankey_layout(s, width, height)
    for (a, _, _, _), (x0, y0, x1, y1, t) in zip(s.links, geo.bands, strict=True):
        xm = (x0 + x1) / 2
        verts = [
            (x0, y0), (xm, y0), (xm, y1), (x1, y1), (x1, y1 + t),
            (xm, y1 + t), (xm, y0 + t), (x0, y0 + t), (x0, y0),
        ]  # fmt: skip
        codes = [MPath.MOVETO, *[MPath.CURVE4] * 3, MPath.LINETO, *[MPath.CURVE4] * 3]
        codes.append(MPath.CLOSEPOLY)
        ax.add_patch(PathPatch(MPath(verts, codes), fc=s.nodes[a][2], alpha=0.45, lw=0))
    inflow = [0.0] * len(s.nodes)
    outflow = [0.0] * len(s.nodes)
    for a, b, v, _ in s.links:
        outflow[a] += v
        inflow[b] += v
    last = len(s.columns) - 1
    for i, ((col, name, color), (x, y, w, h)) in enumerate(zip(s.nodes, geo.nodes, strict=True)):
        ax.add_patch(Rectangle((x, y), w, h, fc=color, lw=0))
        if h >= 9:
            total = max(inflow[i], outflow[i])
            tx, ha = (x - 4, "right") if col == last else (x + w + 4, "left")
            ax.text(tx, y + h / 2, f"{name} {total:,.0f}", ha=ha, va="center", fontsize=7)
    for j, (x, heading) in enumerate(zip(geo.column_x, s.columns, strict=True)):
        ha = "left" if j == 0 else "right" if j == last else "center"
        ax.text(x + (12 if j == last else 0), 14, heading, ha=ha, fontsize=9, weight="bold")
    ax.set_xlim(-2, width + 2)
    ax.set_ylim(height, 0)
    ax.axis("off")
    return fig, ax


def _hbars(c: Chart):
    n = len(c.x)
    fig, ax = _figure(8, 0.38 * n + 1.4)
    values = c.series[0].values if c.series else []
    ys = list(range(n))
    colors = (c.series[0].colors or c.series[0].color) if c.series else None
    ax.barh(ys, [v or 0.0 for v in values], color=colors)
    ax.set_yticks(ys, [str(x) for x in c.x])
    ax.invert_yaxis()
    _thousands(ax.xaxis)
    ax.set_xlabel(c.unit)
    ax.grid(axis="x", color="#e3e3e3")
    ax.set_axisbelow(True)
    return fig, ax


def _ranges(c: Chart):
    """Bars from min to max per quantity, the least-cost value as a dark tick (as the page)."""
    n = len(c.x)
    fig, ax = _figure(8, 0.3 * n + 1.6)
    lows, opts, highs = (s.values for s in c.series[:3])
    ys = list(range(n))
    label = "range within the slack"
    for y, a, b in zip(ys, lows, highs, strict=True):
        if a is not None and b is not None:
            ax.barh(y, max(b - a, 0.0), left=a, color=c.series[0].color, height=0.6, label=label)
            label = None
    pts = [(o, y) for y, o in zip(ys, opts, strict=True) if o is not None]
    if pts:
        ax.scatter([o for o, _ in pts], [y for _, y in pts], marker="|", s=160, linewidths=2.5,
                   color=c.series[1].color, label="least-cost plan", zorder=3)  # fmt: skip
    ax.set_yticks(ys, [str(x) for x in c.x])
    ax.invert_yaxis()
    if c.x_range:
        lo, hi = c.x_range
        pad = (hi - lo) * 0.03 or 1.0
        ax.set_xlim(lo - pad, hi + pad)
    _thousands(ax.xaxis)
    ax.set_xlabel(c.unit)
    ax.grid(axis="x", color="#e3e3e3")
    ax.set_axisbelow(True)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, frameon=False)
    return fig, ax


DRAW = {
    "bars": _bars,
    "lines": _lines,
    "heatmap": _heatmap,
    "sankey": _sankey,
    "hbars": _hbars,
    "ranges": _ranges,
}


def write_pngs(charts: list[Chart], folder: Path) -> list[Path]:
    """One PNG per chart into `folder` (replaced whole: no stale charts from an older report)."""
    import matplotlib

    from allycap.report import swap_folder

    matplotlib.use("Agg", force=False)
    folder = Path(folder)
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        for c in charts:
            fig, ax = DRAW[c.kind](c)
            ax.set_title(c.title, fontsize=11, loc="left")
            fig.savefig(tmp / f"{c.id}.png", dpi=DPI, facecolor="white")
        swap_folder(tmp, folder)
    except BaseException:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [folder / f"{c.id}.png" for c in charts]
