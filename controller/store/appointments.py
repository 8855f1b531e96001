"""The appointment book contract: bookings for future days, kept apart from the event log.

Why not events in the site's log: the log is replayed one day at a time, and a
booking made today is for a day weeks ahead; booking codes are secrets (they
cancel) while events are published on the live stream. So the book is a small
table of its own, with one atomic operation that matters: book a slot only while
fewer than `capacity` bookings of the agency hold it. Check-in turns a booking
into a ticket through the site's writer (commands.CheckIn), keyed by the
booking's id, so the event log stays the only truth about tickets. Two backends
fulfil it, SQLite (appointments_sqlite.py) and Redis (appointments_redis.py);
books.py opens the one the command line names.

Errors (StoreError from base.py is the root):

    StoreError            the book could not be read or written; nothing was acknowledged
    ├── SlotFull          the slot already holds `capacity` bookings of the agency
    └── CodeTaken         the code is in use at the site (draw another one)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from controller.core.appointments import Booking
from controller.store.base import StoreError

__all__ = ["AppointmentBook", "CodeTaken", "SlotFull"]


class SlotFull(StoreError):
    """The slot has no room left for this agency."""


class CodeTaken(StoreError):
    """Another booking of the site has this code."""


class AppointmentBook(Protocol):
    """Bookings per site, durable before a call returns."""

    async def book(self, booking: Booking, capacity: int, idempotency_key: str | None = None) -> Booking:
        """Store a booking if its agency's slot holds fewer than `capacity`; atomic.

        A repeated idempotency key returns the booking it made first, unchanged.
        """
        ...

    async def get(self, site: str, code: str) -> Booking | None:
        """The booking with this code, whatever its status."""
        ...

    async def cancel(self, site: str, code: str, at: float) -> Booking | None:
        """Cancel a booking (its place is free again); a cancelled one is returned as it is. None: unknown."""
        ...

    async def counts(self, site: str, agency: str, slots: Sequence[float]) -> dict[float, int]:
        """How many live bookings of the agency hold each of the slots."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...

