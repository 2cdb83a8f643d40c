"""Write the real-data fixtures (run from the repository root; outputs are committed).

* ``scenario_mixed_datum/``: a street grid (WGS-84 GraphML) near Dongguan; GCJ-02 CSV layers
  (as copied from Amap) and one WGS-84 GeoJSON layer (volunteers, from a GPS export) in a
  scenario declaring ``coordinates = "gcj02"``: the datum check must flag the volunteers.
* ``scenario_gbk/``: the same city as a bureau exports it: GBK CSV with Chinese headers and
  Chinese industry/mode/kind labels, an Excel sheet with numeric ids and date cells.
* ``scenario_electronics/``: scenario_small's network and sites with the city's own
  ``[industries]`` (electronics, logistics, garment), planned end to end by the tests.

Every point lies 4-25 m off a street in WGS-84, as addresses do.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import networkx as nx
import numpy as np
import openpyxl

from geo.crs import wgs84_to_gcj02

HERE = Path(__file__).parent
MIXED = HERE / "scenario_mixed_datum"
GBK = HERE / "scenario_gbk"

LON0, LAT0, DLON, DLAT, N = 113.748, 23.014, 0.002, 0.0018, 11
"""Grid origin, spacing (about 205 m by 200 m) and number of lines each way."""


def write_grid() -> None:
    import osmnx as ox

    graph: nx.MultiDiGraph = nx.MultiDiGraph(crs="EPSG:4326")
    for i in range(N):
        for j in range(N):
            graph.add_node(i * N + j, x=LON0 + j * DLON, y=LAT0 + i * DLAT)
    for i in range(N):
        for j in range(N):
            for di, dj, length in ((0, 1, 205.0), (1, 0, 200.0)):
                if i + di < N and j + dj < N:
                    u, v = i * N + j, (i + di) * N + j + dj
                    for a, b in ((u, v), (v, u)):
                        graph.add_edge(
                            a,
                            b,
                            length=length,
                            highway="residential",
                            oneway=False,
                            reversed=a > b,
                        )
    ox.save_graphml(graph, MIXED / "grid.graphml")


def street_points(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` WGS-84 points 4-25 m beside random grid streets (inside the grid)."""
    lon = np.empty(n)
    lat = np.empty(n)
    for k in range(n):
        along = rng.uniform(0.1, N - 1.1)
        line = rng.integers(1, N - 1)
        off = rng.uniform(4, 25) * rng.choice([-1, 1]) / 111_000.0
        if rng.random() < 0.5:  # beside a street of constant latitude
            lon[k], lat[k] = LON0 + along * DLON, LAT0 + line * DLAT + off
        else:
            lon[k], lat[k] = LON0 + line * DLON + off / 0.92, LAT0 + along * DLAT
    return np.round(lon, 6), np.round(lat, 6)


def gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = wgs84_to_gcj02(lon, lat)
    return np.round(x, 6), np.round(y, 6)


EMPLOYERS = [
    ("华丽制衣厂", "纺织服装鞋业", 120, "08:00-17:30"),
    ("东发电器有限公司", "电气机械", 45, "08:30-18:00"),
    ("美家家具厂", "家具", 30, "08:00-17:00"),
    ("乐童玩具厂", "玩具", 60, "08:00-18:00"),
    ("香满园食品有限公司", "食品饮料", 25, "07:00-16:00"),
    ("Ｔｅｘｔｉｌｅ Ｗｏｒｋｓ", "Textile", 80, "08:00-20:00"),
    ("恒通化工有限公司", "C2614", 15, "08:00-17:00"),
    ("顺达鞋业", "鞋业", 90, "07:30-17:30"),
    ("宏图电子", "electrical", 40, "08:30-17:30"),
    ("丰泰服装厂", "纺织", 55, "08:00-18:00"),
    ("鸿运物流", "其他", 10, "09:00-18:00"),
    ("永利玩具厂", "TOYS", 35, "08:00-17:30"),
]
SEEKERS = [
    ("纺织服装鞋业、玩具", "步行"),
    ("食品饮料", "公交"),
    ("电气机械", "电动车"),
    ("家具；纺织", "自驾"),
    ("玩具", "电瓶车"),
    ("纺织服装鞋业", "步行"),
    ("其他", "公交车"),
    ("电气机械，食品", "电动车"),
]
VOLUNTEERS = [
    ("陈丽", "纺织服装鞋业", "09:00-12:00", "步行"),
    ("王芳", "电气机械;食品饮料", "13:30-17:00", "电动车"),
    ("李明", "玩具、家具", "08:30-17:30", ""),
    ("张伟", "textile", "09:00-17:00", "walk"),
    ("刘洋", "化工", "10:00-16:00", "电动车"),
    ("赵静", "食品饮料", "08:00-12:00", "步行"),
]


