"""Site leases in Redis: which process is the single writer of a site, with fencing tokens.

A lease is a key `motcua:{site}:lease` = "TOKEN|HOLDER" with a TTL (SET NX PX
inside a script). Each acquisition increments the site's fence counter and
returns it as the fencing token; the Redis event store refuses an append whose
token is older than the counter (checked in the append script). So a process
that was paused past its lease (GC, SIGSTOP, a slow disk) and wakes up still
believing it is the writer cannot write once another process has taken over:
the lease decides who *should* write, the token makes sure nobody else *can*.

Renew and release are scripts that compare the stored value with the lease's
own "TOKEN|HOLDER", so a process can only extend or drop the acquisition it
made, never one made after its own expired.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from controller.store.base import StoreError
from controller.store.redis_keys import DEFAULT_PREFIX, SiteKeys

__all__ = ["Lease", "SiteLeases"]

# KEYS: lease, fence. ARGV: holder, ttl ms. Returns the new token, or nil when held by anyone.
_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return nil
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token .. '|' .. ARGV[1], 'PX', ARGV[2])
return token
"""

# KEYS: lease. ARGV: "TOKEN|HOLDER", ttl ms.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

# KEYS: lease. ARGV: "TOKEN|HOLDER".
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


@dataclass(frozen=True, slots=True)
class Lease:
    """One acquisition of a site: its fencing token and until when (monotonic) it is safe to act."""

    site: str
    holder: str
    token: int
    valid_until: float

    @property
    def value(self) -> str:
        """What the lease key holds while this acquisition owns it."""
        return f"{self.token}|{self.holder}"


class SiteLeases:
    """Acquire, renew and release site leases for one holder (a controller process)."""

    def __init__(self, client: Redis, holder: str, ttl_s: float = 5.0, prefix: str = DEFAULT_PREFIX) -> None:
        if not holder or "|" in holder:
            raise ValueError(f"lease holder {holder!r} must be non-empty and without '|'")
        if ttl_s <= 0:
            raise ValueError("lease ttl must be positive")
        self.client = client
        self.holder = holder
        self.ttl_ms = max(1, int(ttl_s * 1000))
        self.prefix = prefix
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def _valid_until(self, started: float) -> float:
        # Measured from before the request was sent: the server's TTL started no earlier,
        # so our view of the lease ends no later than the server's.
        return started + self.ttl_ms / 1000

    async def acquire(self, site: str) -> Lease | None:
        """Take the site if nobody holds it; None when it is held (by anyone, this holder included)."""
        keys = SiteKeys(site, self.prefix)
        started = time.monotonic()
        try:
            token = await self._acquire(keys=[keys.lease, keys.fence], args=[self.holder, self.ttl_ms])
        except RedisError as exc:
            raise StoreError(f"lease {site}: {exc}") from exc
        if token is None:
            return None
        return Lease(site, self.holder, int(token), self._valid_until(started))

    async def renew(self, lease: Lease) -> Lease | None:
        """Extend the lease; None when it was lost (expired, or taken over since)."""
        started = time.monotonic()
        try:
            renewed = await self._renew(keys=[SiteKeys(lease.site, self.prefix).lease], args=[lease.value, self.ttl_ms])
        except RedisError as exc:
            raise StoreError(f"lease {lease.site}: {exc}") from exc
        if not renewed:
            return None
        return Lease(lease.site, lease.holder, lease.token, self._valid_until(started))

    async def release(self, lease: Lease) -> bool:
        """Give the site up now (clean shutdown) so another process need not wait for expiry."""
        try:
            released = await self._release(keys=[SiteKeys(lease.site, self.prefix).lease], args=[lease.value])
        except RedisError as exc:
            raise StoreError(f"lease {lease.site}: {exc}") from exc
        return bool(released)

    async def holder_of(self, site: str) -> tuple[int, str] | None:
        """(token, holder) of the site's current lease, or None when nobody holds it."""
        try:
            value = await self.client.get(SiteKeys(site, self.prefix).lease)
        except RedisError as exc:
            raise StoreError(f"lease {site}: {exc}") from exc
        if value is None:
            return None
        text = value.decode() if isinstance(value, bytes) else value
        token, holder = text.split("|", 1)
        return int(token), holder
