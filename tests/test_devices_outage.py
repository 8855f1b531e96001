"""Issue 20 item 1: keypad presses queued through a broker outage never skip a citizen.

mosquitto is stopped while staff press "next"; the shipped keypads (the MQTT keypad
emulator, and a serial keypad behind the firmware bridge) queue the presses as real
firmware does and send them when the broker is back. Whatever reaches the controller,
and in whatever order the clients reconnect, the rules of CONTRACT.md section 4 hold:

- a press that waited through the outage (older than 5 s by its `at`) is refused as
  late, and one that never arrived is counted as lost from the keypad's seqs;
- a burst of presses acts as one, and no press ends a ticket called less than 10 s
  ago (its citizen on the way);

so every queued press is accounted for in /metrics, and no ticket is finished that
was neither started nor called long enough ago.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

from controller.devices.keypads import PRESS_MIN_CALL_S
from devices.topics import SiteTopics
from firmware_bridge.emulators import KeypadEmulator, LedDisplayEmulator, SerialBusEmulator
from firmware_bridge.line import SerialLine
from firmware_bridge.mqtt_emulators import MqttKeypadEmulator
from tests.bridge_support import MqttRecorder, bridge_process
from tests.devices_support import COMMUNE, SERIAL_DEVICES
from tests.server import KIOSK, ServerProcess, login, serve_process
from tests.services import Mosquitto, PtyPair

pytestmark = [pytest.mark.integration, pytest.mark.slow]

T = SiteTopics("xa")
# press reasons that account for a press that did not act
REFUSED = ("late", "lost", "burst", "too_soon", "duplicate")


class Keys(Protocol):
    def press(self, key: Any) -> object: ...


class Floor:
    """The controller seen from outside, as a technician would: HTTP and /metrics."""

    def __init__(self, server: ServerProcess, client: httpx.AsyncClient) -> None:
        self.server = server
        self.client = client
        self.api = f"{server.url}/api/v1/sites/xa"

    async def ticket(self, number: str) -> dict[str, Any]:
        body: dict[str, Any] = (await self.client.get(f"{self.api}/tickets/{number}")).json()
        return body

    async def state(self, number: str) -> str:
        return str((await self.ticket(number))["state"])

    async def until(self, check: Callable[[], Any], timeout_s: float = 20.0) -> None:
        async with asyncio.timeout(timeout_s):
            while not await check():
                await asyncio.sleep(0.1)

    async def dropped(self) -> dict[str, float]:
        text = (await self.client.get(f"{self.server.url}/metrics")).text
        out = dict.fromkeys(REFUSED, 0.0)
        for labels, value in re.findall(r"^motcua_mqtt_dropped_total\{([^}]*)\} (\S+)$", text, re.MULTILINE):
            reason = dict(re.findall(r'(\w+)="([^"]*)"', labels)).get("reason", "")
            if reason in out:
                out[reason] += float(value)
        return out

    async def device(self, device_id: str) -> dict[str, Any]:
        """The monitor's row of one device (what a technician sees)."""
        manager = login(self.server.url, "quanly", "demo")
        rows = (await self.client.get(f"{self.api}/monitor", headers=manager)).json()["devices"]
        return next(dict(row) for row in rows if row["device"] == device_id)

    async def refused_since(self, before: dict[str, float]) -> dict[str, float]:
        now = await self.dropped()
        return {r: now[r] - before[r] for r in REFUSED if now[r] != before[r]}

    async def no_citizen_skipped(self, numbers: list[str]) -> None:
        """Every finished ticket was started, or finished at least PRESS_MIN_CALL_S after its call."""
        for number in numbers:
            history = (await self.ticket(number))["history"]
            kinds = [h["type"] for h in history]
            if "ticket.finished" not in kinds or "ticket.started" in kinds:
                continue
            called = max(datetime.fromisoformat(h["at"]) for h in history if h["type"] == "ticket.called")
            finished = max(datetime.fromisoformat(h["at"]) for h in history if h["type"] == "ticket.finished")
            assert (finished - called).total_seconds() >= PRESS_MIN_CALL_S, f"{number} skipped: {history}"


@asynccontextmanager
async def floor_with_tickets(server: ServerProcess, count: int) -> AsyncIterator[tuple[Floor, list[str]]]:
    staff = login(server.url, "quay1", "1234")
    async with httpx.AsyncClient(timeout=10) as client:
        floor = Floor(server, client)
        (await client.post(f"{floor.api}/counters/1/open", headers=staff)).raise_for_status()
        numbers = []
        for _ in range(count):
            response = await client.post(f"{floor.api}/tickets", headers=KIOSK, json={"procedure": "ht-khai-sinh"})
            numbers.append(str(response.raise_for_status().json()["number"]))
        yield floor, numbers


