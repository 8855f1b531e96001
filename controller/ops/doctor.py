"""`motcua doctor`: what a technician runs on site; one line per check, OK/WARN/FAIL, what to do, Vietnamese first.

Each check reads the machine or the running controller and never changes
either. The exit status is for scripts: 0 all OK, 1 a warning, 2 a failure.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zoneinfo
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

from controller.core.site import Site
from controller.ops.checks import FAIL, OK, WARN, Check, exit_status, reachable
from controller.ops.doctor_devices import device_checks
from controller.ops.doctor_texts import check_texts
from controller.settings import Settings

__all__ = [
    "FAIL", "OK", "WARN", "Check", "check_clock", "check_disk", "check_redis", "check_store_probe", "diagnose",
    "exit_status", "run",
]

def check_disk(data_dir: Path, fail_below: int = 1 << 30, warn_below: int = 5 << 30) -> Check:
    """Free space where the event log grows."""
    usage = shutil.disk_usage(data_dir)
    gib = usage.free / (1 << 30)
    if usage.free < fail_below:
        return Check(FAIL, "disk", f"còn {gib:.1f} GiB trống ở {data_dir}", f"{gib:.1f} GiB free at {data_dir}",
                     "giải phóng dung lượng, chạy `motcua archive`", "free space, run `motcua archive`")
    if usage.free < warn_below:
        return Check(WARN, "disk", f"còn {gib:.1f} GiB trống", f"{gib:.1f} GiB free",
                     "sắp đầy: chạy `motcua archive`, xóa bản sao lưu cũ", "filling up: archive, prune backups")
    return Check(OK, "disk", f"còn {gib:.1f} GiB trống", f"{gib:.1f} GiB free")


def check_store_probe(data_dir: Path, rounds: int = 20, warn_ms: float = 20.0, fail_ms: float = 200.0) -> Check:
    """The data dir is writable and an fsync is quick: every acknowledged command waits for one."""
    try:
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".doctor-") as handle:
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                handle.write(os.urandom(4096))
                handle.flush()
                os.fsync(handle.fileno())
                times.append((time.perf_counter() - started) * 1000)
    except OSError as exc:
        return Check(FAIL, "store", f"không ghi được vào {data_dir} ({exc.strerror})",
                     f"{data_dir} is not writable: {exc.strerror}",
                     "kiểm tra quyền (chủ sở hữu motcua) và ổ đĩa", "check ownership (user motcua) and the disk")
    median = statistics.median(times)
    measured_vi, measured_en = f"ghi + fsync trung vị {median:.1f} ms", f"write + fsync median {median:.1f} ms"
    if median > fail_ms:
        return Check(FAIL, "store", measured_vi, measured_en, "ổ đĩa quá chậm: thay thẻ nhớ/USB bằng SSD",
                     "the disk is too slow: use an SSD, not an SD card or USB stick")
    if median > warn_ms:
        return Check(WARN, "store", measured_vi, measured_en, "ổ đĩa chậm: mỗi lệnh chờ một fsync",
                     "a slow disk: every command waits for an fsync")
    return Check(OK, "store", measured_vi, measured_en)


def check_clock(site_timezone: str, run: Callable[[list[str]], str] | None = None) -> list[Check]:
    """NTP synchronised and the machine's time zone the site's: the wait targets are counted in minutes."""
    def timedatectl(args: list[str]) -> str:
        return subprocess.run(args, capture_output=True, text=True, timeout=5, check=True).stdout

    query = run or timedatectl
    checks = []
    try:
        synced = query(["timedatectl", "show", "-p", "NTPSynchronized", "--value"]).strip()
    except (OSError, subprocess.SubprocessError):
        checks.append(Check(WARN, "clock", "không biết đồng hồ có đồng bộ NTP không (không có timedatectl)",
                            "cannot tell whether the clock is NTP-synchronised (no timedatectl)",
                            "cài systemd-timesyncd hoặc chrony", "install systemd-timesyncd or chrony"))
    else:
        if synced == "yes":
            checks.append(Check(OK, "clock", "đồng hồ đã đồng bộ NTP", "clock NTP-synchronised"))
        else:
            checks.append(Check(FAIL, "clock", "đồng hồ chưa đồng bộ NTP", "clock not NTP-synchronised",
                                "`timedatectl set-ntp true`, mở cổng NTP (UDP 123)",
                                "`timedatectl set-ntp true`, let NTP (UDP 123) through"))
    local = _local_zone()
    same = local is not None and _same_offset(local, site_timezone)
    if same:
        checks.append(Check(OK, "timezone", f"múi giờ máy {local} khớp địa điểm",
                            f"machine time zone {local} matches the site"))
    else:
        checks.append(Check(WARN, "timezone", f"múi giờ máy {local or '?'} khác địa điểm ({site_timezone})",
                            f"machine time zone {local or '?'} differs from the site's ({site_timezone})",
                            f"`timedatectl set-timezone {site_timezone}` (nhật ký, lịch sao lưu theo giờ máy)",
                            f"`timedatectl set-timezone {site_timezone}` (logs and backup timers use it)"))
    return checks


def _local_zone() -> str | None:
    with contextlib.suppress(OSError):
        target = os.readlink("/etc/localtime")
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    with contextlib.suppress(OSError):
        return Path("/etc/timezone").read_text().strip() or None
    return os.environ.get("TZ") or None


def _same_offset(a: str, b: str) -> bool:
    import datetime as dt

    try:
        now = dt.datetime.now(dt.UTC)
        return now.astimezone(zoneinfo.ZoneInfo(a)).utcoffset() == now.astimezone(zoneinfo.ZoneInfo(b)).utcoffset()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False


def check_redis(url: str) -> Check:
    """With --store redis://: reachable, and appendonly yes with appendfsync always (nothing acknowledged is lost)."""
    import redis as redis_lib

    client = redis_lib.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
    try:
        appendonly = client.config_get("appendonly").get("appendonly")
        appendfsync = client.config_get("appendfsync").get("appendfsync")
    except redis_lib.RedisError as exc:
        return Check(FAIL, "redis", f"không kết nối được {url} ({exc})", f"cannot reach {url}: {exc}",
                     "khởi động Redis, kiểm tra địa chỉ", "start Redis, check the address")
    finally:
        client.close()
    if appendonly != "yes" or appendfsync != "always":
        return Check(FAIL, "redis", f"appendonly={appendonly}, appendfsync={appendfsync}",
                     f"appendonly={appendonly}, appendfsync={appendfsync}",
                     "đặt appendonly yes và appendfsync always (deploy/compose/redis.conf), rồi khởi động lại",
                     "set appendonly yes and appendfsync always (deploy/compose/redis.conf) and restart Redis")
    return Check(OK, "redis", "appendonly yes, appendfsync always", "appendonly yes, appendfsync always")


