"""`motcua backup` / `motcua restore`: a consistent copy taken under load replays to the same reports."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from controller.cli import main
from controller.core.feedback import Feedback
from controller.core.reports import build_report
from controller.notify.contacts import Contact, ContactBook
from controller.ops.backup import BackupError, backup, backup_into, restore
from controller.remote.book import RemoteBook
from controller.sitefile import load_sites
from controller.store.feedback_sqlite import SqliteFeedbackBook
from controller.store.sqlite import SqliteEventStore
from tests.conftest import SITES
from tests.server import KIOSK, login, serve_process
from tests.services import env_without_proxies
from tests.test_event_log_upgrade import same_fields

COMMUNE = SITES / "commune-centre.toml"


def _motcua(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "controller.cli", *args], capture_output=True, text=True,
                          env=env_without_proxies(), timeout=120)


def _events(db: Path) -> list[tuple[str, int, str, str]]:
    conn = sqlite3.connect(db)
    try:
        return [(str(a), int(b), str(c), str(d)) for a, b, c, d in
                conn.execute("SELECT site, seq, day, body FROM events ORDER BY site, seq")]
    finally:
        conn.close()


def _day_report(events: list[tuple[str, int, str, str]], site: str = "xa") -> dict[str, Any]:
    targets = load_sites(COMMUNE)[0].targets
    days = sorted({day for s, _, day, _ in events if s == site})
    bodies = [json.loads(body) for s, _, _, body in events if s == site]
    return build_report(site, days, bodies, targets.transaction_wait_s, targets.visit_wait_s,
                        targets.satisfaction).to_dict()


@pytest.mark.integration
@pytest.mark.slow
def test_backup_under_load_restores_and_replays_to_the_same_reports(tmp_path: Path) -> None:
    data = tmp_path / "data"
    stop = threading.Event()
    served = [0]
    with serve_process(COMMUNE, data) as server:
        staff = login(server.url, "quay1", "1234")

        def work() -> None:
            with httpx.Client(base_url=server.url, timeout=10) as client:
                client.post("/api/v1/sites/xa/counters/1/open", headers=staff).raise_for_status()
                while not stop.is_set():
                    client.post("/api/v1/sites/xa/tickets", headers=KIOSK,
                                json={"procedure": "ht-khai-sinh"}).raise_for_status()
                    if client.post("/api/v1/sites/xa/counters/1/call-next", headers=staff).status_code == 200:
                        client.post("/api/v1/sites/xa/counters/1/finish", headers=staff,
                                    json={"outcome": "done"}).raise_for_status()
                        served[0] += 1

        writer = threading.Thread(target=work)
        writer.start()
        try:
            while served[0] < 20:
                stop.wait(0.05)
            made = _motcua("backup", "--data-dir", str(data), "--out", str(tmp_path / "backup"))
            assert made.returncode == 0, made.stderr
            assert made.stdout.startswith(f"OK: sao lưu / backup {tmp_path / 'backup'}")
            at_backup = served[0]
            while served[0] < at_backup + 10:  # the log goes on growing after the copy
                stop.wait(0.05)
        finally:
            stop.set()
            writer.join()
    original = _events(data / "events.db")
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    last = manifest["last_seq"]["xa"]
    assert 0 < last < original[-1][1]
    # remote.db opens with the SQLite store, texts or not: the kiosk holds places away (numbers that return later)
    assert set(manifest["files"]) == {"events.db", "accounts.db", "appointments.db", "feedback.db", "remote.db"}

    restored = tmp_path / "restored"
    done = _motcua("restore", "--from", str(tmp_path / "backup"), "--data-dir", str(restored))
    assert done.returncode == 0, done.stderr
    copy = _events(restored / "events.db")
    assert copy == [row for row in original if row[1] <= last]  # one commit's state: a prefix, no gap, no torn append

    with serve_process(COMMUNE, restored) as server:
        manager = login(server.url, "quanly", "demo")
        answered = httpx.get(f"{server.url}/api/v1/sites/xa/reports", headers=manager, timeout=10).json()
        expected = _day_report(copy)
        report = same_fields(answered, expected)  # less what the API adds around build_report (names, by day)
        assert report == expected
        assert report["total"]["transactions"] >= 20 and report["visits"] >= 20
        # the replayed floor goes on from the backup's seq: a new ticket is the next event
        httpx.post(f"{server.url}/api/v1/sites/xa/tickets", headers=KIOSK, json={"procedure": "ht-khai-sinh"},
                   timeout=10).raise_for_status()
    assert _events(restored / "events.db")[len(copy)][1] == last + 1


def _seed(data: Path) -> None:
    async def write() -> None:
        async with SqliteEventStore(data / "events.db") as store:
            await store.append("xa", "2025-03-03", [{"type": "day.started", "at": 1.0}])
        async with ContactBook(data / "contacts.db") as book:
            await book.save(Contact("xa", "t1", "0912345678", "2025-03-03", armed=True))
        async with SqliteFeedbackBook(data / "feedback.db") as feedback:
            await feedback.add(Feedback(site="xa", code="GY-1", category="waiting", text="Chờ lâu quá",
                                        channel="kiosk", received_at=1.0, due_at=864_001.0, has_phone=True),
                               "0987654321")
        async with RemoteBook(data / "remote.db") as remote:
            person = await remote.person("xa", "2025-03-03", "0911222333")
            await remote.reserve("xa", "2025-03-03", person, "HT", "r1", card=await remote.card("xa", "2025-03-03",
                                                                                             "001090123456"))
            await remote.link_booking("xa", "2025-03-04", "001090123456", "ABCDEF")  # a booking tied to a card
            signed = remote.check_code("xa", "t1")
        async with RemoteBook(data / "remote.db") as remote:
            assert remote.check_code("xa", "t1") == signed

    asyncio.run(write())
    assert main(["users", "--data-dir", str(data), "add", "--user", "quanly", "--role", "manager",
                 "--secret", "a long enough secret"]) == 0
    conn = sqlite3.connect(data / "accounts.db")
    conn.execute("INSERT INTO tokens VALUES ('h', 'quanly', 'manager', '*', NULL, 9e9, 0)")
    conn.commit()
    conn.close()
    (data / "mqtt").mkdir()
    (data / "mqtt" / "secrets.toml").write_text('[passwords]\n"display-1@xa" = "x"\n')


def _signed(data: Path) -> str:
    async def read() -> str:
        async with RemoteBook(data / "remote.db") as remote:
            return remote.check_code("xa", "t1")

    return asyncio.run(read())


def test_a_backup_leaves_phone_numbers_and_login_tokens_out(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _seed(data)
    manifest = backup(data, tmp_path / "b")
    assert set(manifest.files) == {"events.db", "accounts.db", "feedback.db", "remote.db", "mqtt/secrets.toml"}
    assert not (tmp_path / "b" / "contacts.db").exists()
    copied = b"".join(p.read_bytes() for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert b"0912345678" not in copied and b"0987654321" not in copied  # a ticket's and a reply's number
    # the complaint itself is kept, its reply number is not; the remote numbers' signing key is kept (codes on
    # tickets already printed still check in after a restore), the day's keyed phone hashes and their key are not
    signed = _signed(data)

    async def read_back() -> None:
        async with SqliteFeedbackBook(tmp_path / "b" / "feedback.db") as feedback:
            kept = await feedback.get("xa", "GY-1")
            assert kept is not None and kept.text == "Chờ lâu quá"
            assert await feedback.phone("xa", "GY-1") is None
        async with RemoteBook(tmp_path / "b" / "remote.db") as remote:
            assert remote.check_code("xa", "t1") == signed

    asyncio.run(read_back())
    remote_copy = sqlite3.connect(tmp_path / "b" / "remote.db")
    left = "SELECT (SELECT COUNT(*) FROM takes) + (SELECT COUNT(*) FROM day_keys) + (SELECT COUNT(*) FROM card_links)"
    assert remote_copy.execute(left).fetchone() == (0,)
    remote_copy.close()
    conn = sqlite3.connect(tmp_path / "b" / "accounts.db")
    assert conn.execute("SELECT COUNT(*) FROM tokens").fetchone()[0] == 0
    assert conn.execute("SELECT name FROM accounts").fetchall() == [("quanly",)]
    conn.close()
    assert (tmp_path / "b").stat().st_mode & 0o077 == 0
    assert manifest.last_seq == {"xa": 1}


def test_restore_refuses_a_damaged_backup_or_a_used_data_dir_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _seed(data)
    backup(data, tmp_path / "b")
    with pytest.raises(BackupError, match="không trống: chỉ khôi phục vào thư mục trống"):
        restore(tmp_path / "b", data)
    assert not (data / "manifest.json").exists()
    with pytest.raises(BackupError, match="đã có dữ liệu, không ghi đè"):
        backup(data, data)
    with (tmp_path / "b" / "events.db").open("r+b") as handle:
        handle.seek(200)
        handle.write(b"\xff")
    with pytest.raises(BackupError, match="sai tổng kiểm / missing or its checksum differs"):
        restore(tmp_path / "b", tmp_path / "empty")
    assert not (tmp_path / "empty").exists()
    with pytest.raises(BackupError, match="không phải bản sao lưu"):
        restore(tmp_path, tmp_path / "empty")


def test_scheduled_backups_keep_the_newest_n(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    _seed(data)
    root = tmp_path / "backups"
    (root / "unrelated").mkdir(parents=True)
    start = dt.datetime(2025, 3, 1, 23, 30, tzinfo=dt.UTC)
    for day in range(5):
        backup_into(data, root, keep=3, now=start + dt.timedelta(days=day))
    assert sorted(p.name for p in root.iterdir()) == [
        "motcua-20250303T233000Z", "motcua-20250304T233000Z", "motcua-20250305T233000Z", "unrelated"]
    assert main(["backup", "--data-dir", str(data), "--into", str(root), "--keep", "1"]) == 0
    out = capsys.readouterr().out
    assert out.count("đã xóa bản cũ / removed old backup") == 3
    assert len([p for p in root.iterdir() if p.name.startswith("motcua-")]) == 1
    assert main(["backup", "--data-dir", str(tmp_path / "nothing"), "--out", str(tmp_path / "x")]) == 2
    assert "không có nhật ký sự kiện (events.db)" in capsys.readouterr().err


def test_a_remote_db_of_a_release_before_id_cards_is_backed_up_and_scrubbed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _seed(data)
    conn = sqlite3.connect(data / "remote.db")
    conn.execute("DROP TABLE card_links")  # as an older release left it
    conn.commit()
    conn.close()
    manifest = backup(data, tmp_path / "b")
    assert "remote.db" in manifest.files
    copy = sqlite3.connect(tmp_path / "b" / "remote.db")
    assert copy.execute("SELECT (SELECT COUNT(*) FROM takes) + (SELECT COUNT(*) FROM day_keys)").fetchone() == (0,)
    copy.close()
