"""DATA_DIR/remote.db: how many numbers each phone took for each day, the numbers held for a later day,
and the key that signs check-in codes.

A phone is personal data: it is held only as an HMAC under a key drawn for the site's
day the numbers are for and stored beside the counts, so the limits hold across a
restart; once that day is over its key and its rows are deleted (secure_delete overwrites
them, no WAL keeps a copy), and nothing left can be linked to a number. The event log never
sees a phone, nor its hash.

A number taken for a later day (or before today's opening) is held here until that day
opens (`held`): then it becomes an away ticket that joins the line at the opening
(controller/remote/later.py). Its holder may cancel it before then: it stops counting and
its keyed hashes go at once; the row stays, marked, holding nothing personal. A request's
Idempotency-Key is kept with the number it took, with a keyed digest of the request, so a
retry is recognised and a different request with the same key is not.

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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.core.requests import request_digest
from controller.core.scan import CHECK_CODE_ALPHABET, CHECK_CODE_LENGTH
from controller.store.sqlite_file import SqliteFile

__all__ = ["CHECK_CODE_ALPHABET", "CHECK_CODE_LENGTH", "Held", "RemoteBook"]

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
CREATE TABLE IF NOT EXISTS held (
    site      TEXT NOT NULL,
    ref       TEXT NOT NULL,   -- the held number's id (its page's secret)
    day       TEXT NOT NULL,   -- the day it joins the line, at the opening
    procedure TEXT NOT NULL,
    agency    TEXT NOT NULL,
    travel_s  REAL NOT NULL,
    taken_at  REAL NOT NULL,
    status    TEXT NOT NULL,   -- held, issued (ticket set), refused (the core said why: reason), cancelled
    ticket    TEXT,
    reason    TEXT,
    PRIMARY KEY (site, ref)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS held_by_day ON held (site, day, agency);
"""
_CARD = "card:"  # a card's number hashed apart from phones (a phone is digits, never this)
# Added with Idempotency-Key: a file written before gets the columns (no key: never replayed).
_REQUEST_COLUMNS = ("idem TEXT", "request TEXT")
_TAKES = "site, day, person, agency, ref, card, idem, request"


@dataclass(frozen=True, slots=True)
class Held:
    """A number held for a day's opening."""

    site: str
    ref: str
    day: str
    procedure: str
    agency: str
    travel_s: float
    taken_at: float
    status: str
    ticket: str | None = None
    reason: str | None = None


