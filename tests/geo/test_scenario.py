"""Scenario folders: parsing scenario.toml and loading all five layers at once."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import shapely

from geo import InputError, ScenarioError
from geo.crs import Datum, gcj02_to_wgs84
from geo.industries import DEFAULT_CATALOGUE
from geo.layers import LayerName
from geo.scenario import MapSettings, PlanningParams, Scenario, load_layers

SMALL = Path(__file__).parents[1] / "data" / "scenario_small"
GOOD_TOML = (SMALL / "scenario.toml").read_text()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A private copy of scenario_small that a test may break."""
    return Path(shutil.copytree(SMALL, tmp_path / "small"))


def test_load_small_scenario() -> None:
    scen = Scenario.load(SMALL)
    assert scen.folder == SMALL.resolve()
    assert (scen.name, scen.title, scen.synthetic) == ("small", "Small test town", True)
    assert scen.datum is Datum.GCJ02
    assert scen.network_source == SMALL.resolve() / "network.graphml"
    assert scen.network_is_file
    assert set(scen.layers) == set(LayerName)
    sites = scen.layers[LayerName.CANDIDATE_SITES]
    assert (sites.path.name, sites.layer) == ("small.gpkg", "candidate_sites")
    assert scen.layers[LayerName.EMPLOYERS].layer is None
    assert scen.planning == PlanningParams(max_snap_m=1500, n_points=1)
    assert scen.map == MapSettings(tiles="none", attribution="")
    assert Scenario.load(SMALL / "scenario.toml") == scen


def test_load_layers_reads_converts_and_validates_all_five() -> None:
    scen = Scenario.load(SMALL)
    layers = load_layers(scen, network_bounds=(113.74, 23.01, 113.77, 23.04))
    assert list(layers) == list(LayerName)
    assert {k: len(v) for k, v in layers.items()} == {
        LayerName.EMPLOYERS: 2,
        LayerName.SEEKERS: 3,
        LayerName.VOLUNTEERS: 2,
        LayerName.CANDIDATE_SITES: 2,
        LayerName.TALENT_MARKET: 1,
    }
    for gdf in layers.values():
        assert gdf.crs.to_epsg() == 4326
    # GCJ-02 in the files, WGS-84 in memory.
    emp = layers[LayerName.EMPLOYERS]
    want = gcj02_to_wgs84([113.7512, 113.7633], [23.0215, 23.0301])
    np.testing.assert_allclose(emp.geometry.x, want[0], atol=1e-12)
    np.testing.assert_allclose(emp.geometry.y, want[1], atol=1e-12)
    assert list(layers[LayerName.VOLUNTEERS]["mode"]) == ["walk", "ebike"]  # null -> default
    assert list(layers[LayerName.TALENT_MARKET]["capacity"]) == [1500]


def test_points_far_from_the_network_in_every_layer_are_reported_together() -> None:
    scen = Scenario.load(SMALL)
    far_away = shapely.box(113.0, 22.0, 113.01, 22.01)
    with pytest.raises(InputError) as info:
        load_layers(scen, network_bounds=far_away)
    sources = {p.source for p in info.value.problems}
    assert len(sources) == 5  # every layer's file named, in one error
    assert len(info.value.problems) == 10
    assert all(
        "outside the street network's area (limit 1,500 m)" in p.reason for p in info.value.problems
    )


