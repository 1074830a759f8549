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
from allycap.targets import (
    TMP_MARK,
    OutputTargetError,
    check_target,
    is_allycap_folder,
    stamp,
)


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


def _ours(tmp: Path) -> bool:
    return (tmp / TMP_MARK).is_file() or is_allycap_folder(tmp)


def _remove_abandoned(parent: Path, name: str) -> None:
    """Temporary folders left by allycap writers that were killed (their process is gone)."""
    for tmp in parent.glob(f".{name}.tmp-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or not tmp.is_dir() or tmp.is_symlink() or not _ours(tmp):
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
def atomic_folder(out_dir: Path, what: str = "--out") -> Iterator[Path]:
    """Yield a hidden temporary folder beside `out_dir`; on success, fsync its files and rename
    it into place (an existing `out_dir` is moved aside first and removed after); on any error
    or signal, remove it and leave `out_dir` untouched. Run folders and study folders both use
    it. `out_dir` must be new or a folder allycap wrote (`check_target`)."""
    from allycap import interrupt

    out_dir = Path(out_dir)
    existed = check_target(out_dir, what)
    parent = out_dir.parent
    old = parent / f".{out_dir.name}.old"
    tmp = parent / f".{out_dir.name}.tmp-{os.getpid()}"
    created = False  # only a folder this call made is ever removed by it
    try:
        try:
            parent.mkdir(parents=True, exist_ok=True)
            if old.is_dir() and not out_dir.exists() and is_allycap_folder(old):
                old.rename(out_dir)  # a previous write died between its two renames
            _remove_abandoned(parent, out_dir.name)
            if tmp.exists() and _ours(tmp):
                shutil.rmtree(tmp)
            with interrupt.deferred():  # a signal between the two would orphan the folder
                tmp.mkdir()
                created = True
            (tmp / TMP_MARK).write_text("", encoding="utf-8")
        except OSError as exc:
            raise OutputTargetError(
                f"{what} {out_dir}: cannot write in {parent} ({exc.strerror or exc}). Fix: "
                "choose a writable location."
            ) from None
        yield tmp
        (tmp / TMP_MARK).unlink()
        for f in tmp.rglob("*"):
            if f.is_file():
                with open(f, "rb") as handle:
                    os.fsync(handle.fileno())
        # The two renames are one step for a signal: it is acted on once both are done.
        try:
            with interrupt.deferred():
                if old.exists():
                    if is_allycap_folder(old):
                        shutil.rmtree(old)
                    else:  # someone else's folder by that name: leave it, use another
                        old = parent / f".{out_dir.name}.old-{os.getpid()}"
                moved = out_dir.exists()
                if moved:
                    out_dir.rename(old)
                tmp.rename(out_dir)
                if moved:
                    shutil.rmtree(old)
        except interrupt.Interrupted as exc:
            exc.kept = f"{out_dir} had been written in full"
            raise
    except BaseException as exc:
        if created and tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, interrupt.Interrupted) and not exc.kept:
            exc.kept = "nothing was written" + (f"; {out_dir} is unchanged" if existed else "")
        raise


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
        write_json(tmp / "manifest.json", stamp(manifest))
        for filename, payload in (extra or {}).items():
            write_json(tmp / filename, payload)
        if report and results.objective is not None:  # no solution, nothing to chart
            _write_report(tmp, png, excel)
    return Path(out_dir)
