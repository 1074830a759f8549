"""Write stage: a run folder appears whole or not at all.

Files go to a hidden temporary folder beside the target, then the folder is renamed into place;
an existing run is moved aside first and removed only after the new one is in place. A run that
dies at any point leaves either the old folder or the new one (and, between the two renames, the
old one under `.<name>.old`, which the next write restores if the target is missing).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from allycap.results import TABLES, Results


def _clean(obj):
    """JSON has no NaN: write null instead, and keep keys as strings."""
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else obj
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def write_json(path: Path, payload: dict) -> None:
    path.write_text(json.dumps(_clean(payload), indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _remove_abandoned(parent: Path, name: str) -> None:
    """Temporary folders left by writers that were killed (their process no longer exists)."""
    for tmp in parent.glob(f".{name}.tmp-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(tmp, ignore_errors=True)
        except PermissionError:
            pass  # another user's live process


def _write_report(folder: Path, png: bool, excel: bool) -> None:
    """report.html (and charts, workbook) from the files in `folder`. A chart that cannot be
    drawn costs the report, never the run: the failure becomes a warning on stderr."""
    from allycap.report import run_report

    try:
        run_report(folder, png=png, excel=excel)
    except Exception as exc:
        warnings.warn(f"report not written: {exc!r}", RuntimeWarning, stacklevel=3)


@contextmanager
def atomic_folder(out_dir: Path) -> Iterator[Path]:
    """Yield a hidden temporary folder beside `out_dir`; on success, fsync its files and rename
    it into place (an existing `out_dir` is moved aside first and removed after); on any error,
    remove it and leave `out_dir` untouched. Run folders and study folders both use it."""
    out_dir = Path(out_dir)
    parent = out_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    old = parent / f".{out_dir.name}.old"
    if old.exists() and not out_dir.exists():
        old.rename(out_dir)  # a previous write died between its two renames
    _remove_abandoned(parent, out_dir.name)
    tmp = parent / f".{out_dir.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
        for f in tmp.rglob("*"):
            if f.is_file():
                with open(f, "rb") as handle:
                    os.fsync(handle.fileno())
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old.exists():
        shutil.rmtree(old)
    if out_dir.exists():
        out_dir.rename(old)
    tmp.rename(out_dir)
    if old.exists():
        shutil.rmtree(old)


def write_run(
    results: Results,
    out_dir: Path,
    summary: dict,
    manifest: dict,
    extra: dict[str, dict] | None = None,
    report: bool = True,
    png: bool = False,
    excel: bool = False,
) -> Path:
    """Write the run folder atomically; `extra` maps further JSON file names to payloads.

    With `report` (the default) and a solution, report.html is made from the files just
    written, inside the temporary folder, so it appears with them; `png` adds charts/*.png and
    `excel` tables.xlsx (these need the `report` extra: `allycap.report.check_extras` first).
    """
    with atomic_folder(out_dir) as tmp:
        for name in TABLES:
            table = results.tables.get(name)
            if table is not None and results.objective is not None:
                table.to_csv(
                    tmp / f"{name}.csv", index=False, float_format="%.9g", lineterminator="\n"
                )
        write_json(tmp / "summary.json", summary)
        write_json(tmp / "manifest.json", manifest)
        for filename, payload in (extra or {}).items():
            write_json(tmp / filename, payload)
        if report and results.objective is not None:  # no solution, nothing to chart
            _write_report(tmp, png, excel)
    return Path(out_dir)
