"""`motcua doctor`: each check OK/WARN/FAIL with what to do, Vietnamese first, against real services."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis as redis_lib
from prometheus_client import generate_latest
from prometheus_client.metrics_core import Metric

from controller.cli import main
from controller.devices.stats import DeviceLine, DeviceStats
from controller.ops.doctor import (
    FAIL,
    OK,
    WARN,
    Check,
    check_clock,
    check_disk,
    check_redis,
    check_store_probe,
    diagnose,
    exit_status,
)
from controller.ops.doctor_devices import BUS_SILENT_S, device_checks
from controller.ops.doctor_texts import check_texts
from controller.sitefile import load_sites
from devices.registry import DeviceSpec
from devices.sms.address import SmsAddress, SmsChannels, parse_sms_channels
from devices.topics import SiteTopics
from tests.bridge_support import MqttRecorder
from tests.conftest import SITES
from tests.server import wait_healthy
from tests.services import RedisServer, env_without_proxies, free_port, mosquitto_server
from tests.sms_gateway import ZNS_IDS, ZNS_TOKEN, sms_gateway, zns_gateway


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
    assert "[OK  ] xa display-1: màn hình quầy 1: trực tuyến" in out  # emulated: a line per device, all up
    assert "[OK  ] xa printer-k1: máy in ki-ốt k1: trực tuyến" in out
    tags = [line[1:5].strip() for line in out.splitlines() if line.startswith("[")]
    # only the machine's own state (NTP, time zone, disk speed and space) may be other than OK here
    assert all(line.split("] ")[1].split(":")[0] in ("clock", "timezone", "disk", "store")
               for line in out.splitlines() if line.startswith(("[WARN", "[FAIL")))
    assert status == (2 if "FAIL" in tags else 1 if "WARN" in tags else 0)


DEVICES = """
[[device]]
id = "display-1"
kind = "display"
counter = 1

[[device]]
id = "keypad-1"
kind = "keypad"
counter = 1

[[device]]
id = "printer-k1"
kind = "printer"
kiosk = "k1"

[[device]]
id = "led-2"
kind = "display"
counter = 2
transport = "serial"
bus = "bus1"
address = 2

