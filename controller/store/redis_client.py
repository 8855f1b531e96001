"""A Redis client for the books kept beside the event log (appointments, feedback): one way to open it.

No retries in the client: a book's scripts are not safe to resend blindly, and whoever
calls (a citizen's page, a manager) tries again. Short timeouts: a Redis that does not
answer fails the request with 503 store_unavailable rather than holding it.
"""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from controller.store.base import StoreError

__all__ = ["connect_client"]


async def connect_client(url: str, what: str) -> Redis:
    """A client of `redis://host:port/db` that has answered a PING; StoreError naming `what` otherwise."""
    try:
        client = Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=2.0, retry=Retry(NoBackoff(), 0))
    except ValueError as exc:
        raise StoreError(f"bad Redis URL {url!r}: {exc}") from exc
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        raise StoreError(f"{what} unavailable: {exc}") from exc
    return client
