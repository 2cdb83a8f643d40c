"""Reading layers from CSV, GeoJSON, GeoPackage and Excel (fixtures in tests/data/layers)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo import InputError
from geo.crs import gcj02_to_wgs84
from geo.readers import READ_PROBLEM, ROW, read_layer

DATA = Path(__file__).parents[1] / "data"
LAYERS = DATA / "layers"
BAD = DATA / "bad"

# The three employers every employer fixture holds (lon, lat in EPSG:4326).
LONLAT = np.array([(113.7512, 23.0215), (113.7633, 23.0301), (113.7420, 23.0122)])


def lonlat(gdf: gpd.GeoDataFrame) -> np.ndarray:
    return np.column_stack([gdf.geometry.x, gdf.geometry.y])


@pytest.mark.parametrize(
    ("file", "layer"),
    [
        ("employers.csv", None),
        ("employers.geojson", None),
        ("employers.xlsx", None),  # first sheet
        ("employers.xlsx", "employers"),
        ("layers.gpkg", None),  # the layer named like the layer_name
        ("layers.gpkg", "employers"),
        ("layers.gpkg", "employers_utm"),  # stored in UTM 49N, reprojected
    ],
)
def test_every_format_gives_the_same_points(file: str, layer: str | None) -> None:
    gdf = read_layer(LAYERS / file, "employers", layer=layer)
    assert gdf.crs.to_epsg() == 4326
    # Spreadsheets count the header as row 1; GeoJSON features and GeoPackage fids from 1.
    first = 2 if file.endswith((".csv", ".xlsx")) else 1
    assert list(gdf[ROW]) == [first, first + 1, first + 2]
    np.testing.assert_allclose(lonlat(gdf), LONLAT, atol=1e-9)
    assert (shapely.get_type_id(gdf.geometry.to_numpy()) == shapely.GeometryType.POINT).all()
    assert {"id", "name", "industry", "demand", "opens", "closes"} <= set(gdf.columns)
    assert gdf[READ_PROBLEM].isna().all()
    # Coordinates live in the geometry only; lon/lat columns are consumed.
    assert not {"lon", "lng", "longitude", "latitude"} & set(gdf.columns)


def test_csv_headers_are_case_insensitive_and_aliases_accepted() -> None:
    # employers.csv has `ID`, `Name`, `lng` and `Latitude`.
    gdf = read_layer(LAYERS / "employers.csv", "employers")
    assert list(gdf["id"]) == ["E1", "E2", "007"]  # text: the leading zeros survive


def test_excel_keeps_typed_cells_for_validation() -> None:
    gdf = read_layer(LAYERS / "employers.xlsx", "employers")
    assert gdf.loc[2, "id"] == 7  # a numeric cell; validation turns it into "7"


def test_excel_named_sheet() -> None:
    gdf = read_layer(LAYERS / "employers.xlsx", "seekers", layer="seekers")
    assert list(gdf["id"]) == ["S1", "S2"]
    assert gdf.attrs["source"].endswith("employers.xlsx (layer `seekers`)")


def test_gb18030_csv_with_chinese_headers() -> None:
    gdf = read_layer(LAYERS / "seekers_gbk.csv", "seekers")
    np.testing.assert_allclose(lonlat(gdf), [(113.75, 23.02), (113.76, 23.025)])
    assert gdf.loc[0, "备注"] == "老乡介绍"


def test_single_part_multipoint_is_unwrapped() -> None:
    gdf = read_layer(LAYERS / "layers.gpkg", "employers")  # row 3 is stored as MultiPoint
    assert gdf.geometry.iloc[2].geom_type == "Point"


def test_datum_conversion_on_read() -> None:
    gdf = read_layer(LAYERS / "employers.csv", "employers", datum="gcj02")
    want = np.column_stack(gcj02_to_wgs84(LONLAT[:, 0], LONLAT[:, 1]))
    np.testing.assert_allclose(lonlat(gdf), want, atol=1e-12)


def test_row_numbers_skip_nothing(tmp_path: Path) -> None:
    """Blank lines are ignored but still counted, so row numbers match the file."""
    path = tmp_path / "employers.csv"
    path.write_text(
        "id,name,industry,demand,opens,closes,lon,lat\n"
        "E1,A,food,1,08:00,09:00,113.75,23.02\n"
        ",,,,,,,\n"
        "\n"
        "E2,B,food,1,08:00,09:00,113.76,23.03\n"
    )
    gdf = read_layer(path, "employers")
    assert list(gdf[ROW]) == [2, 5]  # as Excel/WPS number them (header = row 1)


@pytest.mark.parametrize(
    ("path", "layer", "message"),
    [
        (BAD / "employers.txt", None, "unsupported file type `.txt`"),
        (LAYERS / "employers.xls", None, "(save it as .xlsx)"),
        (LAYERS / "nowhere.csv", None, "file does not exist"),
        (LAYERS / "layers.gpkg", "nope", "no layer `nope` in the GeoPackage; layers: employers"),
        (LAYERS / "employers.xlsx", "nope", "no sheet `nope` in the workbook; sheets: employers"),
        (BAD / "employers_no_lat.csv", None, "missing column `lat` (also accepted: latitude"),
    ],
)
def test_file_level_errors(path: Path, layer: str | None, message: str) -> None:
    with pytest.raises(InputError) as info:
        read_layer(path, "employers", layer=layer)
    assert str(path) in str(info.value)
    assert message in str(info.value)
    assert info.value.problems[0].row is None


def test_gpkg_without_default_layer_needs_a_name() -> None:
    with pytest.raises(InputError, match="no layer `seekers`"):
        read_layer(LAYERS / "layers.gpkg", "seekers")


def test_non_point_geometry_is_an_error_per_row() -> None:
    path = BAD / "employers_nonpoint.geojson"
    with pytest.raises(InputError) as info:
        read_layer(path, "employers")
    problems = info.value.problems
    assert [(p.row, p.reason) for p in problems] == [
        (2, "geometry is a LineString; only points are allowed"),
        (4, "geometry is a Polygon; only points are allowed"),
    ]
    assert f"{path}, row 2: geometry is a LineString" in str(info.value)


def test_not_strict_keeps_rows_with_reasons() -> None:
    gdf = read_layer(BAD / "employers_nonpoint.geojson", "employers", strict=False)
    assert len(gdf) == 4
    assert gdf.geometry.iloc[1] is None
    assert gdf[READ_PROBLEM].iloc[3].startswith("geometry is a Polygon")
    assert gdf[READ_PROBLEM].iloc[2] is None  # a null geometry is validation's business


@pytest.mark.parametrize(
    ("file", "reason"),
    [
        ("employers_missing_lon.csv", "missing `lon`"),
        ("employers_lon_text.csv", "`lon` 'abc' is not a number"),
    ],
)
def test_unreadable_coordinates_are_errors_per_row(file: str, reason: str) -> None:
    with pytest.raises(InputError) as info:
        read_layer(BAD / file, "employers")
    assert [(p.row, p.reason) for p in info.value.problems] == [(3, reason)]
