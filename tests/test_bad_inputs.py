"""Malformed inputs through the real CLI: exit code 2, one message per problem that names the file,
the line (where there is one) and the key path, no traceback, and no run folder written.

Each case copies the small valid model in tests/bad_inputs/minimal/ into a temporary folder and
changes exactly one thing, then runs `allycap solve inputs/base.yaml --out <tmp>/out/run` as a
subprocess. The CLI prints one issue per line as `<file>[:<line>]: <key.path>: <message>`; the
test finds the line that starts with the expected file, line and key and checks its message.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

MINIMAL = Path(__file__).parent / "bad_inputs" / "minimal"
_BIN = Path(sys.executable).with_name("allycap")
ALLYCAP = str(_BIN) if _BIN.exists() else (shutil.which("allycap") or "allycap")


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    return subprocess.run(
        [ALLYCAP, *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=env
    )


@dataclass(frozen=True)
class Case:
    """One malformed input and what the CLI must say about it."""

    id: str
    file: str  # the file the message must name, as shown ("inputs/base.yaml", "--set ...")
    key: str  # the key path the message must name ("(top level)" for a whole file)
    says: str  # a fragment of the message (or its `Fix:` hint)
    line: str | int | None = None  # text of the line the message points at (or its number)
    edits: tuple = ()  # (file, old, new): `old` must occur exactly once in the valid file
    writes: tuple = ()  # (file, content): write a whole file (str or bytes); '' is empty
    args: tuple = ()  # extra CLI arguments (--set, --scenario)
    problems: int | None = 1  # how many problems the CLI reports
    command: str = "solve"  # or "validate" (which takes no --out)
    also: tuple = ()  # further issue lines (without the leading spaces) that must be printed
    absent: str | None = None  # text that must not appear (a misleading hint)
    links: tuple = ()  # (link, target): symlinks created inside the inputs folder


# A stockpile with a release, and an export control (from 2030) it may name.
RELEASE = """
export_controls:
  china_ban:
    origins: [CHN]
    destinations: [allied]
    commodities: [metal]
    start: 2030
stockpiles:
  usa_a:
    region: USA
    commodity: metal
    min_level: 10
    release:
      during: {during}
      {rest}
"""

SHARING = """
sharing:
  can_us:
    facilities: [{facility}]
    partners:
      CAN: {{min_share: {a_min}, cofinance: {a_cof}}}
      USA: {{min_share: {b_min}, cofinance: {b_cof}}}
