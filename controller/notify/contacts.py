"""The phone numbers of tickets whose holders asked for texts: DATA_DIR/contacts.db, apart from the event log.

The event log keeps everything for reports; a phone number must not outlive the
visit. So numbers live in their own small SQLite file, written on a dedicated
thread (never on the event loop, never on the site writer's path), and deleted
when the ticket finishes, when the citizen asks, and at the end of the site's day.
A number taken from a phone for a later day keeps its phone for that day's texts
(`held`): it waits here, by the held number's ref, until the number becomes a ticket
on that day's opening, and is deleted once that day is over.

Deleted means gone from the file: `secure_delete` overwrites freed pages, and the
rollback journal (DELETE mode, not WAL) is unlinked after each commit, so no copy
of a deleted row lingers in a file of the data dir.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from controller.store.sqlite_file import SqliteFile

__all__ = ["Contact", "ContactBook"]


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
CREATE TABLE IF NOT EXISTS held (
    site  TEXT NOT NULL,
    ref   TEXT NOT NULL,   -- a number held for a later day (controller/remote/book.py)
    phone TEXT NOT NULL,
    day   TEXT NOT NULL,   -- the day it is for
    PRIMARY KEY (site, ref)
) WITHOUT ROWID;
"""
# Added with numbers taken from a phone: a file written before gets the column (default: not sent).
_COME = "come INTEGER NOT NULL DEFAULT 0"  # a number away from the hall was texted "come now"


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
    come_sent: bool = False


class ContactBook(SqliteFile):
    """contacts.db in the data dir, one worker thread."""

    def __init__(self, path: str | Path) -> None:
        # No WAL: deleted rows are overwritten in place (secure_delete) and leave no journal copy behind.
        super().__init__(path, "contacts", _SCHEMA,
                         pragmas=("PRAGMA journal_mode=DELETE", "PRAGMA secure_delete=ON", "PRAGMA synchronous=FULL"))

    async def __aenter__(self) -> ContactBook:
        await self._start()

        def migrate() -> None:
            db = self._db()
            if "come" not in {row[1] for row in db.execute("PRAGMA table_info(contacts)")}:
                db.execute(f"ALTER TABLE contacts ADD COLUMN {_COME}")

        await self._run(migrate)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def load(self, sites: Iterable[str]) -> list[Contact]:
        """Every stored contact of these sites."""
        wanted = list(sites)

        def read() -> list[Contact]:
            marks = ",".join("?" * len(wanted))
            rows = self._db().execute(
                f"SELECT site, ticket, phone, day, armed, ahead, called, come FROM contacts WHERE site IN ({marks})",
                wanted,
            ).fetchall()
            return [
                Contact(site, ticket, phone, day, bool(armed), bool(ahead), {int(c) for c in called.split(",") if c},
                        bool(come))
                for site, ticket, phone, day, armed, ahead, called, come in rows
            ]

        return await self._run(read) if wanted else []

    async def save(self, contact: Contact) -> None:
        """Store (or update) a contact; durable when this returns."""
        row = (contact.site, contact.ticket, contact.phone, contact.day, int(contact.armed), int(contact.ahead_sent),
               ",".join(str(c) for c in sorted(contact.called)), int(contact.come_sent))
        await self._run(lambda: self._db().execute(
            "INSERT OR REPLACE INTO contacts (site, ticket, phone, day, armed, ahead, called, come) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row))

    async def delete(self, site: str, ticket: str) -> None:
        """Forget a ticket's number."""
        await self._run(lambda: self._db().execute("DELETE FROM contacts WHERE site = ? AND ticket = ?",
                                                   (site, ticket)))

    async def delete_days_except(self, site: str, day: str) -> int:
        """Forget every ticket's number of the site not of `day`, and held ones of days before it; how many."""
        def purge() -> int:
            db = self._db()
            return (db.execute("DELETE FROM contacts WHERE site = ? AND day <> ?", (site, day)).rowcount
                    + db.execute("DELETE FROM held WHERE site = ? AND day < ?", (site, day)).rowcount)

        return await self._run(purge)

    async def hold(self, site: str, ref: str, day: str, phone: str) -> None:
        """Keep the phone of a number held for `day`; durable when this returns."""
        await self._run(lambda: self._db().execute("INSERT OR REPLACE INTO held VALUES (?, ?, ?, ?)",
                                                   (site, ref, phone, day)))

    async def take_held(self, site: str, ref: str) -> str | None:
        """The phone kept for a held number (None: none); the row stays until `delete_held`."""
        row = await self._run(lambda: self._db().execute("SELECT phone FROM held WHERE site = ? AND ref = ?",
                                                         (site, ref)).fetchone())
        return None if row is None else str(row[0])

    async def delete_held(self, site: str, ref: str) -> None:
        """Forget a held number's phone (it moved to its ticket, or the number was refused)."""
        await self._run(lambda: self._db().execute("DELETE FROM held WHERE site = ? AND ref = ?", (site, ref)))
