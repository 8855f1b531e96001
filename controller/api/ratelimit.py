"""Token-bucket rate limits: ticket issue per kiosk and per phone number; appointments per client.

A kiosk in a public hall is touched by anyone; a burst of taps or a script
must not drain an agency's numbers. Each key (a kiosk's name, a phone
number) gets a bucket of `burst` tokens refilled at `per_minute`; an empty
bucket refuses with 429 and says when to try again. Buckets live in memory:
after a restart everyone starts with a full bucket, which errs on the side
of serving citizens.

Phone numbers are personal data: a phone's bucket is keyed by an HMAC of the
number under a random key drawn anew each day, so the limiter never holds a
number, and no bucket can be linked to a number once its day is over. The day
is the site's (its UTC offset, given with each take), not the server's: a
server kept on UTC still forgets phones at the site's midnight. The booking
page is public: bookings and code look-ups are limited per client address,
which is personal data too and is keyed the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from controller.core.clock import local_day

__all__ = ["PERSONAL_KINDS", "RateLimiter", "RateLimits"]

# Bucket kinds keyed by something personal (a phone number, a client's address): held only as a daily HMAC.
PERSONAL_KINDS = frozenset({"phone", "booking", "lookup", "feedback", "remote_address", "remote_phone"})


@dataclass(frozen=True)
class RateLimits:
    """How many tickets a kiosk or a phone may take."""

    kiosk_per_minute: float = 30.0
    kiosk_burst: int = 10
    phone_per_minute: float = 1.0
    phone_burst: int = 3
    booking_per_minute: float = 1.0   # appointments booked from one client address
    booking_burst: int = 3
    lookup_per_minute: float = 10.0   # code look-ups and cancels from one client address
    lookup_burst: int = 10
    feedback_per_minute: float = 0.2  # feedback sent from one client address (a phone): one in 5 minutes
    feedback_burst: int = 3
    feedback_kiosk_per_minute: float = 2.0  # feedback typed at one kiosk
    feedback_kiosk_burst: int = 5
    # codes asked and numbers taken from a phone, per client address: loose, since a mobile carrier's NAT
    # puts many phones behind one address; the phone's own bucket and its code lock hold the rest
    remote_address_per_minute: float = 20.0
    remote_address_burst: int = 20
    remote_phone_per_minute: float = 1.0    # codes texted to one phone
    remote_phone_burst: int = 3


class RateLimiter:
    """Buckets keyed by (kind, key)."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._wall_clock = wall_clock
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # key -> (tokens, last refill)
        self._max_keys = max_keys
        self._days: dict[int, tuple[str, bytes]] = {}  # UTC offset -> (local day, that day's key)

    def _key(self, kind: str, key: str, utc_offset_s: int) -> tuple[str, str]:
        if kind not in PERSONAL_KINDS:
            return (kind, key)
        day = local_day(self._wall_clock(), utc_offset_s)
        known = self._days.get(utc_offset_s)
        if known is None or known[0] != day:
            # a new day where the site is: forget yesterday's personal buckets with the key that made them
            known = self._days[utc_offset_s] = (day, secrets.token_bytes(32))
            zones = {f"{personal}@{utc_offset_s}" for personal in PERSONAL_KINDS}
            self._buckets = {k: v for k, v in self._buckets.items() if k[0] not in zones}
        return (f"{kind}@{utc_offset_s}", hmac.new(known[1], key.encode("utf-8"), hashlib.sha256).hexdigest())

    def take(self, kind: str, key: str, per_minute: float, burst: int, *, utc_offset_s: int = 7 * 3600) -> float:
        """Take one token; 0.0 when allowed, else the seconds until one is available (nothing taken).

        utc_offset_s is the site's offset from UTC: a phone's day (and its key) ends at the site's midnight.
        """
        now = self._clock()
        bucket = self._key(kind, key, utc_offset_s)
        tokens, last = self._buckets.get(bucket, (float(burst), now))
        tokens = min(float(burst), tokens + (now - last) * per_minute / 60.0)
        if tokens < 1.0:
            self._buckets[bucket] = (tokens, now)
            return (1.0 - tokens) * 60.0 / per_minute
        if len(self._buckets) >= self._max_keys:
            # Full buckets carry no information: forgetting them costs nothing.
            self._buckets = {k: v for k, v in self._buckets.items() if v[0] < 1.0}
        self._buckets[bucket] = (tokens - 1.0, now)
        return 0.0

    def refund(self, kind: str, key: str, burst: int, *, utc_offset_s: int = 7 * 3600) -> None:
        """Give a token back (the request was refused for another reason, nothing was issued)."""
        bucket = self._key(kind, key, utc_offset_s)
        entry = self._buckets.get(bucket)
        if entry is not None:
            self._buckets[bucket] = (min(float(burst), entry[0] + 1.0), entry[1])
