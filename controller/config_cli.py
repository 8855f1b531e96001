"""`motcua config check --config FILE`: everything `serve --config FILE` checks before it starts, without starting.

The file's keys, the settings they make, the site file, the data directory
(made if missing and written to) and the accounts (none without --demo is a
refusal, as at start). Exit 0 when `serve` would start, 2 with the reason.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from controller.config_file import ConfigError, with_config

__all__ = ["check", "run"]


def check(config: str) -> list[str]:
    """What `serve --config CONFIG` would start with, a line each; ConfigError (file, key, why) or SiteError if not."""
    from controller.accounts import AccountStore
    from controller.app import settings_from_args
    from controller.cli import build_parser
    from controller.settings import SettingsError
    from controller.sitefile import load_sites

    argv = ["serve", "--config", config]
    args = with_config(build_parser(), argv, config)
    if not args.site:
        raise ConfigError(config, "site", "thiếu: tệp địa điểm (site) là bắt buộc",
                          "missing: the site file is required")
    try:
        settings = settings_from_args(args)
    except SettingsError as exc:
        raise ConfigError(config, exc.key, exc.reason_vi, exc.reason_en) from None
    sites = load_sites(settings.site_file)
    data_dir = settings.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".config-check-"):
            pass
    except OSError as exc:
        raise ConfigError(config, "data_dir", f"không ghi được vào {data_dir} ({exc.strerror})",
                          f"{data_dir} is not writable: {exc.strerror}") from None
    lines = [
        f"tệp địa điểm / site file: {settings.site_file} ({len(sites)} địa điểm / sites: "
        f"{', '.join(s.id for s in sites[:5])}{' …' if len(sites) > 5 else ''})",
        f"thư mục dữ liệu / data dir: {data_dir} (ghi được / writable)",
        f"lưu trữ / store: {settings.store}; MQTT: {settings.mqtt}; thiết bị / devices: {settings.devices}; "
        f"SMS: {settings.sms.split(':', 1)[0]}",
        f"lắng nghe / listens on: {settings.host}:{settings.port}",
    ]
    if settings.demo:
        lines.append("--demo: tài khoản demo, không dùng ở trung tâm thật / demo accounts, not for a real centre")
    else:
        count = 0
        if settings.accounts_path.exists():
            store = AccountStore(settings.accounts_path)
            try:
                count = store.count()
            finally:
                store.close()
        if count == 0:
            key = "accounts_db" if settings.accounts_db else "data_dir"
            raise ConfigError(config, key, f"chưa có tài khoản nào trong {settings.accounts_path}: thêm bằng "
                                           "`motcua users add --data-dir DIR --user TÊN --role ...`",
                              f"no accounts in {settings.accounts_path}: add them with "
                              "`motcua users add --data-dir DIR --user NAME --role ...`")
        lines.append(f"tài khoản / accounts: {count} trong / in {settings.accounts_path}")
    return lines


def run(args: argparse.Namespace) -> int:
    """`motcua config check`: print what would start, or the refusal; exit 0 or 2."""
    from controller.core.errors import SiteError

    try:
        lines = check(args.config)
    except ConfigError as exc:
        print(f"motcua config: {exc}", file=sys.stderr)
        return 2
    except SiteError as exc:
        print(f"motcua config: tệp địa điểm sai / bad site file: {exc.source}: field {exc.field}: {exc.reason}",
              file=sys.stderr)
        return 2
    print(f"OK: {Path(args.config)}: cấu hình hợp lệ / configuration valid")
    for line in lines:
        print(f"  {line}")
    return 0