"""


def sharing(facility="can_mine", a_min=0.3, a_cof=0.5, b_min=0.3, b_cof=0.5) -> str:
    return SHARING.format(facility=facility, a_min=a_min, a_cof=a_cof, b_min=b_min, b_cof=b_cof)


def alias_bomb() -> str:
    """Billion laughs: nine levels of ten aliases each expand to 10**9 values."""
    text = "bomb:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    previous = "a"
    for name in "bcdefghi":
        text += f"  {name}: &{name} [{', '.join(['*' + previous] * 10)}]\n"
        previous = name
    return text


BASE = "base.yaml"
PARTS = "parts.yaml"
DEMAND = "demand.csv"
SCENARIO = "scenarios/slow_mine.yaml"
APPEND = "<end of file>"  # as `old` in an edit: append `new` to the file

CASES = [
    # -- reading files --------------------------------------------------------------------
    Case(
        "yaml_syntax_error",
        "inputs/base.yaml",
        "(top level)",
        "YAML syntax error: mapping values are not allowed here",
        line="discount_rate: 0.05: x",
        edits=((BASE, "discount_rate: 0.05", "discount_rate: 0.05: x"),),
    ),
    Case(
        "yaml_unclosed_brace",
        "inputs/base.yaml",
        "(top level)",
        "YAML syntax error: expected ',' or '}'",
        line="USA: {name: United States",
        edits=((BASE, "CAN: {name: Canada, bloc: allied}", "CAN: {name: Canada, bloc: allied"),),
    ),
    Case(
        "empty_file",
        "inputs/parts.yaml",
        "(top level)",
        "file is empty; expected a mapping of keys",
        writes=((PARTS, ""),),
    ),
    Case(
        "top_level_list",
        "inputs/parts.yaml",
        "(top level)",
        "expected a mapping of keys at the top of the file, found a list",
        line=1,
        writes=((PARTS, "- ore\n- metal\n"),),
    ),
    Case(
        "byte_order_mark",
        "inputs/base.yaml",
        "(top level)",
        "file starts with a UTF-8 byte-order mark",
        line=1,
        edits=((BASE, "# Minimal", "\ufeff# Minimal"),),
    ),
    Case(
        "not_utf8",
        "inputs/parts.yaml",
        "(top level)",
        "not valid UTF-8 (byte 0xe9",
        line=b"ore: {name: Or\xe9}",
        edits=((PARTS, b"ore: {name: Ore}", b"ore: {name: Or\xe9}"),),
    ),
    Case(
        "duplicate_key",
        "inputs/base.yaml",
        "facilities.can_mine.variable_cost",
        "duplicate key 'variable_cost' (first at line 15)",
        line="variable_cost: 0.003",
        edits=(
            (
                BASE,
                "    variable_cost: 0.002\n",
                "    variable_cost: 0.002\n    variable_cost: 0.003\n",
            ),
        ),
    ),
    Case(
        "merge_key",
        "inputs/base.yaml",
        "facilities.can_refinery.expansion",
        "YAML merge keys (<<) are not supported",
        line="<<: *grow",
        edits=(
            (BASE, "expansion: {capex: 0.02,", "expansion: &grow {capex: 0.02,"),
            (
                BASE,
                "    expansion: {capex: 0.05, lifetime: 25, lead_time: 5}\n",
                "    expansion:\n      <<: *grow\n      capex: 0.05\n",
            ),
        ),
    ),
    Case(
        "alias_bomb",
        "inputs/base.yaml",
        "bomb.g",
        "this expands to more than 2,000,000 values once YAML aliases are expanded",
        line="  g: &g",
        edits=((BASE, APPEND, alias_bomb()),),
    ),
    Case(
        "nested_too_deep",
        "inputs/base.yaml",
        "(top level)",
        "nested too deeply",
        edits=((BASE, APPEND, "deep: " + "[" * 1000 + "]" * 1000 + "\n"),),
    ),
    Case(
        "explicit_tag_with_bad_value",
        "inputs/base.yaml",
        "facilities.can_refinery.existing",
        "cannot read 'lots' tagged tag:yaml.org,2002:int",
        line="existing: !!int lots",
        edits=((BASE, "existing: 300", "existing: !!int lots"),),
    ),
    Case(
        "unknown_tag",
        "inputs/base.yaml",
        "facilities.can_refinery.existing",
        "could not determine a constructor for the tag '!tonnes'",
        line="existing: !tonnes 300",
        edits=((BASE, "existing: 300", "existing: !tonnes 300"),),
    ),
    Case(
        "include_escapes_with_dotdot",
        "inputs/base.yaml",
        "include",
        "include '../outside.yaml' leads outside the inputs folder",
        line="include: [parts.yaml",
        edits=((BASE, "include: [parts.yaml]", "include: [parts.yaml, ../outside.yaml]"),),
        writes=(("../outside.yaml", "options: {strict: true}\n"),),
    ),
    Case(
        "include_absolute_path",
        "inputs/base.yaml",
        "include",
        "is an absolute path",
        line="include: [parts.yaml",
        edits=((BASE, "include: [parts.yaml]", "include: [parts.yaml, '{inputs}/extra.yaml']"),),
        writes=(("extra.yaml", "options: {strict: true}\n"),),
    ),
    Case(
        "include_circular",
        "inputs/parts.yaml",
        "include",
        "circular include: inputs/base.yaml -> inputs/parts.yaml -> inputs/base.yaml",
        line="include: base.yaml",
        edits=((PARTS, "sources:\n", "include: base.yaml\nsources:\n"),),
    ),
    Case(
        "include_missing_file",
        "inputs/base.yaml",
        "include",
        "included file 'part.yaml' not found",
        line="include: [parts.yaml",
        edits=((BASE, "include: [parts.yaml]", "include: [parts.yaml, part.yaml]"),),
    ),
    Case(
        "csv_missing_value_column",
        "inputs/demand.csv",
        "demand",
        "CSV header must be key columns, then 'value'",
        line=1,
        writes=((DEMAND, "region,commodity,year,source\nUSA,metal,2025,usgs\n"),),
    ),
    Case(
        "csv_text_in_value_column",
        "inputs/demand.csv",
        "demand.USA.metal.2025",
        "column 'value' must be a finite number, found 'lots'",
        line="USA,metal,2025,lots",
        edits=((DEMAND, "USA,metal,2025,400,usgs", "USA,metal,2025,lots,usgs"),),
    ),
    Case(
        "csv_duplicate_row",
        "inputs/demand.csv",
        "demand.CAN.metal.2025",
        "duplicate row for these keys",
        line="CAN,metal,2025,120,",
        edits=((DEMAND, APPEND, "CAN,metal,2025,120,\n"),),
    ),
    # -- schema: types, ranges, keys -------------------------------------------------------
    Case(
        "wrong_type_string_for_number",
        "inputs/base.yaml",
        "discount_rate",
        "expected a rate, found 'five percent'",
        line="discount_rate:",
        edits=((BASE, "discount_rate: 0.05", "discount_rate: five percent"),),
    ),
    Case(
        "wrong_type_bool_for_number",
        "inputs/base.yaml",
        "facilities.chn_mine.existing",
        "found True",
        line="existing: true",
        edits=((BASE, "existing: 5000", "existing: true"),),
    ),
    Case(
        "unknown_key_typo",
        "inputs/base.yaml",
        "facilities.can_mine.expansion.lead_tme",
        "unknown key 'lead_tme'. Fix: did you mean 'lead_time'?",
        line="capex: 0.02",
        edits=(
            (
                BASE,
                "lifetime: 25, lead_time: 5}\n  can_refinery",
                "lifetime: 25, lead_tme: 5}\n  can_refinery",
            ),
        ),
    ),
    Case(
        "unknown_top_level_key",
        "inputs/base.yaml",
        "facilites",
        "did you mean 'facilities'?",
        line="facilites:",
        edits=((BASE, "\nfacilities:\n", "\nfacilites:\n"),),
    ),
    Case(
        "missing_required_key",
        "inputs/base.yaml",
        "facilities.chn_refinery.process",
        "required key is missing. Fix: add `process:`",
        line="  chn_refinery:",
        edits=((BASE, "    region: CHN\n    process: refining\n", "    region: CHN\n"),),
        absent="if you meant to change the existing",  # chn_refinery is not a typo
    ),
    Case(
        "negative_capacity",
        "inputs/base.yaml",
        "facilities.can_refinery.existing",
        "expected t/yr >= 0, found -300",
        line="existing: -300",
        edits=((BASE, "existing: 300", "existing: -300"),),
    ),
    Case(
        "negative_cost",
        "inputs/base.yaml",
        "facilities.can_refinery.variable_cost",
        "expected M$ per t >= 0, found -0.01",
        line="variable_cost: -0.01",
        edits=((BASE, "variable_cost: 0.01", "variable_cost: -0.01"),),
    ),
    Case(
        "negative_capex",
        "inputs/base.yaml",
        "facilities.can_refinery.expansion.capex",
        "expected a non-negative number >= 0, found -0.05",
        line="capex: -0.05",
        edits=((BASE, "capex: 0.05", "capex: -0.05"),),
    ),
    Case(
        "nan",
        "inputs/base.yaml",
        "facilities.can_mine.existing",
        "NaN and infinity are not allowed",
        line="existing: {value: .nan",
        edits=((BASE, "existing: {value: 1000,", "existing: {value: .nan,"),),
    ),
    Case(
        "infinity",
        "inputs/base.yaml",
        "facilities.chn_refinery.variable_cost",
        "NaN and infinity are not allowed",
        line="variable_cost: .inf",
        edits=((BASE, "variable_cost: 0.005", "variable_cost: .inf"),),
    ),
    Case(
        "share_above_one",
        "inputs/base.yaml",
        "facilities.chn_mine.availability",
        "expected a share <= 1, found 1.5",
        line="availability: 1.5",
        edits=((BASE, "    existing: 5000\n", "    existing: 5000\n    availability: 1.5\n"),),
    ),
    Case(
        "unknown_rule_kind",
        "inputs/base.yaml",
        "independence.clean_metal",
        "`kind` must be one of: min_clean_share, max_origin_share",
        line="  clean_metal:",
        edits=(
            (
                BASE,
                APPEND,
                "independence:\n  clean_metal:\n    kind: min_clean\n    regions: [allied]\n"
                "    commodity: metal\n    share: 0.1\n",
            ),
        ),
    ),
    Case(
        "scenario_mistyped_facility_id",
        "inputs/scenarios/slow_mine.yaml",
        "facilities.can_mien",
        "'can_mien' is not an existing facility id; did you mean 'can_mine'? Fix: to add a new "
        "facility, give all of its required keys (region, process); missing: region, process.",
        line="can_mien:",
        edits=((SCENARIO, "  can_mine:", "  can_mien:"),),
        args=("--scenario", "inputs/scenarios/slow_mine.yaml"),
        # one problem: not also the half-made facility's missing region, process, capex ...
        absent="required key is missing",
    ),
    # -- whole-model checks ----------------------------------------------------------------
    Case(
        "dangling_facility_region",
        "inputs/base.yaml",
        "facilities.can_mine.region",
        "unknown region 'CAM'. Fix: did you mean 'CAN'?",
        line="region: CAM",
        edits=((BASE, "region: CAN\n    process: mining", "region: CAM\n    process: mining"),),
    ),
    Case(
        "dangling_process_output",
        "inputs/parts.yaml",
        "processes.mining.output",
        "unknown commodity 'oar'. Fix: did you mean 'ore'?",
        line="output: oar",
        edits=((PARTS, "output: ore}", "output: oar}"),),
    ),
    Case(
        "dangling_rule_bloc",
        "inputs/base.yaml",
        "independence.clean_metal.regions.0",
        "'alied' is neither a region nor a bloc. Fix: did you mean 'allied'?",
        line="regions: [alied]",
        edits=(
            (
                BASE,
                APPEND,
                "independence:\n  clean_metal:\n    kind: min_clean_share\n    regions: [alied]\n"
                "    commodity: metal\n    share: 0.1\n",
            ),
        ),
    ),
    Case(
        "dangling_sharing_facility",
        "inputs/base.yaml",
        "sharing.can_us.facilities.0",
        "unknown facility 'can_mien'. Fix: did you mean 'can_mine'?",
        line="facilities: [can_mien]",
        edits=((BASE, APPEND, sharing(facility="can_mien")),),
    ),
    Case(
        "dangling_budget_payer",
        "inputs/base.yaml",
        "budgets.can_fund.payer",
        "unknown region 'CAM'",
        line="payer: CAM",
        edits=((BASE, APPEND, "budgets:\n  can_fund:\n    payer: CAM\n    total: 100\n"),),
    ),
    Case(
        "source_not_in_sources",
        "inputs/base.yaml",
        "facilities.can_mine.existing.source",
        "unknown source 'usgss'. Fix: did you mean 'usgs'?",
        line="existing: {value: 1000, source: usgss}",
        edits=((BASE, "source: usgs}", "source: usgss}"),),
    ),
    Case(
        "source_in_csv_not_in_sources",
        "inputs/demand.csv",
        "demand.USA.metal.2035.source",
        "unknown source 'gues'. Fix: did you mean 'guess'?",
        line="usgs;gues",
        edits=((DEMAND, "usgs;guess", "usgs;gues"),),
    ),
    Case(
        "year_outside_horizon",
        "inputs/base.yaml",
        "facilities.can_refinery.existing.2050",
        "year 2050 is outside the horizon 2025-2035",
        line="existing: {2025: 300, 2050: 600}",
        edits=((BASE, "existing: 300", "existing: {2025: 300, 2050: 600}"),),
    ),
    Case(
        "horizon_end_before_start",
        "inputs/base.yaml",
        "horizon.end",
        "end 2020 is before start 2025",
        line="horizon:",
        edits=((BASE, "end: 2035", "end: 2020"),),
    ),
    Case(
        "horizon_step_does_not_divide",
        "inputs/base.yaml",
        "horizon.step",
        "step 4 does not divide end - start = 10",
        line="horizon:",
        edits=((BASE, "step: 5", "step: 4"),),
    ),
    Case(
        "lead_time_past_horizon",
        "inputs/base.yaml",
        "facilities.can_mine.expansion.lead_time",
        "after the horizon ends in 2035",
        line="capex: 0.02",
        edits=(
            (
                BASE,
                "lifetime: 25, lead_time: 5}\n  can_refinery",
                "lifetime: 25, lead_time: 20}\n  can_refinery",
            ),
        ),
    ),
    Case(
        "sharing_min_shares_above_one",
        "inputs/base.yaml",
        "sharing.can_us.partners",
        "partner min_share values sum to 1.2, above 1",
        line="partners:",
        edits=((BASE, APPEND, sharing(a_min=0.6, b_min=0.6)),),
    ),
    Case(
        "sharing_cofinance_not_one",
        "inputs/base.yaml",
        "sharing.can_us.partners",
        "partner cofinance shares sum to 0.9; they must sum to 1",
        line="partners:",
        edits=((BASE, APPEND, sharing(a_cof=0.5, b_cof=0.4)),),
    ),
    # -- command line ------------------------------------------------------------------------
    Case(
        "set_bad_value_type",
        "--set discount_rate=abc",
        "discount_rate",
        "expected a rate, found 'abc'",
        args=("--set", "discount_rate=abc"),
    ),
    Case(
        "set_value_out_of_range",
        "--set discount_rate=1.5",
        "discount_rate",
        "expected a rate <= 1, found 1.5",
        args=("--set", "discount_rate=1.5"),
    ),
    Case(
        "set_invalid_yaml",
        "--set",
        "discount_rate",
        "value is not valid YAML",
        args=("--set", "discount_rate=[0.05"),
    ),
    Case(
        "set_without_equals",
        "--set",
        "(top level)",
        "--set 'discount_rate' has no '='",
        args=("--set", "discount_rate"),
    ),
    Case(
        "set_into_a_value",
        "--set",
        "horizon.start.year",
        "horizon.start is a value, not a map",
        args=("--set", "horizon.start.year=2030"),
    ),
    Case(
        "scenario_file_missing",
        "inputs/scenarios/nope.yaml",
        "(top level)",
        "scenario file not found",
        args=("--scenario", "inputs/scenarios/nope.yaml"),
    ),
    # -- more hostile values and structures ---------------------------------------------------
    Case(
        "absurdly_large_number",
        "inputs/base.yaml",
        "facilities.can_refinery.existing",
        "absurdly large (above 1e+12)",
        line="existing: 1e300",
        edits=((BASE, "existing: 300", "existing: 1e300"),),
    ),
    Case(
        "absurdly_large_demand_in_csv",
        "inputs/demand.csv",
        "demand.USA.metal",
        "year 2025: expected t/yr, found 4e+15, which is absurdly large",
        line="USA,metal,2025,4e15",
        edits=((DEMAND, "USA,metal,2025,400", "USA,metal,2025,4e15"),),
    ),
    Case(
        "include_symlink_escapes",
        "inputs/base.yaml",
        "include",
        "leads outside the inputs folder",
        line="include: [parts.yaml",
        edits=((BASE, "include: [parts.yaml]", "include: [parts.yaml, link.yaml]"),),
        writes=(("../outside.yaml", "options: {strict: true}\n"),),
        links=(("link.yaml", "../outside.yaml"),),
    ),
    Case(
        "include_empty_list",
        "inputs/base.yaml",
        "include",
        "include: expects a file name or a list of file names",
        line="include: []",
        edits=((BASE, "include: [parts.yaml]", "include: []"),),
        problems=None,  # the model also loses everything parts.yaml defined
    ),
    Case(
        "negative_lead_time",
        "inputs/base.yaml",
        "facilities.can_mine.expansion.lead_time",
        "greater than or equal to 0",
        line="lead_time: -2}",
        edits=(
            (
                BASE,
                "lifetime: 25, lead_time: 5}\n  can_refinery",
                "lifetime: 25, lead_time: -2}\n  can_refinery",
            ),
        ),
    ),
    Case(
        "fractional_year",
        "inputs/base.yaml",
        "horizon.start",
        "valid integer",
        line="horizon:",
        edits=((BASE, "start: 2025", "start: 2025.5"),),
    ),
    Case(
        "yes_is_not_a_boolean",
        "inputs/base.yaml",
        "options.strict",
        "valid boolean",
        line="strict: yes",
        edits=((BASE, "  unmet_penalty: 10.0", "  unmet_penalty: 10.0\n  strict: yes"),),
    ),
    Case(
        "availability_negative",
        "inputs/base.yaml",
        "facilities.can_mine.availability",
        "expected a share >= 0, found -0.1",
        line="availability: -0.1",
        edits=(
            (
                BASE,
                "    variable_cost: 0.002\n",
                "    variable_cost: 0.002\n    availability: -0.1\n",
            ),
        ),
    ),
    Case(
        "empty_year_map",
        "inputs/base.yaml",
        "facilities.can_refinery.existing",
        "found an empty map",
        line="existing: {}",
        edits=((BASE, "existing: 300", "existing: {}"),),
    ),
    Case(
        "year_map_key_not_a_year",
        "inputs/base.yaml",
        "facilities.can_refinery.existing",
        "year map keys must be years",
        line="existing: {soon: 300}",
        edits=((BASE, "existing: 300", "existing: {soon: 300}"),),
    ),
    Case(
        "id_with_a_space",
        "inputs/base.yaml",
        "facilities.chn mine",
        "'chn mine' is not a valid id: ids are letters, digits, `_` and `-`, starting with a "
        "letter, at most 64 characters; e.g. `wicheeda_mine`. Fix: rename it, e.g. to 'chn_mine'.",
        line="  chn mine:",
        edits=((BASE, "  chn_mine:", "  chn mine:"),),
    ),
    Case(
        "dangling_demand_commodity",
        "inputs/demand.csv",
        "demand.USA.metl",
        "unknown commodity 'metl'. Fix: did you mean 'metal'?",
        line="USA,metl,2025",
        edits=((DEMAND, "USA,metal,2025,400", "USA,metl,2025,400"),),
    ),
    Case(
        "dangling_export_control_commodity",
        "inputs/base.yaml",
        "export_controls.ban.commodities.0",
        "unknown commodity 'oer'",
        line="commodities: [oer]",
        edits=(
            (
                BASE,
                APPEND,
                "export_controls:\n  ban:\n    origins: [CHN]\n"
                "    destinations: [allied]\n    commodities: [oer]\n",
            ),
        ),
    ),
    Case(
        "duplicate_stockpile",
        "inputs/base.yaml",
        "stockpiles.usa_b",
        "already covers metal in USA",
        line="  usa_b:",
        edits=(
            (
                BASE,
                APPEND,
                "stockpiles:\n  usa_a: {region: USA, commodity: metal}\n"
                "  usa_b: {region: USA, commodity: metal}\n",
            ),
        ),
    ),
    Case(
        "stockpile_release_during_unknown_control",
        "inputs/base.yaml",
        "stockpiles.usa_a.release.during.0",
        "unknown export control 'china_bam'. Fix: did you mean 'china_ban'?",
        line="during: [china_bam]",
        edits=((BASE, APPEND, RELEASE.format(during="[china_bam]", rest="refill_by: 2035")),),
    ),
    Case(
        "stockpile_release_year_at_refill_by",
        "inputs/base.yaml",
        "stockpiles.usa_a.release.years.0",
        "release year 2030 is not before refill_by 2030",
        line="years: [2030]",
        edits=(
            (
                BASE,
                APPEND,
                RELEASE.format(during="[]", rest="years: [2030]\n      refill_by: 2030"),
            ),
        ),
    ),
    Case(
        "stockpile_release_year_not_a_model_year",
        "inputs/base.yaml",
        "stockpiles.usa_a.release.years.0",
        "2027 is not a model year (2025-2035, every 5)",
        line="years: [2027]",
        edits=(
            (
                BASE,
                APPEND,
                RELEASE.format(during="[]", rest="years: [2027]\n      refill_by: 2035"),
            ),
        ),
    ),
    Case(
        "stockpile_release_control_after_refill_by",
        "inputs/base.yaml",
        "stockpiles.usa_a.release.during.0",
        "export control 'china_ban' is active in no model year before refill_by 2030",
        line="during: [china_ban]",
        edits=((BASE, APPEND, RELEASE.format(during="[china_ban]", rest="refill_by: 2030")),),
    ),
    Case(
        "stockpile_release_without_years",
        "inputs/base.yaml",
        "stockpiles.usa_a.release",
        "a release needs `during` (export-control ids) or `years`",
        line="release:",
        edits=((BASE, APPEND, RELEASE.format(during="[]", rest="refill_by: 2035")),),
    ),
    Case(
        "sector_shares_do_not_sum_to_one",
        "inputs/base.yaml",
        "demand_sectors.USA.metal",
        "sum to 0.9 in 2025",
        line="  metal: {defence: 0.2, civil: 0.7}",
        edits=(
            (
                BASE,
                APPEND,
                "sectors:\n  defence: {shortage_cost: 50}\n  civil: {shortage_cost: 20}\n"
                "demand_sectors:\n USA:\n  metal: {defence: 0.2, civil: 0.7}\n",
            ),
        ),
    ),
    Case(
        "sector_unknown",
        "inputs/base.yaml",
        "demand_sectors.USA.metal.defense",
        "did you mean 'defence'?",
        line="  metal: {defense: 1.0}",
        edits=(
            (
                BASE,
                APPEND,
                "sectors:\n  defence: {shortage_cost: 50}\n"
                "demand_sectors:\n USA:\n  metal: {defense: 1.0}\n",
            ),
        ),
    ),
    Case(
        "sector_split_without_demand",
        "inputs/base.yaml",
        "demand_sectors.CHN.metal",
        "CHN has no demand for metal to split by sector",
        line="  metal: {defence: 1.0}",
        edits=(
            (
                BASE,
                APPEND,
                "sectors:\n  defence: {shortage_cost: 50}\n"
                "demand_sectors:\n CHN:\n  metal: {defence: 1.0}\n",
            ),
        ),
    ),
    Case(
        "sector_tranche_above_shortage_cost",
        "inputs/base.yaml",
        "sectors.ev.tranches.0.cost",
        "above the sector's shortage_cost 2",
        line="    tranches: [{share: 0.3, cost: 3}]",
        edits=(
            (
                BASE,
                APPEND,
                "sectors:\n  ev:\n    shortage_cost: 2\n    tranches: [{share: 0.3, cost: 3}]\n",
            ),
        ),
    ),
    Case(
        "sector_tranche_shares_above_one",
        "inputs/base.yaml",
        "sectors.ev.tranches",
        "tranche shares sum to 1.2",
        line="    tranches: [{share: 0.6, cost: 1}, {share: 0.6, cost: 1.5}]",
        edits=(
            (
                BASE,
                APPEND,
                "sectors:\n  ev:\n    shortage_cost: 2\n"
                "    tranches: [{share: 0.6, cost: 1}, {share: 0.6, cost: 1.5}]\n",
            ),
        ),
    ),
    Case(
        "sharing_hosts_in_two_regions",
        "inputs/base.yaml",
        "sharing.can_us.facilities",
        "an agreement has one host region",
        line="facilities: [can_mine, chn_mine]",
        edits=((BASE, APPEND, sharing(facility="can_mine, chn_mine")),),
    ),
    Case(
        "ad_valorem_tariff_without_price",
        "inputs/base.yaml",
        "trade.tariffs.duty.ad_valorem",
        "ad-valorem tariff on 'ore', which has no `price`",
        line="ad_valorem: 0.1",
        edits=(
            (
                BASE,
                "    metal: 0.001\n",
                "    metal: 0.001\n  tariffs:\n    duty:\n"
                "      commodities: [ore]\n      ad_valorem: 0.1\n",
            ),
        ),
    ),
    Case(
        "process_consumes_own_output",
        "inputs/parts.yaml",
        "processes.refining.inputs.metal",
        "a process cannot consume its own output",
        line="inputs: {ore: 2.0, metal: 1.0}",
        edits=((PARTS, "inputs: {ore: 2.0}", "inputs: {ore: 2.0, metal: 1.0}"),),
    ),
    Case(
        "bloc_named_like_a_region",
        "inputs/base.yaml",
        "regions",
        "bloc name 'USA' is also a region id",
        line="regions:",
        edits=((BASE, "CHN: {name: China, bloc: restricted}", "CHN: {name: China, bloc: USA}"),),
    ),
    Case(
        "scenario_unknown_key",
        "inputs/scenarios/slow_mine.yaml",
        "horizon.strat",
        "unknown key 'strat'. Fix: did you mean 'start'?",
        line="horizon: {strat: 2030}",
        edits=((SCENARIO, APPEND, "horizon: {strat: 2030}\n"),),
        args=("--scenario", "inputs/scenarios/slow_mine.yaml"),
    ),
    Case(
        "scenario_duplicate_key",
        "inputs/scenarios/slow_mine.yaml",
        "description",
        "duplicate key 'description'",
        line="description: again",
        edits=((SCENARIO, APPEND, "description: again\n"),),
        args=("--scenario", "inputs/scenarios/slow_mine.yaml"),
    ),
    Case(
        "csv_short_row",
        "inputs/demand.csv",
        "demand",
        "row has 4 columns, header has 5",
        line=2,
        edits=((DEMAND, "USA,metal,2025,400,usgs", "USA,metal,2025,400"),),
    ),
    Case(
        "csv_cell_past_the_csv_field_limit",
        "inputs/demand.csv",
        "demand",
        "CSV syntax error: field larger than field limit (131072)",
        line=3,
        edits=((DEMAND, "USA,metal,2035,800", "USA,metal,2035," + "8" * 200_000),),
        problems=None,  # the rows after it are read on; whatever they hold is listed too
    ),
    Case(
        "csv_header_past_the_csv_field_limit",
        "inputs/demand.csv",
        "demand",
        "CSV syntax error in the header: field larger than field limit (131072)",
        line=1,
        writes=((DEMAND, "region,commodity,year," + "v" * 200_000 + "\nUSA,metal,2025,400\n"),),
    ),
    # -- ids: defined twice in the base, their spelling and length (issue 10) ------------------
    Case(
        "duplicate_commodity_in_two_included_files",
        "inputs/extra.yaml",
        "commodities.ore",
        "commodity 'ore' is defined twice: at inputs/parts.yaml:6 and at inputs/extra.yaml:3. "
        "Included files add elements; they never override each other. Fix: keep one of the two "
        "definitions",
        line=3,
        edits=((BASE, "include: [parts.yaml]", "include: [parts.yaml, extra.yaml]"),),
        writes=(("extra.yaml", "# More commodities.\ncommodities:\n  ore: {name: Ore again}\n"),),
    ),
    Case(
        "duplicate_facility_in_an_include_and_beside_it",
        "inputs/base.yaml",
        "facilities.can_mine",
        "facility 'can_mine' is defined twice: at inputs/more.yaml:2 and at inputs/base.yaml:11.",
        line="  can_mine:",
        edits=((BASE, "include: [parts.yaml]", "include: [parts.yaml, more.yaml]"),),
        writes=(("more.yaml", "facilities:\n  can_mine: {region: CAN, process: mining}\n"),),
    ),
    Case(
        "id_that_starts_with_a_digit",
        "inputs/base.yaml",
        "facilities.2nd_refinery",
        "'2nd_refinery' is not a valid id: ids are letters, digits, `_` and `-`, starting with a "
        "letter, at most 64 characters; e.g. `wicheeda_mine`. Fix: rename it, e.g. to "
        "'id_2nd_refinery'.",
        line="  2nd_refinery:",
        edits=((BASE, "  chn_refinery:", "  2nd_refinery:"),),
    ),
    Case(
        "reference_that_is_not_an_id",
        "inputs/base.yaml",
        "facilities.can_mine.region",
        "'Can ada' is not a valid id: ids are letters, digits, `_` and `-`, starting with a "
        "letter, at most 64 characters; e.g. `wicheeda_mine`. Fix: write a valid id, e.g. "
        "'Can_ada'.",
        line="region: Can ada",
        edits=((BASE, "region: CAN\n    process: mining", "region: Can ada\n    process: mining"),),
    ),
    Case(
        "id_of_100_characters",
        "inputs/base.yaml",
        "facilities." + "m" * 20 + "...(100 characters)",
        "this id is 100 characters long; ids are letters, digits, `_` and `-`, starting with a "
        "letter, at most 64 characters; e.g. `wicheeda_mine`. Fix: rename it, e.g. to '"
        + "m" * 64
        + "' (at most 64 characters).",
        line="m" * 100,
        edits=((BASE, "  chn_mine:", "  " + "m" * 100 + ":"),),
    ),
    Case(
        # PyYAML cannot read a key over 1,024 characters; it used to say only "mapping values
        # are not allowed here". The key is on the line of chn_mine, line 23 of base.yaml.
        "id_of_5000_characters",
        "inputs/base.yaml",
        "facilities." + "m" * 20 + "...(5,000 characters)",
        "this key is 5,000 characters long; ids are letters, digits, `_` and `-`, starting with a "
        "letter, at most 64 characters; e.g. `wicheeda_mine`.",
        line=23,
        edits=((BASE, "  chn_mine:", "  " + "m" * 5000 + ":"),),
    ),
    Case(
        "id_of_5000_characters_in_a_flow_map",
        "inputs/scenarios/slow_mine.yaml",
        "facilities." + "m" * 20 + "...(5,000 characters)",
        "this key is 5,000 characters long",
        line=5,
        edits=((SCENARIO, APPEND, "facilities: {" + "m" * 5000 + ": {region: CAN}}\n"),),
        args=("--scenario", "inputs/scenarios/slow_mine.yaml"),
    ),
    Case(
        # A long value holding ": " is a plain YAML syntax error, not a long key.
        "long_value_with_a_colon",
        "inputs/base.yaml",
        "(top level)",
        "YAML syntax error: mapping values are not allowed here",
        line=2,
        edits=((BASE, "description: Minimal", "description: " + "x" * 1100 + ": Minimal"),),
        absent="characters long",
    ),
    # -- overlays: a scenario or --set changes ids; a new one must be complete (issue 10) -------
    Case(
        "scenario_mistyped_budget_id",
        "inputs/scenarios/slow_mine.yaml",
        "budgets.canada_public_capitl",
        "'canada_public_capitl' is not an existing budget id; did you mean "
        "'canada_public_capital'? Fix: to add a new budget, give all of its required keys "
        "(per_year or total, and payer, facilities or regions); missing: payer, facilities or "
        "regions.",
        line="canada_public_capitl",
        edits=(
            (
                BASE,
                APPEND,
                "budgets:\n  canada_public_capital:\n    regions: [CAN]\n    total: 100\n",
            ),
            (SCENARIO, APPEND, "budgets:\n  canada_public_capitl: {total: 10000}\n"),
        ),
        args=("--scenario", "inputs/scenarios/slow_mine.yaml"),
    ),
    Case(
        "scenario_new_budget_over_the_whole_world",
        "inputs/scenarios/slow_mine.yaml",
        "budgets.world_fund",
        "'world_fund' is not an existing budget id. Fix: to add a new budget, give all of its "
        "required keys (per_year or total, and payer, facilities or regions); missing: payer, "
        "facilities or regions.",
        line="world_fund",
        edits=((SCENARIO, APPEND, "budgets:\n  world_fund: {total: 500}\n"),),
        args=("--scenario", "inputs/scenarios/slow_mine.yaml"),
    ),
    Case(
        "scenario_new_tariff_on_every_lane",
        "inputs/scenarios/slow_mine.yaml",
        "trade.tariffs.duty",
        "'duty' is not an existing tariff id. Fix: to add a new tariff, give all of its required "
        "keys (origins, destinations or commodities); missing: origins, destinations or "
        "commodities.",
        line="duty:",
        edits=((SCENARIO, APPEND, "trade:\n  tariffs:\n    duty: {per_tonne: 0.5}\n"),),
        args=("--scenario", "inputs/scenarios/slow_mine.yaml"),
    ),
    Case(
        "scenario_new_rule_left_incomplete",
        "inputs/scenarios/slow_mine.yaml",
        "independence.clean_metal",
        "'clean_metal' is not an existing independence rule id. Fix: to add a new independence "
        "rule, give all of its required keys (kind, regions, commodity, share); missing: "
        "regions, commodity.",
        line="clean_metal:",
        edits=(
            (
                SCENARIO,
                APPEND,
                "independence:\n  clean_metal: {kind: min_clean_share, share: 0.5}\n",
            ),
        ),
        args=("--scenario", "inputs/scenarios/slow_mine.yaml"),
    ),
    Case(
        "set_mistyped_facility_id",
        "--set facilities.can_mien.variable_cost=0.1",
        "facilities.can_mien",
        "'can_mien' is not an existing facility id; did you mean 'can_mine'?",
        args=("--set", "facilities.can_mien.variable_cost=0.1"),
    ),
    Case(
        # It used to be reported at base.yaml's `facilities:` line.
        "set_new_facility_reported_at_the_set",
        "--set facilities.x.lead_time=abc",
        "facilities.x",
        "'x' is not an existing facility id. Fix: to add a new facility, give all of its "
        "required keys (region, process); missing: region, process.",
        args=("--set", "facilities.x.lead_time=abc"),
    ),
    Case(
        # It used to be reported at the line of can_mine's old `process:` in base.yaml.
        "set_replacing_an_element_reported_at_the_set",
        "--set facilities.can_mine={region: CAN}",
        "facilities.can_mine.process",
        "required key is missing. Fix: add `process:`.",
        args=("--set", "facilities.can_mine={region: CAN}"),
    ),
    Case(
        "set_new_region_with_a_bad_value",
        "--set regions.NOR={name: Norway, bloc: 5}",
        "regions.NOR.bloc",
        "Input should be a valid string",
        args=("--set", "regions.NOR={name: Norway, bloc: 5}"),
    ),
    Case(
        # A scenario's CSV over the base's: it used to be reported at demand.csv:2 (the base's
        # first USA,metal row).
        "scenario_csv_error_reported_in_the_scenario_csv",
        "inputs/high.csv",
        "demand.USA.metal",
        "year 2030: expected t/yr, found 4e+15, which is absurdly large",
        line=3,
        edits=((SCENARIO, APPEND, "demand:\n  include: ../high.csv\n"),),
        writes=(
            ("high.csv", "region,commodity,year,value\nCAN,metal,2025,90\nUSA,metal,2030,4e15\n"),
        ),
        args=("--scenario", "inputs/scenarios/slow_mine.yaml"),
    ),
]


# Several problems at once: every one is reported, each with its own file, line and key.
MULTI = [
    Case(
        "three_schema_problems_in_one_file",
        "inputs/base.yaml",
        "discount_rate",
        "expected a rate, found 'five percent'",
        line="discount_rate:",
        edits=(
            (BASE, "discount_rate: 0.05", "discount_rate: five percent"),
            (BASE, "existing: 300", "existing: -300"),
            (
                BASE,
                "lifetime: 25, lead_time: 5}\n  can_refinery",
                "lifetime: 25, lead_tme: 5}\n  can_refinery",
            ),
        ),
        problems=3,
        command="validate",
        also=(
            "inputs/base.yaml:20: facilities.can_refinery.existing: expected t/yr >= 0",
            "inputs/base.yaml:16: facilities.can_mine.expansion.lead_tme: unknown key 'lead_tme'",
        ),
    ),
    Case(
        "three_reference_problems_in_three_files",
        "inputs/base.yaml",
        "facilities.can_mine.region",
        "unknown region 'CAM'",
        line="region: CAM",
        edits=(
            (BASE, "region: CAN\n    process: mining", "region: CAM\n    process: mining"),
            (PARTS, "output: ore}", "output: oar}"),
            (DEMAND, "usgs;guess", "usgs;gues"),
        ),
        problems=3,
        also=(
            "inputs/parts.yaml:9: processes.mining.output: unknown commodity 'oar'",
            "inputs/demand.csv:3: demand.USA.metal.2035.source: unknown source 'gues'",
        ),
    ),
    Case(
        "three_reading_problems_in_three_files",
        "inputs/parts.yaml",
        "(top level)",
        "file starts with a UTF-8 byte-order mark",
        line=1,
        edits=(
            (PARTS, "# Sources", "\ufeff# Sources"),
            (
                BASE,
                "    variable_cost: 0.002\n",
                "    variable_cost: 0.002\n    variable_cost: 1\n",
            ),
            (DEMAND, "USA,metal,2025,400,usgs", "USA,metal,2025,lots,usgs"),
        ),
        problems=3,
        also=(
            "inputs/base.yaml:16: facilities.can_mine.variable_cost: duplicate key",
            "inputs/demand.csv:2: demand.USA.metal.2025: column 'value' must be a finite number",
        ),
    ),
    Case(
        "validate_command_reports_the_same_way",
        "inputs/base.yaml",
        "facilities.can_mine.expansion.lead_tme",
        "did you mean 'lead_time'?",
        line="capex: 0.02",
        edits=(
            (
                BASE,
                "lifetime: 25, lead_time: 5}\n  can_refinery",
                "lifetime: 25, lead_tme: 5}\n  can_refinery",
            ),
        ),
        command="validate",
    ),
]


def make_inputs(root: Path, case: Case) -> Path:
    """Copy the minimal model to root/inputs and apply the case's edits and writes."""
    inputs = root / "inputs"
    shutil.copytree(MINIMAL, inputs)
    for name, old, new in case.edits:
        path = inputs / name
        text = path.read_bytes()
        old_b = old.encode() if isinstance(old, str) else old
        new_b = new.encode() if isinstance(new, str) else new
        new_b = new_b.replace(b"{inputs}", str(inputs).encode())
        if old == APPEND:
            text += new_b
        else:
            assert text.count(old_b) == 1, f"{old!r} must occur once in {name}"
            text = text.replace(old_b, new_b)
        path.write_bytes(text)
    for name, content in case.writes:
        data = content.encode() if isinstance(content, str) else content
        (inputs / name).write_bytes(data)
    for link, target in case.links:
        (inputs / link).symlink_to(target)
    return inputs


