"""The chain is declared in the inputs: stage ids, order, display names, what each stage makes,
and the headline commodity. A chain with invented stage names (flake -> anode) validates, solves
and reports under its own names through the real CLI; a mistyped stage is a file:line error.

The two-stage model, by hand (2030-2031, discount rate 0, so each year weighs 1): Canada needs
40 t/yr of anode. It can build a mine and an anode plant (at most 30 t/yr) in 2030, each at
capex 0.01 M$ per t/yr over 10 years: an annuity of 0.001 M$ per t/yr per year (1/N at a zero
rate). Canadian anode costs 0.002 + 0.001 + 2 t of flake x (0.001 + 0.001) = 0.007 M$/t;
China's costs 0.01 + 2 x 0.001 + 0.0005 transport = 0.0125 M$/t delivered, so Canada builds its
plant full (30 t/yr, clean: no restricted stage upstream) and a 60 t/yr mine, and imports the
other 10 t from China (not clean). Clean share 30 / 40 = 0.75 each year.
Cost per year: Canadian flake 60 t x 0.001 = 0.06, Canadian anode 30 x 0.002 = 0.06, Chinese
flake 20 x 0.001 = 0.02, Chinese anode 10 x 0.01 = 0.1, transport 10 x 0.0005 = 0.005, capital
(60 + 30) x 0.001 = 0.09: 0.335; two years: 0.67 M$.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from tests.test_cli import allycap, ok

REPO = Path(__file__).resolve().parents[1]

GRAPHITE = """\
description: A two-stage graphite anode chain with its own stage names.
horizon: {start: 2030, end: 2031, step: 1}
discount_rate: 0
regions:
  CAN: {name: Canada, bloc: allied}
  CHN: {name: China, bloc: restricted}
commodities:
  flake: {name: Flake graphite}
  anode: {name: Battery anode material}
chains:
  graphite:
    name: Graphite anode chain
    headline: anode
    stages:
      flake: {name: Flake mining, makes: flake}
      anode: {name: Spheronization and coating, makes: anode}
processes:
  mine: {stage: flake, output: flake}
  spheronize: {stage: anode, output: anode, inputs: {flake: 2.0}}
facilities:
  can_mine:
    region: CAN
    process: mine
    variable_cost: 0.001
    expansion: {capex: 0.01, lifetime: 10}
  can_anode:
    region: CAN
    process: spheronize
    variable_cost: 0.002
    expansion: {capex: 0.01, lifetime: 10, max: 30}
  chn_mine: {region: CHN, process: mine, existing: 500, variable_cost: 0.001}
  chn_anode: {region: CHN, process: spheronize, existing: 100, variable_cost: 0.01}
demand:
  CAN: {anode: 40}
trade:
  transport_cost: {anode: 0.0005}
"""
OBJECTIVE = 2 * (60 * 0.001 + 30 * 0.002 + 20 * 0.001 + 10 * 0.01 + 10 * 0.0005 + 90 * 0.001)
CLEAN_SHARE = 30 / 40


@pytest.fixture(scope="module")
def graphite_run(tmp_path_factory) -> tuple[Path, Path, str]:
    """(inputs folder, run folder, console output) of the graphite chain, solved by the CLI."""
    root = tmp_path_factory.mktemp("graphite")
    (root / "base.yaml").write_text(GRAPHITE, encoding="utf-8")
    ok(allycap("validate", "base.yaml", cwd=root))
    proc = ok(allycap("solve", "base.yaml", "--out", "run", cwd=root))
    return root, root / "run", proc.stdout


def test_two_stage_chain_solves_to_the_hand_figures(graphite_run) -> None:
    _, run, _ = graphite_run
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "optimal"
    assert summary["objective_musd_pv"] == pytest.approx(OBJECTIVE, abs=1e-9)
    [chain] = summary["chains"]
    assert chain["id"] == "graphite" and chain["declared"] is True
    assert chain["headline"] == "anode" and chain["headline_name"] == "Battery anode material"
    assert [(s["id"], s["name"], s["column"]) for s in chain["stages"]] == [
        ("flake", "Flake mining", 0),
        ("anode", "Spheronization and coating", 1),
    ]
    shares = summary["kpis"]["clean_share_by_commodity_region_year"]["anode"]["CAN"]
    assert shares == {"2030": pytest.approx(CLEAN_SHARE), "2031": pytest.approx(CLEAN_SHARE)}


def test_report_uses_the_chain_s_own_names(graphite_run) -> None:
    _, run, _ = graphite_run
    page = (run / "report.html").read_text(encoding="utf-8")
    for text in (
        "Graphite anode chain",
        "Flake mining",
        "Spheronization and coating",
        "Battery anode material",
        "Clean share of Battery anode material (anode) demand",
    ):
        assert text in page, text
    # the Sankey's columns are the chain's stages, then the markets
    assert "Flake mining, Spheronization and coating, Markets (delivered)" in page
    assert not re.search("magnet|separation|metal and alloy", page, re.IGNORECASE)


def test_console_summary_follows_the_chain(graphite_run) -> None:
    """Stage columns in chain order (flake before anode, not alphabetical) with the new
    capacity found by hand, the headline's clean share, and no unmet demand."""
    _, _, out = graphite_run
    header = next(line for line in out.splitlines() if line.startswith("stage"))
    assert header.split() == ["stage", "flake", "anode"]
    assert re.search(r"^CAN\s+60\.0\s+30\.0$", out, re.MULTILINE), out
    assert re.search(r"^anode\s+CAN\s+75%\s+75%$", out, re.MULTILINE), out
    assert "Demand not served (curtailed + unmet): 0 t over all years (0.00% of demand)." in out
    assert "magnet" not in out.lower()


