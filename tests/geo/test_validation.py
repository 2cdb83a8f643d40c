"""Validation of layers: every malformed fixture in tests/data/bad, normalisation, skipping."""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import InputError, Problem
from geo.industries import DEFAULT_CATALOGUE
from geo.layers import SPECS, LayerName
from geo.readers import read_layer
from geo.validation import distance_outside_m, validate_layer, write_problem_report

DATA = Path(__file__).parents[1] / "data"
BAD = DATA / "bad"
LAYERS = DATA / "layers"
AREA = (113.70, 22.98, 113.80, 23.06)  # a town's bounds (EPSG:4326)


@functools.cache
def _employers() -> gpd.GeoDataFrame:
    return read_layer(LAYERS / "employers.csv", "employers")


def employers() -> gpd.GeoDataFrame:
    """A fresh copy of the good employers fixture (read once per session)."""
    return _employers().copy()


def check(path: Path, layer: str, **kwargs: object) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    gdf = read_layer(path, layer, strict=False)
    return validate_layer(gdf, layer, source=str(path), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("file", "layer", "row", "reason"),
    [
        ("employers_missing_column.csv", "employers", None, "missing column `demand`"),
        ("employers_demand_fraction.csv", "employers", 3, "`demand` '12.5' is not a whole number"),
        ("employers_demand_text.csv", "employers", 3, "`demand` 'many' is not a whole number"),
        ("employers_demand_negative.csv", "employers", 3, "`demand` '-3' is negative"),
        ("employers_bad_time.csv", "employers", 3, "`opens` '25:00' is not a time of day HH:MM"),
        ("employers_closes_before_opens.csv", "employers", 3, "`closes` 07:00 is not after"),
        ("volunteers_to_before_from.csv", "volunteers", 3, "`available_to` 12:00 is not after"),
        ("seekers_bad_date.csv", "seekers", 3, "`registered` '2024-02-30' is not a date"),
        ("employers_missing_lon.csv", "employers", 3, "missing `lon`"),
        ("employers_lon_text.csv", "employers", 3, "`lon` 'abc' is not a number"),
        ("employers_out_of_range.csv", "employers", 3, "out of range (|lon| <= 180, |lat| <= 90)"),
        ("employers_out_of_range.csv", "employers", 3, "are `lon` and `lat` swapped?"),
        ("employers_empty_id.csv", "employers", 3, "empty `id`"),
        ("employers_duplicate_id.csv", "employers", 3, "duplicate `id` 'E1' (also in row 2)"),
        ("employers_missing_name.csv", "employers", 3, "missing `name`"),
        (
            "employers_unknown_industry.csv",
            "employers",
            3,
            "unknown `industry` 'steel'; allowed: textile (纺织服装鞋业), electrical (电气机械)",
        ),
        (
            "seekers_unknown_industries.csv",
            "seekers",
            3,
            "unknown `industries` 'steel'; allowed: textile (纺织服装鞋业)",
        ),
        (
            "seekers_unknown_mode.csv",
            "seekers",
            3,
            "unknown `mode` 'bike'; allowed: walk (步行), ebike (电动车), bus (公交), car (自驾)",
        ),
        (
            "volunteers_mode_car.csv",
            "volunteers",
            3,
            "unknown `mode` 'car'; allowed: walk (步行), ebike",
        ),
        (
            "candidate_sites_unknown_kind.csv",
            "candidate_sites",
            3,
            "unknown `kind` 'mall'; allowed: community_centre (社区服务中心), town_hall",
        ),
        ("talent_market_empty.csv", "talent_market", None, "the layer has no rows"),
        ("employers_nonpoint.geojson", "employers", 2, "geometry is a LineString"),
        ("employers_nonpoint.geojson", "employers", 3, "missing point (no geometry"),
        ("employers_nonpoint.geojson", "employers", 4, "geometry is a Polygon"),
        ("employers_far.csv", "employers", 3, "m outside the street network's area"),
    ],
)
def test_each_malformed_file_is_reported(
    file: str, layer: str, row: int | None, reason: str
) -> None:
    path = BAD / file
    with pytest.raises(InputError) as info:
        check(path, layer, network_bounds=AREA)
    where = f"{path}, row {row}: " if row is not None else f"{path}: "
    lines = [line for line in str(info.value).splitlines() if where in line]
    assert any(reason in line for line in lines), str(info.value)
    # Only the bad row (or the file) is blamed: the first record of every fixture is fine
    # (spreadsheet row 2 of a CSV, whose header is row 1; feature 1 of a GeoJSON).
    first = 2 if file.endswith(".csv") else 1
    assert all(p.row != first or "also in row" in p.reason for p in info.value.problems)


