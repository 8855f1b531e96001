"""Online backup and restore of a data directory (the SQLite store), while the controller runs.

Each database is copied with SQLite's online backup API in one step, which
reads inside one transaction: the copy is the file as of one commit, never a
half-written one, and the controller's writer (WAL) is not held up. A backup
is a folder made beside its final name and renamed into place once complete
and synced, so a folder with a manifest is a whole backup.

What a backup holds, and what it leaves out on purpose (README, "Backups"):

    events.db        the event log, every site and day (reports are made from it)
    accounts.db      accounts and keys, secrets hashed; login tokens are dropped
                     (after a restore everyone logs in again)
    appointments.db  the appointment book
    feedback.db      feedback and complaints with their answers; the phone numbers
                     given for a reply are dropped
    remote.db        the key that signs remote numbers' check-in codes, and the numbers
                     held for a later day's opening; the keyed phone and ID card hashes
                     and counts (the limits), and the bookings' links to an ID card, are
                     dropped
    mqtt/secrets.toml  the device passwords of the embedded broker
    archive/         the archived months of the event log (controller/store/archive.py)
    manifest.json    what was copied, when, each file's SHA-256 and each site's last event

contacts.db (phone numbers of today's tickets) is never copied: a number must
not outlive the visit, and a backup is kept for days.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from controller.store.archive import ARCHIVE_DIR

__all__ = ["BACKUP_NAME", "DATABASES", "BackupError", "Manifest", "backup", "backup_into", "read_manifest", "restore"]

DATABASES: Final = ("events.db", "accounts.db", "appointments.db", "feedback.db", "remote.db")
# What a copy forgets before it is kept for days: login tokens, and personal data that must not outlive its purpose
# (a reply's phone number; the day's keyed phone hashes, which the day's key beside them would link back to a number).
SCRUBBED: Final = {
    "accounts.db": ("DELETE FROM tokens",),
    "feedback.db": ("DELETE FROM feedback_phones",),
    # the card links' key is derived from the signing key the copy keeps: the links go too
    "remote.db": ("DELETE FROM takes", "DELETE FROM day_keys", "DELETE FROM card_links"),
}
PLAIN_FILES: Final = (Path("mqtt") / "secrets.toml",)
LEFT_OUT: Final = ("contacts.db",)  # personal data that must not outlive the visit
MANIFEST: Final = "manifest.json"
FORMAT: Final = 1
BACKUP_NAME: Final = re.compile(r"^motcua-\d{8}T\d{6}Z$")  # what --into makes, and the only names --keep removes


class BackupError(Exception):
    """A backup or restore that could not be made; Vietnamese first, English second."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a backup holds."""

    made_at: str
    files: dict[str, dict[str, Any]]
    last_seq: dict[str, int]  # site -> its last event in the copy

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "made_at": self.made_at, "files": self.files, "last_seq": self.last_seq,
                "left_out": list(LEFT_OUT)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_database(source: Path, target: Path) -> None:
    # a plain connection (nothing is written through it): read-only ones cannot open a WAL file whose -shm is gone
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target, isolation_level=None)
        try:
            src.backup(dst)  # pages=-1: every page in one step, inside one read transaction
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            scrub = SCRUBBED.get(source.name, ())
            tables = {row[0] for row in dst.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            for statement in scrub:
                if statement.split()[-1] in tables:  # a file of an older release may not have the table yet
                    dst.execute(statement)
            if scrub:
                dst.execute("VACUUM")  # what was deleted leaves no free page behind
            check = dst.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"bản sao {target.name} hỏng / the copy of {target.name} is damaged: {check}")
        finally:
            dst.close()
    finally:
        src.close()
    _fsync(target)


def _last_seq(events_db: Path) -> dict[str, int]:
    conn = sqlite3.connect(events_db)
    try:
        return {str(site): int(seq) for site, seq in conn.execute("SELECT site, MAX(seq) FROM events GROUP BY site")}
    finally:
        conn.close()


def _empty_or_missing(folder: Path) -> bool:
    return not folder.exists() or (folder.is_dir() and not any(folder.iterdir()))