def expected_prefix(case: Case, inputs: Path) -> str:
    """`<file>:<line>: <key>: ` as the CLI prints it, with the line found in the edited file."""
    where = case.file
    if case.line is not None:
        if isinstance(case.line, int):
            number = case.line
        else:
            needle = case.line.encode() if isinstance(case.line, str) else case.line
            lines = (inputs / case.file.removeprefix("inputs/")).read_bytes().split(b"\n")
            hits = [i for i, text in enumerate(lines, start=1) if needle in text]
            assert len(hits) == 1, f"{case.line!r} must be on exactly one line of {case.file}"
            number = hits[0]
        where += f":{number}"
    return f"{where}: {case.key}: "


@dataclass
class Outcome:
    root: Path
    inputs: Path
    out: Path
    proc: subprocess.CompletedProcess


PREVIOUS = "previous-run"  # a run folder from an earlier solve, which bad input must not touch


def run_case(case: Case, root: Path) -> Outcome:
    """Build the case's inputs under root and run the CLI on them in a fresh process."""
    inputs = make_inputs(root, case)
    out = root / "out" / "run"
    previous = root / "out" / PREVIOUS
    previous.mkdir(parents=True)
    (previous / "summary.json").write_text('{"status": "optimal"}\n')
    argv = [case.command, "inputs/base.yaml", *case.args]
    if case.command == "solve":
        argv += ["--out", str(out)]
    proc = run_cli(*argv, cwd=root)
    return Outcome(root, inputs, out, proc)