def _replace_line(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_problems_of_all_layers_are_raised_once(folder: Path) -> None:
    _replace_line(
        folder / "employers.csv", "E2,Dongfa Electric,electrical,45", "E2,,electrical,4.5"
    )
    _replace_line(folder / "seekers.csv", "S2,food,bus", "S2,food,bike")
    _replace_line(folder / "volunteers.geojson", '"13:30"', '"25:30"')
    with pytest.raises(InputError) as info:
        load_layers(Scenario.load(folder))
    text = str(info.value)
    assert text.startswith("4 problems in input:")
    assert f"{folder / 'employers.csv'}, row 3: missing `name`" in text
    assert f"{folder / 'employers.csv'}, row 3: `demand` '4.5' is not a whole number" in text
    assert f"{folder / 'seekers.csv'}, row 3: unknown `mode` 'bike'" in text
    assert f"{folder / 'volunteers.geojson'}, row 2: `available_from` '25:30'" in text


def test_an_unreadable_layer_does_not_hide_the_others(folder: Path) -> None:
    _replace_line(folder / "employers.csv", ",lon,lat", ",lon,latitude_wgs")
    _replace_line(folder / "seekers.csv", "S2,food,bus", "S2,food,bike")
    with pytest.raises(InputError) as info:
        load_layers(Scenario.load(folder))
    reasons = [p.reason for p in info.value.problems]
    assert reasons[0].startswith("missing column `lat`")
    assert any("unknown `mode` 'bike'" in r for r in reasons)


def test_skip_invalid_writes_the_report(folder: Path, tmp_path: Path) -> None:
    _replace_line(folder / "seekers.csv", "S2,food,bus", "S2,food,bike")
    scen = Scenario.load(folder)
    with pytest.raises(ValueError, match="`skip_invalid` needs a `report`"):
        load_layers(scen, skip_invalid=True)
    report = tmp_path / "out" / "input_problems.csv"
    layers = load_layers(scen, skip_invalid=True, report=report)
    assert list(layers[LayerName.SEEKERS]["id"]) == ["S1", "S3"]
    with report.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows == [
        {
            "source": str(folder / "seekers.csv"),
            "row": "3",
            "reason": "unknown `mode` 'bike'; allowed: "
            "walk (步行), ebike (电动车), bus (公交), car (自驾)",
        }
    ]


def test_no_report_when_nothing_was_skipped(tmp_path: Path) -> None:
    report = tmp_path / "problems.csv"
    load_layers(Scenario.load(SMALL), skip_invalid=True, report=report)
    assert not report.exists()


def test_place_name_network_source(folder: Path) -> None:
    _replace_line(
        folder / "scenario.toml",
        'source = "network.graphml"',
        'source = "Dongguan, Guangdong, China"',
    )
    scen = Scenario.load(folder)
    assert scen.network_source == "Dongguan, Guangdong, China"
    assert not scen.network_is_file


def test_defaults_for_optional_keys(folder: Path) -> None:
    text = GOOD_TOML.split("[planning]")[0]
    for line in ('title = "Small test town"\n', "synthetic = true\n", 'coordinates = "gcj02"\n'):
        text = text.replace(line, "")
    (folder / "scenario.toml").write_text(text)
    scen = Scenario.load(folder)
    assert (scen.title, scen.synthetic, scen.datum) == ("small", False, Datum.WGS84)
    assert scen.planning == PlanningParams()
    assert scen.map == MapSettings()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("[scenario]", "[scenario_]", "missing section `[scenario]`"),
        ('name = "small"', "", "missing key `scenario.name`"),
        ('name = "small"', 'name = "my town/1"', "`scenario.name` 'my town/1' must be folder-safe"),
        ('name = "small"', "name = 3", "`scenario.name` must be non-empty text, got 3"),
        ("synthetic = true", 'synthetic = "yes"', "`scenario.synthetic` must be true or false"),
        ('coordinates = "gcj02"', 'coordinates = "utm"', "`scenario.coordinates` 'utm' is unknown"),
        ('coordinates = "gcj02"', 'datum = "gcj02"', "unknown key `scenario.datum`"),
        ("[network]", "[net]", "missing section `[network]`"),
        ('source = "network.graphml"', 'source = "nope.graphml"', "`network.source` file"),
        ('source = "network.graphml"', "", "missing key `network.source`"),
        ("[layers]", "[layer]", "missing section `[layers]`"),
        ('employers = "employers.csv"', 'jobs = "employers.csv"', "unknown layer `layers.jobs`"),
        (
            'employers = "employers.csv"',
            'jobs = "employers.csv"',
            "missing layer `layers.employers`",
        ),
        ('employers = "employers.csv"', 'employers = "nope.csv"', "`layers.employers` file"),
        ('employers = "employers.csv"', 'employers = "e.shp"', "has an unsupported type"),
        ('employers = "employers.csv"', "employers = 5", "`layers.employers` must be a file name"),
        (
            'seekers = { path = "seekers.csv" }',
            'seekers = { file = "seekers.csv" }',
            "unknown key `layers.seekers.file`",
        ),
        (
            'layer = "talent_market" }',
            'layer = "" }',
            "`layers.talent_market.layer` must be non-empty text",
        ),
        ("max_snap_m = 1500", "max_snap_m = -5", "`max_snap_m` must be between"),
        ("max_snap_m = 1500", 'max_snap_m = "far"', "`max_snap_m` must be a number"),
        ("max_snap_m = 1500", "max_snap = 1500", "unknown key `planning.max_snap`"),
        ('tiles = "none"', 'tiles = "https://t.example/{z}/{x}/{y}.png"', "`attribution` is requ"),
        ('tiles = "none"', 'tiles = "google"', "`tiles` must be 'none', 'osm' or a URL template"),
        ('name = "small"', 'name = "small', "is not valid TOML"),
        (
            'employers = "employers.csv"',
            'employers = { path = "employers.csv", coordinates = "utm" }',
            "`layers.employers.coordinates` 'utm' is unknown; allowed: wgs84, gcj02, bd09",
        ),
        ('tiles = "none"', 'tiles = "none"\ncoordinates = "gcj02"', "needs a GCJ-02 `tiles` URL"),
        ('tiles = "none"', 'tiles = "none"\ncoordinates = "bd09"', "allowed: wgs84, gcj02"),
        ("[map]", '[output]\ncoordinates = "mars"\n[map]', "[output] `coordinates` 'mars'"),
        ("[map]", '[output]\nformat = "shp"\n[map]', "unknown key `output.format`"),
        ("[map]", "[industries]\nsteel = 3\n[map]", "`industries.steel` must be a table"),
        (
            "[map]",
            '[industries.Steel]\nzh = "钢铁"\nen = "Steel"\n[map]',
            "`industries.Steel`: `code` 'Steel' must be lower-case",
        ),
        (
            "[map]",
            '[industries.steel]\nen = "Steel"\n[map]',
            "`industries.steel`: `zh` must be non-empty text",
        ),
        (
            "[map]",
            '[industries.steel]\nzh = "钢铁"\nen = "Steel"\nlabel = "x"\n[map]',
            "unknown key `industries.steel.label`",
        ),
        (
            "[map]",
            '[industries.steel]\nzh = "钢铁"\nen = "Steel"\ngbt4754 = 31\n[map]',
            "`industries.steel.gbt4754` must be a list of texts",
        ),
        (
            "[map]",
            '[industries.a]\nzh = "钢铁"\nen = "A"\n[industries.b]\nzh = "钢铁"\nen = "B"\n[map]',
            "[industries] '钢铁' names both `a` and `b`",
        ),
    ],
)
def test_scenario_errors_name_the_key(folder: Path, old: str, new: str, message: str) -> None:
    path = folder / "scenario.toml"
    _replace_line(path, old, new)
    with pytest.raises(ScenarioError) as info:
        Scenario.load(folder)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_a_section_that_is_not_a_table(folder: Path) -> None:
    text = GOOD_TOML.split("[map]")[0]
    (folder / "scenario.toml").write_text("map = 3\n" + text)
    with pytest.raises(ScenarioError, match=r"`map` must be a section `\[map\]`"):
        Scenario.load(folder)


