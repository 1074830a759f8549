"""Overlay rules through the real CLI (issue 10): a scenario or `--set` changes existing ids with
any subset of keys, adds a new element only when it is complete, and gets a warning (exit 0) for
an added region, commodity, process or source that nothing uses. Within one input tree (the base
and its includes, or one scenario and its includes) an id is defined once.

Each test copies the minimal model of tests/bad_inputs/minimal/ to a scratch folder and runs
`allycap validate` in a fresh process; the rejected cases are in tests/test_bad_inputs.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from allycap.errors import InputError
from allycap.inputs.load import load_inputs
from allycap.inputs.network import trace_network
from allycap.inputs.validate import validate

MINIMAL = Path(__file__).parent / "bad_inputs" / "minimal"
REPO = Path(__file__).resolve().parents[1]
_BIN = Path(sys.executable).with_name("allycap")
ALLYCAP = str(_BIN) if _BIN.exists() else (shutil.which("allycap") or "allycap")

# A budget in the base, so that a scenario has one to change (or to misspell).
BUDGET = "budgets:\n  can_fund:\n    regions: [CAN]\n    total: 100\n"


def cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    return subprocess.run(
        [ALLYCAP, "validate", "inputs/base.yaml", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(MINIMAL, tmp_path / "inputs")
    with (tmp_path / "inputs" / "base.yaml").open("a") as f:
        f.write(BUDGET)
    return tmp_path


def scenario(root: Path, name: str, text: str) -> str:
    (root / "inputs" / "scenarios" / f"{name}.yaml").write_text(text)
    return f"inputs/scenarios/{name}.yaml"


def accepted(proc: subprocess.CompletedProcess) -> list[str]:
    """Exit 0, no traceback, the `ok:` line; returns the warning lines."""
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stdout.startswith("ok: inputs/base.yaml is valid"), proc.stdout
    warnings = proc.stderr.splitlines()
    assert all(line.startswith("warning: ") for line in warnings), proc.stderr
    return warnings


def rejected(proc: subprocess.CompletedProcess) -> list[str]:
    """Exit 2, no traceback; returns the issue lines without their indent."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    header, *issues = proc.stderr.splitlines()
    assert header.startswith("error: invalid input"), proc.stderr
    return [line.strip() for line in issues]


# -- changing what exists ---------------------------------------------------------------------


def test_scenario_changes_an_existing_element_with_any_subset_of_keys(root: Path):
    name = scenario(root, "tweak", "budgets:\n  can_fund: {total: 250}\n")
    assert accepted(cli(root, "-s", name)) == []
    raw = load_inputs(root / "inputs" / "base.yaml", [root / name])
    assert raw.data["budgets"]["can_fund"] == {"regions": ["CAN"], "total": 250}
    assert raw.added == {}


def test_set_changes_an_existing_element(root: Path):
    assert accepted(cli(root, "--set", "budgets.can_fund.per_year=20")) == []


# -- adding what is complete ----------------------------------------------------------------


def test_scenario_adds_complete_elements(root: Path):
    name = scenario(
        root,
        "grow",
        "facilities:\n"
        "  usa_mine: {region: USA, process: mining, existing: 100, variable_cost: 0.002}\n"
        "budgets:\n"
        "  usa_fund: {payer: USA, total: 50}\n"
        "trade:\n"
        "  tariffs:\n"
        "    ore_duty: {origins: [CHN], commodities: [ore], per_tonne: 0.001}\n",
    )
    proc = cli(root, "-s", name)
    assert accepted(proc) == []
    assert "5 facilities" in proc.stdout  # the minimal model's 4, and usa_mine


def test_a_new_world_fund_in_a_scenario_names_its_regions(root: Path):
    """A fund over every facility is still possible in a scenario: it lists the blocs."""
    name = scenario(
        root, "fund", "budgets:\n  world: {regions: [allied, restricted], total: 500}\n"
    )
    assert accepted(cli(root, "-s", name)) == []


def test_set_adds_a_complete_element(root: Path):
    proc = cli(root, "--set", "stockpiles.usa_metal={region: USA, commodity: metal}")
    assert accepted(proc) == []


def test_a_later_scenario_changes_what_an_earlier_one_added(root: Path):
    first = scenario(root, "first", "facilities:\n  usa_mine: {region: USA, process: mining}\n")
    second = scenario(root, "second", "facilities:\n  usa_mine: {existing: 50}\n")
    assert accepted(cli(root, "-s", first, "-s", second)) == []
    # alone, the second adds a half facility
    issues = rejected(cli(root, "-s", second))
    assert issues == [
        "inputs/scenarios/second.yaml:2: facilities.usa_mine: 'usa_mine' is not an existing "
        "facility id; did you mean 'can_mine'? Fix: to add a new facility, give all of its "
        "required keys (region, process); missing: region, process."
    ]


def test_every_problem_of_a_half_element_is_one_line(root: Path):
    """The half-made facility lacks region, process and, in its expansion, capex and lifetime;
    one line says what happened instead of four 'required key is missing'."""
    name = scenario(root, "half", "facilities:\n  can_mien:\n    expansion: {lead_time: 5}\n")
    issues = rejected(cli(root, "-s", name))
    assert len(issues) == 1, issues
    assert issues[0].startswith(
        "inputs/scenarios/half.yaml:2: facilities.can_mien: 'can_mien' is not an existing "
        "facility id; did you mean 'can_mine'?"
    )


