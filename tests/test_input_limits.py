"""Input limits and encodings through the real CLI (issue 10): the problem list is capped, an
oversized file is refused before it is read, Excel's "CSV UTF-8" (BOM, CRLF) and CRLF YAML are
read, and ids at and past the length limit.

Each test copies the minimal model of tests/bad_inputs/minimal/ to a scratch folder and runs the
CLI in a fresh process. Every expected number is worked out by hand in the test.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from allycap.errors import InputError, InputIssue
from allycap.inputs.load import load_inputs

MINIMAL = Path(__file__).parent / "bad_inputs" / "minimal"
_BIN = Path(sys.executable).with_name("allycap")
ALLYCAP = str(_BIN) if _BIN.exists() else (shutil.which("allycap") or "allycap")


def cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    return subprocess.run(
        [ALLYCAP, "validate", "inputs/base.yaml", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(MINIMAL, tmp_path / "inputs")
    return tmp_path


def rejected(proc: subprocess.CompletedProcess) -> list[str]:
    """Exit 2, no traceback; returns the issue lines without their indent."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    header, *issues = proc.stderr.splitlines()
    assert header.startswith("error: invalid input ("), proc.stderr
    assert all(line.startswith("  ") for line in issues), "one issue per line"
    return [line.strip() for line in issues]


