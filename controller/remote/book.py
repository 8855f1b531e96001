"""DATA_DIR/remote.db: how many numbers each phone took today, and the key that signs check-in codes.

A phone is personal data: it is held only as an HMAC under a key drawn for the site's
day and stored beside the counts, so the limits hold across a restart; at the end of
the site's day the key and the day's rows are deleted (secure_delete overwrites them,
no WAL keeps a copy), and nothing left can be linked to a number. The event log never
sees a phone, nor its hash.

Each remote ticket's check-in code (its QR, and what the citizen may type at the kiosk)
is an HMAC of the site and ticket id under a key drawn once and kept here: ticket ids are
predictable, the code is not, and it needs no row per ticket.

The chip ID card's number is personal data too. For the day's limits and to find the card
holder's numbers that wait away, it is held like a phone, as an HMAC under the day's key
(`takes.card`, erased with the day). A booking for a later day cannot use the day's key, so a
booking the citizen tied to their card keeps an HMAC of the number under a key derived from
the signing key (`card_links`), until the booking is checked in or cancelled, or its day ends.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from pathlib import Path

from controller.core.scan import CHECK_CODE_ALPHABET, CHECK_CODE_LENGTH
from controller.store.sqlite_file import SqliteFile

__all__ = ["CHECK_CODE_ALPHABET", "CHECK_CODE_LENGTH", "RemoteBook"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS day_keys (
    site TEXT NOT NULL,
    day  TEXT NOT NULL,
    key  BLOB NOT NULL,
    PRIMARY KEY (site, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS takes (
    site   TEXT NOT NULL,
    day    TEXT NOT NULL,
    person TEXT NOT NULL,   -- HMAC of the phone (or the ID card's number) under the day's key
    agency TEXT NOT NULL,
    ref    TEXT NOT NULL,   -- a reservation id, then the ticket id
    card   TEXT,            -- HMAC of the ID card's number under the day's key, when the citizen gave it
    PRIMARY KEY (site, ref)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS signing (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    key BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS card_links (
    site TEXT NOT NULL,
    day  TEXT NOT NULL,     -- the booking's day: the link goes when it is over
    card TEXT NOT NULL,     -- HMAC of the ID card's number under the link key
    code TEXT NOT NULL,     -- the booking's code
    PRIMARY KEY (site, code)
) WITHOUT ROWID;
"""
_CARD = "card:"  # a card's number hashed apart from phones (a phone is digits, never this)


