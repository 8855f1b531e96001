"""`motcua doctor`: each check OK/WARN/FAIL with what to do, Vietnamese first, against real services."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import redis as redis_lib

from controller.cli import main
from controller.ops.doctor import (
    FAIL,
    OK,
    WARN,
    Check,
    check_clock,
    check_disk,
    check_redis,
    check_store_probe,
    exit_status,
)
from tests.conftest import SITES
from tests.server import wait_healthy
from tests.services import RedisServer, env_without_proxies, free_port


def _config(folder: Path, port: int, *lines: str) -> Path:
    (folder / "site.toml").write_text((SITES / "commune-centre.toml").read_text())
    path = folder / "motcua.toml"
    path.write_text("\n".join(['site = "site.toml"', 'data_dir = "data"', 'host = "127.0.0.1"', f"port = {port}",
                               "demo = true", *lines]) + "\n")
    return path


def test_exit_status_and_lines_are_vietnamese_first() -> None:
    line = Check(FAIL, "disk", "còn 0.1 GiB trống", "0.1 GiB free", "giải phóng", "free space").line()
    assert line == "[FAIL] disk: còn 0.1 GiB trống / 0.1 GiB free → giải phóng / free space"
    assert exit_status([Check(OK, "a", "", "")]) == 0
    assert exit_status([Check(OK, "a", "", ""), Check(WARN, "b", "", "")]) == 1
    assert exit_status([Check(WARN, "b", "", ""), Check(FAIL, "c", "", "")]) == 2


def test_disk_and_store_probe_on_a_real_folder(tmp_path: Path) -> None:
    assert check_disk(tmp_path).status in (OK, WARN)
    assert check_disk(tmp_path, fail_below=1 << 62, warn_below=1 << 62).status == FAIL
    probe = check_store_probe(tmp_path, rounds=3)
    assert probe.status in (OK, WARN, FAIL) and "fsync median" in probe.en
    assert check_store_probe(tmp_path, rounds=3, warn_ms=-1, fail_ms=1e9).status == WARN
    assert check_store_probe(tmp_path / "missing", rounds=1).status == FAIL
    assert list(tmp_path.iterdir()) == []  # the probe leaves nothing behind


def test_clock_reads_ntp_and_compares_time_zones() -> None:
    synced = check_clock("Asia/Ho_Chi_Minh", run=lambda _: "yes\n")
    assert synced[0].status == OK
    unsynced = check_clock("Asia/Ho_Chi_Minh", run=lambda _: "no\n")
    assert unsynced[0].status == FAIL and "timedatectl set-ntp true" in unsynced[0].fix_vi

    def missing(_: list[str]) -> str:
        raise FileNotFoundError("timedatectl")

    assert check_clock("Asia/Ho_Chi_Minh", run=missing)[0].status == WARN


@pytest.mark.integration
def test_redis_durability_is_checked(redis: RedisServer) -> None:
    client = redis_lib.Redis.from_url(redis.url)
    client.config_set("appendonly", "no")
    assert check_redis(redis.url).status == FAIL and "appendfsync always" in check_redis(redis.url).fix_en
    client.config_set("appendonly", "yes")
    client.config_set("appendfsync", "always")
    assert check_redis(redis.url).status == OK
    client.close()
    assert check_redis(f"redis://127.0.0.1:{free_port()}/0").status == FAIL


@pytest.mark.integration
def test_doctor_on_a_running_centre_with_its_embedded_broker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port, mqtt_port = free_port(), free_port()
    config = _config(tmp_path, port, f'mqtt = "embedded://127.0.0.1:{mqtt_port}"', 'devices = "sim"')
    assert main(["doctor", "--config", str(config)]) == 2  # nothing running yet
    out = capsys.readouterr().out
    assert "[FAIL] controller: không trả lời ở http://127.0.0.1:" in out and "journalctl -u motcua" in out
    assert "[FAIL] broker: không kết nối được MQTT" in out
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", "controller.cli", "serve", "--config", str(config),
                                    "--log-level", "warning"], stdout=sink, stderr=subprocess.STDOUT,
                                   env=env_without_proxies())
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, log)
        status = main(["doctor", "--config", str(config)])
        out = capsys.readouterr().out
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "[OK  ] config:" in out and "[OK  ] controller: chạy ở http://127.0.0.1:" in out
    assert f"[OK  ] broker: MQTT 127.0.0.1:{mqtt_port} trả lời" in out
    assert "[OK  ] broker-acl: từ chối kết nối không đăng nhập" in out
    assert "] devices xa: " in out
    tags = [line[1:5].strip() for line in out.splitlines() if line.startswith("[")]
    # only the machine's own state (NTP, time zone, disk speed and space) may be other than OK here
    assert all(line.split("] ")[1].split(":")[0] in ("clock", "timezone", "disk", "store")
               for line in out.splitlines() if line.startswith(("[WARN", "[FAIL")))
    assert status == (2 if "FAIL" in tags else 1 if "WARN" in tags else 0)