def accepted(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stdout.startswith("ok: inputs/base.yaml is valid"), proc.stdout
    assert proc.stderr == ""


# -- the problem list is capped ----------------------------------------------------------------


def test_5000_bad_rows_list_50_problems_and_count_the_rest(root: Path):
    """A scenario's demand table of 5,000 unknown regions: 50 lines, then one that counts the
    other 4,950 (5,000 - 50), instead of 5,000 lines."""
    rows = "".join(f"Q{i:04d},metal,2030,1\n" for i in range(5000))
    (root / "inputs" / "regions.csv").write_text("region,commodity,year,value\n" + rows)
    (root / "inputs" / "scenarios" / "flood.yaml").write_text(
        "demand:\n  include: ../regions.csv\n"
    )
    issues = rejected(cli(root, "-s", "inputs/scenarios/flood.yaml"))
    assert len(issues) == 51
    # row i of the table is on line i + 2 (the header is line 1)
    for i, line in enumerate(issues[:50]):
        assert line.startswith(f"inputs/regions.csv:{i + 2}: demand.Q{i:04d}: unknown region")
    assert issues[50] == (
        "... and 4,950 more problem(s) not listed (5,000 in all; 4,950 in inputs/regions.csv). "
        "Fix: correct the problems above and run again to see the rest."
    )


def test_unlisted_problems_are_counted_by_file(root: Path):
    """One duplicate key in base.yaml (found first: keys are checked before values are read)
    and 60 text values in demand.csv: 1 + 49 listed, the other 11 counted (61 - 50)."""
    base = root / "inputs" / "base.yaml"
    base.write_text(
        base.read_text().replace("    variable_cost: 0.002\n", "    variable_cost: 0.002\n" * 2)
    )
    rows = "".join(f"USA,metal,{2000 + i},lots\n" for i in range(60))
    (root / "inputs" / "demand.csv").write_text("region,commodity,year,value\n" + rows)
    issues = rejected(cli(root))
    assert len(issues) == 51
    assert issues[0].startswith("inputs/base.yaml:16: facilities.can_mine.variable_cost: duplicate")
    assert issues[1].startswith("inputs/demand.csv:2: demand.USA.metal.2000: column 'value'")
    assert issues[49].startswith("inputs/demand.csv:50: demand.USA.metal.2048: column 'value'")
    assert issues[50].startswith(
        "... and 11 more problem(s) not listed (61 in all; 11 in inputs/demand.csv)."
    )


def test_input_error_keeps_50_issues_and_survives_pickling():
    """Studies run cases in worker processes: the error must cross a pickle intact."""
    issues = [
        InputIssue(f"problem {i}.", ("x",), "a.yaml" if i < 70 else "b.yaml", i) for i in range(120)
    ]
    error = InputError(issues)
    assert error.total == 120
    assert len(error.issues) == 51
    assert [i.line for i in error.issues[:50]] == list(range(50))
    # 70 in a.yaml of which 50 listed: 20 left; all 50 of b.yaml left
    assert error.issues[50].format() == (
        "... and 70 more problem(s) not listed (120 in all; 50 in b.yaml, 20 in a.yaml). "
        "Fix: correct the problems above and run again to see the rest."
    )
    again = pickle.loads(pickle.dumps(error))
    assert again.total == 120
    assert [i.format() for i in again.issues] == [i.format() for i in error.issues]


# -- size of one file -----------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused(root: Path):
    """12,500,000 bytes is 12.5 MB, over the 10 MB limit. The file is sparse: it is refused
    from its size, never read."""
    with (root / "inputs" / "demand.csv").open("wb") as f:
        f.truncate(12_500_000)
    assert rejected(cli(root)) == [
        "inputs/demand.csv: demand: file is 12.5 MB, above the limit of 10 MB for one input "
        "file. Fix: check that this is the file you meant (a whole model is well under 1 MB); "
        "a larger model can split its tables over several included files."
    ]


# -- encodings and line ends -----------------------------------------------------------------------


def test_excel_csv_utf8_with_bom_and_crlf_is_read(root: Path):
    """Excel's "CSV UTF-8": a byte-order mark, then CRLF line ends."""
    demand = root / "inputs" / "demand.csv"
    plain = load_inputs(root / "inputs" / "base.yaml").data["demand"]
    text = demand.read_text()
    demand.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    accepted(cli(root))
    raw = load_inputs(root / "inputs" / "base.yaml")
    assert (
        raw.data["demand"]
        == plain
        == {
            "USA": {"metal": {2025: 400.0, 2035: 800.0}},
            "CAN": {"metal": {2025: 100.0}},
        }
    )
    assert raw.cited[("demand", "USA", "metal", 2035)] == ["usgs", "guess"]


def test_line_numbers_in_a_bom_crlf_csv(root: Path):
    """A bad value on the 5th line (header, three rows, then it) is reported at line 5."""
    demand = root / "inputs" / "demand.csv"
    text = demand.read_text() + "CAN,metal,2035,lots,\n"
    demand.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    assert rejected(cli(root)) == [
        "inputs/demand.csv:5: demand.CAN.metal.2035: column 'value' must be a finite number, "
        "found 'lots'."
    ]


def test_a_csv_with_cr_line_ends_is_read(root: Path):
    """Old Mac Excel ends lines with CR alone."""
    demand = root / "inputs" / "demand.csv"
    demand.write_bytes(demand.read_bytes().replace(b"\n", b"\r"))
    accepted(cli(root))


def test_a_quoted_cell_across_lines_keeps_the_line_numbers_of_later_rows(root: Path):
    """A quoted source cell over two lines (rows on lines 2-3); the bad row after it is on
    line 4."""
    (root / "inputs" / "demand.csv").write_text(
        'region,commodity,year,value,source\nUSA,metal,2025,400,"usgs;\nguess"\n'
        "CAN,metal,2025,lots,\n"
    )
    assert rejected(cli(root)) == [
        "inputs/demand.csv:4: demand.CAN.metal.2025: column 'value' must be a finite number, "
        "found 'lots'."
    ]


def test_crlf_yaml_is_read_and_its_line_numbers_are_right(root: Path):
    for name in ("base.yaml", "parts.yaml", "scenarios/slow_mine.yaml"):
        path = root / "inputs" / name
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    accepted(cli(root, "-s", "inputs/scenarios/slow_mine.yaml"))
    base = root / "inputs" / "base.yaml"
    base.write_bytes(base.read_bytes().replace(b"discount_rate: 0.05", b"discount_rate: lots"))
    # discount_rate is on line 5 of base.yaml
    assert rejected(cli(root)) == [
        "inputs/base.yaml:5: discount_rate: expected a rate, found 'lots'."
    ]


# -- id length ------------------------------------------------------------------------------------


def rename_chn_mine(root: Path, new: str) -> None:
    base = root / "inputs" / "base.yaml"
    base.write_text(base.read_text().replace("  chn_mine:", f"  {new}:"))


def test_an_id_of_64_characters_is_accepted(root: Path):
    rename_chn_mine(root, "c" + "h" * 63)
    accepted(cli(root))


def test_a_valid_id_of_64_characters_is_printed_whole(root: Path):
    """Only longer key path parts are shortened. chn_mine's region is on line 24."""
    rename_chn_mine(root, "c" + "h" * 63)
    base = root / "inputs" / "base.yaml"
    base.write_text(
        base.read_text().replace(
            "region: CHN\n    process: mining", "region: CHM\n    process: mining"
        )
    )
    assert rejected(cli(root)) == [
        "inputs/base.yaml:24: facilities.c" + "h" * 63 + ".region: unknown region 'CHM'. Fix: "
        "did you mean 'CHN'?"
    ]


def test_an_id_of_65_characters_is_refused(root: Path):
    """chn_mine is on line 23 of base.yaml."""
    rename_chn_mine(root, "c" + "h" * 64)
    (issue,) = rejected(cli(root))
    assert issue.startswith(
        "inputs/base.yaml:23: facilities.c" + "h" * 19 + "...(65 characters): this id is 65 "
        "characters long; ids are letters, digits, `_` and `-`, starting with a letter, at most "
        "64 characters; e.g. `wicheeda_mine`. Fix: rename it, e.g. to 'c" + "h" * 63 + "'"
    )
