"""The load stage: includes, CSV tables, `{value:, source:}` wrappers, scenarios, `--set`,
YAML 1.2 scalars, origins (file and line of every key), and year-map interpolation."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from allycap.data import interpolate, prepare
from allycap.errors import InputError
from allycap.inputs.load import Origin, deep_merge, load_inputs, parse_override
from allycap.inputs.validate import validate

REPO = Path(__file__).resolve().parents[1]
MINIMAL = Path(__file__).parent / "bad_inputs" / "minimal"
DEFAULT = REPO / "inputs" / "base.yaml"


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """A writable copy of the minimal valid model in tmp_path/inputs."""
    target = tmp_path / "inputs"
    shutil.copytree(MINIMAL, target)
    return target


def line_of(path: Path, needle: str) -> int:
    hits = [i for i, t in enumerate(path.read_text().splitlines(), start=1) if needle in t]
    assert len(hits) == 1, f"{needle!r} must be on exactly one line of {path}"
    return hits[0]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} must occur once in {path}"
    path.write_text(text.replace(old, new))


# -- includes ------------------------------------------------------------------------------


def test_include_reads_files_inside_the_inputs_folder(inputs: Path):
    raw = load_inputs(inputs / "base.yaml")
    assert set(raw.data["sources"]) == {"usgs", "guess"}
    assert set(raw.data["processes"]) == {"mining", "refining"}
    assert raw.data["processes"]["refining"]["inputs"] == {"ore": 2.0}
    assert raw.origins[("processes", "refining")] == Origin(
        "inputs/parts.yaml", line_of(inputs / "parts.yaml", "refining:")
    )
    assert set(raw.files) == {"inputs/base.yaml", "inputs/parts.yaml", "inputs/demand.csv"}
    assert raw.root == inputs.resolve()


def test_include_from_subfolders_and_back_up_inside_the_folder(inputs: Path):
    """Paths are relative to the including file; `..` is fine while it stays inside."""
    (inputs / "parts.yaml").rename(inputs / "chain.yaml")
    (inputs / "sub").mkdir()
    (inputs / "sub" / "index.yaml").write_text("include: [../chain.yaml, tables/more.yaml]\n")
    (inputs / "sub" / "tables").mkdir()
    (inputs / "sub" / "tables" / "more.yaml").write_text("options: {unmet_penalty: 20.0}\n")
    (inputs / "sub" / "tables" / "demand.csv").write_bytes((inputs / "demand.csv").read_bytes())
    (inputs / "demand.csv").unlink()
    edit(inputs / "base.yaml", "include: [parts.yaml]", "include: sub/index.yaml")
    edit(inputs / "base.yaml", "include: demand.csv", "include: sub/tables/demand.csv")
    edit(inputs / "base.yaml", "options:\n  unmet_penalty: 10.0\n", "")

    raw = load_inputs(inputs / "base.yaml")
    assert set(raw.data["commodities"]) == {"ore", "metal"}
    assert raw.data["options"] == {"unmet_penalty": 20.0}
    assert raw.data["demand"]["USA"]["metal"][2035] == 800.0
    assert raw.origins[("options", "unmet_penalty")].file == "inputs/sub/tables/more.yaml"
    assert "inputs/sub/tables/demand.csv" in raw.files
    validate(raw)


def test_keys_beside_include_win_over_included_ones(inputs: Path):
    (inputs / "defaults.yaml").write_text(
        "discount_rate: 0.09\noptions: {unmet_penalty: 99.0, strict: true}\n"
    )
    edit(inputs / "base.yaml", "include: [parts.yaml]", "include: [defaults.yaml, parts.yaml]")
    raw = load_inputs(inputs / "base.yaml")
    assert raw.data["discount_rate"] == 0.05  # written beside include:
    assert raw.data["options"] == {"unmet_penalty": 10.0, "strict": True}  # merged key by key
    assert raw.origins[("discount_rate",)].file == "inputs/base.yaml"
    assert raw.origins[("options", "strict")].file == "inputs/defaults.yaml"


def test_later_include_wins_over_earlier(inputs: Path):
    (inputs / "a.yaml").write_text("options: {unmet_penalty: 1.0, retag_cost: 0.5}\n")
    (inputs / "b.yaml").write_text("options: {unmet_penalty: 2.0}\n")
    edit(inputs / "base.yaml", "options:\n  unmet_penalty: 10.0\n", "")
    edit(inputs / "base.yaml", "include: [parts.yaml]", "include: [parts.yaml, a.yaml, b.yaml]")
    raw = load_inputs(inputs / "base.yaml")
    assert raw.data["options"] == {"unmet_penalty": 2.0, "retag_cost": 0.5}


def test_include_outside_the_folder_is_refused_even_via_symlink(inputs: Path, tmp_path: Path):
    (tmp_path / "secret.yaml").write_text("options: {strict: true}\n")
    (inputs / "link.yaml").symlink_to(tmp_path / "secret.yaml")
    edit(inputs / "base.yaml", "include: [parts.yaml]", "include: [parts.yaml, link.yaml]")
    with pytest.raises(InputError) as err:
        load_inputs(inputs / "base.yaml")
    (issue,) = err.value.issues
    assert "leads outside the inputs folder" in issue.message
    assert issue.path == ("include",)
    assert (issue.file, issue.line) == ("inputs/base.yaml", line_of(inputs / "base.yaml", "link"))


# -- CSV tables ------------------------------------------------------------------------------


def test_csv_rows_nest_by_key_columns_with_int_years(inputs: Path):
    raw = load_inputs(inputs / "base.yaml")
    assert raw.data["demand"] == {
        "USA": {"metal": {2025: 400.0, 2035: 800.0}},
        "CAN": {"metal": {2025: 100.0}},
    }
    years = list(raw.data["demand"]["USA"]["metal"])
    assert all(type(y) is int for y in years)


def test_csv_source_column_is_optional_and_split_on_semicolons(inputs: Path):
    raw = load_inputs(inputs / "base.yaml")
    assert raw.cited[("demand", "USA", "metal", 2025)] == ["usgs"]
    assert raw.cited[("demand", "USA", "metal", 2035)] == ["usgs", "guess"]
    assert ("demand", "CAN", "metal", 2025) not in raw.cited  # empty source cell

    (inputs / "demand.csv").write_text(
        "region,commodity,year,value\nUSA,metal,2025,400\nUSA,metal,2035,800\n"
    )
    plain = load_inputs(inputs / "base.yaml")
    assert plain.data["demand"] == {"USA": {"metal": {2025: 400.0, 2035: 800.0}}}
    assert not [p for p in plain.cited if p[0] == "demand"]


def test_csv_with_one_key_column(inputs: Path):
    (inputs / "freight.csv").write_text("commodity,value,source\nore,0.001,guess\nmetal,2e-3,\n")
    edit(
        inputs / "base.yaml",
        "  transport_cost:\n    ore: 0.001\n    metal: 0.001\n",
        "  transport_cost:\n    include: freight.csv\n",
    )
    raw = load_inputs(inputs / "base.yaml")
    assert raw.data["trade"]["transport_cost"] == {"ore": 0.001, "metal": 0.002}
    assert raw.cited[("trade", "transport_cost", "ore")] == ["guess"]
    assert raw.origins[("trade", "transport_cost", "metal")] == Origin("inputs/freight.csv", 3)
    assert validate(raw).trade.transport_cost == {"ore": 0.001, "metal": 0.002}


def test_csv_tolerates_blank_lines_and_spaces(inputs: Path):
    (inputs / "demand.csv").write_text(
        "region, commodity, year, value, source\n\nUSA, metal, 2025, 400 , usgs\n,,,,\n"
    )
    raw = load_inputs(inputs / "base.yaml")
    assert raw.data["demand"] == {"USA": {"metal": {2025: 400.0}}}
    assert raw.cited[("demand", "USA", "metal", 2025)] == ["usgs"]


# -- {value:, source:} wrappers ------------------------------------------------------------------


def test_value_source_wrappers_are_unwrapped_and_cited(inputs: Path):
    raw = load_inputs(inputs / "base.yaml")
    assert raw.data["facilities"]["can_mine"]["existing"] == 1000
    assert raw.data["commodities"]["metal"]["price"] == 0.05
    assert raw.cited[("facilities", "can_mine", "existing")] == ["usgs"]
    assert raw.cited[("commodities", "metal", "price")] == ["usgs"]


def test_wrapper_forms(inputs: Path):
    edit(
        inputs / "base.yaml",
        "    existing: 300\n",
        "    existing: {value: {2025: 300, 2035: 900}, source: [usgs, guess], note: ramp}\n",
    )
    edit(inputs / "base.yaml", "variable_cost: 0.005", "variable_cost: {value: 0.004, note: x}")
    with pytest.raises(InputError) as err:
        load_inputs_and_validate(inputs)
    # {value:, note:} without source is not a wrapper: it stays a map and fails validation.
    (issue,) = err.value.issues
    assert issue.path[:3] == ("facilities", "chn_refinery", "variable_cost")

    edit(inputs / "base.yaml", "variable_cost: {value: 0.004, note: x}", "variable_cost: 0.004")
    raw = load_inputs(inputs / "base.yaml")
    assert raw.data["facilities"]["can_refinery"]["existing"] == {2025: 300, 2035: 900}
    assert raw.cited[("facilities", "can_refinery", "existing")] == ["usgs", "guess"]
    validate(raw)


def test_wrapper_with_extra_keys_is_a_plain_map(inputs: Path):
    edit(inputs / "base.yaml", "existing: 300", "existing: {value: 300, source: usgs, unit: t}")
    raw = load_inputs(inputs / "base.yaml")
    assert raw.data["facilities"]["can_refinery"]["existing"] == {
        "value": 300,
        "source": "usgs",
        "unit": "t",
    }
    assert ("facilities", "can_refinery", "existing") not in raw.cited


def load_inputs_and_validate(folder: Path, *args):
    return validate(load_inputs(folder / "base.yaml", *args))


# -- scenarios and --set -----------------------------------------------------------------------


def write_scenario(inputs: Path, name: str, text: str) -> Path:
    path = inputs / "scenarios" / f"{name}.yaml"
    path.write_text(text)
    return path


def test_scenarios_deep_merge_in_order_later_wins(inputs: Path):
    first = write_scenario(
        inputs,
        "first",
        "discount_rate: 0.06\nfacilities:\n  can_mine:\n    expansion: {lead_time: 5}\n",
    )
    second = write_scenario(
        inputs, "second", "facilities:\n  can_mine:\n    expansion:\n      lead_time: 7\n"
    )
    raw = load_inputs(inputs / "base.yaml", [first, second])
    expansion = raw.data["facilities"]["can_mine"]["expansion"]
    assert expansion == {"capex": 0.02, "lifetime": 25, "lead_time": 7}  # siblings kept
    assert raw.data["facilities"]["can_mine"]["region"] == "CAN"
    assert raw.data["discount_rate"] == 0.06
    assert raw.scenarios == ["first", "second"]
    assert raw.origins[("facilities", "can_mine", "expansion", "lead_time")] == Origin(
        "inputs/scenarios/second.yaml", 4
    )
    assert raw.origins[("facilities", "can_mine", "expansion", "capex")].file == "inputs/base.yaml"

    swapped = load_inputs(inputs / "base.yaml", [second, first])
    assert swapped.data["facilities"]["can_mine"]["expansion"]["lead_time"] == 5


def test_scenario_replaces_lists_and_year_maps_key_by_key(inputs: Path):
    scenario = write_scenario(
        inputs,
        "more",
        "demand:\n  USA:\n    metal: {2030: 650}\n"
        "facilities:\n  can_refinery:\n    existing: {2030: 600}\n",
    )
    raw = load_inputs(inputs / "base.yaml", [scenario])
    # maps merge: the scenario adds a 2030 point and keeps the CSV's 2025 and 2035 points
    assert raw.data["demand"]["USA"]["metal"] == {2025: 400.0, 2035: 800.0, 2030: 650}
    # a scalar replaced by a map is replaced whole
    assert raw.data["facilities"]["can_refinery"]["existing"] == {2030: 600}


def test_set_is_applied_last_with_int_year_keys(inputs: Path):
    scenario = write_scenario(inputs, "rate", "discount_rate: 0.06\n")
    raw = load_inputs(
        inputs / "base.yaml",
        [scenario],
        ["discount_rate=0.08", "demand.USA.metal.2030=500", "options.strict=true"],
    )
    assert raw.data["discount_rate"] == 0.08
    metal = raw.data["demand"]["USA"]["metal"]
    assert metal == {2025: 400.0, 2030: 500, 2035: 800.0}
    assert 2030 in metal and "2030" not in metal
    assert raw.data["options"] == {"unmet_penalty": 10.0, "strict": True}
    assert raw.overrides == [
        "discount_rate=0.08",
        "demand.USA.metal.2030=500",
        "options.strict=true",
    ]
    assert raw.origins[("demand", "USA", "metal", 2030)] == Origin(
        "--set demand.USA.metal.2030=500", None
    )

    data = prepare(validate(raw))
    assert data.demand[("USA", "metal", 2030)] == 500  # the new point, not 600 interpolated
    assert data.strict is True


def test_set_creates_missing_maps(inputs: Path):
    raw = load_inputs(inputs / "base.yaml", None, ["facilities.chn_mine.availability.2035=0.5"])
    assert raw.data["facilities"]["chn_mine"]["availability"] == {2035: 0.5}
    data = prepare(validate(raw))
    assert [data.availability[("chn_mine", y)] for y in (2025, 2030, 2035)] == [0.5, 0.5, 0.5]


def test_scenario_csv_takes_over_the_lines_of_the_keys_it_sets(inputs: Path):
    """A scenario's CSV under the base's table: the key prefixes it names (demand.USA,
    demand.USA.metal) point at its own rows, so its problems are reported there."""
    (inputs / "high.csv").write_text("region,commodity,year,value\nUSA,metal,2030,650\n")
    scenario = write_scenario(inputs, "high", "demand:\n  include: ../high.csv\n")
    raw = load_inputs(inputs / "base.yaml", [scenario])
    assert raw.origins[("demand", "USA")] == Origin("inputs/high.csv", 2)
    assert raw.origins[("demand", "USA", "metal")] == Origin("inputs/high.csv", 2)
    assert raw.origins[("demand", "USA", "metal", 2030)] == Origin("inputs/high.csv", 2)
    assert raw.origins[("demand", "USA", "metal", 2025)] == Origin("inputs/demand.csv", 2)
    assert raw.origins[("demand", "CAN")] == Origin("inputs/demand.csv", 4)


def test_set_owns_the_maps_it_creates_and_the_values_it_replaces(inputs: Path):
    made = "facilities.usa_mine.expansion.lead_time=5"
    replaced = "facilities.can_mine={region: CAN, process: mining}"
    raw = load_inputs(inputs / "base.yaml", None, [made, replaced])
    assert raw.origins[("facilities", "usa_mine")] == Origin(f"--set {made}", None)
    assert raw.origins[("facilities", "usa_mine", "expansion")] == Origin(f"--set {made}", None)
    # can_mine's old keys (existing, expansion ...) were in base.yaml; they are gone
    assert raw.locate(("facilities", "can_mine", "expansion")) == Origin(f"--set {replaced}", None)
    assert ("facilities", "can_mine", "existing") not in raw.cited


def test_added_lists_the_elements_each_overlay_adds(inputs: Path):
    scenario = write_scenario(
        inputs,
        "grow",
        "facilities:\n  can_mine: {variable_cost: 0.003}\n"
        "  usa_mine: {region: USA, process: mining}\n"
        "budgets:\n  usa_fund: {payer: USA, total: 5}\n",
    )
    raw = load_inputs(
        inputs / "base.yaml",
        [scenario],
        ["facilities.usa_mine.existing=10", "budgets.can_fund={regions: [CAN], total: 9}"],
    )
    assert raw.added == {
        ("facilities", "usa_mine"): Origin("inputs/scenarios/grow.yaml", 3),
        ("budgets", "usa_fund"): Origin("inputs/scenarios/grow.yaml", 5),
        ("budgets", "can_fund"): Origin("--set budgets.can_fund={regions: [CAN], total: 9}", None),
    }
    validate(raw)
    assert load_inputs(inputs / "base.yaml").added == {}  # the base adds nothing: it defines


def test_an_id_defined_in_two_included_files_is_an_error(inputs: Path):
    (inputs / "more.yaml").write_text("processes:\n  mining: {stage: extraction, output: ore}\n")
    edit(inputs / "base.yaml", "include: [parts.yaml]", "include: [parts.yaml, more.yaml]")
    with pytest.raises(InputError) as err:
        load_inputs(inputs / "base.yaml")
    (issue,) = err.value.issues
    first = line_of(inputs / "parts.yaml", "mining:")
    assert (issue.file, issue.line, issue.path) == ("inputs/more.yaml", 2, ("processes", "mining"))
    assert f"at inputs/parts.yaml:{first} and at inputs/more.yaml:2" in issue.message


def test_keys_beside_include_still_merge_into_non_id_maps(inputs: Path):
    """Only element ids are checked: options written in two files merge as before."""
    (inputs / "defaults.yaml").write_text("options: {unmet_penalty: 99.0, strict: true}\n")
    edit(inputs / "base.yaml", "include: [parts.yaml]", "include: [defaults.yaml, parts.yaml]")
    assert load_inputs(inputs / "base.yaml").data["options"] == {
        "unmet_penalty": 10.0,
        "strict": True,
    }


def test_parse_override():
    assert parse_override("demand.USA.magnet.2030=500") == (("demand", "USA", "magnet", 2030), 500)
    assert parse_override("discount_rate=0.05") == (("discount_rate",), 0.05)
    assert parse_override("regions.NO.bloc=allied") == (("regions", "NO", "bloc"), "allied")
    assert parse_override("options.strict=true") == (("options", "strict"), True)
    assert parse_override("x=1e6") == (("x",), 1e6)
    assert parse_override("x=[CHN, ROW]") == (("x",), ["CHN", "ROW"])
    assert parse_override(" x . y = NO ") == (("x", "y"), "NO")
    assert parse_override("x=") == (("x",), None)
    for bad in ("x", "=1", "a..b=1", "x=[1"):
        with pytest.raises(InputError):
            parse_override(bad)


def test_deep_merge():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    over = {"a": {"c": [3], "e": {"f": 2}}, "d": {"g": 1}}
    assert deep_merge(base, over) == {"a": {"b": 1, "c": [3], "e": {"f": 2}}, "d": {"g": 1}}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}  # inputs untouched


# -- YAML 1.2 scalars --------------------------------------------------------------------------


def test_yaml_12_booleans_and_numbers(inputs: Path):
    edit(
        inputs / "base.yaml",
        "  CHN: {name: China, bloc: restricted}\n",
        "  CHN: {name: China, bloc: restricted}\n  NO: {name: Norway, bloc: allied}\n"
        "  ON: {name: Ontario, bloc: allied}\n  Y: {name: Yukon, bloc: 'no'}\n",
    )
    edit(inputs / "base.yaml", "existing: 5000", "existing: 1e6")
    edit(inputs / "base.yaml", "existing: 2000", "existing: 010")
    edit(inputs / "base.yaml", "unmet_penalty: 10.0", "unmet_penalty: 1_000")
    edit(inputs / "base.yaml", "description: Minimal", "description: 1:30 Minimal")
    raw = load_inputs(inputs / "base.yaml", None, ["options.strict=false"])
    regions = raw.data["regions"]
    assert list(regions)[-3:] == ["NO", "ON", "Y"]  # not False, True, True
    assert regions["Y"]["bloc"] == "no"
    assert raw.data["facilities"]["chn_mine"]["existing"] == 1e6
    assert isinstance(raw.data["facilities"]["chn_mine"]["existing"], float)
    assert raw.data["facilities"]["chn_refinery"]["existing"] == 10  # decimal, not octal 8
    assert raw.data["options"] == {"unmet_penalty": 1000, "strict": False}
    assert raw.data["description"].startswith("1:30 ")  # not sexagesimal

    inp = validate(raw)
    assert "NO" in inp.regions and inp.regions["NO"].bloc == "allied"
    assert inp.facilities["chn_mine"].existing == 1_000_000.0


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("NO", "NO"),
        ("no", "no"),
        ("Yes", "Yes"),
        ("on", "on"),
        ("OFF", "OFF"),
        ("true", True),
        ("False", False),
        ("1e6", 1e6),
        ("1E-3", 1e-3),
        ("2.5", 2.5),
        (".5", 0.5),
        ("2030", 2030),
        ("0x1F", 31),
        ("012", 12),
        ("~", None),
    ],
)
def test_yaml_scalar(inputs: Path, text: str, value):
    (inputs / "base.yaml").write_text((inputs / "base.yaml").read_text() + f"probe: {text}\n")
    raw = load_inputs(inputs / "base.yaml")
    assert raw.data["probe"] == value
    assert type(raw.data["probe"]) is type(value)


# -- origins -----------------------------------------------------------------------------------


def test_origins_record_file_and_line():
    raw = load_inputs(MINIMAL / "base.yaml", [MINIMAL / "scenarios" / "slow_mine.yaml"])
    base, parts = MINIMAL / "base.yaml", MINIMAL / "parts.yaml"
    o = raw.origins
    assert o[("discount_rate",)] == Origin("minimal/base.yaml", line_of(base, "discount_rate:"))
    assert o[("facilities", "can_refinery")] == Origin(
        "minimal/base.yaml", line_of(base, "can_refinery:")
    )
    assert o[("horizon", "step")] == Origin("minimal/base.yaml", line_of(base, "horizon:"))
    assert o[("processes", "refining", "inputs", "ore")] == Origin(
        "minimal/parts.yaml", line_of(parts, "inputs: {ore: 2.0}")
    )
    assert o[("demand", "USA", "metal", 2035)] == Origin("minimal/demand.csv", 3)
    assert o[("facilities", "can_mine", "expansion", "lead_time")] == Origin(
        "minimal/scenarios/slow_mine.yaml", 4
    )
    # locate() falls back to the longest recorded prefix
    assert (
        raw.locate(("facilities", "can_refinery", "fixed_om")) == o[("facilities", "can_refinery")]
    )
    assert raw.locate(("demand", "USA", "metal", 2035, "source")) == Origin("minimal/demand.csv", 3)
    assert raw.locate(("nothing", "here")) is None


def test_origins_of_list_items(inputs: Path):
    (inputs / "base.yaml").write_text(
        (inputs / "base.yaml").read_text() + "restricted_origins:\n  - CHN\n  - restricted\n"
    )
    raw = load_inputs(inputs / "base.yaml")
    assert raw.origins[("restricted_origins", 1)] == Origin(
        "inputs/base.yaml", line_of(inputs / "base.yaml", "- restricted")
    )


def test_files_are_hashed(inputs: Path):
    scenario = inputs / "scenarios" / "slow_mine.yaml"
    raw = load_inputs(inputs / "base.yaml", [scenario])
    assert set(raw.files) == {
        "inputs/base.yaml",
        "inputs/parts.yaml",
        "inputs/demand.csv",
        "inputs/scenarios/slow_mine.yaml",
    }
    for shown, digest in raw.files.items():
        path = inputs.parent / shown
        assert digest == hashlib.sha256(path.read_bytes()).hexdigest()


def test_loader_collects_every_problem(inputs: Path):
    edit(inputs / "parts.yaml", "ore: {name: Ore}", "ore: {name: Ore}\n  ore: {name: Ore 2}")
    edit(inputs / "demand.csv", "CAN,metal,2025,100,", "CAN,metal,2025,100,\nCAN,metal,,5,")
    edit(inputs / "base.yaml", "include: [parts.yaml]", "include: [parts.yaml, nope.yaml]")
    with pytest.raises(InputError) as err:
        load_inputs(inputs / "base.yaml")
    found = {(i.file, i.line, i.key()) for i in err.value.issues}
    assert found == {
        ("inputs/parts.yaml", line_of(inputs / "parts.yaml", "Ore 2"), "commodities.ore"),
        ("inputs/demand.csv", 5, "demand"),
        ("inputs/base.yaml", 3, "include"),
    }


# -- year maps -----------------------------------------------------------------------------------


def test_interpolate_linear_between_points_flat_outside():
    years = [2020, 2025, 2027, 2030, 2033, 2035, 2040]
    assert interpolate({2025: 100.0, 2035: 300.0}, years) == {
        2020: 100.0,  # before the first point: held flat
        2025: 100.0,
        2027: 140.0,  # 100 + 200 * 2/10
        2030: 200.0,
        2033: 260.0,  # 100 + 200 * 8/10
        2035: 300.0,
        2040: 300.0,  # after the last point: held flat
    }


def test_interpolate_several_segments_and_unsorted_points():
    years = [2024, 2025, 2026, 2027, 2028, 2030]
    got = interpolate({2028: 10000.0, 2025: 0.0, 2026: 1000.0}, years)
    assert got == {2024: 0.0, 2025: 0.0, 2026: 1000.0, 2027: 5500.0, 2028: 10000.0, 2030: 10000.0}


def test_interpolate_scalars_single_points_and_defaults():
    years = [2025, 2030]
    assert interpolate(3.5, years) == {2025: 3.5, 2030: 3.5}
    assert interpolate({2030: 7.0}, years) == {2025: 7.0, 2030: 7.0}
    assert interpolate(None, years) == {2025: 0.0, 2030: 0.0}
    assert interpolate(None, years, 1.0) == {2025: 1.0, 2030: 1.0}
    assert interpolate({2025: 1.0, 2030: 0.0}, [2026]) == {2026: pytest.approx(0.8)}


def test_prepare_interpolates_the_inputs(inputs: Path):
    data = prepare(load_inputs_and_validate(inputs))
    assert data.years == [2025, 2030, 2035]
    assert data.demand[("USA", "metal", 2030)] == 600.0  # halfway between 400 and 800
    assert [data.demand[("CAN", "metal", y)] for y in data.years] == [100.0, 100.0, 100.0]


def test_prepare_interpolates_the_default_inputs():
    data = prepare(validate(load_inputs(DEFAULT)))
    assert data.years == list(range(2025, 2041))
    # iluka_eneabba_stockpile: {2026: 0, 2027: 1925, 2028: 3850} -> 0 before, flat 3850 after 2028
    got = [data.existing[("iluka_eneabba_stockpile", y)] for y in (2025, 2026, 2027, 2028, 2040)]
    assert got == [0, 0, 1925, 3850, 3850]
    # lynas_mt_weld availability {2025: 0.58, 2027: 0.90}: halfway in 2026, flat after
    assert data.availability[("lynas_mt_weld", 2026)] == pytest.approx(0.74)
    assert data.availability[("lynas_mt_weld", 2040)] == pytest.approx(0.90)
    # demand points fall on model years and are taken as they are
    assert data.demand[("USA", "magnet", 2030)] == 16139.0
    assert data.demand[("CAN", "magnet", 2040)] == 3495.0


# -- the default inputs ----------------------------------------------------------------------------


def test_default_inputs_load_with_citations():
    raw = load_inputs(DEFAULT)
    assert raw.root == (REPO / "inputs").resolve()
    assert set(raw.files) == {
        "inputs/base.yaml",
        "inputs/parts/sources.yaml",
        "inputs/parts/chain.yaml",
        "inputs/parts/facilities.yaml",
        "inputs/parts/candidates.yaml",
        "inputs/parts/trade.yaml",
        "inputs/parts/policy.yaml",
        "inputs/parts/sectors.yaml",
        "inputs/demand.csv",
    }
    assert raw.data["discount_rate"] == 0.07
    assert raw.cited[("discount_rate",)] == ["assumption_policy"]
    assert raw.cited[("demand", "USA", "magnet", 2030)] == [
        "solidwastemag_2020",
        "us_imports_2026",
        "sec232_2022",
    ]
    assert raw.cited[("facilities", "mp_10x", "existing")] == ["mp_dod_2025", "mp_10x_2026"]
    inp = validate(raw)
    assert inp.facilities["mp_10x"].existing == {2027: 0.0, 2028: 4500.0, 2029: 9000.0}
