"""The appointment book in SQLite (the embedded default): one file beside the event log.

Same discipline as the event log (sqlite.py): WAL, synchronous=FULL, every call
on one dedicated thread. A booking is one BEGIN IMMEDIATE transaction that
counts the slot and inserts, so two requests can never both take the last place,
whichever process or thread sends them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from controller.core.appointments import Booking
from controller.store.appointments import CodeTaken, SlotFull
from controller.store.sqlite_file import SqliteFile

__all__ = ["SqliteAppointmentBook"]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS bookings (
    site         TEXT NOT NULL,
    code         TEXT NOT NULL,
    id           TEXT NOT NULL,
    procedure    TEXT NOT NULL,
    agency       TEXT NOT NULL,
    slot_at      REAL NOT NULL,
    booked_at    REAL NOT NULL,
    status       TEXT NOT NULL,
    cancelled_at REAL,
    idem         TEXT,
    PRIMARY KEY (site, code)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS bookings_by_slot ON bookings (site, agency, slot_at, status);
CREATE UNIQUE INDEX IF NOT EXISTS bookings_by_idem ON bookings (site, idem) WHERE idem IS NOT NULL;
"""
_COLUMNS = "site, code, id, procedure, agency, slot_at, booked_at, status, cancelled_at"


def _booking(row: Sequence[Any]) -> Booking:
    return Booking.from_dict(dict(zip(_COLUMNS.split(", "), row, strict=True)))


class SqliteAppointmentBook(SqliteFile):
    """Bookings in one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, "appointment book", _SCHEMA)

    async def open(self) -> SqliteAppointmentBook:
        await self._start()
        return self

    def _get(self, site: str, code: str) -> Booking | None:
        row = self._db().execute(f"SELECT {_COLUMNS} FROM bookings WHERE site = ? AND code = ?",
                                 (site, code)).fetchone()
        return None if row is None else _booking(row)

    async def book(self, booking: Booking, capacity: int, idempotency_key: str | None = None) -> Booking:
        def write() -> Booking:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")  # the write lock first: the count below cannot go stale
            try:
                if idempotency_key is not None:
                    row = db.execute(f"SELECT {_COLUMNS} FROM bookings WHERE site = ? AND idem = ?",
                                     (booking.site, idempotency_key)).fetchone()
                    if row is not None:
                        db.execute("ROLLBACK")
                        return _booking(row)
                if self._get(booking.site, booking.code) is not None:
                    raise CodeTaken(f"code {booking.code} is in use at {booking.site}")
                (taken,) = db.execute(
                    "SELECT COUNT(*) FROM bookings WHERE site = ? AND agency = ? AND slot_at = ? AND status = 'booked'",
                    (booking.site, booking.agency, booking.slot_at)).fetchone()
                if taken >= capacity:
                    raise SlotFull(f"{booking.agency} slot {booking.slot_at} holds {taken} of {capacity}")
                data = booking.to_dict()
                db.execute(f"INSERT INTO bookings ({_COLUMNS}, idem) VALUES (?,?,?,?,?,?,?,?,?,?)",
                           (*(data[c] for c in _COLUMNS.split(", ")), idempotency_key))
                db.execute("COMMIT")
                return booking
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

        return await self._run(write)

    async def get(self, site: str, code: str) -> Booking | None:
        return await self._run(lambda: self._get(site, code))

    async def cancel(self, site: str, code: str, at: float) -> Booking | None:
        def write() -> Booking | None:
            self._db().execute(
                "UPDATE bookings SET status = 'cancelled', cancelled_at = ? "
                "WHERE site = ? AND code = ? AND status = 'booked'", (at, site, code))
            return self._get(site, code)

        return await self._run(write)

    async def counts(self, site: str, agency: str, slots: Sequence[float]) -> dict[float, int]:
        def query() -> dict[float, int]:
            if not slots:
                return {}
            marks = ",".join("?" * len(slots))
            rows = self._db().execute(
                f"SELECT slot_at, COUNT(*) FROM bookings WHERE site = ? AND agency = ? AND status = 'booked' "
                f"AND slot_at IN ({marks}) GROUP BY slot_at", (site, agency, *slots))
            found = {float(at): int(n) for at, n in rows}
            return {float(at): found.get(float(at), 0) for at in slots}

        return await self._run(query)
