"""Numerical health of the LP handed to HiGHS: coefficient, cost, bound and right-hand-side
ranges, as commercial solvers print them, with a warning when a range spans more than 1e8 and
the LP rows or columns (hence the inputs) that hold the extreme values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

WIDE = 1e8  # a range wider than this invites round-off trouble in a double-precision simplex


@dataclass
class Extreme:
    value: float
    row: object = None  # constraint data, if the value sits in a row
    col: object = None  # variable data, if it sits in a column


@dataclass
class NumericalReport:
    ranges: dict[str, tuple[float, float] | None] = field(default_factory=dict)
    extremes: dict[str, tuple[Extreme, Extreme]] = field(default_factory=dict)

    def wide(self) -> list[str]:
        """Names of the ranges that span more than WIDE."""
        return [k for k, r in self.ranges.items() if r and r[1] / r[0] > WIDE]

    def as_dict(self) -> dict:
        return {
            k: None if r is None else {"min": r[0], "max": r[1], "ratio": r[1] / r[0]}
            for k, r in self.ranges.items()
        }


def _range(values: np.ndarray, owners) -> tuple[tuple[float, float] | None, tuple | None]:
    mags = np.abs(values)
    keep = np.nonzero((mags > 0) & np.isfinite(mags) & (mags < 1e20))[0]
    if keep.size == 0:
        return None, None
    lo = keep[np.argmin(mags[keep])]
    hi = keep[np.argmax(mags[keep])]
    return (float(mags[lo]), float(mags[hi])), (owners(lo, mags[lo]), owners(hi, mags[hi]))


def numerical_report(opt) -> NumericalReport:
    """Ranges of the LP currently loaded in the persistent HiGHS interface `opt`."""
    from allycap import highs_bridge

    lp = highs_bridge.lp(opt)
    cols = highs_bridge.columns(opt)
    rows = highs_bridge.rows(opt)
    report = NumericalReport()
    a = lp.a_matrix_
    values = np.asarray(a.value_, dtype=float)
    starts = np.asarray(a.start_, dtype=np.int64)
    index = np.asarray(a.index_, dtype=np.int64)
    column_of = np.repeat(np.arange(len(starts) - 1), np.diff(starts)) if len(starts) > 1 else []

    def matrix_owner(k, v):
        return Extreme(float(v), row=rows.get(int(index[k])), col=cols.get(int(column_of[k])))

    def col_owner(k, v):
        return Extreme(float(v), col=cols.get(int(k)))

    def row_owner(k, v):
        return Extreme(float(v), row=rows.get(int(k)))

    n_rows = len(lp.row_lower_)
    bounds = np.concatenate([np.asarray(lp.col_lower_), np.asarray(lp.col_upper_)])
    rhs = np.concatenate([np.asarray(lp.row_lower_), np.asarray(lp.row_upper_)])
    n_cols = len(lp.col_lower_)
    for name, vals, owner in (
        ("matrix", values, matrix_owner),
        ("cost", np.asarray(lp.col_cost_, dtype=float), col_owner),
        ("bound", bounds, lambda k, v: col_owner(k % max(n_cols, 1), v)),
        ("rhs", rhs, lambda k, v: row_owner(k % max(n_rows, 1), v)),
    ):
        found, owners = _range(vals, owner)
        report.ranges[name] = found
        if owners:
            report.extremes[name] = owners
    return report
