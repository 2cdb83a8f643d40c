"""The industry catalogue: resolving codes, labels, aliases and GB/T 4754 codes."""

from __future__ import annotations

import pytest

from geo.industries import (
    DEFAULT_CATALOGUE,
    INDUSTRY_CODES,
    Industry,
    IndustryCatalogue,
    IndustryInfo,
    parse_industries,
)

ELECTRONICS = IndustryCatalogue(
    (
        IndustryInfo("electronics", "电子信息", "Electronics", "#1f77b4", ("39",), ("电子",)),
        IndustryInfo("logistics", "物流仓储", "Logistics", "#ff7f0e", ("G",)),
        IndustryInfo("toys", "玩具", "Toys", "#f58231", ("245",)),
        IndustryInfo("crafts", "文教工美", "Crafts", "#aaaaaa", ("24",)),
    )
)


def test_default_catalogue_keeps_the_enum_codes_and_labels() -> None:
    assert DEFAULT_CATALOGUE.codes == tuple(i.value for i in Industry) == INDUSTRY_CODES
    for ind in Industry:
        info = DEFAULT_CATALOGUE[ind.value]
        assert (info.en, info.zh, info.colour) == (ind.label_en, ind.label_zh, ind.colour)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("textile", "textile"),
        ("Textile", "textile"),
        ("ＴＥＸＴＩＬＥ", "textile"),  # full-width letters, as typed with a Chinese IME
        ("纺织服装鞋业", "textile"),
        (" 纺织服装鞋业 ", "textile"),
        ("Textile, garment & footwear", "textile"),
        ("textile,  GARMENT & footwear", "textile"),  # spaces squeezed, case folded
        ("鞋业", "textile"),  # alias
        ("C1810", "textile"),  # GB/T 4754 class 1810 (division 18)
        ("1951", "textile"),
        ("2451", "toys"),
        ("食品饮料", "food"),
        ("其它", "other"),
        ("steel", None),
        ("C3110", None),  # iron and steel: no industry declares division 31
        ("", None),
    ],
)
def test_resolve_default(value: str, code: str | None) -> None:
    assert DEFAULT_CATALOGUE.resolve(value) == code


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("电子", "electronics"),
        ("ｅｌｅｃｔｒｏｎｉｃｓ", "electronics"),
        ("3982", "electronics"),
        ("G5810", "logistics"),  # a section letter covers every class in it
        ("5810", None),  # without the letter the section is unknown
        ("2451", "toys"),  # the longest declared class wins over "24"
        ("C2411", "crafts"),
        ("textile", None),  # not in this city's catalogue
        ("other", "other"),  # always there
    ],
)
def test_resolve_custom(value: str, code: str | None) -> None:
    assert ELECTRONICS.resolve(value) == code


def test_other_is_added_last_when_not_declared() -> None:
    assert ELECTRONICS.codes[-1] == "other"
    assert ELECTRONICS["other"].zh == "其他"


def test_catalogue_round_trips_through_records() -> None:
    again = IndustryCatalogue.from_records(ELECTRONICS.to_records())
    assert again.to_records() == ELECTRONICS.to_records()


@pytest.mark.parametrize(
    ("infos", "message"),
    [
        (
            (
                IndustryInfo("a", "电子", "A", "#000000"),
                IndustryInfo("b", "电子", "B", "#000000"),
            ),
            "'电子' names both `a` and `b`",
        ),
        (
            (
                IndustryInfo("a", "甲", "A", "#000000", ("18",)),
                IndustryInfo("b", "乙", "B", "#000000", ("18",)),
            ),
            "GB/T 4754 class '18' is declared by `a` too",
        ),
    ],
)
def test_ambiguous_catalogues_are_refused(infos: tuple[IndustryInfo, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        IndustryCatalogue(infos)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"code": "Electronics"}, "`code` 'Electronics' must be lower-case"),
        ({"zh": ""}, "`zh` must be non-empty text"),
        ({"colour": "blue"}, "`colour` must be #rrggbb"),
        ({"gbt4754": ("C18X",)}, "`gbt4754` 'C18X' is not a GB/T 4754 class"),
    ],
)
def test_bad_industry_is_refused(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"code": "x", "zh": "甲", "en": "X", "colour": "#123456"}
    with pytest.raises(ValueError, match=message):
        IndustryInfo(**{**fields, **kwargs})  # type: ignore[arg-type]


def test_parse_lists_unknown_names_and_the_allowed_ones() -> None:
    assert parse_industries("textile;玩具") == [Industry.TEXTILE, Industry.TOYS]
    assert ELECTRONICS.parse("电子;G5810;电子信息") == ["electronics", "logistics"]
    with pytest.raises(ValueError, match=r"unknown industry \['steel'\]; allowed: electronics"):
        ELECTRONICS.parse("electronics;steel")
