"""The command line: exit codes, outputs and error messages (run in-process)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from typer.testing import CliRunner

from dianmian.cli import EXIT_BAD_INPUT, app

SMALL = Path(__file__).resolve().parents[1] / "data" / "scenario_small"
runner = CliRunner()


@pytest.fixture
def scenario(tmp_path):
    folder = tmp_path / "small"
    shutil.copytree(SMALL, folder)
    return folder


def test_plan_writes_city_outputs(scenario, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["plan", str(scenario), "--out", str(out)])
    assert result.exit_code == 0, result.output
    target = out / "small"
    layers = set(pyogrio.list_layers(target / "city.gpkg")[:, 0])
    assert {"employers", "volunteers", "candidate_sites", "talent_market", "seeker_cells"} <= layers
    assert "seekers" not in layers  # residences are personal data: only aggregated cells
    summary = json.loads((target / "city_summary.json").read_text())
    assert summary["layers"]["employers"] == 2
    employers = gpd.read_file(target / "city.gpkg", layer="employers")
    assert employers.crs.to_epsg() == 4326
    plan_layers = set(pyogrio.list_layers(target / "plan.gpkg")[:, 0])
    assert {"service_points", "belts", "assignment_cells", "catchments"} <= plan_layers
    plan = json.loads((target / "plan_summary.json").read_text())
    assert plan["after"]["open_points"] == 1
    assert "visits/day at the market" in result.output
    assert {p.name for p in (target / "maps").iterdir()} == {"overview.html", "plan.html"}


def test_maps_command_rewrites_maps_from_outputs(scenario, tmp_path):
    out = tmp_path / "out"
    assert runner.invoke(app, ["plan", str(scenario), "--out", str(out), "-q"]).exit_code == 0
    (out / "small" / "maps" / "plan.html").unlink()
    result = runner.invoke(app, ["maps", str(scenario), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "small" / "maps" / "plan.html").stat().st_size > 10_000


def test_maps_before_plan_is_a_clear_error(scenario, tmp_path):
    result = runner.invoke(app, ["maps", str(scenario), "--out", str(tmp_path)])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "run `dianmian plan`" in result.output


def test_infeasible_settings_exit_2(scenario, tmp_path):
    toml = scenario / "scenario.toml"
    toml.write_text(toml.read_text().replace("n_points = 1", "n_points = 5"))
    result = runner.invoke(app, ["plan", str(scenario), "--out", str(tmp_path / "o")])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "`n_points` = 5 but there are only 2 candidate sites" in result.output


def test_bad_row_exits_2_naming_file_row_and_reason(scenario):
    csv = scenario / "employers.csv"
    lines = csv.read_text().splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("demand")] = "-3"
    lines[1] = ",".join(row)
    csv.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["validate", str(scenario)])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "error:" in result.output
    assert "employers.csv, row 1" in result.output
    assert "`demand`" in result.output
    assert "Traceback" not in result.output


def test_skip_invalid_writes_report(scenario, tmp_path):
    csv = scenario / "employers.csv"
    lines = csv.read_text().splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("industry")] = "spaceships"
    lines[1] = ",".join(row)
    csv.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["plan", str(scenario), "--out", str(out), "--skip-invalid"])
    assert result.exit_code == 0, result.output
    report = (out / "small" / "invalid_rows.csv").read_text(encoding="utf-8-sig")
    assert "spaceships" in report and "employers.csv" in report
    summary = json.loads((out / "small" / "city_summary.json").read_text())
    assert summary["layers"]["employers"] == 1


def test_missing_scenario_is_one_line_error(tmp_path):
    result = runner.invoke(app, ["plan", str(tmp_path / "nowhere")])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "does not exist" in result.output


def test_quiet_prints_nothing_on_success(scenario, tmp_path):
    result = runner.invoke(app, ["plan", str(scenario), "--out", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 0
    assert result.stdout.strip() == ""
