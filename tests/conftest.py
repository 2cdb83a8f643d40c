"""Suite-wide fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_network_cache(tmp_path_factory):
    """Keep the suite's network cache away from the user's ``~/.cache/dianmian``."""
    mp = pytest.MonkeyPatch()
    mp.setenv("DIANMIAN_CACHE", str(tmp_path_factory.mktemp("network-cache")))
    yield
    mp.undo()
