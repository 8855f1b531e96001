"""SQLite event log (the embedded default): WAL, one writer thread, synchronous=FULL.

Its file and worker thread are a SqliteFile (controller/store/sqlite_file.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from controller.store.archive import ARCHIVE_SCHEMA, read_archived_day
from controller.store.base import StoredEvent, decode_body, encode_body
from controller.store.sqlite_file import SqliteFile

__all__ = ["SqliteEventStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    site TEXT NOT NULL,
    seq  INTEGER NOT NULL,
    day  TEXT NOT NULL,
    type TEXT NOT NULL,
    at   REAL NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (site, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_by_day ON events (site, day, seq);
""" + ARCHIVE_SCHEMA


class SqliteEventStore(SqliteFile):
    """Event log in one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, "event log", _SCHEMA)
        self._last_seq: dict[str, int] = {}

    async def open(self) -> SqliteEventStore:
        await self._start()
        return self

    async def __aenter__(self) -> SqliteEventStore:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _next_seq(self, site: str) -> int:
        if site not in self._last_seq:
            row = self._db().execute(
                "SELECT MAX(m) FROM (SELECT MAX(seq) AS m FROM events WHERE site = ?1"
                " UNION ALL SELECT MAX(last_seq) FROM archive WHERE site = ?1)", (site,)).fetchone()
            self._last_seq[site] = int(row[0] or 0)  # archived days count: a seq is never given twice
        return self._last_seq[site] + 1

    async def append(self, site: str, day: str, events: Sequence[Mapping[str, Any]]) -> list[int]:
        def write() -> list[int]:
            db = self._db()
            first = self._next_seq(site)
            rows = [
                (site, first + i, day, str(body["type"]), float(body["at"]),
                 encode_body(body))
                for i, body in enumerate(events)
            ]
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT INTO events (site, seq, day, type, at, body) VALUES (?,?,?,?,?,?)", rows)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self._last_seq[site] = first + len(rows) - 1
            return [row[1] for row in rows]

        if not events:
            return []
        return await self._run(write)

    def _rows(self, sql: str, args: tuple[Any, ...]) -> list[StoredEvent]:
        return [StoredEvent(seq=int(s), day=str(d), body=decode_body(b)) for s, d, b in self._db().execute(sql, args)]

    async def read_day(self, site: str, day: str) -> list[StoredEvent]:
        def read() -> list[StoredEvent]:
            rows = self._rows("SELECT seq, day, body FROM events WHERE site = ? AND day = ? ORDER BY seq", (site, day))
            if rows or self._db().execute("SELECT 1 FROM archive WHERE site = ? AND day = ?",
                                          (site, day)).fetchone() is None:
                return rows
            archived = read_archived_day(self.path, site, day)
            return [StoredEvent(seq=s, day=d, body=decode_body(b)) for s, d, b in archived]

        return await self._run(read)

    async def read_after(self, site: str, after_seq: int, limit: int = 1000) -> list[StoredEvent]:
        return await self._run(
            lambda: self._rows(
                "SELECT seq, day, body FROM events WHERE site = ? AND seq > ? ORDER BY seq LIMIT ?",
                (site, after_seq, limit),
            )
        )

    async def latest_day(self, site: str) -> str | None:
        def query() -> str | None:
            row = self._db().execute(
                "SELECT day FROM events WHERE site = ? ORDER BY seq DESC LIMIT 1", (site,)
            ).fetchone()
            return None if row is None else str(row[0])

        return await self._run(query)

    async def days(self, site: str) -> list[str]:
        return await self._run(
            lambda: [str(r[0]) for r in self._db().execute(
                "SELECT day FROM archive WHERE site = ?1 UNION SELECT DISTINCT day FROM events WHERE site = ?1"
                " ORDER BY 1", (site,))]
        )