# -- added but unused: a warning ----------------------------------------------------------------


def test_an_added_commodity_nothing_uses_is_a_warning(root: Path):
    name = scenario(root, "typo", "description: typo\ncommodities:\n  metl: {name: Metal}\n")
    assert accepted(cli(root, "-s", name)) == [
        "warning: inputs/scenarios/typo.yaml:3: commodities.metl: new commodity 'metl' is not "
        "used anywhere in the inputs, so it changes nothing. Fix: did you mean the existing "
        "commodity 'metal'? Otherwise refer to it from a process, facility, demand, trade entry, "
        "rule or stockpile, or remove it."
    ]


def test_an_added_region_nothing_uses_is_a_warning_at_the_set(root: Path):
    warnings = accepted(cli(root, "--set", "regions.NOR={name: Norway, bloc: allied}"))
    assert warnings == [
        "warning: --set regions.NOR={name: Norway, bloc: allied}: regions.NOR: new region 'NOR' "
        "is not used anywhere in the inputs, so it changes nothing. Fix: refer to it from a "
        "facility, demand, stockpile, rule or selector, or remove it."
    ]


def test_an_added_commodity_something_uses_is_no_warning(root: Path):
    name = scenario(
        root,
        "alloy",
        "commodities:\n  alloy: {name: Alloy}\n"
        "stockpiles:\n  usa_alloy: {region: USA, commodity: alloy, initial: 10}\n",
    )
    assert accepted(cli(root, "-s", name)) == []


def test_added_source_process_and_region_used_by_added_elements(root: Path):
    name = scenario(
        root,
        "chain",
        "sources:\n  plan: {title: A plan, kind: assumption}\n"
        "regions:\n  NOR: {name: Norway, bloc: allied}\n"
        "processes:\n  smelting: {stage: metal, output: metal, inputs: {ore: 1.5}}\n"
        "facilities:\n  nor_smelter: {region: NOR, process: smelting, source: plan}\n",
    )
    assert accepted(cli(root, "-s", name)) == []


# -- defined twice within one tree ---------------------------------------------------------------


def test_a_scenario_and_its_include_may_not_both_define_an_id(root: Path):
    scenario(
        root,
        "ban",
        "export_controls:\n  ban: {origins: [CHN], destinations: [USA], commodities: [metal]}\n",
    )
    name = scenario(
        root,
        "both",
        "include: ban.yaml\n"
        "export_controls:\n  ban: {origins: [CHN], destinations: [CAN], commodities: [metal]}\n",
    )
    assert rejected(cli(root, "-s", name)) == [
        "inputs/scenarios/both.yaml:3: export_controls.ban: export control 'ban' is defined "
        "twice: at inputs/scenarios/ban.yaml:2 and at inputs/scenarios/both.yaml:3. Included "
        "files add elements; they never override each other. Fix: keep one of the two "
        "definitions (to change an element for some runs, use a scenario file or --set)."
    ]


def test_two_scenarios_may_each_define_an_id(root: Path):
    """Scenarios override: a second scenario redefining an id is a change, not a duplicate."""
    text = "export_controls:\n  ban: {origins: [CHN], destinations: [USA], commodities: [metal]}\n"
    first, second = scenario(root, "one", text), scenario(root, "two", text)
    assert accepted(cli(root, "-s", first, "-s", second)) == []


def test_a_value_map_entry_defined_in_a_csv_and_beside_it(root: Path):
    inputs = root / "inputs"
    (inputs / "freight.csv").write_text("commodity,value\nore,0.002\n")
    base = inputs / "base.yaml"
    base.write_text(
        base.read_text().replace(
            "  transport_cost:\n    ore: 0.001\n",
            "  transport_cost:\n    include: freight.csv\n    ore: 0.001\n",
        )
    )
    issues = rejected(cli(root))
    assert issues == [
        "inputs/base.yaml:38: trade.transport_cost.ore: transport cost 'ore' is defined twice: "
        "at inputs/freight.csv:2 and at inputs/base.yaml:38. Included files add elements; they "
        "never override each other. Fix: keep one of the two definitions (to change an element "
        "for some runs, use a scenario file or --set)."
    ]


# -- the default inputs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", sorted(p.stem for p in (REPO / "inputs" / "scenarios").glob("*.yaml"))
)
def test_every_default_scenario_passes_the_overlay_rules(name: str):
    """Every default scenario adds only complete elements, all of them used (in-process: the CLI
    path is the same functions, and `allycap check` runs them all)."""
    raw = load_inputs(
        REPO / "inputs" / "base.yaml", [REPO / "inputs" / "scenarios" / f"{name}.yaml"]
    )
    try:
        inputs = validate(raw)
    except InputError as exc:  # pragma: no cover - the message is the point
        pytest.fail(str(exc))
    assert [w.format() for w in trace_network(inputs, raw)] == []
