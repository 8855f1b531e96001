"""The event log contract every backend (SQLite, Redis) fulfils.

Append is atomic per call: all events of one command are committed together,
or none. Sequence numbers are per site, start at 1, never reset and never
repeat; the live stream's `after=SEQ` relies on them.

Errors:

    StoreError              the log could not commit or read; nothing was acknowledged
    └── StaleWriterError    the writer's fencing token was superseded: another
                            process holds the site now, this one must stop writing
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from controller.core.event_schema import SchemaError, stamp, upgrade

__all__ = ["EventStore", "StaleWriterError", "StoreError", "StoredEvent", "decode_body", "encode_body"]


class StoreError(Exception):
    """The log could not commit or read (disk full, read-only, server gone)."""


def encode_body(body: Mapping[str, Any]) -> str:
    """An event body as every backend stores it: JSON with this release's schema version."""
    return json.dumps(stamp(body), ensure_ascii=False, separators=(",", ":"))


def decode_body(text: str | bytes) -> dict[str, Any]:
    """A stored body upgraded to this release's events (core/event_schema.py); StoreError when it cannot be."""
    try:
        return upgrade(json.loads(text))
    except SchemaError as exc:
        raise StoreError(str(exc)) from None


class StaleWriterError(StoreError):
    """An append carried a fencing token older than the site's current one; nothing was written."""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One committed event: its site sequence number, the site's day, and the body."""

    seq: int
    day: str
    body: Mapping[str, Any]


class EventStore(Protocol):
    """Append-only, per-site event log."""

    async def append(self, site: str, day: str, events: Sequence[Mapping[str, Any]]) -> list[int]:
        """Commit events atomically (durable before returning); their sequence numbers."""
        ...

    async def read_day(self, site: str, day: str) -> list[StoredEvent]:
        """Every event of one site and day, in order."""
        ...

    async def read_after(self, site: str, after_seq: int, limit: int = 1000) -> list[StoredEvent]:
        """Events with seq > after_seq, in order, at most `limit`."""
        ...

    async def latest_day(self, site: str) -> str | None:
        """The day of the site's newest event, or None for an empty log."""
        ...

    async def days(self, site: str) -> list[str]:
        """Every day the site has events for, oldest first (reports read history)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