[[device]]
id = "led-3"
kind = "display"
counter = 3
transport = "serial"
bus = "bus1"
address = 3
"""


@pytest.mark.integration
def test_doctor_gives_a_line_per_device_with_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    with mosquitto_server(tmp_path) as broker:
        config = _config(tmp_path, port, f'mqtt = "{broker.url}"', 'devices = "real"')
        (tmp_path / "site.toml").write_text((SITES / "commune-centre.toml").read_text() + DEVICES)
        log = tmp_path / "serve.log"
        with log.open("wb") as sink:
            process = subprocess.Popen([sys.executable, "-m", "controller.cli", "serve", "--config", str(config),
                                        "--log-level", "warning"], stdout=sink, stderr=subprocess.STDOUT,
                                       env=env_without_proxies())
        topics = SiteTopics("xa")
        try:
            wait_healthy(f"http://127.0.0.1:{port}", process, log)
            with MqttRecorder(broker.port, []) as peer:
                # what the devices and the bridge would say: the display is up, the printer out of paper,
                # the bridge up with led-2 answering badly and led-3 well
                peer.publish(topics.device_status("display-1"), b"online", retain=True)
                peer.publish(topics.device_status("printer-k1"), json.dumps(
                    {"online": True, "paper": "out", "can_print": False}).encode(), retain=True)
                for led in ("led-2", "led-3"):
                    peer.publish(topics.device_status(led), b"online", retain=True)
                now = time.time()
                peer.publish(topics.device_status("bridge-bus1"), json.dumps({"status": "online", "devices": {
                    "led-2": {"frames": 200, "retries": 30, "timeouts": 25, "bad_crc": 5, "naks": 0, "heard_at": now},
                    "led-3": {"frames": 100, "retries": 0, "timeouts": 0, "bad_crc": 0, "naks": 0, "heard_at": now},
                }}).encode(), retain=True)
                deadline = time.monotonic() + 10
                while 'problem="paper_out"' not in httpx.get(f"http://127.0.0.1:{port}/metrics").text:
                    assert time.monotonic() < deadline, "the controller never heard the printer"
                    time.sleep(0.05)
                status = main(["doctor", "--config", str(config)])
        finally:
            process.terminate()
            process.wait(timeout=10)
    lines = {line.split("] ", 1)[1].split(":", 1)[0]: line for line in capsys.readouterr().out.splitlines()
             if line.startswith("[")}
    assert lines["xa display-1"].startswith("[OK  ] xa display-1: màn hình quầy 1: trực tuyến, nghe thấy lần cuối")
    assert "/ counter 1's display: online, last heard" in lines["xa display-1"]
    assert lines["xa keypad-1"].startswith("[WARN] xa keypad-1: bàn phím gọi số quầy 1: chưa từng thấy / "
                                           "counter 1's call keypad: never heard from → thiết bị đã lắp chưa?")
    printer = lines["xa printer-k1"]
    assert printer.startswith("[FAIL] xa printer-k1: máy in ki-ốt k1: hết giấy / kiosk k1's printer: paper out")
    assert printer.endswith("→ lắp cuộn giấy mới / load a new paper roll")
    assert lines["xa led-2"].startswith("[WARN] xa led-2: màn hình quầy 2 (bus bus1, địa chỉ 2): lỗi đường truyền "
                                        "(25 timeouts, 5 bad CRC / 200 frames)")
    assert "điện trở đầu cuối" in lines["xa led-2"]
    assert lines["xa led-3"].startswith("[OK  ] xa led-3: màn hình quầy 3 (bus bus1, địa chỉ 3): trực tuyến")
    assert lines["xa bridge-bus1"].startswith("[OK  ] xa bridge-bus1: cầu nối bus bus1: trực tuyến")
    assert status == 2


def test_device_lines_from_the_collector_s_own_text() -> None:
    site = load_sites(SITES / "commune-centre.toml")[0]
    site = dataclasses.replace(site, devices=(
        DeviceSpec("printer-k2", "printer", kiosk="k2"),
        DeviceSpec("led-4", "display", transport="serial", counter=4, bus="bus1", address=4),
        DeviceSpec("display-5", "display", counter=5),
    ))
    stats = DeviceStats()
    stats.device_lines = lambda: {"xa": [
        DeviceLine("printer-k2", "printer", "online", 990.0, ("paper_low",)),
        DeviceLine("led-4", "display", "online", 1000.0 - BUS_SILENT_S - 5),
        DeviceLine("display-5", "display", "offline", 400.0),
    ]}
    lines = {c.what: c for c in device_checks([site], generate_latest(_Only(stats)).decode(), now=1000.0)}
    assert (lines["xa printer-k2"].status, lines["xa printer-k2"].vi) == (WARN, "máy in ki-ốt k2: sắp hết giấy")
    assert lines["xa printer-k2"].fix_en == "have a new paper roll ready"
    assert lines["xa led-4"].status == WARN and lines["xa led-4"].vi.endswith("không trả lời trên bus, nghe thấy "
                                                                              "lần cuối 2 phút trước")
    assert (lines["xa display-5"].status, lines["xa display-5"].en) == (FAIL, "counter 5's display: offline, "
                                                                                "last heard 10 min ago")
    assert "mqtt-config" in lines["xa display-5"].fix_vi


class _Only:
    """A registry of one collector, as /metrics renders it."""

    def __init__(self, collector: DeviceStats) -> None:
        self.collector = collector

    def collect(self) -> Iterator[Metric]:
        return self.collector.collect()


def test_doctor_checks_the_zns_gateway_its_token_and_templates_and_the_sms_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = tmp_path / "zns-token"
    token.write_text(ZNS_TOKEN + "\n")
    monkeypatch.setenv("MOTCUA_ZNS_TOKEN_FILE", str(token))
    monkeypatch.setenv("MOTCUA_SMS_TOKEN", "sms-gateway-token")
    ids = ",".join(f"{kind}={template}" for kind, template in ZNS_IDS.items())
    with zns_gateway() as zns, sms_gateway() as sms:
        config = _config(tmp_path, free_port(), f'sms = "zns:{zns.url}"', f'sms_fallback = "webhook:{sms.url}"',
                         f'zns_templates = "{ids}"')
        lines = {c.what: c for c in diagnose(str(config))}
        assert [lines[what].status for what in ("zns", "zns-token", "zns-templates", "sms-fallback")] == [OK] * 4
        assert lines["zns"].line().startswith("[OK  ] zns: cổng ZNS (Zalo) 127.0.0.1:")
        assert lines["zns-token"].vi.startswith(f"tệp mã truy cập {token} có mã, làm mới 0.0 giờ trước")
        assert zns.attempts == sms.attempts == 0  # looked at, never sent to: a text would reach a citizen

        channels = parse_sms_channels(f"zns:{zns.url}", f"webhook:{sms.url}", "code=1,called=2")
        env = {"MOTCUA_ZNS_TOKEN_FILE": str(token)}
        two_days_ago = time.time() - 2 * 86400
        os.utime(token, (two_days_ago, two_days_ago))  # the refresh job stopped
        by_what = {c.what: c for c in check_texts(channels, env)}
        assert by_what["zns-token"].status == WARN and "48 giờ" in by_what["zns-token"].vi
        assert by_what["zns-token"].fix_en == "check that the refresh job (cron or systemd timer) runs"
        templates = by_what["zns-templates"]  # the texts without a template go by SMS: a warning
        assert templates.status == WARN and templates.vi.startswith("chưa có mẫu tin ZNS cho ahead, come")
        assert by_what["sms-fallback"].status == WARN and "MOTCUA_SMS_TOKEN" in by_what["sms-fallback"].en
        token.write_text("")
        assert {c.what: c for c in check_texts(channels, env)}["zns-token"].status == FAIL
        fixed = {c.what: c for c in check_texts(channels, {"MOTCUA_ZNS_TOKEN": ZNS_TOKEN})}["zns-token"]
        assert fixed.status == WARN and "MOTCUA_ZNS_TOKEN_FILE" in fixed.fix_en  # a fixed token expires in a day
        assert {c.what: c for c in check_texts(channels, {})}["zns-token"].status == FAIL

        alone = SmsChannels(channels.first, SmsAddress("none"), channels.templates)
        by_what = {c.what: c for c in check_texts(alone, {"MOTCUA_ZNS_TOKEN": ZNS_TOKEN})}
        assert by_what["zns-templates"].status == FAIL  # texts without a template reach nobody
        assert by_what["sms-fallback"].status == WARN
        assert by_what["sms-fallback"].vi.startswith("không có kênh dự phòng: người không dùng Zalo")
    down = {c.what: c for c in check_texts(channels, {"MOTCUA_ZNS_TOKEN": ZNS_TOKEN})}  # both gateways gone
    assert down["zns"].status == FAIL == down["sms-fallback"].status
    assert down["zns"].fix_vi.startswith("kiểm tra mạng/tường lửa tới 127.0.0.1:")
