"""A real bureau's files through the command line: own industries, GBK/Excel exports with
Chinese headers, mixed datums, GCJ-02 outputs and maps."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from typer.testing import CliRunner

from dianmian.cli import EXIT_BAD_INPUT, app

DATA = Path(__file__).resolve().parents[1] / "data"
runner = CliRunner()


def test_a_city_with_its_own_industries_plans_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["plan", str(DATA / "scenario_electronics"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    target = out / "electronics"
    summary = json.loads((target / "city_summary.json").read_text(encoding="utf-8"))
    assert list(summary["industries"]) == ["electronics", "logistics", "garment", "other"]
    assert summary["industries"]["electronics"] == {
        "label": "Electronics 电子信息",
        "employers": 2,
        "demand": 180,
        "seekers": None,  # 2 seekers: below k = 5, not published (planner.disclosure)
    }
    points = gpd.read_file(target / "plan.gpkg", layer="service_points")
    served = {c for value in points["industries"] for c in str(value).split(";")}
    assert served <= {"electronics", "logistics", "garment", "other"}
    market = points[points["is_market"].astype(bool)]
    assert set(market["industries"].iloc[0].split(";")) == {
        "electronics",
        "logistics",
        "garment",
        "other",
    }
    belts = gpd.read_file(target / "plan.gpkg", layer="belts")
    assert set(belts["industry"]) <= {"electronics", "logistics", "garment"}
    assert all(" " in label for label in belts["label"])  # "Electronics 电子信息"
    cells = gpd.read_file(target / "plan.gpkg", layer="seeker_cells")
    assert not [c for c in cells.columns if c in ("n_textile", "n_toys")]
    page = (target / "maps" / "overview.html").read_text(encoding="utf-8")
    assert "#1f77b4" in page  # the catalogue's colour for electronics
    assert "Electronics \\u7535\\u5b50\\u4fe1\\u606f" in page  # "Electronics 电子信息"


def test_validate_warns_about_a_layer_in_the_other_datum() -> None:
    result = runner.invoke(app, ["validate", str(DATA / "scenario_mixed_datum")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # rich wraps lines
    assert "volunteers.geojson: points look like WGS-84, not GCJ-02" in text
    assert "m as gcj02," in text and "m if read as wgs84" in text
    assert "employers.csv: points look like" not in text


def test_bureau_export_plans_and_writes_gcj02_copies(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["plan", str(DATA / "scenario_gbk"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    target = out / "gbk"
    market = pd.read_csv(DATA / "scenario_gbk" / "market.csv", encoding="gbk")
    lonlat = market[["经度", "纬度"]].to_numpy()[0]
    # The WGS-84 outputs hold the converted point, the gcj02/ copy the file's own numbers.
    wgs = gpd.read_file(target / "city.gpkg", layer="talent_market").geometry.iloc[0]
    gcj = gpd.read_file(target / "gcj02" / "city.gpkg", layer="talent_market").geometry.iloc[0]
    np.testing.assert_allclose([gcj.x, gcj.y], lonlat, atol=1e-8)
    assert shapely.Point(*lonlat).distance(wgs) > 0.003  # ~600 m apart
    copied = gpd.read_file(target / "gcj02" / "plan.gpkg", layer="service_points")
    assert len(copied) == len(gpd.read_file(target / "plan.gpkg", layer="service_points"))
    # [map] coordinates = "gcj02": overlays sit where the GCJ-02 tiles draw the streets.
    page = (target / "maps" / "overview.html").read_text(encoding="utf-8")
    assert f"{lonlat[0]:.6f}, {lonlat[1]:.6f}" in page
    assert "example.invalid/gcj02" in page


def test_bad_bureau_file_names_its_own_header_and_excel_row(tmp_path: Path) -> None:
    folder = tmp_path / "gbk"
    folder.mkdir()
    for path in (DATA / "scenario_gbk").iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    toml = folder / "scenario.toml"
    grid = (DATA / "scenario_mixed_datum" / "grid.graphml").resolve()
    toml.write_text(toml.read_text().replace("../scenario_mixed_datum/grid.graphml", str(grid)))
    csv = folder / "employers.csv"
    lines = csv.read_bytes().decode("gbk").splitlines()
    lines[2] = lines[2].replace("电气机械", "钢铁")
    csv.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == EXIT_BAD_INPUT
    text = " ".join(result.output.split())
    assert "employers.csv, row 3: unknown `所属行业` '钢铁'" in text


def test_routes_records_get_gcj02_copies(tmp_path: Path) -> None:
    """`[output] coordinates = "gcj02"`: plan.json and routes.json are copied too, every
    stop and line vertex moved exactly as geo.crs moves a point; the originals stay WGS-84."""
    from geo.crs import Datum, from_wgs84
    from planner.daily.record import load_plan, load_routes

    out = tmp_path / "out"
    args = ["routes", str(DATA / "scenario_gbk"), "--date", "2026-11-24", "--iterations", "200"]
    result = runner.invoke(app, [*args, "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    day = out / "gbk" / "routes" / "2026-11-24"
    copy = out / "gbk" / "gcj02" / "routes" / "2026-11-24"
    routes, moved = load_routes(day / "routes.json"), load_routes(copy / "routes.json")
    assert routes and [r.volunteer_id for r in routes] == [r.volunteer_id for r in moved]
    for a, b in zip(routes, moved, strict=True):
        stops = [(s.lon, s.lat) for s in a.stops if s.lon is not None]
        x, y = from_wgs84(
            np.array([p[0] for p in stops]), np.array([p[1] for p in stops]), Datum.GCJ02
        )
        got = [(s.lon, s.lat) for s in b.stops if s.lon is not None]
        np.testing.assert_allclose(got, np.column_stack([x, y]), atol=1e-7)
        assert len(a.geometry) == len(b.geometry)
    plan, plan_moved = load_plan(day / "plan.json"), load_plan(copy / "plan.json")
    assert len(plan.routes) == len(plan_moved.routes) and plan.dropped == plan_moved.dropped
    first = next(s for r in plan.routes for s in r.stops if s.lon is not None)
    assert first.lon != next(s for r in plan_moved.routes for s in r.stops if s.lon).lon
