"""Abuse limits: token buckets per API key and per client address (writes, batch queries).

Every non-GET request (writes and batch queries) takes one token from the bucket of its key
(if any) and one from the bucket of its client address; an empty bucket answers 429 with
``Retry-After`` (seconds until a token is back). Buckets refill continuously at
``rate_per_key`` / ``rate_per_address`` requests per minute up to ``rate_burst``.

The buckets live in the worker process: with ``--workers N`` each worker has its own, so the
effective limit is up to N times the setting. The client address is the TCP peer (behind a
reverse proxy, run uvicorn with ``--proxy-headers`` and ``--forwarded-allow-ips`` so it is
the real client).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

from fastapi import HTTPException, Request, status

from api.settings import Settings

MAX_BUCKETS = 100_000
"""Buckets kept per limiter; the idle (full) ones are dropped beyond this."""


@dataclass
class TokenBuckets:
    """Token buckets by key: `per_min` tokens a minute, at most `burst` (0: no limit)."""

    per_min: float
    burst: int
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, key: str, now: float | None = None) -> float:
        """Take a token for `key`; 0 if granted, else seconds until one is available."""
        if self.per_min <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        rate = self.per_min / 60.0
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > MAX_BUCKETS:
                    self._prune(now, rate)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate

    def _prune(self, now: float, rate: float) -> None:
        full = [
            k for k, (t, last) in self._buckets.items() if t + (now - last) * rate >= self.burst
        ]
        for k in full:
            del self._buckets[k]


@dataclass
class Limiter:
    """The two limiters of one app (per key, per address)."""

    per_key: TokenBuckets
    per_address: TokenBuckets

    @classmethod
    def from_settings(cls, settings: Settings) -> Limiter:
        return cls(
            TokenBuckets(settings.rate_per_key, settings.rate_burst),
            TokenBuckets(settings.rate_per_address, settings.rate_burst),
        )


def check_rate(request: Request, key_id: str | None) -> None:
    """Take a token for the request's key and address; 429 with Retry-After if out."""
    limiter: Limiter | None = getattr(request.app.state, "limiter", None)
    if limiter is None:
        return
    address = request.client.host if request.client is not None else "unknown"
    wait = limiter.per_address.take(address)
    which = "address"
    if wait == 0.0 and key_id is not None:
        wait = limiter.per_key.take(key_id)
        which = "key"
    if wait > 0.0:
        retry = max(1, math.ceil(wait))
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"too many writes or batch queries from this {which}; retry in {retry} s "
            "(settings `rate_per_key`, `rate_per_address`, `rate_burst`)",
            headers={"Retry-After": str(retry)},
        )
