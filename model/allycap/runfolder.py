"""Reading run and study folders back: the one CSV reader, summary.json and manifest.json.

`compare`, `explain`, `stress` and `report` read what `allycap solve` (and the study commands)
wrote through this module only, so every command sees a table the same way:

- only an empty cell is a missing value: pandas' default also turns `NA`, `nan`, `null`, `None`
  and `N/A` into NaN, which would lose a region `NA` (Namibia, North America) or a facility
  `nan`;
- id and text columns (TEXT_COLUMNS) are strings, so a facility `007` stays `007`, not 7;
- a missing file is an error that names the path and what the folder should be (RunFolderError,
  or the caller's own error class through `error=`);
- a folder written before the two accounts reads as if written now: costs.csv without an
  `account` column gets one from its `category` (`registry.account_of`), and a missing
  shortfall.csv is made from supply_mix.csv's `unmet_t` (sector `all`, kind `unmet`, cost per
  tonne unknown: empty), see `upgrade`.

The module imports pandas only when a table is read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# Columns of run and study tables whose values are ids or text, never numbers.
TEXT_COLUMNS = frozenset(
    {
        # run folders (docs/outputs.md)
        "scenario",
        "facility",
        "name",
        "region",
        "stage",
        "process",
        "commodity",
        "origin",
        "destination",
        "tag",
        "role",
        "stockpile",
        "payers",
        "category",
        "account",
        "sector",
        "kind",
        "family",
        "rule",
        "unit",
        "meaning",
        # study folders: compare.csv, investment_diff.csv, stress.csv, stress_table.csv, sweep.csv
        "kpi",
        "detail",
        "portfolio",
        "status",
        "message",
    }
)

SOLVED = "the folder of a solved run (written by `allycap solve`)"


class RunFolderError(Exception):
    """A run or study folder, or a file in it, is missing or unreadable; the message says which."""


def require_folder(folder: str | Path, error: type[Exception] = RunFolderError) -> Path:
    """`folder` as a Path; `error` if it is not a folder."""
    path = Path(folder)
    if not path.is_dir():
        raise error(f"run folder {str(folder)!r} not found. Fix: run `allycap solve` first.")
    return path


def read_csv(path: str | Path) -> pd.DataFrame:
    """One CSV as written by allycap: only empty cells are missing, TEXT_COLUMNS are strings.

    An empty file (a table with no columns) is an empty frame.
    """
    import pandas as pd

    try:
        return pd.read_csv(
            path,
            keep_default_na=False,
            na_values=[""],
            dtype=dict.fromkeys(TEXT_COLUMNS, str),
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def table_path(folder: str | Path, name: str) -> Path:
    """The file of table `name` (`investments` or `investments.csv`) in `folder`."""
    return Path(folder) / (name if name.endswith(".csv") else f"{name}.csv")


def read_table(
    folder: str | Path,
    name: str,
    *,
    required: bool = True,
    needed_by: str = "this command",
    error: type[Exception] = RunFolderError,
) -> pd.DataFrame:
    """Table `name` of a run or study folder (see read_csv).

    A missing file raises `error` naming the path and `needed_by` (e.g. "`allycap explain`"),
    or, when not `required`, gives an empty frame.
    """
    import pandas as pd

    path = table_path(folder, name)
    if not path.is_file():
        derived = _derived(folder, path.stem)
        if derived is not None:
            return derived
        if required:
            raise error(f"{path} not found: {needed_by} needs {SOLVED}.")
        return pd.DataFrame()
    return upgrade(path.stem, read_csv(path))


def has_table(folder: str | Path, name: str) -> bool:
    """Whether `folder` has table `name`, or can make it from older tables (see `upgrade`)."""
    path = table_path(folder, name)
    older = path.stem == "shortfall" and table_path(folder, "supply_mix").is_file()
    return path.is_file() or older


SHORTFALL_COLUMNS = ("region", "commodity", "sector", "year", "kind", "tonnes", "cost_musd_per_t")


def upgrade(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A table as written now, from one an older allycap wrote: costs gets `account`."""
    if name == "costs" and len(frame.columns) and "account" not in frame.columns:
        from allycap.formulation.registry import account_of

        frame.insert(
            list(frame.columns).index("category") + 1,
            "account",
            [account_of(c) for c in frame["category"]],
        )
    return frame


def _derived(folder: str | Path, name: str) -> pd.DataFrame | None:
    """A table an older run folder lacks, made from what it has (None if it cannot be)."""
    import pandas as pd

    if name != "shortfall" or not table_path(folder, "supply_mix").is_file():
        return None
    mix = read_csv(table_path(folder, "supply_mix"))
    if not len(mix) or "unmet_t" not in mix.columns:
        return pd.DataFrame(columns=list(SHORTFALL_COLUMNS))
    # before sectors and curtailment, every tonne not delivered was "unmet" demand, "all" sectors
    part = mix[mix["unmet_t"] > 1e-9]
    frame = pd.DataFrame(
        {
            "region": part["region"],
            "commodity": part["commodity"],
            "sector": "all",
            "year": part["year"],
            "kind": "unmet",
            "tonnes": part["unmet_t"],
            "cost_musd_per_t": float("nan"),
        },
        columns=list(SHORTFALL_COLUMNS),
    )
    if "scenario" in mix.columns:
        frame.insert(0, "scenario", part["scenario"])
    return frame.reset_index(drop=True)


def read_json(
    folder: str | Path,
    name: str,
    *,
    required: bool = True,
    needed_by: str = "this command",
    error: type[Exception] = RunFolderError,
) -> dict[str, Any]:
    """JSON file `name` (e.g. `summary.json`) of a folder as a dict.

    Missing: `error` if `required`, else {}. Unreadable or not a JSON object: `error`.
    """
    path = Path(folder) / name
    if not path.is_file():
        if required:
            raise error(f"{path} not found: {needed_by} needs {SOLVED}.")
        return {}
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise error(f"{path}: cannot be read ({exc}).") from None
    if not isinstance(payload, dict):
        raise error(f"{path}: not a JSON object; not written by allycap.")
    return payload


def read_summary(
    folder: str | Path,
    *,
    required: bool = True,
    needed_by: str = "this command",
    error: type[Exception] = RunFolderError,
) -> dict[str, Any]:
    """summary.json of a run folder (status, objective, KPIs, ...)."""
    return read_json(folder, "summary.json", required=required, needed_by=needed_by, error=error)


def read_manifest(
    folder: str | Path,
    *,
    required: bool = False,
    needed_by: str = "this command",
    error: type[Exception] = RunFolderError,
) -> dict[str, Any]:
    """manifest.json of a run or study folder (inputs, options, versions); {} if absent."""
    return read_json(folder, "manifest.json", required=required, needed_by=needed_by, error=error)