def test_all_problems_are_collected_and_raised_once() -> None:
    path = BAD / "employers_many.csv"
    with pytest.raises(InputError) as info:
        check(path, "employers")
    got = [(p.row, p.reason) for p in info.value.problems]
    assert got == [
        (3, f"unknown `industry` 'steel'; allowed: {DEFAULT_CATALOGUE.allowed()}"),
        (3, "`demand` '12.5' is not a whole number"),
        (3, "`opens` '25:00' is not a time of day HH:MM (00:00-23:59)"),
        (3, "`lon` 'abc' is not a number"),
        (4, "missing `name`"),
        (4, "`demand` '-1' is negative; must be >= 0"),
        (4, "duplicate `id` 'E1' (also in row 2)"),
        (4, "`closes` 08:00 is not after `opens` 09:00"),
    ]
    assert str(info.value).startswith("8 problems in input:")


def test_distance_outside_matches_geodesic_truth() -> None:
    geod = pyproj.Geod(ellps="WGS84")
    lon = np.array([113.90, 113.75, 113.60, 113.75])
    lat = np.array([23.02, 23.20, 23.02, 23.02])  # east, north, west, inside
    got = distance_outside_m(lon, lat, AREA)
    _, _, east = geod.inv(113.80, 23.02, 113.90, 23.02)
    _, _, north = geod.inv(113.75, 23.06, 113.75, 23.20)
    _, _, west = geod.inv(113.70, 23.02, 113.60, 23.02)
    np.testing.assert_allclose(got[:3], [east, north, west], rtol=2e-3)  # UTM scale error
    assert got[3] == 0.0
    hull = shapely.Polygon([(113.70, 22.98), (113.80, 22.98), (113.75, 23.06)])
    assert distance_outside_m(np.array([113.75]), np.array([23.0]), hull)[0] == 0.0


def test_points_inside_the_limit_pass() -> None:
    # employers_far.csv row 2 is ~10 km east of AREA.
    clean, _ = check(
        BAD / "employers_far.csv", "employers", network_bounds=AREA, max_outside_m=20_000
    )
    assert len(clean) == 2
    clean, _ = check(BAD / "employers_far.csv", "employers")  # no network: no check
    assert len(clean) == 2


def test_normalised_types() -> None:
    clean, problems = check(LAYERS / "employers.xlsx", "employers")
    assert problems == []
    assert list(clean.columns) == [
        "_row",
        "id",
        "name",
        "industry",
        "demand",
        "opens",
        "closes",
        "geometry",
    ]
    assert list(clean["id"]) == ["E1", "E2", "7"]  # numeric Excel id 7 -> "7"
    assert clean["demand"].dtype == np.int64
    assert list(clean["demand"]) == [120, 45, 0]  # 45.0 in the sheet
    assert list(clean["opens"]) == ["08:00", "08:30", "07:45"]  # time cells and text
    assert list(clean["closes"]) == ["17:30", "18:00", "16:15"]

    seekers, _ = check(LAYERS / "seekers_gbk.csv", "seekers")
    assert list(seekers["industries"]) == ["textile;toys", "food"]  # "textile、toys"
    assert list(seekers["registered"]) == ["2024-03-05", "2024-03-06"]  # "2024/3/6"
    assert list(seekers["备注"].fillna("")) == ["老乡介绍", ""]  # extra columns kept


def test_optional_column_gets_its_default(tmp_path: Path) -> None:
    path = tmp_path / "volunteers.csv"
    path.write_text(
        "id,name,industries,available_from,available_to,lon,lat\n"
        "V1,Chen,Textile; TOYS;textile,9:00,12:00,113.75,23.02\n"
    )
    clean, _ = check(path, "volunteers")
    assert clean.loc[0, "mode"] == "ebike"
    assert clean.loc[0, "industries"] == "textile;toys"
    assert clean.loc[0, "available_from"] == "09:00"


def test_geodataframe_in_another_crs_is_reprojected() -> None:
    gdf = read_layer(LAYERS / "employers.geojson", "employers").to_crs("EPSG:3857")
    clean, _ = validate_layer(gdf, SPECS[LayerName.EMPLOYERS], source="memory")
    assert clean.crs.to_epsg() == 4326
    assert clean.geometry.x.iloc[0] == pytest.approx(113.7512)