def check_broker(settings: Settings) -> list[Check]:
    """The broker answers, and refuses a client without a login (its ACL is in force)."""
    host, port = settings.mqtt_address
    host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    error = reachable(host, port)
    if error is not None:
        return [Check(FAIL, "broker", f"không kết nối được MQTT {host}:{port} ({error})",
                      f"cannot reach MQTT {host}:{port}: {error}",
                      "khởi động controller (broker nhúng) hoặc mosquitto", "start the controller or mosquitto")]
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"motcua-doctor-{os.getpid()}")
    result: list[object] = []
    client.on_connect = lambda _c, _u, _f, reason, _p: result.append(reason)
    try:
        if settings.mqtt_url and settings.mqtt_url.startswith("mqtts"):
            client.tls_set()
        client.connect(host, port, keepalive=5)
        deadline = time.monotonic() + 5
        while not result and time.monotonic() < deadline:
            client.loop(timeout=0.2)
    except OSError as exc:
        return [Check(WARN, "broker", f"MQTT {host}:{port} mở nhưng không thử được ({exc})",
                      f"MQTT {host}:{port} open but the login probe failed: {exc}")]
    finally:
        client.disconnect()
    reached = [Check(OK, "broker", f"MQTT {host}:{port} trả lời", f"MQTT {host}:{port} answers")]
    if result and getattr(result[0], "is_failure", False):
        return [*reached, Check(OK, "broker-acl", "từ chối kết nối không đăng nhập",
                                "refuses a client without a login")]
    return [*reached, Check(FAIL, "broker-acl", "nhận kết nối không đăng nhập", "accepts a client without a login",
                            "dùng cấu hình từ `motcua mqtt-config` (allow_anonymous false, acl_file)",
                            "use the `motcua mqtt-config` output (allow_anonymous false, acl_file)")]


