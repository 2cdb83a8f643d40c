"""The command line: exit codes, outputs and error messages (run in-process)."""

from __future__ import annotations

import datetime as dt
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
    assert "employers.csv, row 2" in result.output  # as Excel shows it: header = row 1
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


# --- routes ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    from geo.democity import build_demo_city

    folder = tmp_path_factory.mktemp("town") / "town"
    build_demo_city(folder, seed=7, scale=0.06)
    toml = folder / "scenario.toml"
    text = toml.read_text().replace("time_limit_s = 10", "time_limit_s = 3")
    text = text.replace("[planning]", "[planning]\nn_points = 4", 1)
    toml.write_text(text)
    return folder


def _planned_tasks(path):
    records = json.loads(path.read_text())
    return {s["task_id"] for r in records for s in r["stops"] if s["task_id"]}


def test_routes_writes_a_day_and_replans_with_done_tasks(town, tmp_path):
    out = tmp_path / "out"
    args = ["routes", str(town), "--date", "2026-11-24", "--iterations", "300", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    from geo.scenario import Scenario

    name = Scenario.load(town).name
    day = out / name / "routes" / "2026-11-24"
    assert {"routes.json", "plan.json", "routes.geojson", "routes.gpx", "routes.html"} <= {
        p.name for p in day.iterdir()
    }
    # One day page per volunteer of the day, with or without tasks.
    everyone = {r["volunteer_id"] for r in json.loads((day / "plan.json").read_text())["routes"]}
    assert {p.stem for p in (day / "volunteers").glob("*.html")} == everyone
    first = _planned_tasks(day / "routes.json")
    assert first
    done = sorted(first)[0]

    # A task marked done through the HTTP API's database stays out of the re-plan.
    from planner.store import DB_FILE, Store, sqlite_url

    store = Store(sqlite_url(out / name / DB_FILE))
    import datetime as dt

    store.mark_done("V001", done, dt.date(2026, 11, 24))
    store.close()
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert done not in _planned_tasks(day / "routes.json")


def test_two_runs_of_routes_write_identical_plan_json(town, tmp_path):
    """Separate processes (different hash seeds), same input and seed: the same bytes."""
    import os
    import subprocess
    import sys

    from geo.scenario import Scenario

    name = Scenario.load(town).name
    plans = []
    for k, hash_seed in enumerate(("1", "2")):
        out = tmp_path / f"out{k}"
        args = ["routes", str(town), "--date", "2026-11-24", "--iterations", "300"]
        args += ["--seed", "5", "--out", str(out), "-q"]
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        code = "from dianmian.cli import app; app()"
        done = subprocess.run(
            [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        plans.append((out / name / "routes" / "2026-11-24" / "plan.json").read_bytes())
    assert plans[0] == plans[1]
    assert b"search stopped by" in plans[0] and b"solve_seconds" not in plans[0]


def test_routes_bad_date_and_state_are_clear_errors(town, tmp_path):
    out = ["--out", str(tmp_path / "o"), "--seconds", "1"]
    result = runner.invoke(app, ["routes", str(town), "--date", "2026-13-40", *out])
    assert result.exit_code == EXIT_BAD_INPUT
    assert "2026-13-40" in result.output
    state = tmp_path / "state.json"
    state.write_text('{"absent": ["NOBODY"], "now": "25:99"}')
    result = runner.invoke(
        app, ["routes", str(town), "--date", "2026-11-24", "--state", str(state), *out]
    )
    assert result.exit_code == EXIT_BAD_INPUT
    assert "NOBODY" in result.output or "25:99" in result.output


def test_plan_uses_demand_reported_through_the_api(scenario, tmp_path):
    from planner.store import DB_FILE, Store, sqlite_url

    out = tmp_path / "out"
    (out / "small").mkdir(parents=True)
    store = Store(sqlite_url(out / "small" / DB_FILE))
    store.record_demand("E1", 7)
    store.record_demand("NOPE", 3)  # unknown employers are reported in the log, not applied
    store.close()
    result = runner.invoke(app, ["plan", str(scenario), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    employers = gpd.read_file(out / "small" / "city.gpkg", layer="employers")
    assert dict(zip(employers["id"], employers["demand"], strict=True))["E1"] == 7
    summary = json.loads((out / "small" / "city_summary.json").read_text())
    assert summary["industries"]["textile"]["demand"] == 7


def _loop_panel(page: Path) -> str:
    import re

    texts = [
        json.loads(s) for s in re.findall(r'innerHTML = ("(?:[^"\\]|\\.)*")', page.read_text())
    ]
    (panel,) = [t for t in texts if "Every registration answered" in t]
    return panel


def test_maps_command_draws_the_loop_section_from_the_database(scenario, tmp_path):
    from planner.loop import loop_summary
    from planner.store import open_existing

    out = tmp_path / "out"
    assert runner.invoke(app, ["plan", str(scenario), "--out", str(out), "-q"]).exit_code == 0
    page = out / "small" / "maps" / "plan.html"
    assert f"dianmian registrations import {scenario}" in _loop_panel(page)  # no loop yet
    for args in (["registrations", "import"], ["match", "--date", "2024-03-07"]):
        result = runner.invoke(app, [*args, str(scenario), "--out", str(out), "-q"])
        assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["maps", str(scenario), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    panel = _loop_panel(page)
    store = open_existing(out / "small")
    summary = loop_summary(store, dt.date(2024, 3, 7))
    store.close()
    assert "as of 2024-03-07" in panel
    # 3 registrations, fewer than min_count (5): no count shown, the people left out stated.
    n = summary["totals"]["registrations"]
    assert n == 3 and "<div class='headline'>– registrations</div>" in panel
    points = len(summary["by_service_point"])
    what = f"service point{'s' if points > 1 else ''}"
    assert f"{points} {what} not shown ({n} people): fewer than 5 registrations" in panel
    assert "data-id=" not in panel


def test_a_smaller_privacy_k_plans_and_maps(scenario, tmp_path):
    """`[privacy] min_count = 2`: the bureau's k, not the default 5, rules the maps (the
    seeker cells read back from city.gpkg and the loop section)."""
    with (scenario / "scenario.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n[privacy]\nmin_count = 2\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["plan", str(scenario), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    for args in (["registrations", "import"], ["match", "--date", "2024-03-07"]):
        result = runner.invoke(app, [*args, str(scenario), "--out", str(out), "-q"])
        assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["maps", str(scenario), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert "Cells with fewer than 2 seekers" in (out / "small" / "maps" / "plan.html").read_text()
    panel = _loop_panel(out / "small" / "maps" / "plan.html")
    assert "<div class='headline'>3 registrations, " in panel


def test_routes_use_the_written_plan_unless_replan(town, tmp_path, monkeypatch):
    """After `dianmian plan`, `routes` takes the service points of plan.gpkg (no siting run);
    `--replan` sites them again, and with the same inputs the day is the same, byte for
    byte."""
    import planner.points.plan as plan_module
    from geo.scenario import Scenario

    out = tmp_path / "out"
    assert runner.invoke(app, ["plan", str(town), "--out", str(out), "-q"]).exit_code == 0
    day = out / Scenario.load(town).name / "routes" / "2026-11-24"
    args = ["routes", str(town), "--date", "2026-11-24", "--iterations", "300", "--out", str(out)]
    real = plan_module.make_plan

    def no_siting(*_a, **_k):
        raise AssertionError("routes sited the points again")

    monkeypatch.setattr(plan_module, "make_plan", no_siting)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Service points of the written plan" in result.output
    written = (day / "plan.json").read_bytes()
    calls = []

    def counted(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(plan_module, "make_plan", counted)
    result = runner.invoke(app, [*args, "--replan"])
    assert result.exit_code == 0, result.output
    assert calls == [1]
    assert (day / "plan.json").read_bytes() == written


def test_routes_name_a_broken_written_plan(town, tmp_path):
    out = tmp_path / "out"
    assert runner.invoke(app, ["plan", str(town), "--out", str(out), "-q"]).exit_code == 0
    from geo.scenario import Scenario
    from planner.publish import version_folder

    folder, _version = version_folder(out / Scenario.load(town).name)
    (folder / "plan.gpkg").write_bytes(b"not a geopackage")
    args = ["routes", str(town), "--date", "2026-11-24", "--iterations", "100", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "plan.gpkg" in result.output and "run `dianmian plan` again" in result.output