def test_every_scenario_problem_is_listed_at_once(folder: Path) -> None:
    text = (
        GOOD_TOML.replace('name = "small"', 'name = "a b"')
        .replace('coordinates = "gcj02"', 'coordinates = "utm"')
        .replace("max_snap_m = 1500", "max_snap_m = 0")
    )
    (folder / "scenario.toml").write_text(text)
    with pytest.raises(ScenarioError, match=r"^3 problem\(s\) in") as info:
        Scenario.load(folder)
    assert "`scenario.name`" in str(info.value)
    assert "`scenario.coordinates`" in str(info.value)
    assert "`max_snap_m`" in str(info.value)


def test_missing_folder_or_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"scenario folder `.*nowhere` does not exist"):
        Scenario.load(tmp_path / "nowhere")
    with pytest.raises(ScenarioError, match=r"scenario\.toml` does not exist"):
        Scenario.load(tmp_path)


@pytest.mark.parametrize("value", [0, -1.0, float("nan"), float("inf"), True, "2000"])
def test_planning_params_validate(value: object) -> None:
    with pytest.raises(ValueError, match="`max_snap_m`"):
        PlanningParams(max_snap_m=value)  # type: ignore[arg-type]


def test_map_settings() -> None:
    assert MapSettings(tiles="osm").tiles == "osm"
    custom = MapSettings(tiles="https://t.example/{z}/{x}/{y}.png", attribution="© example")
    assert custom.attribution == "© example"