def backup(data_dir: Path, out: Path, now: dt.datetime | None = None) -> Manifest:
    """Copy the data dir's databases and broker secrets into `out` (missing or empty); its manifest."""
    if not (data_dir / "events.db").is_file():
        raise BackupError(f"{data_dir} không có nhật ký sự kiện (events.db) / {data_dir} holds no event log")
    if not _empty_or_missing(out):
        raise BackupError(f"{out} đã có dữ liệu, không ghi đè / {out} is not empty: nothing is overwritten")
    out.parent.mkdir(parents=True, exist_ok=True)
    made_at = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        files: dict[str, dict[str, Any]] = {}
        for name in DATABASES:
            if (data_dir / name).is_file():
                _copy_database(data_dir / name, work / name)
        archived = sorted(p.relative_to(data_dir) for p in (data_dir / ARCHIVE_DIR).rglob("*.jsonl.gz"))
        for relative in (*PLAIN_FILES, *archived):
            if (data_dir / relative).is_file():
                (work / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(data_dir / relative, work / relative)
                os.chmod(work / relative, 0o600)
                _fsync(work / relative)
        for path in sorted(p for p in work.rglob("*") if p.is_file()):
            files[str(path.relative_to(work))] = {"sha256": _sha256(path), "bytes": path.stat().st_size}
        manifest = Manifest(made_at, files, _last_seq(work / "events.db"))
        (work / MANIFEST).write_text(json.dumps(manifest.to_dict(), indent=2, ensure_ascii=False) + "\n")
        _fsync(work / MANIFEST)
        os.chmod(work, 0o700)  # account hashes and device passwords: the service's user only
        if out.exists():
            out.rmdir()
        work.rename(out)
        _fsync(out.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


def backup_into(
    data_dir: Path, root: Path, keep: int, now: dt.datetime | None = None
) -> tuple[Path, Manifest, list[Path]]:
    """A new backup in root/motcua-YYYYMMDDTHHMMSSZ, then only the newest `keep` kept; (new, its manifest, removed)."""
    if keep < 1:
        raise BackupError(f"--keep phải >= 1 / --keep must be >= 1, got {keep}")
    moment = now or dt.datetime.now(dt.UTC)
    out = root / f"motcua-{moment.strftime('%Y%m%dT%H%M%SZ')}"
    manifest = backup(data_dir, out, moment)
    made = sorted(p for p in root.iterdir() if p.is_dir() and BACKUP_NAME.match(p.name) and (p / MANIFEST).is_file())
    removed = made[:-keep]
    for old in removed:
        shutil.rmtree(old)
    return out, manifest, removed


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a backup, each file's checksum verified; BackupError when anything is off."""
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{folder} không phải bản sao lưu (thiếu {MANIFEST}) / "
                          f"{folder} is not a backup: no {MANIFEST}") from None
    except (ValueError, OSError) as exc:
        raise BackupError(f"{folder}/{MANIFEST} không đọc được / cannot be read: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{folder}: định dạng {manifest.get('format')!r} không hỗ trợ / "
                          f"unsupported backup format {manifest.get('format')!r}")
    for name, info in manifest["files"].items():
        path = folder / name
        if not path.is_file() or _sha256(path) != info["sha256"]:
            raise BackupError(f"{path}: thiếu hoặc sai tổng kiểm / missing or its checksum differs: "
                              "the backup is damaged, use another")
    return manifest


def restore(source: Path, data_dir: Path) -> dict[str, Any]:
    """Copy a verified backup into an empty data dir; its manifest. Nothing is written if anything is off."""
    manifest = read_manifest(source)
    if "events.db" not in manifest["files"]:
        raise BackupError(f"{source}: không có events.db / holds no event log")
    if not _empty_or_missing(data_dir):
        raise BackupError(f"{data_dir} không trống: chỉ khôi phục vào thư mục trống / "
                          f"{data_dir} is not empty: restore only into an empty data dir")
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        for name in manifest["files"]:
            target = data_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, target)
            _fsync(target)
        _fsync(data_dir)
    except BaseException:
        for child in data_dir.iterdir():  # it was empty: leave it so, not half restored
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        raise
    return manifest
