"""tables.xlsx: every table of a folder in one workbook (needs openpyxl, the `report` extra).

Sheets: `summary` (summary.json flattened to key / value rows), then one sheet per CSV file
(the run tables in their usual order, then any other CSV such as compare.csv or sweep.csv),
then `manifest`. Each table sheet has the CSV's header and exactly its rows.
"""

from __future__ import annotations

import os
from pathlib import Path

EXCEL_ROWS = 1_048_576  # the most rows a sheet can hold, header included


def flatten(obj, prefix: str = "") -> list[tuple[str, object]]:
    """Nested JSON -> (dotted.key, value) rows; lists are indexed, empty containers kept."""
    if isinstance(obj, dict):
        if not obj:
            return [(prefix, "{}")] if prefix else []
        out = []
        for k in obj:
            out += flatten(obj[k], f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(obj, list):
        if not obj:
            return [(prefix, "[]")]
        out = []
        for i, v in enumerate(obj):
            out += flatten(v, f"{prefix}.{i}")
        return out
    return [(prefix, obj)]


def _csvs(folder: Path) -> list[Path]:
    from allycap.tables import TABLES

    known = [folder / f"{n}.csv" for n in TABLES if (folder / f"{n}.csv").exists()]
    others = sorted(p for p in folder.glob("*.csv") if p not in known)
    return known + others


def write_workbook(folder: Path, path: Path) -> Path:
    from openpyxl import Workbook

    from allycap.report import ReportError, _rows
    from allycap.runfolder import read_csv, read_json

    folder = Path(folder)
    tables = [(p.stem[:31], read_csv(p)) for p in _csvs(folder)]
    summary = read_json(folder, "summary.json", required=False, error=ReportError)
    manifest = read_json(folder, "manifest.json", required=False, error=ReportError)
    notes = [
        (f"excel.truncated.{name}", f"first {EXCEL_ROWS - 1:,} of {len(df):,} rows; all in the CSV")
        for name, df in tables
        if len(df) >= EXCEL_ROWS
    ]
    wb = Workbook(write_only=True)
    if summary:
        ws = wb.create_sheet("summary")
        ws.append(["key", "value"])
        for key, value in flatten(summary) + notes:
            ws.append([key, value])
    for name, df in tables:
        ws = wb.create_sheet(name)
        ws.freeze_panes = "A2"
        ws.append([str(c) for c in df.columns])
        for row in _rows(df.head(EXCEL_ROWS - 1)):
            ws.append(row)
    if manifest:
        ws = wb.create_sheet("manifest")
        ws.append(["key", "value"])
        for key, value in flatten(manifest):
            ws.append([key, value])
    if not wb.worksheets:
        wb.create_sheet("empty").append(["no tables in this folder"])
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    wb.save(tmp)
    os.replace(tmp, path)
    return path
