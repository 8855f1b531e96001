"""The feedback book in SQLite (the embedded default): DATA_DIR/feedback.db (contract: feedback.py).

A phone number is kept in a table of its own and deleted once the answer has gone out,
or the item is closed: like contacts.db, the file overwrites deleted rows (secure_delete)
and keeps no journal copy (DELETE mode, not WAL). Every call runs on the file's one
worker thread.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from controller.core.feedback import Feedback
from controller.store.feedback import CodeInUse, decode_item, encode_item
from controller.store.sqlite_file import SqliteFile

__all__ = ["SqliteFeedbackBook"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    site        TEXT NOT NULL,
    code        TEXT NOT NULL,
    received_at REAL NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (site, code)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS feedback_by_time ON feedback (site, received_at);
CREATE TABLE IF NOT EXISTS feedback_requests (
    site   TEXT NOT NULL,
    idem   TEXT NOT NULL,   -- an Idempotency-Key
    code   TEXT NOT NULL,   -- the item it added
    digest TEXT NOT NULL,   -- of the request's body (no phone in it)
    PRIMARY KEY (site, idem)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS feedback_phones (
    site  TEXT NOT NULL,
    code  TEXT NOT NULL,
    phone TEXT NOT NULL,
    PRIMARY KEY (site, code)
) WITHOUT ROWID;
"""


class SqliteFeedbackBook(SqliteFile):
    """feedback.db in the data dir."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, "feedback", _SCHEMA,
                         pragmas=("PRAGMA journal_mode=DELETE", "PRAGMA secure_delete=ON", "PRAGMA synchronous=FULL"))

    async def open(self) -> SqliteFeedbackBook:
        await self._start()
        return self

    async def __aenter__(self) -> SqliteFeedbackBook:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction (the connection is in autocommit mode): all of it, or nothing on an error."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    async def add(self, item: Feedback, phone: str | None,
                  request: tuple[str, str] | None = None) -> tuple[str, str] | None:
        """Store a new item, and its phone number when one was given; durable when this returns. A request's
        Idempotency-Key seen before: (code, digest) of its item, and nothing is stored."""
        def write() -> tuple[str, str] | None:
            with self._transaction() as db:
                if request is not None:
                    seen = db.execute("SELECT code, digest FROM feedback_requests WHERE site = ? AND idem = ?",
                                      (item.site, request[0])).fetchone()
                    if seen is not None:
                        return str(seen[0]), str(seen[1])
                taken = db.execute("SELECT 1 FROM feedback WHERE site = ? AND code = ?", (item.site, item.code))
                if taken.fetchone() is not None:
                    raise CodeInUse(item.code)
                db.execute("INSERT INTO feedback VALUES (?, ?, ?, ?)", (item.site, item.code, item.received_at,
                                                                        encode_item(item)))
                if phone:
                    db.execute("INSERT INTO feedback_phones VALUES (?, ?, ?)", (item.site, item.code, phone))
                if request is not None:
                    db.execute("INSERT INTO feedback_requests VALUES (?, ?, ?, ?)",
                               (item.site, request[0], item.code, request[1]))
                return None

        return await self._run(write)

    async def get(self, site: str, code: str) -> Feedback | None:
        def read() -> Feedback | None:
            row = self._db().execute("SELECT body FROM feedback WHERE site = ? AND code = ?", (site, code)).fetchone()
            return None if row is None else decode_item(row[0])

        return await self._run(read)

    async def since(self, site: str, start: float, end: float | None = None) -> list[Feedback]:
        """The site's items received in [start, end), oldest first."""
        def read() -> list[Feedback]:
            rows = self._db().execute(
                "SELECT body FROM feedback WHERE site = ? AND received_at >= ? AND received_at < ? "
                "ORDER BY received_at", (site, start, float("inf") if end is None else end)).fetchall()
            return [decode_item(body) for (body,) in rows]

        return await self._run(read)

    async def save(self, item: Feedback) -> None:
        """Store a changed item (assigned, answered, closed); without a phone waiting, the number is deleted."""
        def write() -> None:
            with self._transaction() as db:
                db.execute("UPDATE feedback SET body = ? WHERE site = ? AND code = ?", (encode_item(item), item.site,
                                                                                      item.code))
                if not item.has_phone:
                    db.execute("DELETE FROM feedback_phones WHERE site = ? AND code = ?", (item.site, item.code))

        await self._run(write)

    async def phone(self, site: str, code: str) -> str | None:
        """The number the answer is to be texted to (None: none, or already deleted)."""
        def read() -> str | None:
            row = self._db().execute("SELECT phone FROM feedback_phones WHERE site = ? AND code = ?",
                                     (site, code)).fetchone()
            return None if row is None else str(row[0])

        return await self._run(read)
