"""The industries the bureau plans for, with English and Chinese labels."""

from __future__ import annotations

from enum import StrEnum


class Industry(StrEnum):
    """Industry codes used in every layer (``industry`` / ``industries`` columns)."""

    TEXTILE = "textile"
    ELECTRICAL = "electrical"
    FURNITURE = "furniture"
    TOYS = "toys"
    FOOD = "food"
    CHEMICAL = "chemical"
    OTHER = "other"

    @property
    def label_en(self) -> str:
        return _LABELS[self][0]

    @property
    def label_zh(self) -> str:
        return _LABELS[self][1]

    @property
    def colour(self) -> str:
        """Map colour (hex), stable across all maps."""
        return _LABELS[self][2]


_LABELS: dict[Industry, tuple[str, str, str]] = {
    Industry.TEXTILE: ("Textile, garment & footwear", "纺织服装鞋业", "#e6194b"),
    Industry.ELECTRICAL: ("Electrical machinery", "电气机械", "#4363d8"),
    Industry.FURNITURE: ("Furniture", "家具", "#9a6324"),
    Industry.TOYS: ("Toys", "玩具", "#f58231"),
    Industry.FOOD: ("Food & beverage", "食品饮料", "#3cb44b"),
    Industry.CHEMICAL: ("Chemical", "化工", "#911eb4"),
    Industry.OTHER: ("Other", "其他", "#808080"),
}

INDUSTRY_CODES: tuple[str, ...] = tuple(i.value for i in Industry)
"""All valid industry codes, in display order."""

BELT_INDUSTRIES: tuple[Industry, ...] = tuple(i for i in Industry if i is not Industry.OTHER)
"""The six industries that form belts (``other`` does not)."""


def parse_industries(value: str, *, sep: str = ";") -> list[Industry]:
    """Parse a separated list of industry codes such as ``"textile;toys"``.

    Raises
    ------
    ValueError
        If any code is unknown; the message lists the allowed codes.
    """
    codes = [c.strip().lower() for c in str(value).replace(",", sep).split(sep) if c.strip()]
    unknown = [c for c in codes if c not in INDUSTRY_CODES]
    if unknown:
        msg = f"unknown industry code(s) {unknown}; allowed: {', '.join(INDUSTRY_CODES)}"
        raise ValueError(msg)
    if not codes:
        msg = f"no industry given; allowed: {', '.join(INDUSTRY_CODES)}"
        raise ValueError(msg)
    return [Industry(c) for c in codes]