def write_mixed(rng: np.random.Generator) -> None:
    """Codes in English; datum is the point: GCJ-02 tables, one WGS-84 GeoJSON."""
    lon, lat = gcj(*street_points(rng, 12))
    codes = ["textile", "electrical", "furniture", "toys", "food", "textile"] * 2
    rows = ["id,name,industry,demand,opens,closes,lon,lat"]
    rows += [
        f"E{k + 1},Employer {k + 1},{codes[k]},{20 + 5 * k},08:00,17:30,{x},{y}"
        for k, (x, y) in enumerate(zip(lon, lat, strict=True))
    ]
    (MIXED / "employers.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    lon, lat = gcj(*street_points(rng, 10))
    modes = ["walk", "bus", "ebike", "car", "walk"] * 2
    rows = ["id,industries,mode,registered,lon,lat"]
    rows += [
        f"S{k + 1},{codes[k]},{modes[k]},2024-03-0{1 + k % 9},{x},{y}"
        for k, (x, y) in enumerate(zip(lon, lat, strict=True))
    ]
    (MIXED / "seekers.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    lon, lat = street_points(rng, 8)  # WGS-84: a GPS export, not converted
    features = [
        {
            "type": "Feature",
            "properties": {
                "id": f"V{k + 1}",
                "name": f"Volunteer {k + 1}",
                "industries": codes[k],
                "available_from": "09:00",
                "available_to": "17:00",
                "mode": "ebike",
            },
            "geometry": {"type": "Point", "coordinates": [float(x), float(y)]},
        }
        for k, (x, y) in enumerate(zip(lon, lat, strict=True))
    ]
    (MIXED / "volunteers.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, indent=1) + "\n"
    )
    lon, lat = gcj(*street_points(rng, 6))
    rows = ["id,name,kind,capacity,lon,lat"]
    kinds = ["community_centre", "library", "school", "town_hall", "market", "transit_hub"]
    rows += [
        f"C{k + 1},Site {k + 1},{kinds[k]},{150 + 10 * k},{x},{y}"
        for k, (x, y) in enumerate(zip(lon, lat, strict=True))
    ]
    (MIXED / "sites.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    x, y = gcj(np.array([LON0 + 5 * DLON + 0.0001]), np.array([LAT0 + 5 * DLAT]))
    (MIXED / "market.csv").write_text(
        f"id,name,capacity,lon,lat\nT1,Talent Market,1500,{x[0]},{y[0]}\n", encoding="utf-8"
    )


def write_gbk(rng: np.random.Generator) -> None:
    """As exported by a bureau: GBK, Chinese headers and values, GCJ-02, Excel cells."""
    lon, lat = gcj(*street_points(rng, len(EMPLOYERS)))
    rows = ["企业编号,企业名称,所属行业,岗位数（人）,营业时间,经度,纬度"]
    rows += [
        f"{1001 + k},{name},{ind},{demand},{hours},{x},{y}"
        for k, ((name, ind, demand, hours), x, y) in enumerate(
            zip(EMPLOYERS, lon, lat, strict=True)
        )
    ]
    (GBK / "employers.csv").write_bytes(("\r\n".join(rows) + "\r\n").encode("gbk"))

    # Seekers in Excel: numeric ids and real date cells, as a registration system exports.
    lon, lat = gcj(*street_points(rng, len(SEEKERS)))
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "求职登记"
    sheet.append(["求职者编号", "意向行业", "出行方式", "登记日期", "经度", "纬度"])
    for k, ((inds, mode), x, y) in enumerate(zip(SEEKERS, lon, lat, strict=True)):
        registered = dt.datetime(2024, 3, 1 + k)
        sheet.append([20240001 + k, inds, mode, registered, float(x), float(y)])
        sheet.cell(row=k + 2, column=4).number_format = "yyyy/m/d"
    book.save(GBK / "seekers.xlsx")

    lon, lat = gcj(*street_points(rng, len(VOLUNTEERS)))
    rows = ["志愿者编号,姓名,熟悉行业,可服务时间,出行方式,经度,纬度"]
    rows += [
        f"V{k + 1:03d},{name},{inds},{hours},{mode},{x},{y}"
        for k, ((name, inds, hours, mode), x, y) in enumerate(
            zip(VOLUNTEERS, lon, lat, strict=True)
        )
    ]
    (GBK / "volunteers.csv").write_bytes(("\r\n".join(rows) + "\r\n").encode("gbk"))

    lon, lat = gcj(*street_points(rng, 5))
    kinds = ["社区服务中心", "图书馆", "学校", "镇街办事处", "工业园区管委会"]
    names = ["南城社区服务中心", "东城图书馆", "职业技术学校", "石龙镇街办事处", "松山湖园区"]
    rows = ["站点编号,站点名称,站点类型,日接待量,经度,纬度"]
    rows += [
        f"C{k + 1},{names[k]},{kinds[k]},{150 + 20 * k},{x},{y}"
        for k, (x, y) in enumerate(zip(lon, lat, strict=True))
    ]
    (GBK / "sites.csv").write_bytes(("\r\n".join(rows) + "\r\n").encode("gbk"))
    x, y = gcj(np.array([LON0 + 5 * DLON + 0.0001]), np.array([LAT0 + 5 * DLAT]))
    text = f"编号,名称,容量,经度,纬度\r\nT1,市人才市场,1500,{x[0]},{y[0]}\r\n"
    (GBK / "market.csv").write_bytes(text.encode("gbk"))


if __name__ == "__main__":
    generator = np.random.default_rng(12)
    write_grid()
    write_mixed(generator)
    write_gbk(generator)
