"""`motcua backup` and `motcua restore`: the data dir from --data-dir, or from the serve configuration file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from controller.ops.backup import BackupError, backup, backup_into, restore

__all__ = ["data_dir_of", "run_archive", "run_backup", "run_restore"]


def data_dir_of(args: argparse.Namespace) -> Path:
    """--data-dir, else the configuration file's data_dir (ConfigError when it is refused)."""
    if args.data_dir:
        return Path(args.data_dir)
    if getattr(args, "config", None):
        from controller.cli import build_parser
        from controller.config_file import config_keys, read_config, serve_parser

        values = read_config(Path(args.config), config_keys(serve_parser(build_parser())))
        return Path(values.get("data_dir", "data"))
    return Path("data")


def run_backup(args: argparse.Namespace) -> int:
    """Back the data dir up into --out, or into a new folder of --into keeping the newest --keep."""
    from controller.config_file import ConfigError

    removed: list[Path] = []
    try:
        data_dir = data_dir_of(args)
        if args.out:
            out, manifest = Path(args.out), backup(data_dir, Path(args.out))
        else:
            out, manifest, removed = backup_into(data_dir, Path(args.into), args.keep)
    except (BackupError, ConfigError, OSError) as exc:
        print(f"motcua backup: {exc}", file=sys.stderr)
        return 2
    size = sum(int(info["bytes"]) for info in manifest.files.values())
    print(f"OK: sao lưu / backup {out}: {len(manifest.files)} tệp / files, {size} bytes, "
          f"{len(manifest.last_seq)} địa điểm / sites, {sum(manifest.last_seq.values())} sự kiện / events")
    for old in removed:
        print(f"  đã xóa bản cũ / removed old backup: {old}")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    """Restore a verified backup into an empty data dir."""
    try:
        manifest = restore(Path(args.source), Path(args.data_dir))
    except (BackupError, OSError) as exc:
        print(f"motcua restore: {exc}", file=sys.stderr)
        return 2
    print(f"OK: đã khôi phục / restored {args.source} ({manifest['made_at']}) vào / into {args.data_dir}")
    print("  số điện thoại (contacts.db) không có trong bản sao lưu; mọi người đăng nhập lại / "
          "phone numbers are not in backups; everyone logs in again")
    return 0


def run_archive(args: argparse.Namespace) -> int:
    """Move the days older than --keep-days out of the live log into monthly compressed files."""
    import datetime as dt

    from controller.config_file import ConfigError
    from controller.store.archive import archive_days

    try:
        events_db = data_dir_of(args) / "events.db"
        if not events_db.is_file():
            raise BackupError(f"{events_db}: không có nhật ký sự kiện / no event log")
        if args.keep_days < 1:
            raise BackupError(f"--keep-days phải >= 1 / must be >= 1, got {args.keep_days}")
        try:
            before = (dt.date.fromisoformat(args.before) if args.before
                      else dt.date.today() - dt.timedelta(days=args.keep_days))
        except ValueError:
            raise BackupError(f"--before phải là YYYY-MM-DD / must be a date YYYY-MM-DD: {args.before!r}") from None
        moved = archive_days(events_db, before)
    except (BackupError, ConfigError, OSError) as exc:
        print(f"motcua archive: {exc}", file=sys.stderr)
        return 2
    total = sum(len(days) for days in moved.values())
    print(f"OK: đã lưu trữ / archived {total} ngày / days"
          + "".join(f"\n  {site}: {days[0]} … {days[-1]}" for site, days in sorted(moved.items())))
    return 0
