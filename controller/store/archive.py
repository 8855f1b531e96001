"""Old days of the SQLite event log moved to one compressed file per site and month, still read by the reports.

    DATA_DIR/archive/SITE/YYYY-MM.jsonl.gz   one stored event per line: {"seq", "day", "body"}

The live log keeps the recent days (the floor replays only today's); `motcua
archive` moves the older ones out so events.db stays small on a mini-PC's disk.
A day is written to its month's file (rewritten whole, beside it, then renamed
and synced) before its rows are deleted, in that order, so a crash in between
leaves the day in both places, never in neither; the `archive` table in
events.db says which days are where, and their last seq, so sequence numbers
never repeat. A site's newest day is never archived.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Any, Final

__all__ = ["ARCHIVE_DIR", "ARCHIVE_SCHEMA", "archive_days", "archive_file", "read_archived_day"]

ARCHIVE_DIR: Final = "archive"
ARCHIVE_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS archive (
    site     TEXT NOT NULL,
    day      TEXT NOT NULL,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (site, day)
) WITHOUT ROWID;
"""


def archive_file(events_db: Path, site: str, day: str) -> Path:
    """The file holding an archived day: one per site and month."""
    return events_db.parent / ARCHIVE_DIR / site / f"{day[:7]}.jsonl.gz"


def _read(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_archived_day(events_db: Path, site: str, day: str) -> list[tuple[int, str, str]]:
    """(seq, day, stored body text) of one archived day, in order."""
    rows = [r for r in _read(archive_file(events_db, site, day)) if r["day"] == day]
    return [(int(r["seq"]), str(r["day"]), str(r["body"])) for r in sorted(rows, key=lambda r: int(r["seq"]))]


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with gzip.open(partial, "wt", encoding="utf-8") as handle:
        for row in sorted(rows, key=lambda r: int(r["seq"])):
            handle.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
    fd = os.open(partial, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    partial.replace(path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def archive_days(events_db: Path, before: dt.date) -> dict[str, list[str]]:
    """Move every day before `before` (but each site's newest) out of the live log; the days moved, by site."""
    conn = sqlite3.connect(events_db, isolation_level=None, timeout=30)
    try:
        conn.execute("PRAGMA busy_timeout=30000")
        conn.executescript(ARCHIVE_SCHEMA)
        newest = dict(conn.execute("SELECT site, MAX(day) FROM events GROUP BY site").fetchall())
        moved: dict[str, list[str]] = defaultdict(list)
        for site, last_day in newest.items():
            days = [d for (d,) in conn.execute(
                "SELECT DISTINCT day FROM events WHERE site = ? AND day < ? AND day < ? ORDER BY day",
                (site, before.isoformat(), last_day))]
            by_month: dict[str, list[str]] = defaultdict(list)
            for day in days:
                by_month[day[:7]].append(day)
            for month_days in by_month.values():
                path = archive_file(events_db, site, month_days[0])
                marks = ",".join("?" * len(month_days))
                rows = [{"seq": s, "day": d, "body": b} for s, d, b in conn.execute(
                    f"SELECT seq, day, body FROM events WHERE site = ? AND day IN ({marks}) ORDER BY seq",
                    (site, *month_days))]
                kept = [r for r in _read(path) if r["day"] not in month_days]
                _write(path, kept + rows)  # durable before the rows go
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for day in month_days:
                        last = max(int(r["seq"]) for r in rows if r["day"] == day)
                        conn.execute("INSERT OR REPLACE INTO archive VALUES (?, ?, ?)", (site, day, last))
                    conn.execute(f"DELETE FROM events WHERE site = ? AND day IN ({marks})", (site, *month_days))
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                moved[site].extend(month_days)
        return dict(moved)
    finally:
        conn.close()