def check_rejected(case: Case, outcome: Outcome) -> list[str]:
    """The checks every bad input must pass; returns the printed issue lines."""
    proc = outcome.proc
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output
    assert "Traceback" not in output
    written = sorted(p.name for p in outcome.out.parent.iterdir())
    assert written == [PREVIOUS], f"invalid input wrote {written}"
    previous = outcome.out.parent / PREVIOUS
    assert [p.name for p in previous.iterdir()] == ["summary.json"]
    assert (previous / "summary.json").read_text() == '{"status": "optimal"}\n'
    assert {p.name for p in outcome.root.iterdir()} <= {"inputs", "outside.yaml", "out"}
    header, *issues = proc.stderr.splitlines()
    assert header.startswith("error: invalid input"), proc.stderr
    if case.problems is not None:
        assert f"({case.problems} problem(s))" in header, proc.stderr
        assert len(issues) == case.problems, proc.stderr
    assert all(line.startswith("  ") for line in issues), "one issue per line"
    prefix = expected_prefix(case, outcome.inputs)
    matching = [line.strip() for line in issues if line.strip().startswith(prefix)]
    assert matching, f"no issue starts with {prefix!r}:\n{proc.stderr}"
    assert any(case.says in line for line in matching), proc.stderr
    for expected in case.also:
        assert any(line.strip().startswith(expected) for line in issues), proc.stderr
    if case.absent is not None:
        assert case.absent not in proc.stderr
    if case.command == "validate":
        assert proc.stdout == ""
    return issues


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input_is_rejected_cleanly(case: Case, tmp_path: Path):
    check_rejected(case, run_case(case, tmp_path))


