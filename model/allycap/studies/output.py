"""Study folders (sweep, stress, compare, robust): CSV tables and JSON files, written atomically.

Same protocol as a run folder (`write.py`): everything goes to a hidden temporary folder beside
the target, which is then renamed into place, so a folder appears whole or not at all. CSVs use
the run folder's conventions: no index, up to 9 significant digits, `\\n` line ends.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def write_study(out_dir: Path, tables: dict[str, pd.DataFrame], payloads: dict[str, dict]) -> Path:
    """Write `tables` (file name -> frame) and `payloads` (file name -> JSON) into `out_dir`."""
    from allycap.targets import stamp
    from allycap.write import atomic_folder, write_json

    with atomic_folder(out_dir) as tmp:
        for name, frame in tables.items():
            frame.to_csv(tmp / name, index=False, float_format="%.9g", lineterminator="\n")
        for name, payload in payloads.items():
            write_json(tmp / name, stamp(payload) if name == "manifest.json" else payload)
    return Path(out_dir)


def versions() -> dict[str, str]:
    import pandas
    import pyomo

    from allycap import __version__
    from allycap.solve import solver_version

    return {
        "allycap": __version__,
        "python": platform.python_version(),
        "pyomo": pyomo.version.version,
        "highs": solver_version(),
        "pandas": pandas.__version__,
    }


def input_files(input: str | Path, scenarios: list[str] | tuple[str, ...] = ()) -> dict[str, str]:
    """Every file the inputs read, with its sha256 (as in a run's manifest)."""
    from allycap.inputs.load import load_inputs

    raw = load_inputs(input, list(scenarios))
    return dict(sorted(raw.files.items()))


def format_table(frame, formats: dict[str, str]) -> str:
    """`frame` as text, each column in `formats` formatted with its format spec (NaN blank)."""
    import math

    shown = frame.copy()
    for col, spec in formats.items():
        if col in shown:
            shown[col] = [
                ""
                if v is None or (isinstance(v, float) and math.isnan(v))
                else (format(v, spec) if isinstance(v, int | float) else str(v))
                for v in frame[col]
            ]
    return shown.to_string(index=False)
