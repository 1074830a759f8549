"""Write stage: a run folder appears whole or not at all.

Files go to a hidden temporary folder beside the target, then the folder is renamed into place;
an existing run is moved aside first and removed only after the new one is in place. A run that
dies at any point leaves either the old folder or the new one (and, between the two renames, the
old one under `.<name>.old`, which the next write restores if the target is missing).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
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


TOOL = "allycap"  # manifest.json's `tool`: the mark of a folder allycap wrote and may replace
TMP_MARK = ".allycap-tmp"  # inside a temporary folder: the mark that allycap made it
NAME_PATTERN = re.compile(r"[A-Za-z0-9_+\-][A-Za-z0-9_.+\-]{0,99}")


class OutputTargetError(Exception):
    """The output path is not one allycap may write to; the message names it and the fix."""


def stamp(manifest: dict) -> dict:
    """`manifest` with the mark that makes its folder replaceable by a later allycap run."""
    return {"tool": TOOL, **manifest}


def is_allycap_folder(path: Path) -> bool:
    """True for a folder whose manifest.json allycap wrote (a run or study folder).

    Folders written before the `tool` mark existed are recognized by `versions.allycap`."""
    manifest = Path(path) / "manifest.json"
    if Path(path).is_symlink() or not manifest.is_file():
        return False
    try:
        payload = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(payload, dict):
        return False
    versions = payload.get("versions")
    return payload.get("tool") == TOOL or (isinstance(versions, dict) and "allycap" in versions)


def check_name(name: str) -> str:
    """A run label: letters, digits and `_ . + -`, 1-100 characters, not starting with a dot."""
    if not NAME_PATTERN.fullmatch(name or ""):
        shown = repr(name) if len(name) <= 60 else repr(name[:57] + "...")
        raise OutputTargetError(
            f"--name {shown} is not a plain label: use 1-100 letters, digits and _ . + - "
            "(no path separators, not starting with a dot). Fix: e.g. --name ban_2026, or "
            "--out PATH to choose the folder."
        )
    return name


def check_target(out_dir: Path, what: str = "--out") -> bool:
    """Refuse any output path but a new one or a folder allycap wrote; True if it exists.

    Nothing is created or changed here; a path that cannot be created is found by the caller's
    `probe_writable`."""
    out_dir = Path(out_dir)
    fix = f"Fix: give {what} a new path (e.g. outputs/my_run) or an earlier allycap run folder."
    if out_dir.is_symlink():
        raise OutputTargetError(
            f"{what} {out_dir} is a symbolic link; allycap replaces only folders it wrote. {fix}"
        )
    if not out_dir.exists():
        for parent in out_dir.absolute().parents:
            if parent.exists():
                if not parent.is_dir():
                    raise OutputTargetError(
                        f"{what} {out_dir}: {parent} is a file, not a folder. {fix}"
                    )
                break
        return False
    if not out_dir.is_dir():
        raise OutputTargetError(
            f"{what} {out_dir} is an existing file; allycap writes a run folder and replaces "
            f"only folders it wrote. {fix}"
        )
    if not is_allycap_folder(out_dir):
        raise OutputTargetError(
            f"{what} {out_dir} is an existing folder that allycap did not write (it has no "
            f"manifest.json with tool: {TOOL}); allycap would have to replace it. {fix}"
        )
    return True


def probe_writable(out_dir: Path, what: str = "--out") -> None:
    """Create and remove a temporary folder where the run folder will go: a read-only or
    missing location is reported before the solve, not after it."""
    out_dir = Path(out_dir)
    parent = out_dir.absolute().parent
    created = [p for p in (parent, *parent.parents) if not p.exists()]
    try:
        parent.mkdir(parents=True, exist_ok=True)
        probe = parent / f".{out_dir.name}.tmp-{os.getpid()}"
        probe.mkdir()
        (probe / TMP_MARK).write_text("", encoding="utf-8")
        shutil.rmtree(probe)
    except OSError as exc:
        raise OutputTargetError(
            f"{what} {out_dir}: cannot write in {parent} ({exc.strerror or exc}). Fix: choose "
            "a writable location."
        ) from None
    finally:
        for p in created:  # leave no empty folder behind: the run may still fail
            with contextlib.suppress(OSError):
                p.rmdir()


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
    try:
        parent.mkdir(parents=True, exist_ok=True)
        if old.is_dir() and not out_dir.exists() and is_allycap_folder(old):
            old.rename(out_dir)  # a previous write died between its two renames
        _remove_abandoned(parent, out_dir.name)
        if tmp.exists() and _ours(tmp):
            shutil.rmtree(tmp)
        tmp.mkdir()
        (tmp / TMP_MARK).write_text("", encoding="utf-8")
    except OSError as exc:
        raise OutputTargetError(
            f"{what} {out_dir}: cannot write in {parent} ({exc.strerror or exc}). Fix: choose "
            "a writable location."
        ) from None
    try:
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
        if tmp.exists():
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
