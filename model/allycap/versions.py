"""The package versions that produced the figures in README.md and docs/, and a drift warning.

An LP with ties (generic candidates that cost the same in several regions) has many optimal
plans of one cost; which one HiGHS returns depends on its version and on the order Pyomo and
pandas build the rows and columns. `constraints.txt` pins these versions (tests/test_versions.py
checks that it agrees with REFERENCE); `drift_warning()` says when the installed ones differ.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

# key -> version that produced the figures; keys as in a run's manifest.json `versions`
REFERENCE = {"highs": "1.16.0", "pyomo": "6.10.1", "pandas": "3.1.1"}

# key -> (name shown to the user, distribution that provides it)
PACKAGES = {
    "highs": ("HiGHS", "highspy"),
    "pyomo": ("Pyomo", "pyomo"),
    "pandas": ("pandas", "pandas"),
}

FIX = "pip install -c constraints.txt -e ."


def installed() -> dict[str, str | None]:
    """key -> installed version (None when the distribution is not installed)."""
    found: dict[str, str | None] = {}
    for key, (_, dist) in PACKAGES.items():
        try:
            found[key] = version(dist)
        except PackageNotFoundError:
            found[key] = None
    return found


def drift_warning() -> str | None:
    """One line naming every installed version that differs from REFERENCE, or None if none does.

    E.g. "installed HiGHS 1.15.1 differs from 1.16.0, which produced the figures in README.md and
    docs/; the plan may differ where costs tie. Fix: pip install -c constraints.txt -e ."
    """
    now = installed()
    differ = [key for key in REFERENCE if now[key] != REFERENCE[key]]
    if not differ:
        return None
    got = ", ".join(f"{PACKAGES[k][0]} {now[k] or '(not installed)'}" for k in differ)
    want = ", ".join(REFERENCE[k] for k in differ)
    verb = "differs" if len(differ) == 1 else "differ"
    return (
        f"installed {got} {verb} from {want}, which produced the figures in README.md and "
        f"docs/; the plan may differ where costs tie. Fix: {FIX}"
    )