def test_planning_params_are_floats() -> None:
    params = PlanningParams(max_snap_m=1500, n_points=1)
    assert isinstance(params.max_snap_m, float)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"model": "magic"}, "`model` 'magic' is unknown; allowed: staffed, capacitated"),
        ({"n_points": 2.5}, "`n_points` must be a whole number"),
        ({"coverage_share": 1.5}, "`coverage_share` must be between"),
        ({"opens": "9am"}, "`opens` must be a time of day HH:MM"),
        ({"opens": "18:00", "closes": "09:00"}, "`closes` \\(09:00\\) must be after"),
        ({"visit_rate": "lots"}, "`visit_rate` must be a number"),
    ],
)
def test_planning_params_reject_bad_values(kwargs, match):
    from geo.scenario import PlanningParams

    with pytest.raises(ValueError, match=match):
        PlanningParams(**kwargs)


def test_planning_params_collect_every_problem():
    from geo.scenario import PlanningParams

    with pytest.raises(ValueError) as info:
        PlanningParams(n_points=0, staff_per_point=-1, model="x")
    text = str(info.value)
    assert "`n_points`" in text and "`staff_per_point`" in text and "`model`" in text


def test_planning_params_defaults_and_hours():
    from geo.scenario import PlanningParams

    params = PlanningParams(opens="08:30", closes="17:45", n_points=12)
    assert params.open_hours == (8.5, 17.75)
    assert isinstance(params.n_points, int) and params.model == "staffed"


# ---------------------------------------------------------------------------------------------
# A real bureau's files: own industries, Chinese headers and labels, datums per layer

DATA = Path(__file__).parents[1] / "data"


def test_industries_section_is_the_scenario_catalogue() -> None:
    scen = Scenario.load(DATA / "scenario_electronics")
    assert scen.industries.codes == ("electronics", "logistics", "garment", "other")
    assert scen.industries["electronics"].colour == "#1f77b4"
    assert scen.industries["logistics"].colour.startswith("#")  # from the palette
    assert scen.industries["garment"].gbt4754 == ("18",)
    assert Scenario.load(SMALL).industries is DEFAULT_CATALOGUE


def test_layers_resolve_against_the_scenario_catalogue() -> None:
    layers = load_layers(Scenario.load(DATA / "scenario_electronics"))
    employers = layers[LayerName.EMPLOYERS]
    # 电子信息 (label), Logistics (English), C3982 and G5810 (GB/T 4754), garment (code)
    assert list(employers["industry"]) == [
        "electronics",
        "logistics",
        "electronics",
        "garment",
        "logistics",
    ]
    seekers = layers[LayerName.SEEKERS]
    assert list(seekers["industries"]) == [
        "electronics;garment",
        "logistics",
        "electronics",
        "logistics",
    ]
    assert list(seekers["mode"]) == ["walk", "bus", "ebike", "car"]  # 步行, 公交, 电动车, 自驾


def test_default_codes_are_unknown_to_a_city_with_its_own_industries(folder: Path) -> None:
    (folder / "scenario.toml").write_text(
        GOOD_TOML + '\n[industries.electronics]\nzh = "电子信息"\nen = "Electronics"\n'
    )
    with pytest.raises(InputError) as info:
        load_layers(Scenario.load(folder))
    assert "unknown `industry` 'textile'; allowed: electronics (电子信息), other (其他)" in str(
        info.value
    )


