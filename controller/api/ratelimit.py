"""Token-bucket rate limits for ticket issue: per kiosk and per phone number.

A kiosk in a public hall is touched by anyone; a burst of taps or a script
must not drain an agency's numbers. Each key (a kiosk's name, a phone
number) gets a bucket of `burst` tokens refilled at `per_minute`; an empty
bucket refuses with 429 and says when to try again. Buckets live in memory:
after a restart everyone starts with a full bucket, which errs on the side
of serving citizens.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RateLimiter", "RateLimits"]


@dataclass(frozen=True)
class RateLimits:
    """How many tickets a kiosk or a phone may take."""

    kiosk_per_minute: float = 30.0
    kiosk_burst: int = 10
    phone_per_minute: float = 1.0
    phone_burst: int = 3


class RateLimiter:
    """Buckets keyed by (kind, key)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # key -> (tokens, last refill)
        self._max_keys = max_keys

    def take(self, kind: str, key: str, per_minute: float, burst: int) -> float:
        """Take one token; 0.0 when allowed, else the seconds until one is available (nothing taken)."""
        now = self._clock()
        tokens, last = self._buckets.get((kind, key), (float(burst), now))
        tokens = min(float(burst), tokens + (now - last) * per_minute / 60.0)
        if tokens < 1.0:
            self._buckets[(kind, key)] = (tokens, now)
            return (1.0 - tokens) * 60.0 / per_minute
        if len(self._buckets) >= self._max_keys:
            # Full buckets carry no information: forgetting them costs nothing.
            self._buckets = {k: v for k, v in self._buckets.items() if v[0] < 1.0}
        self._buckets[(kind, key)] = (tokens - 1.0, now)
        return 0.0

    def refund(self, kind: str, key: str, burst: int) -> None:
        """Give a token back (the request was refused for another reason, nothing was issued)."""
        entry = self._buckets.get((kind, key))
        if entry is not None:
            self._buckets[(kind, key)] = (min(float(burst), entry[0] + 1.0), entry[1])
