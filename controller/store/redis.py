"""Redis event log (scale-out): one stream per site whose entry ids are the sequence numbers.

Why a stream and not a list plus a counter: the entry id *is* the seq (`SEQ-0`),
so `read_after(seq)` is an XRANGE seek in O(log N) instead of an index walk,
and Redis itself refuses an id that is not above the stream's last generated
id, even after deletions, which makes "a seq is never reused" a property of the
server rather than of our bookkeeping. Streams also let other processes follow
a site with XREAD (the cross-process live feed).

Reads by day use a per-site hash day -> seq ranges ("1-40,97-120"), kept by the
same script that appends, so replaying one day is one XRANGE per range rather
than a scan of the site's whole history.

Append is one Lua script, atomic on the server: it checks the fencing token,
recognises a retry of an append whose reply was lost (each call carries a
random append id; a retry looks for it among the newest entries), assigns
consecutive seqs after the stream's head, writes the entries and updates the
day index. With `appendonly yes` and `appendfsync
always` Redis fsyncs the script's effects before it replies, so an
acknowledged append survives a SIGKILL of the server.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from controller.store.base import StaleWriterError, StoredEvent, StoreError, decode_body, encode_body
from controller.store.redis_keys import DEFAULT_PREFIX, SiteKeys

__all__ = ["RedisEventStore"]

T = TypeVar("T")

# Entries per read call: big enough that round trips do not dominate a replay, small enough
# that one call keeps Redis busy for only a few milliseconds (it serves every process).
READ_PAGE = 1000
# How far back a retried append looks for its first attempt: far more than the appends
# that can be in flight for one site (its single writer has one at a time).
RETRY_LOOKBACK = 2000

# KEYS: log, days, fence. ARGV: day, append id, fencing token ('' = unfenced), lookback, bodies...
# lookback is 0 on a first attempt (a fresh append id cannot be in the log yet) and RETRY_LOOKBACK
# on a retry, whose first attempt may have been committed with other appends after it.
_APPEND = """
local log, days, fence = KEYS[1], KEYS[2], KEYS[3]
local day, append_id, token, lookback = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local n = #ARGV - 4
local last = 0
local head = redis.call('XREVRANGE', log, '+', '-', 'COUNT', 1)
if #head > 0 then
  last = tonumber(string.match(head[1][1], '^(%d+)'))
end
if lookback > 0 then
  for _, entry in ipairs(redis.call('XREVRANGE', log, '+', '-', 'COUNT', lookback)) do
    local fields = entry[2]
    for i = 1, #fields, 2 do
      if fields[i] == 'a' and fields[i + 1] == append_id then
        local batch_last = tonumber(string.match(entry[1], '^(%d+)'))
        return {batch_last - n + 1, batch_last}
      end
    end
  end
end
-- After the retry check: an append committed while its token was current stays acknowledged.
if token ~= '' then
  local current = tonumber(redis.call('GET', fence) or '0')
  if tonumber(token) < current then
    return redis.error_reply('STALE fencing token ' .. token .. ' is older than ' .. current)
  end
end
local first, final = last + 1, last + n
for i = 1, n do
  redis.call('XADD', log, string.format('%d-0', last + i), 'd', day, 'a', append_id, 'b', ARGV[4 + i])
end
local ranges = redis.call('HGET', days, day)
if not ranges then
  ranges = string.format('%d-%d', first, final)
else
  local before, range_first, range_last = string.match(ranges, '^(.-)(%d+)-(%d+)$')
  if tonumber(range_last) == first - 1 then
    ranges = before .. range_first .. string.format('-%d', final)
  else
    ranges = ranges .. string.format(',%d-%d', first, final)
  end
end
redis.call('HSET', days, day, ranges)
return {first, final}
"""


# KEYS: log. ARGV: start id, end id, count. Returns {n, "SEQ\tDAY\tBODY\n..."}: one bulk string per
# page instead of nine RESP elements per entry, because parsing those in Python, not Redis, is what
# bounds replay. JSON escapes control characters, so neither tab nor newline occurs inside a body.
_READ = r"""#!lua flags=no-writes
local out = {}
for i, entry in ipairs(redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[2], 'COUNT', ARGV[3])) do
  local fields, day, body = entry[2], '', ''
  for j = 1, #fields, 2 do
    if fields[j] == 'd' then day = fields[j + 1] elseif fields[j] == 'b' then body = fields[j + 1] end
  end
  out[i] = string.match(entry[1], '^(%d+)') .. '\t' .. day .. '\t' .. body