def test_skip_invalid_drops_rows_and_returns_problems(tmp_path: Path) -> None:
    path = BAD / "employers_many.csv"
    clean, problems = check(path, "employers", skip_invalid=True)
    assert list(clean["_row"]) == [2]
    assert len(problems) == 8
    report = write_problem_report(problems, tmp_path / "out" / "problems.csv")
    with report.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 8
    assert rows[0] == {
        "source": str(path),
        "row": "3",
        "reason": problems[0].reason,
    }


def test_skip_invalid_cannot_skip_file_problems() -> None:
    with pytest.raises(InputError, match="missing column `demand`"):
        check(BAD / "employers_missing_column.csv", "employers", skip_invalid=True)


def test_skip_invalid_refuses_to_empty_a_layer() -> None:
    gdf = read_layer(BAD / "employers_many.csv", "employers", strict=False).iloc[1:]
    with pytest.raises(InputError, match="no valid rows left"):
        validate_layer(gdf, "employers", source="x.csv", skip_invalid=True)


def test_problem_report_file_level_rows_are_blank(tmp_path: Path) -> None:
    path = write_problem_report([Problem("a.csv", None, "missing column `id`")], tmp_path / "r.csv")
    assert path.read_text(encoding="utf-8-sig").splitlines() == [
        "source,row,reason",
        "a.csv,,missing column `id`",
    ]


def _frame(column: str, values: list[object]) -> gpd.GeoDataFrame:
    """A talent_market/employers-like layer with one varying column."""
    n = len(values)
    data = {
        "id": [f"T{i}" for i in range(n)],
        "name": ["x"] * n,
        "capacity": [1] * n,
    }
    data[column] = values
    return gpd.GeoDataFrame(data, geometry=[shapely.Point(113.75, 23.02)] * n, crs="EPSG:4326")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=10), st.booleans())
def test_whole_numbers_round_trip(values: list[int], as_float: bool) -> None:
    cells: list[object] = [float(v) if as_float else str(v) for v in values]
    clean, _ = validate_layer(_frame("capacity", cells), "talent_market", source="m")
    assert list(clean["capacity"]) == values


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 23), st.integers(0, 59), st.booleans())
def test_times_normalise_to_hh_mm(hour: int, minute: int, pad: bool) -> None:
    text = f"{hour:02d}:{minute:02d}" if pad else f"{hour}:{minute:02d}"
    gdf = employers()
    gdf["opens"] = "00:00"
    gdf["closes"] = text
    if (hour, minute) == (0, 0):
        with pytest.raises(InputError, match="is not after"):
            validate_layer(gdf, "employers", source="m")
        return
    clean, _ = validate_layer(gdf, "employers", source="m")
    assert set(clean["closes"]) == {f"{hour:02d}:{minute:02d}"}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1e30", "is too large; must be <= 1,000,000,000,000"),
        ("inf", "is not a whole number"),
        ("3,000", "is not a whole number"),
        ("", "missing `capacity`"),
    ],
)
def test_bad_whole_numbers(value: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason):
        validate_layer(_frame("capacity", [value]), "talent_market", source="m")


@pytest.mark.parametrize("value", ["24:00", "7", "7:5", "12:60", "noon", "8.30"])
def test_bad_times(value: str) -> None:
    gdf = employers()
    gdf.loc[1, "opens"] = value
    with pytest.raises(InputError) as info:
        validate_layer(gdf, "employers", source="m.csv")
    # The file heads the column `Opens`: messages use its own header and spreadsheet row.
    assert f"m.csv, row 3: `Opens` {value!r} is not a time of day" in str(info.value)


@pytest.mark.parametrize("value", ["2024-13-01", "2023-02-29", "05/03/2024", "yesterday"])
def test_bad_dates(value: str) -> None:
    gdf = read_layer(LAYERS / "seekers_gbk.csv", "seekers")
    gdf.loc[0, "registered"] = value
    with pytest.raises(InputError, match=rf"row 2: `registered` '{value}' is not a date"):
        validate_layer(gdf, "seekers", source="m.csv")


def test_date_cells_and_timestamps_are_accepted() -> None:
    gdf = read_layer(LAYERS / "employers.xlsx", "seekers", layer="seekers")
    gdf["registered"] = pd.Series([pd.Timestamp("2024-03-05"), "2024-3-6"], dtype=object)
    clean, _ = validate_layer(gdf, "seekers", source="m")
    assert list(clean["registered"]) == ["2024-03-05", "2024-03-06"]


# ---------------------------------------------------------------------------------------------
# Summaries that lead with the cause