def check_controller(settings: Settings, sites: Sequence[Site] = ()) -> list[Check]:
    """The controller answers, and a line per device of each site (from its /metrics)."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    url = f"http://{host}:{settings.port}"
    try:
        health = httpx.get(f"{url}/healthz", timeout=5).json()
        metrics = httpx.get(f"{url}/metrics", timeout=10).text
    except (httpx.HTTPError, ValueError) as exc:
        return [Check(FAIL, "controller", f"không trả lời ở {url} ({exc})", f"no answer at {url}: {exc}",
                      "`systemctl status motcua`, `journalctl -u motcua -n 50`",
                      "`systemctl status motcua`, `journalctl -u motcua -n 50`")]
    checks = [Check(OK, "controller", f"chạy ở {url}, {health.get('sites')} địa điểm, {health.get('uptime_s')} s",
                    f"running at {url}, {health.get('sites')} sites, up {health.get('uptime_s')} s")]
    return checks + device_checks(sites, metrics, time.time())


def diagnose(config: str) -> list[Check]:
    """Every check for the centre that CONFIG describes; a refused configuration ends the list."""
    from controller.app import settings_from_args
    from controller.cli import build_parser
    from controller.config_cli import check
    from controller.config_file import ConfigError, with_config
    from controller.core.errors import SiteError
    from controller.settings import SettingsError
    from controller.sitefile import load_sites

    try:
        check(config)
        settings = settings_from_args(with_config(build_parser(), ["serve", "--config", config], config))
        sites = load_sites(settings.site_file)
    except ConfigError as exc:
        return [Check(FAIL, "config", f"tệp cấu hình {exc.source}: khóa {exc.key}: {exc.reason_vi}",
                      f"configuration file {exc.source}: key {exc.key}: {exc.reason_en}",
                      f"sửa khóa {exc.key}, rồi `motcua config check --config {config}`",
                      f"fix the key {exc.key}, then `motcua config check --config {config}`")]
    except (SettingsError, SiteError) as exc:
        return [Check(FAIL, "config", "cấu hình bị từ chối", str(exc), f"`motcua config check --config {config}`",
                      f"`motcua config check --config {config}`")]
    checks = [Check(OK, "config", f"{config} hợp lệ", f"{config} valid")]
    checks += check_clock(sites[0].timezone)
    checks += [check_disk(settings.data_dir), check_store_probe(settings.data_dir)]
    if settings.partitioned:
        checks.append(check_redis(settings.store))
    checks += check_controller(settings, sites)
    if settings.mqtt != "none":
        checks += check_broker(settings)
    checks += check_texts(settings.sms_channels)
    return checks


def run(args: argparse.Namespace) -> int:
    """`motcua doctor --config FILE`: print every check; exit 0 OK, 1 warning, 2 failure."""
    checks = diagnose(args.config)
    for c in checks:
        print(c.line())
    status = exit_status(checks)
    summary = {0: "mọi thứ ổn / all OK", 1: "có cảnh báo / warnings", 2: "có lỗi / failures"}[status]
    print(f"motcua doctor: {summary}", file=sys.stderr if status else sys.stdout)
    return status