class RemoteBook(SqliteFile):
    """remote.db in the data dir, on its own worker thread."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, "remote numbers", _SCHEMA,
                         pragmas=("PRAGMA journal_mode=DELETE", "PRAGMA secure_delete=ON", "PRAGMA synchronous=FULL"))
        self._signing = b""
        self._link = b""
        self._day_keys: dict[tuple[str, str], bytes] = {}

    async def __aenter__(self) -> RemoteBook:
        await self._start()

        def signing_key() -> bytes:
            db = self._db()
            row = db.execute("SELECT key FROM signing WHERE id = 1").fetchone()
            if row is None:
                key = secrets.token_bytes(32)
                db.execute("INSERT INTO signing VALUES (1, ?)", (key,))
                return key
            return bytes(row[0])

        def add_card_column() -> None:  # remote.db of a release before ID cards
            db = self._db()
            if "card" not in {row[1] for row in db.execute("PRAGMA table_info(takes)")}:
                db.execute("ALTER TABLE takes ADD COLUMN card TEXT")

        self._signing = await self._run(signing_key)
        self._link = hmac.new(self._signing, b"card-links", hashlib.sha256).digest()
        await self._run(add_card_column)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def check_code(self, site: str, ticket: str) -> str:
        """The ticket's check-in code: 6 characters, the same after a restart."""
        digest = hmac.new(self._signing, f"{site}/{ticket}".encode(), hashlib.sha256).digest()
        return "".join(CHECK_CODE_ALPHABET[b % len(CHECK_CODE_ALPHABET)] for b in digest[:CHECK_CODE_LENGTH])

    async def person(self, site: str, day: str, phone: str) -> str:
        """The phone as the day's keyed hash (the key is drawn, durably, at the day's first use)."""
        key = self._day_keys.get((site, day))
        if key is None:
            def day_key() -> bytes:
                db = self._db()
                row = db.execute("SELECT key FROM day_keys WHERE site = ? AND day = ?", (site, day)).fetchone()
                if row is not None:
                    return bytes(row[0])
                drawn = secrets.token_bytes(32)
                db.execute("INSERT INTO day_keys VALUES (?, ?, ?)", (site, day, drawn))
                return drawn

            key = self._day_keys[(site, day)] = await self._run(day_key)
        return hmac.new(key, phone.encode(), hashlib.sha256).hexdigest()

    async def card(self, site: str, day: str, number: str) -> str:
        """An ID card's number as the day's keyed hash (never equal to a phone's)."""
        return await self.person(site, day, _CARD + number)

    async def agencies_taken(self, site: str, day: str, *persons: str) -> list[str]:
        """The agency of each number taken today by any of these hashes (a phone, a card; reservations included)."""
        marks = ",".join("?" * len(persons))
        rows = await self._run(lambda: self._db().execute(
            f"SELECT agency FROM takes WHERE site = ? AND day = ? AND (person IN ({marks}) OR card IN ({marks}))",
            (site, day, *persons, *persons)).fetchall())
        return [str(r[0]) for r in rows]

    async def away_tickets(self, site: str, day: str, card: str) -> list[str]:
        """Today's tickets taken with this card (its day hash): those the card may check in."""
        rows = await self._run(lambda: self._db().execute(
            "SELECT ref FROM takes WHERE site = ? AND day = ? AND (person = ? OR card = ?) AND ref NOT LIKE 'r-%' "
            "ORDER BY ref", (site, day, card, card)).fetchall())
        return [str(r[0]) for r in rows]

    async def reserve(self, site: str, day: str, person: str, agency: str, ref: str, card: str | None = None) -> None:
        """Count a number before it is issued (a crash in between costs the citizen a place, never the limit)."""
        await self._run(lambda: self._db().execute("INSERT INTO takes VALUES (?, ?, ?, ?, ?, ?)",
                                                   (site, day, person, agency, ref, card)))

    def _linked(self, site: str, number: str) -> str:
        return hmac.new(self._link, f"{site}/{number}".encode(), hashlib.sha256).hexdigest()

    async def link_booking(self, site: str, day: str, number: str, code: str) -> None:
        """Tie a booking (its code, its day) to the ID card the citizen gave, as a keyed hash."""
        await self._run(lambda: self._db().execute("INSERT OR REPLACE INTO card_links VALUES (?, ?, ?, ?)",
                                                   (site, day, self._linked(site, number), code)))

    async def linked_bookings(self, site: str, day: str, number: str) -> list[str]:
        """The codes of the bookings of `day` tied to this card."""
        rows = await self._run(lambda: self._db().execute(
            "SELECT code FROM card_links WHERE site = ? AND day = ? AND card = ? ORDER BY code",
            (site, day, self._linked(site, number))).fetchall())
        return [str(r[0]) for r in rows]

    async def unlink_booking(self, site: str, code: str) -> None:
        """The booking was checked in or cancelled: its card link goes."""
        await self._run(lambda: self._db().execute("DELETE FROM card_links WHERE site = ? AND code = ?", (site, code)))

    async def settle(self, site: str, ref: str, ticket: str | None) -> None:
        """The reservation became `ticket`, or (None) was refused and no longer counts."""
        if ticket is None:
            await self._run(lambda: self._db().execute("DELETE FROM takes WHERE site = ? AND ref = ?", (site, ref)))
        else:
            await self._run(lambda: self._db().execute("UPDATE takes SET ref = ? WHERE site = ? AND ref = ?",
                                                       (ticket, site, ref)))

    async def purge(self, sites: Iterable[tuple[str, str]]) -> int:
        """For each (site, today), delete every other day's counts and key, and past days' card links; how many rows
        went."""
        wanted = list(sites)
        for site, day in wanted:
            for known in [k for k in self._day_keys if k[0] == site and k[1] != day]:
                del self._day_keys[known]

        def purge() -> int:
            db = self._db()
            removed = 0
            for site, day in wanted:
                removed += db.execute("DELETE FROM takes WHERE site = ? AND day <> ?", (site, day)).rowcount
                removed += db.execute("DELETE FROM day_keys WHERE site = ? AND day <> ?", (site, day)).rowcount
                removed += db.execute("DELETE FROM card_links WHERE site = ? AND day < ?", (site, day)).rowcount
            return removed

        return await self._run(purge)
