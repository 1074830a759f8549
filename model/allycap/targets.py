"""Output targets: which paths allycap may write to and replace, checked before any work.

A command never deletes or replaces anything it did not create. A folder allycap wrote carries
`tool: allycap` in its manifest.json; `--out` may name a new path or such a folder, nothing
else. Kept free of pandas and Pyomo so that commands can check paths before loading either.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from pathlib import Path

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
