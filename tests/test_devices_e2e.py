"""End to end with real processes: serial keypad -> bridge -> broker -> controller -> broker -> bridge -> LED."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from devices.payloads import parse_display_state
from devices.topics import SiteTopics
from firmware_bridge.emulators import KeypadEmulator, LedDisplayEmulator, SerialBusEmulator
from firmware_bridge.line import SerialLine
from tests.bridge_support import MqttRecorder, bridge_process, eventually
from tests.devices_support import COMMUNE, SERIAL_DEVICES
from tests.mqtt_auth_support import secrets
from tests.server import KIOSK, ServerProcess, login, serve_process
from tests.services import Mosquitto, PtyPair, free_port

pytestmark = pytest.mark.integration

T = SiteTopics("xa")


def _open_counter_with_a_ticket(server: ServerProcess) -> str:
    staff = login(server.url, "quay1", "1234")
    httpx.post(f"{server.url}/api/v1/sites/xa/counters/1/open", headers=staff, timeout=10).raise_for_status()
    ticket = httpx.post(
        f"{server.url}/api/v1/sites/xa/tickets", headers=KIOSK, json={"procedure": "ht-khai-sinh"}, timeout=10
    )
    ticket.raise_for_status()
    return str(ticket.json()["number"])


def test_serial_keypad_to_led_through_bridge_broker_and_controller(
    tmp_path: Path, mosquitto: Mosquitto, pty_pair: PtyPair
) -> None:
    site_file = tmp_path / "site.toml"
    site_file.write_text(COMMUNE.read_text(encoding="utf-8") + SERIAL_DEVICES, encoding="utf-8")
    led, keypad = LedDisplayEmulator(1), KeypadEmulator(2)

    async def floor(number: str) -> None:
        async with SerialLine(pty_pair.device_side) as line, SerialBusEmulator(line, [led, keypad]):
            # the controller's resync reaches the LED first: counter 1 is open, nothing called
            await eventually(lambda: len(led.history) > 0, timeout_s=15)
            keypad.press("next")
            await eventually(lambda: led.number == number, timeout_s=15)

    with (
        serve_process(site_file, tmp_path / "data", "--mqtt", mosquitto.url, "--devices", "real") as server,
        bridge_process(site_file, pty_pair, mosquitto.url, tmp_path / "bridge.log"),
    ):
        number = _open_counter_with_a_ticket(server)
        try:
            asyncio.run(floor(number))
        except TimeoutError:
            pytest.fail(f"LED shows {led.number!r}; bridge log: {(tmp_path / 'bridge.log').read_text()[-2000:]}")
        manager = login(server.url, "quanly", "demo")
        monitor = httpx.get(f"{server.url}/api/v1/sites/xa/monitor", headers=manager, timeout=10).json()
        statuses = {d["device"]: d["status"] for d in monitor["devices"]}
        assert statuses["led-1"] == "online" and statuses["kp-1"] == "online"
        assert monitor["counters"][0]["current"]["number"] == number


def test_embedded_broker_with_simulated_devices(tmp_path: Path) -> None:
    port = free_port()
    with serve_process(
        COMMUNE, tmp_path / "data", "--mqtt", f"embedded://127.0.0.1:{port}", "--devices", "sim"
    ) as server:
        number = _open_counter_with_a_ticket(server)
        staff = login(server.url, "quay1", "1234")
        httpx.post(f"{server.url}/api/v1/sites/xa/counters/1/call-next", headers=staff, timeout=10).raise_for_status()

        async def watch() -> None:
            # the embedded broker has users too: watch as the controller does
            login_ = ("motcua-controller", secrets(tmp_path / "data" / "mqtt")["motcua-controller"])
            with MqttRecorder(port, [T.display_state(1), T.hall_state()], login=login_) as watcher:
                await watcher.wait_for(
                    lambda t, p: t == T.display_state(1) and parse_display_state(p).number == number
                )
                _, hall = await watcher.wait_for(lambda t, p: t == T.hall_state())
                assert json.loads(hall)["calls"][0] == {**json.loads(hall)["calls"][0], "number": number}

        asyncio.run(watch())
        manager = login(server.url, "quanly", "demo")

        def sim_display_online() -> bool:
            monitor = httpx.get(f"{server.url}/api/v1/sites/xa/monitor", headers=manager, timeout=10).json()
            statuses = {d["device"]: d["status"] for d in monitor["devices"]}
            return statuses.get("display-1") == statuses.get("printer-k1") == "online"

        asyncio.run(eventually(sim_display_online))
        metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
        # 18 emulated MQTT devices and the kiosk's FakePrinter (its health polled in-process)
        assert 'motcua_devices{site="xa",status="online"} 19.0' in metrics
