"""GCJ-02 / BD-09 <-> WGS-84 conversions against published reference pairs and round trips."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.crs import (
    DATUM_CODES,
    Datum,
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    parse_datum,
    pick_metric_crs,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

# Reference pairs (lon, lat), independently computed by published open-source libraries:
#
# * wandergis/coordtransform, test/app.js: the input (116.404, 39.915) near Tiananmen and
#   the outputs of wgs84togcj02, gcj02tobd09, and of its one-step inverses bd09togcj02 and
#   gcj02towgs84 (approximate, off by centimetres to metres).
# * googollee/eviltransform, go/transform_test.go: WGS-84 -> GCJ-02 pairs for Shanghai,
#   Shenzhen and Beijing; its exact (iterative) GCJ-02 -> WGS-84 must come within 0.5 m.
TIANANMEN = (116.404, 39.915)
WANDERGIS_WGS_TO_GCJ = (116.41024449916938, 39.91640428150164)
WANDERGIS_GCJ_TO_BD = (116.41036949371029, 39.92133699351021)
WANDERGIS_BD_TO_GCJ_ONE_STEP = (116.39762729119315, 39.90865673957631)
WANDERGIS_GCJ_TO_WGS_ONE_STEP = (116.39775550083061, 39.91359571849836)
EVILTRANSFORM_WGS_GCJ = [  # (wgs lon, wgs lat, gcj lon, gcj lat)
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # Shanghai
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # Shenzhen
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # Beijing
]

M_PER_DEG = 111_320.0  # metres per degree of latitude (near enough for tolerances)


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Equirectangular distance (m), accurate at the centimetre scale used here."""
    dx = (lon1 - lon2) * np.cos(np.radians((lat1 + lat2) / 2))
    return float(np.hypot(dx, lat1 - lat2) * M_PER_DEG)


def test_wgs84_to_gcj02_matches_coordtransform() -> None:
    lon, lat = wgs84_to_gcj02(*TIANANMEN)
    assert float(lon) == pytest.approx(WANDERGIS_WGS_TO_GCJ[0], abs=1e-12)
    assert float(lat) == pytest.approx(WANDERGIS_WGS_TO_GCJ[1], abs=1e-12)


def test_gcj02_to_bd09_matches_coordtransform() -> None:
    lon, lat = gcj02_to_bd09(*TIANANMEN)
    assert float(lon) == pytest.approx(WANDERGIS_GCJ_TO_BD[0], abs=1e-12)
    assert float(lat) == pytest.approx(WANDERGIS_GCJ_TO_BD[1], abs=1e-12)


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), EVILTRANSFORM_WGS_GCJ)
def test_wgs84_to_gcj02_matches_eviltransform(
    wlon: float, wlat: float, glon: float, glat: float
) -> None:
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert float(lon) == pytest.approx(glon, abs=1e-9)
    assert float(lat) == pytest.approx(glat, abs=1e-9)


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), EVILTRANSFORM_WGS_GCJ)
def test_gcj02_to_wgs84_is_exact_on_eviltransform_pairs(
    wlon: float, wlat: float, glon: float, glat: float
) -> None:
    lon, lat = gcj02_to_wgs84(glon, glat)
    assert metres(float(lon), float(lat), wlon, wlat) < 0.01  # eviltransform accepts 0.5 m


def test_inverses_improve_on_the_one_step_formulas() -> None:
    """The published one-step inverses are close (cm here) but not exact; ours are."""
    lon, lat = gcj02_to_wgs84(*TIANANMEN)
    one_step = metres(float(lon), float(lat), *WANDERGIS_GCJ_TO_WGS_ONE_STEP)
    assert 0.001 < one_step < 5.0
    back = wgs84_to_gcj02(lon, lat)
    assert metres(float(back[0]), float(back[1]), *TIANANMEN) < 1e-4
    back_one_step = wgs84_to_gcj02(*WANDERGIS_GCJ_TO_WGS_ONE_STEP)
    assert metres(float(back_one_step[0]), float(back_one_step[1]), *TIANANMEN) > 0.001

    glon, glat = bd09_to_gcj02(*TIANANMEN)
    assert metres(float(glon), float(glat), *WANDERGIS_BD_TO_GCJ_ONE_STEP) < 1.0
    again = gcj02_to_bd09(glon, glat)
    assert metres(float(again[0]), float(again[1]), *TIANANMEN) < 1e-4


def test_outside_china_gcj02_is_wgs84() -> None:
    # Helsinki, New York, Tokyo (east of the rectangle), Singapore (south of it).
    lon = np.array([24.94, -74.0, 139.77, 103.85])
    lat = np.array([60.17, 40.7, 35.68, 0.5])
    assert out_of_china(lon, lat).all()
    for func in (wgs84_to_gcj02, gcj02_to_wgs84):
        out_lon, out_lat = func(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)


