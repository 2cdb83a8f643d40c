"""Write the binary reader fixtures (Excel, GeoPackage, GraphML) used by tests/geo.

The text fixtures next to them (CSV, GeoJSON, TOML) are written by hand. Run from the
repository root after changing this script; the outputs are committed:

    .venv/bin/python tests/data/make_geo_fixtures.py
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import geopandas as gpd
import networkx as nx
import openpyxl
import shapely

HERE = Path(__file__).parent
LAYERS = HERE / "layers"
SMALL = HERE / "scenario_small"

# The same three employers as layers/employers.csv (EPSG:4326).
EMPLOYERS = {
    "id": ["E1", "E2", "007"],
    "name": ["Huali Textiles", "Dongfa Electric", "Toy Works"],
    "industry": ["textile", "electrical", "toys"],
    "demand": [120, 45, 0],
    "opens": ["08:00", "08:30", "07:45"],
    "closes": ["17:30", "18:00", "16:15"],
}
EMPLOYER_LONLAT = [(113.7512, 23.0215), (113.7633, 23.0301), (113.7420, 23.0122)]


def write_xlsx() -> None:
    """Typed cells as Excel users make them: numeric ids, time and date cells."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "employers"
    sheet.append(["id", "name", "industry", "demand", "opens", "closes", "Longitude", "Latitude"])
    sheet.append(["E1", "Huali Textiles", "textile", 120, dt.time(8, 0), dt.time(17, 30)])
    sheet.append(["E2", "Dongfa Electric", "electrical", 45.0, "08:30", dt.time(18, 0)])
    sheet.append([7, "Toy Works", "toys", 0, dt.time(7, 45), "16:15"])
    for row, (lon, lat) in enumerate(EMPLOYER_LONLAT, start=2):
        sheet.cell(row=row, column=7, value=lon)
        sheet.cell(row=row, column=8, value=lat)
    seekers = book.create_sheet("seekers")
    seekers.append(["id", "industries", "mode", "registered", "lon", "lat"])
    seekers.append(["S1", "textile;toys", "walk", dt.datetime(2024, 3, 5), 113.75, 23.02])
    seekers.append(["S2", "food", "ebike", "2024-03-06", 113.76, 23.025])
    book.save(LAYERS / "employers.xlsx")


def write_gpkg() -> None:
    path = LAYERS / "layers.gpkg"
    path.unlink(missing_ok=True)
    points = [shapely.Point(xy) for xy in EMPLOYER_LONLAT]
    # QGIS often stores point layers as single-part MultiPoint; the reader unwraps them.
    geoms = [points[0], points[1], shapely.MultiPoint([points[2]])]
    wgs = gpd.GeoDataFrame(EMPLOYERS, geometry=geoms, crs="EPSG:4326")
    wgs.to_file(path, layer="employers", driver="GPKG", SPATIAL_INDEX="NO")
    utm = gpd.GeoDataFrame(EMPLOYERS, geometry=points, crs="EPSG:4326").to_crs("EPSG:32649")
    utm.to_file(path, layer="employers_utm", driver="GPKG", SPATIAL_INDEX="NO")


def write_small_scenario() -> None:
    """GeoPackage layers and a tiny osmnx-style GraphML for scenario_small (GCJ-02 points)."""
    path = SMALL / "small.gpkg"
    path.unlink(missing_ok=True)
    sites = gpd.GeoDataFrame(
        {
            "id": ["C1", "C2"],
            "name": ["Nancheng Community Centre", "Dongcheng Library"],
            "kind": ["community_centre", "library"],
            "capacity": [200, 150],
        },
        geometry=[shapely.Point(113.7560, 23.0180), shapely.Point(113.7650, 23.0260)],
        crs="EPSG:4326",
    )
    sites.to_file(path, layer="candidate_sites", driver="GPKG", SPATIAL_INDEX="NO")
    market = gpd.GeoDataFrame(
        {"id": ["T1"], "name": ["Talent Market"], "capacity": [1500]},
        geometry=[shapely.Point(113.7580, 23.0230)],
        crs="EPSG:4326",
    )
    market.to_file(path, layer="talent_market", driver="GPKG", SPATIAL_INDEX="NO")

    import osmnx as ox

    graph: nx.MultiDiGraph = nx.MultiDiGraph(crs="EPSG:4326")
    for node, (x, y) in enumerate([(113.74, 23.01), (113.77, 23.01), (113.77, 23.04)]):
        graph.add_node(node, x=x, y=y)
    for u, v in [(0, 1), (1, 0), (1, 2), (2, 1)]:
        graph.add_edge(u, v, length=3000.0, highway="primary", oneway=False, reversed=u > v)
    ox.save_graphml(graph, SMALL / "network.graphml")


def shrink(path: Path) -> None:
    """Rewrite a GeoPackage with 1 KiB pages: ~20 KB instead of ~80 KB (same content)."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA page_size = 1024")
    con.execute("VACUUM")
    con.close()


if __name__ == "__main__":
    write_xlsx()
    write_gpkg()
    write_small_scenario()
    for gpkg in (LAYERS / "layers.gpkg", SMALL / "small.gpkg"):
        shrink(gpkg)
