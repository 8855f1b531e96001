"""`motcua archive`: old days leave the live log for one compressed file per site and month, and read the same."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import pytest

from controller.cli import main
from controller.ops.backup import backup
from controller.store.archive import archive_days
from controller.store.base import StoredEvent
from controller.store.sqlite import SqliteEventStore
from tests.test_event_log_upgrade import DAY, RELEASE1_LOG, recorded_report, store_report

DAYS = ["2025-01-30", "2025-01-31", "2025-02-03", "2025-03-03"]


async def _everything(db: Path) -> dict[str, list[StoredEvent]]:
    async with SqliteEventStore(db) as store:
        return {f"{site}/{day}": await store.read_day(site, day)
                for site in ("xa", "tinh") for day in await store.days(site)}


def _live_days(db: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db)
    try:
        return [(str(s), str(d)) for s, d in conn.execute("SELECT DISTINCT site, day FROM events ORDER BY site, day")]
    finally:
        conn.close()


def test_archived_days_read_the_same_and_seqs_go_on(tmp_path: Path) -> None:
    db = tmp_path / "events.db"

    async def write() -> None:
        async with SqliteEventStore(db) as store:
            for site in ("xa", "tinh"):
                for i, day in enumerate(DAYS[:-1] if site == "tinh" else DAYS):
                    await store.append(site, day, [{"type": "day.started", "at": float(i), "day": day},
                                                   {"type": "ticket.issued", "at": i + 0.5, "number": "1001"}])

    asyncio.run(write())
    before = asyncio.run(_everything(db))
    moved = archive_days(db, dt.date(2025, 3, 1))
    assert moved == {"xa": DAYS[:3], "tinh": DAYS[:2]}  # tinh's newest day (2025-02-03) stays live
    assert _live_days(db) == [("tinh", "2025-02-03"), ("xa", "2025-03-03")]
    assert sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "archive").rglob("*.gz")) == [
        "archive/tinh/2025-01.jsonl.gz", "archive/xa/2025-01.jsonl.gz", "archive/xa/2025-02.jsonl.gz"]
    assert asyncio.run(_everything(db)) == before
    assert archive_days(db, dt.date(2025, 3, 1)) == {}  # again: nothing left to move
    assert asyncio.run(_everything(db)) == before

    async def append_after() -> list[int]:
        async with SqliteEventStore(db) as store:
            conn = store._db()
            conn.execute("DELETE FROM events WHERE site = 'tinh'")  # even with no live day left
            return await store.append("tinh", "2025-03-04", [{"type": "day.started", "at": 9.0}])

    assert asyncio.run(append_after()) == [5]  # tinh's archived days held seqs 1..4
    assert "archive/xa/2025-02.jsonl.gz" in backup(tmp_path, tmp_path / "backup").files


def test_the_release1_day_archived_gives_the_same_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(RELEASE1_LOG, data / "events.db")

    async def newer_day() -> None:
        async with SqliteEventStore(data / "events.db") as store:
            await store.append("xa", "2099-01-01", [{"type": "day.started", "at": 4e9}])

    asyncio.run(newer_day())
    assert main(["archive", "--data-dir", str(data), "--before", "2098-12-31"]) == 0
    assert f"xa: {DAY} … {DAY}" in capsys.readouterr().out
    assert _live_days(data / "events.db") == [("xa", "2099-01-01")]
    assert (data / "archive" / "xa" / f"{DAY[:7]}.jsonl.gz").stat().st_size < RELEASE1_LOG.stat().st_size / 3
    assert store_report(data / "events.db") == recorded_report()
