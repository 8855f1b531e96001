"""The phone numbers of tickets whose holders asked for texts: DATA_DIR/contacts.db, apart from the event log.

The event log keeps everything for reports; a phone number must not outlive the
visit. So numbers live in their own small SQLite file, written on a dedicated
thread (never on the event loop, never on the site writer's path), and deleted
when the ticket finishes, when the citizen asks, and at the end of the site's day.

Deleted means gone from the file: `secure_delete` overwrites freed pages, and the
rollback journal (DELETE mode, not WAL) is unlinked after each commit, so no copy
of a deleted row lingers in a file of the data dir.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from controller.store.base import StoreError

__all__ = ["Contact", "ContactBook"]

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    site     TEXT NOT NULL,
    ticket   TEXT NOT NULL,
    phone    TEXT NOT NULL,
    day      TEXT NOT NULL,
    armed    INTEGER NOT NULL,   -- further back than the notice at issue: a "3 ahead" text is due later
    ahead    INTEGER NOT NULL,   -- the "3 ahead" text went out (or is moot: already called)
    called   TEXT NOT NULL,      -- counters a "called" text went out for, comma separated
    PRIMARY KEY (site, ticket)
) WITHOUT ROWID;
"""


@dataclass(slots=True)
class Contact:
    """A ticket's phone number and which texts it has had."""

    site: str
    ticket: str
    phone: str = field(repr=False)
    day: str
    armed: bool
    ahead_sent: bool = False
    called: set[int] = field(default_factory=set)


class ContactBook:
    """contacts.db in the data dir, one worker thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="contacts")
        self._conn: sqlite3.Connection | None = None

    async def __aenter__(self) -> ContactBook:
        try:
            await self._run(self._open)
        except StoreError:
            self._pool.shutdown(wait=True)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._run(self._close)
        self._pool.shutdown(wait=True)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("PRAGMA secure_delete=ON")
        conn.execute("PRAGMA synchronous=FULL")
        conn.executescript(_SCHEMA)
        self._conn = conn

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def _run(self, fn: Callable[[], T]) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, fn)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"contacts {self.path}: {exc}") from None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("contacts are not open")
        return self._conn

    async def load(self, sites: Iterable[str]) -> list[Contact]:
        """Every stored contact of these sites."""
        wanted = list(sites)

        def read() -> list[Contact]:
            marks = ",".join("?" * len(wanted))
            rows = self._db().execute(
                f"SELECT site, ticket, phone, day, armed, ahead, called FROM contacts WHERE site IN ({marks})",
                wanted,
            ).fetchall()
            return [
                Contact(site, ticket, phone, day, bool(armed), bool(ahead), {int(c) for c in called.split(",") if c})
                for site, ticket, phone, day, armed, ahead, called in rows
            ]

        return await self._run(read) if wanted else []

    async def save(self, contact: Contact) -> None:
        """Store (or update) a contact; durable when this returns."""
        row = (contact.site, contact.ticket, contact.phone, contact.day, int(contact.armed), int(contact.ahead_sent),
               ",".join(str(c) for c in sorted(contact.called)))
        await self._run(lambda: self._db().execute("INSERT OR REPLACE INTO contacts VALUES (?, ?, ?, ?, ?, ?, ?)", row))

    async def delete(self, site: str, ticket: str) -> None:
        """Forget a ticket's number."""
        await self._run(lambda: self._db().execute("DELETE FROM contacts WHERE site = ? AND ticket = ?",
                                                   (site, ticket)))

    async def delete_days_except(self, site: str, day: str) -> int:
        """Forget every number of the site not of `day`; how many were deleted."""
        def purge() -> int:
            return self._db().execute("DELETE FROM contacts WHERE site = ? AND day <> ?", (site, day)).rowcount

        return await self._run(purge)