def test_shapes_nan_and_broadcasting() -> None:
    lon = np.array([[116.404, np.nan], [113.75, 24.94]])
    lat = np.array([[39.915, 23.0], [np.nan, 60.17]])
    out_lon, out_lat = gcj02_to_wgs84(lon, lat)
    assert out_lon.shape == (2, 2)
    assert np.isnan(out_lon[0, 1]) and np.isnan(out_lat[1, 0])
    assert out_lon[1, 1] == 24.94
    scalar = wgs84_to_bd09(116.404, 39.915)
    assert scalar[0].shape == ()
    broadcast = wgs84_to_gcj02([113.7, 113.8], 23.0)
    assert broadcast[1].shape == (2,)


def test_the_input_arrays_are_not_modified() -> None:
    lon = np.array([116.404, 113.75])
    lat = np.array([39.915, 23.02])
    for func in (wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02):
        func(lon, lat)
    np.testing.assert_array_equal(lon, [116.404, 113.75])
    np.testing.assert_array_equal(lat, [39.915, 23.02])


# Inside the out-of-China rectangle with a margin, so a round trip cannot cross its edge.
china_lon = st.floats(73.0, 135.0, allow_nan=False)
china_lat = st.floats(1.0, 55.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(china_lon, china_lat), min_size=1, max_size=20))
def test_gcj02_round_trips(points: list[tuple[float, float]]) -> None:
    lon, lat = np.array(points).T
    wlon, wlat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    np.testing.assert_allclose(wlon, lon, atol=1e-8)  # ~1 mm
    np.testing.assert_allclose(wlat, lat, atol=1e-8)
    glon, glat = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    np.testing.assert_allclose(glon, lon, atol=1e-8)
    np.testing.assert_allclose(glat, lat, atol=1e-8)
    # The offset itself is a few hundred metres, never zero inside China.
    olon, olat = wgs84_to_gcj02(lon, lat)
    shift = np.hypot(olon - lon, olat - lat) * M_PER_DEG
    assert (shift > 1.0).all() and (shift < 2000.0).all()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(china_lon, china_lat), min_size=1, max_size=20))
def test_bd09_round_trips(points: list[tuple[float, float]]) -> None:
    lon, lat = np.array(points).T
    back = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    np.testing.assert_allclose(back[0], lon, atol=1e-8)
    np.testing.assert_allclose(back[1], lat, atol=1e-8)
    gcj = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    np.testing.assert_allclose(gcj[0], lon, atol=1e-8)
    np.testing.assert_allclose(gcj[1], lat, atol=1e-8)


@settings(max_examples=50, deadline=None)
@given(
    st.floats(73.0, 135.0),
    st.floats(1.0, 55.0),
    st.sampled_from(DATUM_CODES),
)
def test_to_wgs84_inverts_from_wgs84(lon: float, lat: float, datum: str) -> None:
    back = to_wgs84(*from_wgs84(lon, lat, datum), datum)
    assert float(back[0]) == pytest.approx(lon, abs=1e-8)
    assert float(back[1]) == pytest.approx(lat, abs=1e-8)


def test_to_wgs84_dispatches_on_datum() -> None:
    gcj = to_wgs84(*TIANANMEN, "GCJ-02")
    np.testing.assert_array_equal(gcj, gcj02_to_wgs84(*TIANANMEN))
    bd = to_wgs84(*TIANANMEN, Datum.BD09)
    np.testing.assert_array_equal(bd, bd09_to_wgs84(*TIANANMEN))
    same = to_wgs84(*TIANANMEN, "wgs84")
    assert (float(same[0]), float(same[1])) == TIANANMEN


@pytest.mark.parametrize("bad", ["utm", "", "gcj", "epsg:4326"])
def test_unknown_datum_names_the_allowed_ones(bad: str) -> None:
    with pytest.raises(ValueError, match=r"unknown `datum`.*wgs84, gcj02, bd09"):
        to_wgs84(1.0, 2.0, bad)
    with pytest.raises(ValueError, match="unknown `datum`"):
        parse_datum(bad)


def test_pick_metric_crs_uses_the_utm_zone_of_the_centre() -> None:
    assert pick_metric_crs((113.70, 22.98, 113.80, 23.06)) == "EPSG:32649"
    import shapely

    assert pick_metric_crs(shapely.box(-74.1, 40.6, -73.9, 40.8)) == "EPSG:32618"
    with pytest.raises(TypeError, match="`area`"):
        pick_metric_crs("Dongguan")
