"""Chaos: mosquitto restarts (losing its retained messages) under a connected controller and bridge.

Both reconnect by themselves, the controller publishes every display again (a late
subscriber sees the current number), the bridge announces itself again, and a
keypad press after the restart still drives the floor: nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from devices.payloads import parse_display_state
from devices.topics import SiteTopics
from firmware_bridge.emulators import KeypadEmulator, LedDisplayEmulator, SerialBusEmulator
from firmware_bridge.line import SerialLine
from tests.bridge_support import MqttRecorder, bridge_process, eventually
from tests.devices_support import COMMUNE, SERIAL_DEVICES
from tests.server import KIOSK, login, serve_process
from tests.services import Mosquitto, PtyPair

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
T = SiteTopics("xa")


async def retained_number(port: int, topic: str) -> str | None:
    """The number a fresh subscriber is handed as the retained state of topic (None: nothing yet)."""
    try:
        with MqttRecorder(port, [topic]) as late:
            _, payload = await late.wait_for(lambda t, p: t == topic and bool(p), timeout_s=1.0)
    except (OSError, TimeoutError):  # the broker is not back yet, or holds no state
        return None
    return parse_display_state(payload).number


async def until_retained(port: int, topic: str, number: str, timeout_s: float = 20.0) -> None:
    async with asyncio.timeout(timeout_s):
        while await retained_number(port, topic) != number:
            await asyncio.sleep(0.2)


def test_broker_restart_under_controller_and_bridge(tmp_path: Path, mosquitto: Mosquitto, pty_pair: PtyPair) -> None:
    site_file = tmp_path / "site.toml"
    site_file.write_text(COMMUNE.read_text(encoding="utf-8") + SERIAL_DEVICES, encoding="utf-8")
    led, keypad = LedDisplayEmulator(1), KeypadEmulator(2)
    with (
        serve_process(site_file, tmp_path / "data", "--mqtt", mosquitto.url, "--devices", "real") as server,
        bridge_process(site_file, pty_pair, mosquitto.url, tmp_path / "bridge.log") as bridge_proc,
    ):
        staff = login(server.url, "quay1", "1234")
        api = f"{server.url}/api/v1/sites/xa"
        httpx.post(f"{api}/counters/1/open", headers=staff, timeout=10).raise_for_status()
        tickets = [httpx.post(f"{api}/tickets", headers=KIOSK, json={"procedure": "ht-khai-sinh"}, timeout=10).json()
                   for _ in range(2)]

        async def floor() -> None:
            async with SerialLine(pty_pair.device_side) as line, SerialBusEmulator(line, [led, keypad]):
                await eventually(lambda: len(led.history) > 0, timeout_s=15)
                keypad.press("next")
                await eventually(lambda: led.number == tickets[0]["number"], timeout_s=15)
                keypad.press("start")  # the citizen came: a "next" may finish the ticket at any time
                await eventually(lambda: httpx.get(f"{api}/tickets/{tickets[0]['id']}", timeout=10)
                                 .json()["state"] == "serving", timeout_s=15)

                await asyncio.to_thread(mosquitto.restart)  # retained states and sessions are gone

                # the controller publishes every display again for the empty broker
                await until_retained(mosquitto.port, T.display_state(1), tickets[0]["number"])
                assert bridge_proc.poll() is None, "the bridge gave up on the broker"
                # a press after the restart reaches the controller again, and its result the LED
                keypad.press("next")
                await eventually(lambda: led.number == tickets[1]["number"], timeout_s=20)

        try:
            asyncio.run(floor())
        except TimeoutError:
            pytest.fail(f"LED shows {led.number!r}; bridge log: {(tmp_path / 'bridge.log').read_text()[-2000:]}")
        states = [httpx.get(f"{api}/tickets/{t['id']}", timeout=10).json()["state"] for t in tickets]
        assert states[1] == "called" and states[0] != "waiting"