def test_thousands_of_problems_read_as_a_few_causes() -> None:
    n = 5300
    gdf = employers().iloc[[0] * n].reset_index(drop=True)
    gdf["id"] = [f"E{i}" for i in range(n)]
    gdf["industry"] = "steel"
    gdf.loc[::2, "demand"] = "many"
    gdf["_row"] = np.arange(2, n + 2)
    with pytest.raises(InputError) as info:
        validate_layer(gdf, "employers", source="e.csv", skip_invalid=True)
    text = str(info.value)
    lines = text.splitlines()
    # The cause first: no row would survive, so skipping cannot help.
    assert lines[0].startswith("e.csv: no valid rows left: every one of its 5,300 rows")
    assert lines[1] == "7,950 problems in input:"
    # Counts per reason, then the first rows of each, not 20 lines of the same thing.
    assert "  - e.csv: 5,300 rows: unknown `Industry` …; allowed: textile" in text
    assert "      row 2: unknown `Industry` 'steel'" in text
    assert "      ... and 5,297 more like it" in text
    assert "  - e.csv: 2,650 rows: `Demand` … is not a whole number" in text
    assert len(lines) < 15
    assert len(info.value.problems) == 7950  # every problem is still listed for the report


def test_reason_kind_blanks_values_but_keeps_column_names() -> None:
    from geo.errors import reason_kind

    kind = reason_kind("`岗位数2` '12.5' is not a whole number")
    assert kind == "`岗位数2` … is not a whole number"
    assert reason_kind("point lies 2,345 m outside (limit 2,000 m)") == (
        "point lies … m outside (limit … m)"
    )


# ---------------------------------------------------------------------------------------------
# Datum sanity check

DATA = Path(__file__).parents[1] / "data"


def _mixed_layers(volunteers: str = "gcj02"):  # type: ignore[no-untyped-def]
    from geo.crs import Datum
    from geo.network import load_network
    from geo.scenario import Scenario, load_layers
    from geo.validation import street_tree

    scen = Scenario.load(DATA / "scenario_mixed_datum")
    layers = load_layers(scen)
    net = load_network(scen.network_source)
    tree = street_tree(net.x, net.y, net.edge_u, net.edge_v)
    datums = {name: scen.layer_datum(name) for name in layers}
    datums[LayerName.VOLUNTEERS] = Datum(volunteers)
    return scen, layers, net, tree, datums


def test_datum_check_flags_the_wgs84_layer_among_gcj02_tables() -> None:
    from geo.crs import Datum, gcj02_to_wgs84
    from geo.validation import check_datum, street_distance_m

    _, layers, net, tree, datums = _mixed_layers()
    found = {
        name: check_datum(name.value, frame, datums[name], tree, net.crs, source=name.value)
        for name, frame in layers.items()
    }
    assert found[LayerName.EMPLOYERS] is None
    assert found[LayerName.SEEKERS] is None
    assert found[LayerName.TALENT_MARKET] is None  # one point: not judged
    finding = found[LayerName.VOLUNTEERS]
    assert finding is not None
    assert (finding.declared, finding.better) == (Datum.GCJ02, Datum.WGS84)
    # Independent truth: the file's numbers as WGS-84 vs converted as if GCJ-02.
    raw = shapely.get_coordinates(
        read_layer(DATA / "scenario_mixed_datum" / "volunteers.geojson", "volunteers").geometry
    )
    as_wgs = np.median(street_distance_m(raw[:, 0], raw[:, 1], tree, net.crs))
    as_gcj = np.median(street_distance_m(*gcj02_to_wgs84(raw[:, 0], raw[:, 1]), tree, net.crs))
    assert finding.better_m == pytest.approx(as_wgs, abs=0.01)
    assert finding.declared_m == pytest.approx(as_gcj, abs=0.01)
    assert finding.better_m < 25 < 40 < finding.declared_m
    text = str(finding)
    assert "points look like WGS-84, not GCJ-02" in text
    medians = f"{finding.declared_m:,.0f} m as gcj02, {finding.better_m:,.0f} m if read as wgs84"
    assert medians in text
    assert '`coordinates = "wgs84"` on `layers.volunteers`' in text


def test_street_distance_matches_shapely_on_the_segments() -> None:
    from geo.validation import street_distance_m

    _, _, net, tree, _ = _mixed_layers()
    to_m = pyproj.Transformer.from_crs("EPSG:4326", net.crs, always_xy=True)
    lon, lat = np.array([113.7491, 113.7555]), np.array([23.0150, 23.0233])
    got = street_distance_m(lon, lat, tree, net.crs)
    lines = [net.edge_line(i) for i in range(net.n_edges)]
    for k in range(2):
        p = shapely.Point(*to_m.transform(lon[k], lat[k]))
        assert got[k] == pytest.approx(min(p.distance(line) for line in lines), abs=1e-6)