end
return {#out, table.concat(out, '\n')}
"""


def _page(reply: Any) -> list[StoredEvent]:
    """Decode the read script's page."""
    count, blob = reply
    if not int(count):
        return []
    out: list[StoredEvent] = []
    for line in _text(blob).split("\n"):  # decoded once: json.loads of str skips encoding detection
        seq, day, body = line.split("\t", 2)
        out.append(StoredEvent(seq=int(seq), day=day, body=decode_body(body)))
    return out


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _events(entries: Any) -> list[StoredEvent]:
    """Stream entries as redis-py returns them (id, {field: value}), as stored events."""
    out: list[StoredEvent] = []
    for entry_id, fields in entries or ():
        out.append(StoredEvent(
            seq=int(_text(entry_id).split("-", 1)[0]), day=_text(fields[b"d"]), body=decode_body(fields[b"b"])
        ))
    return out


class RedisEventStore:
    """Event log in Redis, shared by every controller process of a deployment."""

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        retry_s: float = 1.0,
        owns_client: bool = False,
        name: str = "redis",
    ) -> None:
        self.client = client
        self.prefix = prefix
        # Short outages (a restart, a fail-over) are bridged by retrying for this long;
        # past it the caller gets StoreError (HTTP 503) rather than waiting.
        self.retry_s = retry_s
        self.name = name
        self._owns_client = owns_client
        self._append = client.register_script(_APPEND)
        self._read = client.register_script(_READ)
        self._fences: dict[str, int] = {}

    @classmethod
    async def connect(cls, url: str, *, prefix: str = DEFAULT_PREFIX, retry_s: float = 1.0) -> RedisEventStore:
        """Connect to `redis://host:port/db`; StoreError when nothing answers there."""
        try:
            client = Redis.from_url(
                url,
                socket_connect_timeout=1.0,
                socket_timeout=2.0,
                # The store retries itself, with the append id that makes a retried append safe;
                # the client's own retry would re-send a script blindly.
                retry=Retry(NoBackoff(), 0),
            )
        except ValueError as exc:
            raise StoreError(f"bad Redis URL {url!r}: {exc}") from exc
        store = cls(client, prefix=prefix, retry_s=retry_s, owns_client=True, name=f"redis {url}")
        try:
            await store._call("connect", client.ping)
        except StoreError:
            await store.close()
            raise
        return store

    async def __aenter__(self) -> RedisEventStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def fence(self, site: str, token: int | None) -> None:
        """Make this process's appends for `site` conditional on `token` (None: unconditional)."""
        if token is None:
            self._fences.pop(site, None)
        else:
            self._fences[site] = token

    async def _call(self, what: str, op: Callable[[], Awaitable[T]]) -> T:
        deadline = time.monotonic() + self.retry_s
        delay = 0.02
        while True:
            try:
                return await op()
            except ResponseError as exc:
                if str(exc).startswith("STALE"):
                    raise StaleWriterError(f"{self.name}: {what}: {exc}") from exc
                raise StoreError(f"{self.name}: {what}: {exc}") from exc
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                # Includes BusyLoadingError: a restarted server answers LOADING while it reads its AOF.
                if time.monotonic() + delay > deadline:
                    raise StoreError(f"{self.name} unavailable ({what}): {exc}") from exc
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.25)
            except RedisError as exc:
                raise StoreError(f"{self.name}: {what}: {exc}") from exc

    async def append(self, site: str, day: str, events: Sequence[Mapping[str, Any]]) -> list[int]:
        if not events:
            return []
        if "\t" in day or "\n" in day:
            raise ValueError(f"day {day!r} contains a tab or newline (the read script's separators)")
        keys = SiteKeys(site, self.prefix)
        token = self._fences.get(site)
        append_id = uuid.uuid4().hex  # the same on every retry of this call: a lost reply is not a second append
        bodies = [encode_body(body) for body in events]
        attempts = 0

        async def run() -> list[int]:
            nonlocal attempts
            lookback = RETRY_LOOKBACK if attempts else 0
            attempts += 1
            args: list[str | int] = [day, append_id, "" if token is None else str(token), lookback, *bodies]
            first, last = await self._append(keys=[keys.log, keys.days, keys.fence], args=args)
            return list(range(int(first), int(last) + 1))

        return await self._call(f"append to {site}", run)

    async def _range(self, log: str, start: str, end: str, limit: int) -> list[StoredEvent]:
        return _page(await self._call("read", lambda: self._read(keys=[log], args=[start, end, limit])))

    async def read_day(self, site: str, day: str) -> list[StoredEvent]:
        keys = SiteKeys(site, self.prefix)
        ranges = await self._call(f"read {site} {day}", lambda: self.client.hget(keys.days, day))
        out: list[StoredEvent] = []
        for part in _text(ranges or b"").split(","):
            if not part:
                continue
            first, last = (int(x) for x in part.split("-"))
            # Paged, so a long day is not one reply of tens of megabytes.
            start = first
            while start <= last:
                page = await self._range(keys.log, f"{start}-0", f"{last}-0", READ_PAGE)
                if not page:
                    break
                out.extend(page)
                start = page[-1].seq + 1
        return out

    async def read_after(self, site: str, after_seq: int, limit: int = 1000) -> list[StoredEvent]:
        if limit <= 0:
            return []
        start = "-" if after_seq < 0 else f"{after_seq + 1}-0"
        return await self._range(SiteKeys(site, self.prefix).log, start, "+", limit)

    async def latest_day(self, site: str) -> str | None:
        log = SiteKeys(site, self.prefix).log
        head = await self._call(f"read {site}", lambda: self.client.xrevrange(log, "+", "-", count=1))
        newest = _events(head)
        return newest[0].day if newest else None

    async def days(self, site: str) -> list[str]:
        keys = SiteKeys(site, self.prefix)
        names = await self._call(f"read {site} days", lambda: self.client.hkeys(keys.days))
        return sorted(_text(name) for name in names)

    async def close(self) -> None:
        if self._owns_client:
            await self.client.aclose()