@pytest.mark.parametrize("case", MULTI, ids=lambda c: c.id)
def test_every_problem_is_reported_at_once(case: Case, tmp_path: Path):
    check_rejected(case, run_case(case, tmp_path))


def test_there_are_enough_cases():
    assert len(CASES) + len(MULTI) >= 60
    assert len({c.id for c in CASES + MULTI}) == len(CASES + MULTI)


def test_minimal_model_is_valid(tmp_path: Path):
    """The base of every case: without a change it validates, so each case has one problem."""
    make_inputs(tmp_path, Case("valid", "", "", ""))
    proc = run_cli(
        "validate",
        "inputs/base.yaml",
        "--scenario",
        "inputs/scenarios/slow_mine.yaml",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "ok: inputs/base.yaml is valid" in proc.stdout
    assert proc.stderr == ""  # not even a network warning


def test_failed_run_leaves_previous_results_untouched(tmp_path: Path):
    """Invalid input never touches an existing run folder."""
    case = next(c for c in CASES if c.id == "negative_capacity")
    make_inputs(tmp_path, case)
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}\n")
    proc = run_cli("solve", "inputs/base.yaml", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    assert [p.name for p in out.iterdir()] == ["summary.json"]
    assert (out / "summary.json").read_text() == "{}\n"
