"""Chaos: the bridge's serial line is unplugged (socat's pty pair closed), then plugged back.

The bridge marks its devices offline, keeps running and says why in its log;
when a line appears again at the same path it serves it: the LED gets the state
the controller keeps retained, and the devices are online again.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from devices.payloads import DisplayState, encode_display_state
from devices.topics import SiteTopics
from firmware_bridge.emulators import KeypadEmulator, LedDisplayEmulator, SerialBusEmulator
from firmware_bridge.line import SerialLine
from tests.bridge_support import MqttRecorder, eventually
from tests.devices_support import COMMUNE, SERIAL_DEVICES
from tests.services import Mosquitto, env_without_proxies, socat_pty_pair

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
T = SiteTopics("xa")


async def status_of(watcher: MqttRecorder, device: str, word: str) -> None:
    """Wait until the latest status of device starts with word ("online"/"offline")."""
    topic = T.device_status(device)

    def latest() -> bool:
        statuses = [p for t, p, _ in watcher.drain() if t == topic]
        return bool(statuses) and word.encode() in statuses[-1]

    await eventually(latest, timeout_s=15)


def test_unplugged_serial_line_marks_devices_offline_and_recovers_at_the_same_path(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    site_file = tmp_path / "site.toml"
    site_file.write_text(COMMUNE.read_text(encoding="utf-8") + SERIAL_DEVICES, encoding="utf-8")
    log_path = tmp_path / "bridge.log"

    async def plugged_in(led: LedDisplayEmulator, watcher: MqttRecorder, start_bridge: bool) -> None:
        with socat_pty_pair(tmp_path, "line") as pair:
            if start_bridge:
                procs.append(bridge(pair.host_side))
            async with SerialLine(pair.device_side) as line, SerialBusEmulator(line, [led, KeypadEmulator(2)]):
                # the LED gets the state the controller keeps retained, without anyone asking
                await eventually(lambda: led.number == "1001", timeout_s=15)
                await status_of(watcher, "led-1", "online")
        # leaving the block closes socat: the line is unplugged, both ends go away

    def bridge(host_side: str) -> subprocess.Popen[bytes]:
        with log_path.open("wb") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "controller.cli", "bridge", "--site-file", str(site_file), "--bus", "bus1",
                 "--serial", host_side, "--mqtt", mosquitto.url],
                stdout=log, stderr=subprocess.STDOUT, env=env_without_proxies(), cwd=ROOT,
            )

    async def scenario() -> None:
        with MqttRecorder(mosquitto.port, [T.subscription("device_status")]) as watcher:
            watcher.publish(T.display_state(1), encode_display_state(DisplayState("1001", 1)), retain=True)
            await plugged_in(LedDisplayEmulator(1), watcher, start_bridge=True)
            await status_of(watcher, "led-1", "offline")
            await status_of(watcher, "kp-1", "offline")
            await asyncio.sleep(1.5)  # a few retries against the missing path
            assert procs[0].poll() is None, f"the bridge exited: {log_path.read_text()[-2000:]}"
            assert "serial line lost" in log_path.read_text()
            # plugged back at the same path (a new pty behind the same name)
            await plugged_in(LedDisplayEmulator(1), watcher, start_bridge=False)
            assert procs[0].poll() is None

    procs: list[subprocess.Popen[bytes]] = []
    try:
        asyncio.run(scenario())
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