async def outage_with_presses(
    mosquitto: Mosquitto, keys: Keys, key: str, presses: int, down_s: float, presser: str
) -> None:
    """Stop the broker, press `key` at once `presses` times, keep it down for down_s, start it,
    and return once the controller and the presser (the device whose link sends the presses)
    are connected again.

    The broker keeps nothing across the outage, so a retained display state is the controller's
    republish after it reconnected (and subscribed: before it publishes), and a retained status
    the presser's "online" after it did. A press made after that cannot be lost at the broker.
    """
    await asyncio.to_thread(mosquitto.stop)
    for _ in range(presses):
        keys.press(key)
        await asyncio.sleep(0.05)
    await asyncio.sleep(down_s)
    await asyncio.to_thread(mosquitto.start)
    wanted = {T.display_state(1), T.device_status(presser)}
    async with asyncio.timeout(30):
        while True:
            with contextlib.suppress(OSError, TimeoutError), MqttRecorder(mosquitto.port, sorted(wanted)) as seen:
                await asyncio.sleep(0.5)
                if {topic for topic, _, retained in seen.drain() if retained} >= wanted:
                    return
            await asyncio.sleep(0.2)


async def serve_then_outages(
    floor: Floor, numbers: list[str], keys: Keys, mosquitto: Mosquitto, device_id: str, presser: str
) -> None:
    first, second, third = numbers[:3]
    keys.press("next")
    await floor.until(lambda: _is(floor, first, "called"))
    keys.press("start")  # the citizen is at the counter
    await floor.until(lambda: _is(floor, first, "serving"))

    # 1: three "next" during a 6 s outage: by the time the broker is back they are late,
    # or (the keypad back before the controller subscribed) lost at the broker
    before = await floor.dropped()
    await outage_with_presses(mosquitto, keys, "next", 3, down_s=6.0, presser=presser)
    keys.press("next")  # a press made now, after the outage: it acts, once
    await floor.until(lambda: _is(floor, second, "called"), timeout_s=30)
    refused = await floor.refused_since(before)
    assert sum(refused.values()) == 3 and set(refused) <= {"late", "lost"}, refused
    assert await _finished(floor, first) and await floor.state(third) == "waiting"

    # 2: three "next" in a short outage, moments after the second ticket was called: fresh
    # enough, but they act as one press, and that one may not end a ticket just called
    before = await floor.dropped()
    await outage_with_presses(mosquitto, keys, "next", 3, down_s=0.5, presser=presser)
    keys.press("recall")  # sent after the queued presses: when it is handled, so were they
    await floor.until(lambda: _recalled(floor, second), timeout_s=30)
    refused = await floor.refused_since(before)
    assert sum(refused.values()) == 3 and set(refused) <= {"too_soon", "burst", "lost", "late"}, refused
    assert await floor.state(second) == "called" and await floor.state(third) == "waiting"
    await floor.no_citizen_skipped(numbers)
    # the technician sees it on the keypad's own row too
    row = await floor.device(device_id)
    assert sum(row["refused"].values()) == 6 and row["last_seen"] is not None, row


async def _is(floor: Floor, number: str, state: str) -> bool:
    return await floor.state(number) == state


async def _finished(floor: Floor, number: str) -> bool:
    return any(h["type"] == "ticket.finished" for h in (await floor.ticket(number))["history"])


async def _recalled(floor: Floor, number: str) -> bool:
    return any(h["type"] == "ticket.recalled" for h in (await floor.ticket(number))["history"])


def test_mqtt_keypad_presses_queued_through_an_outage_skip_no_citizen(tmp_path: Path, mosquitto: Mosquitto) -> None:
    with serve_process(COMMUNE, tmp_path / "data", "--mqtt", mosquitto.url, "--devices", "real") as server:

        async def scenario() -> None:
            async with (
                floor_with_tickets(server, 4) as (floor, numbers),
                MqttKeypadEmulator(mosquitto.url, "xa", 1) as keypad,
            ):
                await keypad.link.wait_connected()
                await serve_then_outages(floor, numbers, keypad, mosquitto, "keypad-1", "keypad-1")

        asyncio.run(scenario())


def test_serial_keypad_presses_queued_by_the_bridge_through_an_outage_skip_no_citizen(
    tmp_path: Path, mosquitto: Mosquitto, pty_pair: PtyPair
) -> None:
    site_file = tmp_path / "site.toml"
    site_file.write_text(COMMUNE.read_text(encoding="utf-8") + SERIAL_DEVICES, encoding="utf-8")
    keypad = KeypadEmulator(2)
    with (
        serve_process(site_file, tmp_path / "data", "--mqtt", mosquitto.url, "--devices", "real") as server,
        bridge_process(site_file, pty_pair, mosquitto.url, tmp_path / "bridge.log"),
    ):

        async def scenario() -> None:
            async with (
                floor_with_tickets(server, 4) as (floor, numbers),
                SerialLine(pty_pair.device_side) as line,
                SerialBusEmulator(line, [LedDisplayEmulator(1), keypad]),
            ):
                # the bridge polls the keypad through the outage: its presses wait in the bridge
                await keypad.wait_until(lambda: len(keypad.received) > 0, timeout_s=15)
                await serve_then_outages(floor, numbers, keypad, mosquitto, "kp-1", "bridge-bus1")

        try:
            asyncio.run(scenario())
        except (TimeoutError, AssertionError):
            print((tmp_path / "bridge.log").read_text()[-3000:])
            raise
