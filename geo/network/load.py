"""Loading a street network from any source, with the prepared-arrays cache for files."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from pathlib import Path

from ..errors import CacheError
from ..modes import TravelMode
from .build import Speeds, network_from_graph
from .cache import cache_path, default_cache_dir, file_sha256, read_network, save_network
from .connectivity import MIN_COMPONENT_SHARE, check_components
from .model import StreetNetwork
from .read import read_osm_graph

logger = logging.getLogger(__name__)


def load_network(
    source: str | Path,
    *,
    modes: Iterable[TravelMode | str] = tuple(TravelMode),
    speeds: Speeds | None = None,
    min_component_share: float = MIN_COMPONENT_SHARE,
) -> StreetNetwork:
    """Load a street network and prepare per-mode graphs.

    Parameters
    ----------
    source
        A ``.graphml``, ``.osm``/``.osm.xml`` or ``.osm.pbf`` file, or a place name for
        osmnx to geocode and download (needs internet).
    modes
        Travel modes to prepare.
    speeds
        Overrides of the default speed table, ``{highway: {mode: km/h or None}}``.
    min_component_share
        A mode whose largest strongly connected component keeps less than this share of its
        usable street nodes gets a warning (:func:`geo.network.check_components`).

    Raises
    ------
    NetworkError
        If the file is missing or unreadable, or the network is empty.
    """
    graph = read_osm_graph(source, speeds=speeds)
    net = network_from_graph(graph, modes=modes, speeds=speeds, source=str(source))
    check_components(net, min_share=min_component_share)
    return net


def load_network_cached(
    source: str | Path,
    *,
    modes: Iterable[TravelMode | str] = tuple(TravelMode),
    speeds: Speeds | None = None,
    cache_dir: Path | None = None,
    min_component_share: float = MIN_COMPONENT_SHARE,
) -> StreetNetwork:
    """:func:`load_network`, reusing prepared arrays for an unchanged network file.

    A cache file that is corrupt, truncated, foreign or of an old format is logged and
    rebuilt (see :mod:`geo.network.cache`). Place names (downloads) are not cached here;
    osmnx keeps its own HTTP cache.
    """
    wanted = tuple(TravelMode(m) for m in modes)
    path = Path(str(source))
    if not path.is_file():
        return load_network(
            source, modes=wanted, speeds=speeds, min_component_share=min_component_share
        )
    digest = file_sha256(path)
    cache = cache_path(cache_dir or default_cache_dir(), digest, wanted, speeds)
    if cache.is_file():
        try:
            net = read_network(cache, source_sha256=digest)
        except CacheError as exc:
            logger.warning("rebuilding network cache: %s", exc)
        else:
            logger.info("network %s loaded from cache %s", source, cache)
            # The cache is keyed by content: a copy of the file elsewhere shares it, so
            # the network names the file it was asked for, not the one first cached.
            net = dataclasses.replace(net, source=str(source))
            check_components(net, min_share=min_component_share)
            return net
    net = load_network(source, modes=wanted, speeds=speeds, min_component_share=min_component_share)
    try:
        save_network(net, cache, source_sha256=digest)
    except OSError as exc:  # a read-only home must not stop planning
        logger.warning("cannot write network cache %s: %s", cache, exc)
    return net
