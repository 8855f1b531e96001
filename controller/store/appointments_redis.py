"""The appointment book in Redis (scale-out): shared by every controller process.

A booking is one Lua script, atomic on the server: it checks the request's
idempotency key, refuses a code in use, counts the slot's set and adds to it.
Keys carry the site's hash tag (redis_keys.py), so one script touches one slot of
a cluster. Durable with `appendonly yes` and `appendfsync always`, like the log.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from controller.core.appointments import Booking
from controller.store.appointments import CodeTaken, SlotFull
from controller.store.base import StoreError
from controller.store.redis_client import connect_client
from controller.store.redis_keys import DEFAULT_PREFIX, SiteKeys

__all__ = ["RedisAppointmentBook"]

# KEYS: booking, slot, request (idempotency). ARGV: capacity, code, body, has request key ('1'/'0').
_BOOK = """
local booking, slot, request = KEYS[1], KEYS[2], KEYS[3]
local capacity, code, body, keyed = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4] == '1'
if keyed then
  local made = redis.call('GET', request)
  if made then return {'existing', made} end
end
if redis.call('EXISTS', booking) == 1 then return redis.error_reply('CODE_TAKEN') end
if redis.call('SCARD', slot) >= capacity then return redis.error_reply('SLOT_FULL') end
redis.call('SET', booking, body)
redis.call('SADD', slot, code)
if keyed then redis.call('SET', request, code) end
return {'booked', code}
"""

# KEYS: booking, slot. ARGV: cancelled body, code. Cancels only a booking still booked.
_CANCEL = """
local body = redis.call('GET', KEYS[1])
if not body then return false end
if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 0 then return body end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
return ARGV[1]
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _body(booking: Booking) -> str:
    return json.dumps(booking.to_dict(), separators=(",", ":"))


class RedisAppointmentBook:
    """Bookings in Redis."""

    def __init__(self, client: Redis, *, prefix: str = DEFAULT_PREFIX, owns_client: bool = False) -> None:
        self.client = client
        self.prefix = prefix
        self._owns_client = owns_client
        self._book = client.register_script(_BOOK)
        self._cancel = client.register_script(_CANCEL)

    @classmethod
    async def connect(cls, url: str, *, prefix: str = DEFAULT_PREFIX) -> RedisAppointmentBook:
        """Connect to `redis://host:port/db`; StoreError when nothing answers there."""
        return cls(await connect_client(url, "appointment book"), prefix=prefix, owns_client=True)

    async def _call(self, awaitable: Any) -> Any:
        # No retries here: a booking's script is not safe to resend blindly, and the citizen retries
        # with the same Idempotency-Key anyway.
        try:
            return await awaitable
        except ResponseError as exc:
            if "SLOT_FULL" in str(exc):
                raise SlotFull(str(exc)) from exc
            if "CODE_TAKEN" in str(exc):
                raise CodeTaken(str(exc)) from exc
            raise StoreError(f"appointment book: {exc}") from exc
        except (RedisError, OSError) as exc:
            raise StoreError(f"appointment book unavailable: {exc}") from exc

    async def book(self, booking: Booking, capacity: int, idempotency_key: str | None = None) -> Booking:
        keys = SiteKeys(booking.site, self.prefix)
        request = keys.booking_request(idempotency_key or "-")
        outcome, code = await self._call(self._book(
            keys=[keys.booking(booking.code), keys.slot(booking.agency, booking.slot_at), request],
            args=[capacity, booking.code, _body(booking), "1" if idempotency_key else "0"]))
        if _text(outcome) == "existing":
            made = await self.get(booking.site, _text(code))
            if made is None:
                raise StoreError(f"appointment book: request {idempotency_key!r} names a missing booking")
            return made
        return booking

    async def get(self, site: str, code: str) -> Booking | None:
        body = await self._call(self.client.get(SiteKeys(site, self.prefix).booking(code)))
        return None if body is None else Booking.from_dict(json.loads(body))

    async def cancel(self, site: str, code: str, at: float) -> Booking | None:
        booking = await self.get(site, code)
        if booking is None or booking.status != "booked":
            return booking
        keys = SiteKeys(site, self.prefix)
        cancelled = Booking.from_dict({**booking.to_dict(), "status": "cancelled", "cancelled_at": at})
        body = await self._call(self._cancel(keys=[keys.booking(code), keys.slot(booking.agency, booking.slot_at)],
                                             args=[_body(cancelled), code]))
        return None if body is None else Booking.from_dict(json.loads(body))

    async def counts(self, site: str, agency: str, slots: Sequence[float]) -> dict[float, int]:
        keys = SiteKeys(site, self.prefix)
        async with self.client.pipeline(transaction=False) as pipe:
            for at in slots:
                pipe.scard(keys.slot(agency, at))
            sizes = await self._call(pipe.execute())
        return {float(at): int(n) for at, n in zip(slots, sizes, strict=True)}

    async def close(self) -> None:
        if self._owns_client:
            await self.client.aclose()
