"""The feedback book in Redis (scale-out): shared by every controller process (contract: feedback.py).

An item is a string of JSON, and the site's sorted set of codes by time received answers
"the items of the month"; its phone number, when one was given, is a key of its own, and
so is the Idempotency-Key it was sent with ("CODE DIGEST": no phone in it).
Adding an item, and saving it with its number deleted, are each one Lua script, atomic on
the server. Keys carry the site's hash tag (redis_keys.py), so a script touches one slot
of a cluster. Durable with `appendonly yes` and `appendfsync always`, like the log.

A deleted number is gone from Redis's memory at once; its append-only file keeps the
write that set it until Redis rewrites the file (README, "Citizens' feedback").
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from controller.core.feedback import Feedback
from controller.store.base import StoreError
from controller.store.feedback import CodeInUse, decode_item, encode_item
from controller.store.redis_client import connect_client
from controller.store.redis_keys import DEFAULT_PREFIX, SiteKeys

__all__ = ["RedisFeedbackBook"]

# KEYS: item, phone, times, request (its Idempotency-Key). ARGV: code, received_at, body, phone ('' for none),
# "CODE DIGEST" of the request ('' without a key). A key seen before: what it added, and nothing is stored.
_ADD = """
if ARGV[5] ~= '' then
  local seen = redis.call('GET', KEYS[4])
  if seen then return seen end
end
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.error_reply('CODE_IN_USE') end
redis.call('SET', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
if ARGV[4] ~= '' then redis.call('SET', KEYS[2], ARGV[4]) end
if ARGV[5] ~= '' then redis.call('SET', KEYS[4], ARGV[5]) end
return 1
"""

# KEYS: item, phone. ARGV: body, has_phone ('1'/'0'). An item never added stays unknown.
_SAVE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
if ARGV[2] == '0' then redis.call('DEL', KEYS[2]) end
return 1
"""


def _score(at: float) -> str:
    return repr(float(at))  # every digit: an item received at `start` is in [start, end)


class RedisFeedbackBook:
    """Feedback items in Redis."""

    def __init__(self, client: Redis, *, prefix: str = DEFAULT_PREFIX, owns_client: bool = False) -> None:
        self.client = client
        self.prefix = prefix
        self._owns_client = owns_client
        self._add = client.register_script(_ADD)
        self._save = client.register_script(_SAVE)

    @classmethod
    async def connect(cls, url: str, *, prefix: str = DEFAULT_PREFIX) -> RedisFeedbackBook:
        """Connect to `redis://host:port/db`; StoreError when nothing answers there."""
        return cls(await connect_client(url, "feedback book"), prefix=prefix, owns_client=True)

    async def _call(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except ResponseError as exc:
            if "CODE_IN_USE" in str(exc):
                raise CodeInUse(str(exc)) from exc
            raise StoreError(f"feedback book: {exc}") from exc
        except (RedisError, OSError) as exc:
            raise StoreError(f"feedback book unavailable: {exc}") from exc

    def _keys(self, site: str) -> SiteKeys:
        return SiteKeys(site, self.prefix)

    async def add(self, item: Feedback, phone: str | None,
                  request: tuple[str, str] | None = None) -> tuple[str, str] | None:
        keys = self._keys(item.site)
        seen = await self._call(self._add(
            keys=[keys.feedback(item.code), keys.feedback_phone(item.code), keys.feedback_times,
                  keys.feedback_request(request[0] if request else "-")],
            args=[item.code, _score(item.received_at), encode_item(item), phone or "",
                  f"{item.code} {request[1]}" if request else ""]))
        if isinstance(seen, bytes):
            code, digest = seen.decode().split(" ", 1)
            return code, digest
        return None

    async def get(self, site: str, code: str) -> Feedback | None:
        body = await self._call(self.client.get(self._keys(site).feedback(code)))
        return None if body is None else decode_item(body)

    async def since(self, site: str, start: float, end: float | None = None) -> list[Feedback]:
        keys = self._keys(site)
        codes = await self._call(self.client.zrangebyscore(
            keys.feedback_times, _score(start), "+inf" if end is None else f"({_score(end)}"))
        if not codes:
            return []
        bodies = await self._call(self.client.mget([keys.feedback(code.decode()) for code in codes]))
        return [decode_item(body) for body in bodies if body is not None]

    async def save(self, item: Feedback) -> None:
        keys = self._keys(item.site)
        await self._call(self._save(keys=[keys.feedback(item.code), keys.feedback_phone(item.code)],
                                    args=[encode_item(item), "1" if item.has_phone else "0"]))

    async def phone(self, site: str, code: str) -> str | None:
        number = await self._call(self.client.get(self._keys(site).feedback_phone(code)))
        return None if number is None else bytes(number).decode()

    async def close(self) -> None:
        if self._owns_client:
            await self.client.aclose()