_HELD = "site, ref, day, procedure, agency, travel_s, taken_at, status, ticket, reason"


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

        def add_card_column() -> None:  # remote.db of a release before ID cards, or before Idempotency-Key
            db = self._db()
            present = {row[1] for row in db.execute("PRAGMA table_info(takes)")}
            for column in ("card TEXT", *_REQUEST_COLUMNS):
                if column.split()[0] not in present:
                    db.execute(f"ALTER TABLE takes ADD COLUMN {column}")

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

    def digest(self, site: str, request: Mapping[str, Any]) -> str:
        """A keyed digest of a request's body (controller/core/requests.py), under the signing key."""
        return request_digest(self._signing, site, request)

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
        """The agency of each number taken for the day by any of these hashes (a phone, a card; reservations and
        numbers held for its opening included)."""
        marks = ",".join("?" * len(persons))
        rows = await self._run(lambda: self._db().execute(
            f"SELECT agency FROM takes WHERE site = ? AND day = ? AND (person IN ({marks}) OR card IN ({marks}))",
            (site, day, *persons, *persons)).fetchall())
        return [str(r[0]) for r in rows]

    async def away_tickets(self, site: str, day: str, card: str) -> list[str]:
        """Today's tickets taken with this card (its day hash): those the card may check in (a number held for
        today's opening, once issued, by its ticket)."""
        rows = await self._run(lambda: self._db().execute(
            "SELECT COALESCE(held.ticket, takes.ref) FROM takes LEFT JOIN held ON held.site = takes.site "
            "AND held.ref = takes.ref WHERE takes.site = ? AND takes.day = ? AND (person = ? OR card = ?) "
            "AND takes.ref NOT LIKE 'r-%' AND (takes.ref NOT LIKE 'h-%' OR held.ticket IS NOT NULL) ORDER BY 1",
            (site, day, card, card)).fetchall())
        return [str(r[0]) for r in rows]

    async def reserve(self, site: str, day: str, person: str, agency: str, ref: str, card: str | None = None,
                      idem: str | None = None, request: str | None = None) -> None:
        """Count a number before it is issued (a crash in between costs the citizen a place, never the limit)."""
        await self._run(lambda: self._db().execute(f"INSERT INTO takes ({_TAKES}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                                   (site, day, person, agency, ref, card, idem, request)))

    async def request(self, site: str, idem: str) -> tuple[str, str] | None:
        """(the number's ref, the request's digest) of the number an Idempotency-Key took; None: not seen."""
        def find() -> tuple[str, str] | None:
            row = self._db().execute("SELECT ref, request FROM takes WHERE site = ? AND idem = ?",
                                     (site, idem)).fetchone()
            return None if row is None else (str(row[0]), str(row[1]))

        return await self._run(find)

    async def _at_once(self, *statements: tuple[str, tuple[Any, ...]]) -> None:
        """Run the statements in one transaction: all of them, or none."""
        def write() -> None:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                for sql, values in statements:
                    db.execute(sql, values)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

        await self._run(write)

    async def hold(self, held: Held, person: str, card: str | None, idem: str | None, request: str) -> None:
        """Count and keep a number held for a day's opening, in one transaction."""
        await self._at_once(
            (f"INSERT INTO takes ({_TAKES}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
             (held.site, held.day, person, held.agency, held.ref, card, idem, request)),
            (f"INSERT INTO held ({_HELD}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
             (held.site, held.ref, held.day, held.procedure, held.agency, held.travel_s, held.taken_at, held.status,
              held.ticket, held.reason)))

    async def held(self, site: str, ref: str) -> Held | None:
        """A held number by its ref."""
        row = await self._run(lambda: self._db().execute(f"SELECT {_HELD} FROM held WHERE site = ? AND ref = ?",
                                                         (site, ref)).fetchone())
        return None if row is None else Held(*row)

    async def held_day(self, site: str, day: str) -> list[Held]:
        """Every number held for a day (whatever became of it), in the order they were taken."""
        rows = await self._run(lambda: self._db().execute(
            f"SELECT {_HELD} FROM held WHERE site = ? AND day = ? ORDER BY taken_at, ref", (site, day)).fetchall())
        return [Held(*row) for row in rows]

    async def held_count(self, site: str, day: str, agency: str) -> int:
        """Numbers of an agency held for a day, not refused nor cancelled: they take the opening's share."""
        row = await self._run(lambda: self._db().execute(
            "SELECT COUNT(*) FROM held WHERE site = ? AND day = ? AND agency = ? AND status IN ('held', 'issued')",
            (site, day, agency)).fetchone())
        return int(row[0])

    async def settle_held(self, site: str, ref: str, ticket: str | None, reason: str | None = None) -> None:
        """A held number became `ticket`, or (None) the core refused it for `reason`."""
        status = "issued" if ticket is not None else "refused"
        await self._run(lambda: self._db().execute(
            "UPDATE held SET status = ?, ticket = ?, reason = ? WHERE site = ? AND ref = ?",
            (status, ticket, reason, site, ref)))

    async def cancel_held(self, site: str, ref: str) -> None:
        """Its holder cancelled a number still held: it no longer counts, and its keyed hashes (phone, card) and
        Idempotency-Key go, in one transaction; the row stays, marked, so a repeated cancel is recognised."""
        await self._at_once(
            ("UPDATE held SET status = 'cancelled' WHERE site = ? AND ref = ? AND status = 'held'", (site, ref)),
            ("DELETE FROM takes WHERE site = ? AND ref = ?", (site, ref)))

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
        """For each (site, today), delete the counts, keys, held numbers and card links of the days before; how many
        rows went. Later days keep theirs: their numbers were taken ahead, their limits hold."""
        wanted = list(sites)
        for site, day in wanted:
            for known in [k for k in self._day_keys if k[0] == site and k[1] < day]:
                del self._day_keys[known]

        def purge() -> int:
            db = self._db()
            removed = 0
            for site, day in wanted:
                for table in ("takes", "day_keys", "held", "card_links"):
                    removed += db.execute(f"DELETE FROM {table} WHERE site = ? AND day < ?", (site, day)).rowcount
            return removed

        return await self._run(purge)
