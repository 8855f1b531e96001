"""Which controller processes share a Redis right now: a heartbeat set, so each knows its fair share.

A sorted set `motcua:members` maps each process (its advertised URL) to the
moment its membership runs out, in the Redis server's own clock (TIME inside
the script), so processes on machines with skewed clocks still agree. A process
that stops heart-beating (killed, paused) drops out after the TTL, the same
time its site leases take to expire, so the survivors' fair share grows just
as its sites become free.
"""

from __future__ import annotations

import math

from redis.asyncio import Redis
from redis.exceptions import RedisError

from controller.store.base import StoreError
from controller.store.redis_keys import DEFAULT_PREFIX

__all__ = ["Members", "fair_share"]

# KEYS: members. ARGV: holder, ttl ms. Returns the live members' names.
_BEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""


def fair_share(sites: int, members: int) -> int:
    """How many sites one of `members` processes should hold so that all are held."""
    return math.ceil(sites / max(1, members))


class Members:
    """Heartbeat of one process in the deployment's member set."""

    def __init__(self, client: Redis, holder: str, ttl_s: float, prefix: str = DEFAULT_PREFIX) -> None:
        self.client = client
        self.holder = holder
        self.ttl_ms = max(1, int(ttl_s * 1000))
        self.key = f"{prefix}:members"
        self._beat = client.register_script(_BEAT)

    async def beat(self) -> list[str]:
        """Renew this process's membership; every live member (this one included)."""
        try:
            names = await self._beat(keys=[self.key], args=[self.holder, self.ttl_ms])
        except RedisError as exc:
            raise StoreError(f"members: {exc}") from exc
        return sorted(n.decode() if isinstance(n, bytes) else str(n) for n in names)

    async def leave(self) -> None:
        """Clean stop: the others' share grows now rather than after the TTL."""
        try:
            await self.client.zrem(self.key, self.holder)
        except RedisError as exc:
            raise StoreError(f"members: {exc}") from exc
