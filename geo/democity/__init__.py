"""Dongcao (东草): a deterministic, clearly synthetic demo manufacturing city.

Twelve invented towns (an urban core with the talent market, ten manufacturing towns and a
chemical park) on a street network of about 47,000 nodes with a full road hierarchy, a
river with few bridges, industry belts, employers, job seekers, volunteers and candidate
sites. The city lies in open sea (around lon 115.5, lat 21.5, UTM 50N) so it is never
confused with a real place.

Use :func:`ensure_demo_city` (build once) or :func:`build_demo_city` (rebuild) to write
the scenario folder, or :func:`generate_city` for the pieces in memory (``scale`` makes a
bigger city for benchmarks).
"""

from .build import (
    DEFAULT_FOLDER,
    DEFAULT_SEED,
    GENERATOR_VERSION,
    DemoCity,
    build_demo_city,
    ensure_demo_city,
    folder_for_scale,
    generate_city,
    is_complete,
    scale_suffix,
    scenario_toml,
    write_city,
)
from .roads import RoadNetwork, mode_component_share

__all__ = [
    "DEFAULT_FOLDER",
    "DEFAULT_SEED",
    "GENERATOR_VERSION",
    "DemoCity",
    "RoadNetwork",
    "build_demo_city",
    "ensure_demo_city",
    "folder_for_scale",
    "generate_city",
    "is_complete",
    "mode_component_share",
    "scale_suffix",
    "scenario_toml",
    "write_city",
]