def test_compare_reports_the_headline_clean_share(graphite_run) -> None:
    root, run, _ = graphite_run
    ok(allycap("compare", str(run), "--out", "cmp", cwd=root))
    with open(root / "cmp" / "compare.csv", newline="") as handle:
        got = {(r["kpi"], r["detail"]): r["run"] for r in csv.DictReader(handle)}
    for detail in ("CAN 2030", "CAN 2031", "all 2030", "all 2031"):
        assert float(got["clean_share", detail]) == pytest.approx(CLEAN_SHARE)
    assert float(got["unmet_demand", ""]) == 0.0
    assert float(got["new_capacity", "CAN/flake"]) == pytest.approx(60)
    assert float(got["new_capacity", "CAN/anode"]) == pytest.approx(30)


def test_a_mistyped_stage_is_a_file_line_error_with_a_hint(tmp_path: Path) -> None:
    text = GRAPHITE.replace("{stage: anode, output: anode", "{stage: anod, output: anode")
    (tmp_path / "base.yaml").write_text(text, encoding="utf-8")
    line = text.splitlines().index(
        "  spheronize: {stage: anod, output: anode, inputs: {flake: 2.0}}"
    )
    proc = allycap("validate", "base.yaml", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert (
        f"base.yaml:{line + 1}: processes.spheronize.stage: unknown stage 'anod'. "
        "Fix: did you mean 'anode'?"
    ) in proc.stderr


def test_chain_references_are_checked(tmp_path: Path) -> None:
    """A budget's stage filter, a stage's `makes` and the headline must name declared things."""
    text = GRAPHITE.replace("headline: anode", "headline: flak").replace(
        "flake: {name: Flake mining, makes: flake}", "flake: {name: Flake mining, makes: anode}"
    )
    text += "budgets:\n  fund: {payer: CAN, total: 5, stages: [flakes]}\n"
    (tmp_path / "base.yaml").write_text(text, encoding="utf-8")
    proc = allycap("validate", "base.yaml", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = proc.stderr
    assert "chains.graphite.headline: unknown commodity 'flak'. Fix: did you mean 'flake'?" in err
    assert "chains.graphite.stages.flake.makes: no process of stage 'flake' makes 'anode'" in err
    assert "budgets.fund.stages.0: unknown stage 'flakes'. Fix: did you mean 'flake'?" in err


def test_without_chains_one_chain_is_inferred() -> None:
    """No `chains:`: the stages in order of first appearance among the processes, named after
    their ids, and the headline the demanded commodity made latest in the chain."""
    import yaml

    from allycap.chains import resolve
    from allycap.inputs.schema import Inputs

    data = yaml.safe_load(GRAPHITE)
    del data["chains"]
    [chain] = resolve(Inputs.model_validate(data))
    assert not chain.declared
    assert [(s.id, s.name, s.makes) for s in chain.stages] == [
        ("flake", "Flake", "flake"),
        ("anode", "Anode", "anode"),
    ]
    assert chain.headline == "anode"


def test_default_inputs_declare_their_chain() -> None:
    """The default dataset names its chain: every process stage is declared, the headline is
    the only demanded commodity, and recycling shares separation's column (both make oxide)."""
    from allycap.chains import resolve
    from allycap.run import load_and_validate

    _, inp, _ = load_and_validate(REPO / "inputs" / "base.yaml", [], [])
    assert inp.chains, "inputs/ must declare `chains:`"
    [chain] = resolve(inp)
    assert chain.declared
    declared = {s.id for s in chain.stages}
    assert {p.stage for p in inp.processes.values()} <= declared
    demanded = {c for by_c in inp.demand.values() for c in by_c}
    assert demanded == {chain.headline}
    column = {s.id: s.column for s in chain.stages}
    assert column["recycling"] == column["separation"]


def test_report_of_a_run_folder_without_chains(graphite_run, tmp_path: Path) -> None:
    """A run folder written before summary.json recorded chains: stages and headline are
    inferred from its tables (stages named after their ids, the most-demanded commodity)."""
    import shutil

    _, run, _ = graphite_run
    old = tmp_path / "old"
    shutil.copytree(run, old)
    summary = json.loads((old / "summary.json").read_text())
    del summary["chains"]
    (old / "summary.json").write_text(json.dumps(summary))
    ok(allycap("report", str(old)))
    page = (old / "report.html").read_text(encoding="utf-8")
    assert "Flake, Anode, Markets (delivered)" in page
    assert "Clean share of anode demand" in page
