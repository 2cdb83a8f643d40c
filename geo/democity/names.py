"""Invented Chinese names for streets, villages, companies, sites and volunteers.

Names are composed from common characters; none is meant to be a real place or company.
"""

from __future__ import annotations

import numpy as np

from geo.industries import Industry

SURNAMES = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁郑谢宋唐许邓冯韩曹曾彭萧蔡潘田董袁于余叶蒋杜"
    "苏魏程吕丁沈任姚卢傅钟姜崔谭廖范汪陆金石贾韦夏邱方侯邹熊孟秦白江薛尹段雷黎史龙陶贺顾毛"
)
GIVEN = tuple(
    "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉兰萍红建国志文辉鹏飞海燕亮斌波宇浩"
    "俊峰婷雪琳晨欣佳怡嘉颖立新永春梅金凤德荣翠莲小红少锋振宏家乐"
)
BRANDS = tuple("宏鑫恒华盛永嘉利达丰隆兴泰润美佳联信祥源顺昌富发宝誉创科威成力新伟荣旺百金天雅精艺")
STREET_WORDS = (
    "兴业", "建设", "人民", "新华", "振兴", "和平", "文明", "育才", "工业", "富民", "康乐",
    "安居", "创业", "同心", "幸福", "繁荣", "光明", "民生", "金鹭", "翠园", "荔园", "榕树",
    "青年", "朝阳", "沿江", "滨河", "园林", "科技", "商贸", "文化", "健康", "紫荆", "桂花",
    "玉兰", "碧桂", "锦绣", "东兴", "西园", "南苑", "北苑",
)  # fmt: skip
ORDINALS = ("中", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二")
VILLAGE_SUFFIX = ("屋村", "家围", "田村", "坑村", "岭村", "塘村", "边村", "洲村", "坊", "厝")
COMMUNITY_WORDS = (
    "新村", "旧村", "东区", "西区", "南区", "北区", "中心", "花园", "河滨", "工业区", "新城",
    "桥头", "埔心", "田心", "岗头", "塘尾", "榕树下", "老街", "新街", "上围", "下围", "水口",
)  # fmt: skip

INDUSTRY_SUFFIX: dict[Industry, tuple[str, ...]] = {
    Industry.TEXTILE: ("制衣厂", "鞋业有限公司", "纺织有限公司", "服装厂", "针织厂", "鞋厂"),
    Industry.ELECTRICAL: ("电器有限公司", "电机厂", "电子科技有限公司", "机电有限公司", "电线厂"),
    Industry.FURNITURE: ("家具有限公司", "家具厂", "木业有限公司", "沙发厂", "家居制品厂"),
    Industry.TOYS: ("玩具厂", "玩具有限公司", "塑胶玩具厂", "工艺品有限公司"),
    Industry.FOOD: ("食品有限公司", "饮料厂", "食品厂", "糕点厂", "调味品有限公司"),
    Industry.CHEMICAL: ("化工有限公司", "涂料有限公司", "精细化工厂", "新材料有限公司"),
    Industry.OTHER: ("物流有限公司", "商贸有限公司", "酒店", "超市", "包装有限公司", "印刷厂"),
}


def pick(rng: np.random.Generator, options: tuple[str, ...], size: int) -> np.ndarray:
    """`size` random entries of `options` as an object array."""
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), size=size)]


def person_names(rng: np.random.Generator, size: int) -> list[str]:
    """Synthetic Chinese personal names (surname + one or two given characters)."""
    s = pick(rng, SURNAMES, size)
    g1 = pick(rng, GIVEN, size)
    g2 = pick(rng, GIVEN, size)
    two = rng.random(size) < 0.7
    return [a + b + (c if t else "") for a, b, c, t in zip(s, g1, g2, two, strict=True)]


def brand_names(rng: np.random.Generator, size: int) -> list[str]:
    """Two-character company brands such as 宏达."""
    a = pick(rng, BRANDS, size)
    b = pick(rng, BRANDS, size)
    return [x + y for x, y in zip(a, b, strict=True)]