def test_bureau_export_reads_with_chinese_headers_and_labels() -> None:
    """GBK CSV with Chinese headers, an Excel sheet with numeric ids and date cells."""
    scen = Scenario.load(DATA / "scenario_gbk")
    layers = load_layers(scen)
    employers = layers[LayerName.EMPLOYERS]
    assert list(employers["id"][:2]) == ["1001", "1002"]
    assert employers["name"].iloc[0] == "华丽制衣厂"
    assert list(employers["industry"]) == [
        "textile",  # 纺织服装鞋业
        "electrical",  # 电气机械
        "furniture",
        "toys",
        "food",
        "textile",  # Textile
        "chemical",  # C2614 (GB/T 4754)
        "textile",  # 鞋业 (alias)
        "electrical",
        "textile",  # 纺织
        "other",  # 其他
        "toys",  # TOYS
    ]
    assert list(employers["demand"][:3]) == [120, 45, 30]  # header 岗位数（人）
    assert (employers["opens"].iloc[0], employers["closes"].iloc[0]) == ("08:00", "17:30")
    assert list(employers["_row"][:2]) == [2, 3]  # as Excel shows them
    seekers = layers[LayerName.SEEKERS]
    assert seekers["id"].iloc[0] == "20240001"  # numeric cell, no ".0"
    assert seekers["registered"].iloc[0] == "2024-03-01"  # date cell
    assert list(seekers["mode"][:3]) == ["walk", "bus", "ebike"]
    assert seekers["industries"].iloc[0] == "textile;toys"  # 纺织服装鞋业、玩具
    volunteers = layers[LayerName.VOLUNTEERS]
    assert list(volunteers["available_from"][:2]) == ["09:00", "13:30"]  # 可服务时间 range
    assert volunteers["mode"].iloc[2] == "ebike"  # empty cell: the default
    sites = layers[LayerName.CANDIDATE_SITES]
    assert list(sites["kind"][:3]) == ["community_centre", "library", "school"]
    assert list(sites["capacity"][:2]) == [150, 170]  # header 日接待量
    assert layers[LayerName.TALENT_MARKET]["name"].iloc[0] == "市人才市场"


def test_messages_use_the_files_own_headers_and_spreadsheet_rows(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(DATA / "scenario_gbk", tmp_path / "gbk"))
    shutil.copy(DATA / "scenario_mixed_datum" / "grid.graphml", folder / "grid.graphml")
    toml = folder / "scenario.toml"
    toml.write_text(toml.read_text().replace("../scenario_mixed_datum/", ""))
    path = folder / "employers.csv"
    lines = path.read_bytes().decode("gbk").splitlines()
    lines[3] = lines[3].replace(",家具,30,08:00-17:00,", ",钢铁,三十,8点,")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    with pytest.raises(InputError) as info:
        load_layers(Scenario.load(folder))
    text = str(info.value)
    assert f"{path}, row 4: unknown `所属行业` '钢铁'; allowed: textile (纺织服装鞋业)" in text
    assert f"{path}, row 4: `岗位数（人）` '三十' is not a whole number" in text
    assert f"{path}, row 4: `营业时间` '8点' is not a time of day HH:MM" in text


def test_per_layer_coordinates_override_the_scenarios(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(DATA / "scenario_mixed_datum", tmp_path / "mixed"))
    toml = folder / "scenario.toml"
    toml.write_text(
        toml.read_text().replace(
            'volunteers = "volunteers.geojson"',
            'volunteers = { path = "volunteers.geojson", coordinates = "wgs84" }',
        )
    )
    scen = Scenario.load(folder)
    assert scen.layer_datum(LayerName.VOLUNTEERS) is Datum.WGS84
    assert scen.layer_datum(LayerName.EMPLOYERS) is Datum.GCJ02
    layers = load_layers(scen)
    raw = json.loads((folder / "volunteers.geojson").read_text())["features"]
    got = shapely.get_coordinates(layers[LayerName.VOLUNTEERS].geometry.to_numpy())
    np.testing.assert_allclose(got, [f["geometry"]["coordinates"] for f in raw])


def test_output_and_map_coordinates() -> None:
    scen = Scenario.load(DATA / "scenario_gbk")
    assert scen.output.coordinates is Datum.GCJ02
    assert scen.map.coordinates is Datum.GCJ02
    assert Scenario.load(SMALL).output.coordinates is Datum.WGS84
