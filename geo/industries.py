"""The industries a bureau plans for: a catalogue of codes with Chinese and English labels.

Every scenario has an :class:`IndustryCatalogue` (``[industries]`` in ``scenario.toml``);
without one it is :data:`DEFAULT_CATALOGUE`, the bureau's six belt industries plus ``other``
(the codes of :class:`Industry`). Layers may name an industry by its code, its Chinese or
English label, one of its aliases, or a GB/T 4754-2017 industry code (``C1810``, ``18``)
under one of its declared classes; :meth:`IndustryCatalogue.resolve` ignores case and
full-width forms (``ＴＥＸＴＩＬＥ``, ``Textile``, ``纺织服装鞋业`` all mean ``textile``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Industry(StrEnum):
    """Codes of the default catalogue (the bureau's six belt industries and ``other``)."""

    TEXTILE = "textile"
    ELECTRICAL = "electrical"
    FURNITURE = "furniture"
    TOYS = "toys"
    FOOD = "food"
    CHEMICAL = "chemical"
    OTHER = "other"

    @property
    def label_en(self) -> str:
        return DEFAULT_CATALOGUE[self.value].en

    @property
    def label_zh(self) -> str:
        return DEFAULT_CATALOGUE[self.value].zh

    @property
    def colour(self) -> str:
        """Map colour (hex), stable across all maps."""
        return DEFAULT_CATALOGUE[self.value].colour


OTHER = "other"
"""The catch-all code: every catalogue has it (added with default labels when not declared)."""

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_GBT_DECLARED = re.compile(r"^([A-T])?(\d{2,4})?$")
_GBT_VALUE = re.compile(r"^([A-T])?(\d{2,4})$")
_SPACES = re.compile(r"\s+")

PALETTE: tuple[str, ...] = (
    "#e6194b",
    "#4363d8",
    "#9a6324",
    "#f58231",
    "#3cb44b",
    "#911eb4",
    "#42d4f4",
    "#f032e6",
    "#469990",
    "#808000",
    "#000075",
    "#e6beff",
)
"""Colours given, in order, to declared industries without a ``colour``."""


def normalise_key(value: object) -> str:
    """Key used to compare labels: NFKC (full-width -> ASCII), case-folded, spaces squeezed."""
    text = unicodedata.normalize("NFKC", str(value)).casefold().strip()
    return _SPACES.sub(" ", text)


@dataclass(frozen=True)
class IndustryInfo:
    """One industry of a catalogue.

    Parameters
    ----------
    code
        Lower-case code used in outputs and the API (``[a-z][a-z0-9_]*``).
    zh, en
        Chinese and English labels (also accepted as values in layers).
    colour
        Map colour, ``#rrggbb``.
    gbt4754
        GB/T 4754-2017 classes this industry covers: a section letter (``C``) or a division,
        group or class code (``18``, ``C18``, ``245``); values in layers given as such codes
        resolve to the industry with the longest matching class.
    aliases
        Further names accepted in layers (e.g. ``纺织``).
    """

    code: str
    zh: str
    en: str
    colour: str
    gbt4754: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        errors = []
        if not isinstance(self.code, str) or not _CODE.match(self.code):
            errors.append(
                f"`code` {self.code!r} must be lower-case letters, digits or `_`, "
                "starting with a letter"
            )
        for name in ("zh", "en"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                errors.append(f"`{name}` must be non-empty text, got {value!r}")
        if not isinstance(self.colour, str) or not _COLOUR.match(self.colour):
            errors.append(f"`colour` must be #rrggbb, got {self.colour!r}")
        for code in self.gbt4754:
            found = _GBT_DECLARED.match(str(code).upper()) if isinstance(code, str) else None
            if not code or found is None:
                errors.append(
                    f"`gbt4754` {code!r} is not a GB/T 4754 class (a section letter A-T "
                    "and/or 2-4 digits, e.g. 'C', '18', 'C1810')"
                )
        if any(not isinstance(a, str) or not a.strip() for a in self.aliases):
            errors.append(f"`aliases` must be non-empty texts, got {list(self.aliases)!r}")
        if errors:
            raise ValueError("; ".join(errors))

    @property
    def label(self) -> str:
        """``"English 中文"``, as maps and summaries show it."""
        return f"{self.en} {self.zh}"

    def names(self) -> tuple[str, ...]:
        """Every text naming this industry in a layer: code, labels, aliases."""
        return (self.code, self.zh, self.en, *self.aliases)


@dataclass(frozen=True, eq=False)
class IndustryCatalogue:
    """The industries of one scenario, in display order (``other`` always last or declared).

    Raises
    ------
    ValueError
        If codes repeat, or a label, alias or GB/T class names two industries.
    """

    industries: tuple[IndustryInfo, ...]
    _lookup: dict[str, str] = field(init=False, repr=False)
    _gbt: tuple[tuple[str, str, str], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        inds = tuple(self.industries)
        if not any(i.code == OTHER for i in inds):
            inds = (*inds, _DEFAULT_INFOS[-1])
        object.__setattr__(self, "industries", inds)
        lookup: dict[str, str] = {}
        errors: list[str] = []
        for info in inds:
            for name in info.names():
                key = normalise_key(name)
                if lookup.get(key, info.code) != info.code:
                    errors.append(f"{name!r} names both `{lookup[key]}` and `{info.code}`")
                lookup[key] = info.code
        gbt: dict[tuple[str, str], str] = {}
        for info in inds:
            for code in info.gbt4754:
                match = _GBT_DECLARED.match(code.upper())
                assert match is not None  # checked by IndustryInfo
                cls = (match[1] or "", match[2] or "")
                if gbt.get(cls, info.code) != info.code:
                    errors.append(f"GB/T 4754 class {code!r} is declared by `{gbt[cls]}` too")
                gbt[cls] = info.code
        if errors:
            raise ValueError("; ".join(errors))
        object.__setattr__(self, "_lookup", lookup)
        # Longest classes first, so "245" (toys) wins over "24" for "2451".
        ordered = sorted(gbt.items(), key=lambda kv: -len(kv[0][1]))
        object.__setattr__(self, "_gbt", tuple((s, d, c) for (s, d), c in ordered))

    # -- lookups ------------------------------------------------------------------------------

    @property
    def codes(self) -> tuple[str, ...]:
        """Every code, in display order."""
        return tuple(i.code for i in self.industries)

    def __iter__(self) -> Iterator[IndustryInfo]:
        return iter(self.industries)

    def __len__(self) -> int:
        return len(self.industries)

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    def __getitem__(self, code: str) -> IndustryInfo:
        for info in self.industries:
            if info.code == code:
                return info
        msg = f"unknown industry `{code}`; allowed: {', '.join(self.codes)}"
        raise KeyError(msg)

    def label(self, code: str) -> str:
        """``"English 中文"`` of `code` (the code itself if it is not in the catalogue)."""
        return self[code].label if code in self else str(code)

    def colour(self, code: str) -> str:
        """Map colour of `code` (grey if it is not in the catalogue)."""
        return self[code].colour if code in self else "#808080"

    def resolve(self, value: object) -> str | None:
        """The code `value` names (code, label, alias or GB/T 4754 code), or ``None``."""
        key = normalise_key(value)
        code = self._lookup.get(key)
        if code is not None or not self._gbt:
            return code
        match = _GBT_VALUE.match(key.upper())
        if match is None:
            return None
        section, digits = match[1] or "", match[2]
        for decl_section, decl_digits, code in self._gbt:
            if decl_digits:
                same_section = not (section and decl_section) or section == decl_section
                if same_section and digits.startswith(decl_digits):
                    return code
            elif section == decl_section:
                return code
        return None

    def allowed(self) -> str:
        """The accepted values for messages: ``textile (纺织服装鞋业), ...``."""
        return ", ".join(f"{i.code} ({i.zh})" for i in self.industries)

    def parse(self, value: str, *, sep: str = ";") -> list[str]:
        """Codes of a separated list such as ``"textile;玩具"``.

        Raises
        ------
        ValueError
            If a value names no industry or none is given; the message lists the allowed ones.
        """
        names = [c.strip() for c in str(value).replace(",", sep).split(sep) if c.strip()]
        codes = [self.resolve(c) for c in names]
        unknown = [n for n, c in zip(names, codes, strict=True) if c is None]
        if unknown:
            msg = f"unknown industry {unknown}; allowed: {self.allowed()}"
            raise ValueError(msg)
        if not names:
            msg = f"no industry given; allowed: {self.allowed()}"
            raise ValueError(msg)
        return list(dict.fromkeys(c for c in codes if c is not None))

    # -- serialisation ------------------------------------------------------------------------

    def to_records(self) -> list[dict[str, Any]]:
        """JSON-ready list of the industries (written to ``city_summary.json``)."""
        return [
            {
                "code": i.code,
                "zh": i.zh,
                "en": i.en,
                "colour": i.colour,
                "gbt4754": list(i.gbt4754),
                "aliases": list(i.aliases),
            }
            for i in self.industries
        ]

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> IndustryCatalogue:
        """Inverse of :meth:`to_records`."""
        return cls(
            tuple(
                IndustryInfo(
                    code=str(r["code"]),
                    zh=str(r["zh"]),
                    en=str(r["en"]),
                    colour=str(r["colour"]),
                    gbt4754=tuple(r.get("gbt4754", ())),
                    aliases=tuple(r.get("aliases", ())),
                )
                for r in records
            )
        )


_DEFAULT_INFOS: tuple[IndustryInfo, ...] = (
    IndustryInfo(
        "textile",
        "纺织服装鞋业",
        "Textile, garment & footwear",
        "#e6194b",
        ("17", "18", "19"),
        ("纺织", "纺织业", "服装", "服装业", "鞋业", "制鞋", "纺织服装", "garment", "footwear"),
    ),
    IndustryInfo(
        "electrical",
        "电气机械",
        "Electrical machinery",
        "#4363d8",
        ("38",),
        ("电气", "电气机械和器材制造业"),
    ),
    IndustryInfo("furniture", "家具", "Furniture", "#9a6324", ("21",), ("家具制造业",)),
    IndustryInfo("toys", "玩具", "Toys", "#f58231", ("245",), ("玩具制造",)),
    IndustryInfo(
        "food",
        "食品饮料",
        "Food & beverage",
        "#3cb44b",
        ("13", "14", "15"),
        ("食品", "饮料", "食品制造业"),
    ),
    IndustryInfo("chemical", "化工", "Chemical", "#911eb4", ("26",), ("化学",)),
    IndustryInfo(OTHER, "其他", "Other", "#808080", (), ("其它",)),
)

DEFAULT_CATALOGUE = IndustryCatalogue(_DEFAULT_INFOS)
"""The bureau's six belt industries plus ``other``: the catalogue when a scenario has no
``[industries]``."""

INDUSTRY_CODES: tuple[str, ...] = DEFAULT_CATALOGUE.codes
"""Codes of the default catalogue, in display order."""

BELT_INDUSTRIES: tuple[Industry, ...] = tuple(i for i in Industry if i is not Industry.OTHER)
"""The six industries of the default catalogue that form belts (``other`` does not)."""


def parse_industries(value: str, *, sep: str = ";") -> list[Industry]:
    """Parse a separated list of default-catalogue industries such as ``"textile;玩具"``.

    Raises
    ------
    ValueError
        If any value is unknown; the message lists the allowed ones.
    """
    return [Industry(c) for c in DEFAULT_CATALOGUE.parse(value, sep=sep)]
