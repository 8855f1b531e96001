"""The device router against a real mosquitto: presses in, retained display states out, health, bad input."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from controller.api.metrics import render_metrics
from controller.core.tickets import CounterStatus
from devices.payloads import parse_display_state, parse_rating_ask
from devices.topics import SiteTopics
from firmware_bridge.mqtt_emulators import MqttDisplayEmulator, MqttKeypadEmulator
from tests.bridge_support import MqttRecorder, eventually
from tests.devices_support import device_floor, logged
from tests.services import Mosquitto, env_without_proxies

pytestmark = pytest.mark.integration

T = SiteTopics("xa")


def run(scenario: Coroutine[Any, Any, None]) -> None:
    asyncio.run(scenario)


def _state_of(payload: bytes) -> tuple[str | None, bool]:
    state = parse_display_state(payload)
    return state.number, state.blink


def test_keypad_next_calls_and_the_display_state_is_retained(tmp_path: Path, mosquitto: Mosquitto) -> None:
    async def scenario() -> None:
        with MqttRecorder(mosquitto.port, [T.display_state(1), T.hall_state()]) as watcher:
            async with (
                device_floor(tmp_path, mosquitto.url, "real") as f,
                MqttKeypadEmulator(mosquitto.url, "xa", 1) as keypad,
            ):
                await keypad.link.wait_connected()
                keypad.press("next")
                await eventually(lambda: bool(f.runtime.floor.state.counters[1].current))
                first = f.runtime.floor.state.tickets[f.runtime.floor.state.counters[1].current or ""]
                assert [e.data["number"] for e in await logged(f.runtime, "ticket.called")] == [first.number]
                await watcher.wait_for(
                    lambda t, p: t == T.display_state(1) and _state_of(p) == (first.number, True)
                )

                # a display that subscribes only now still gets the number: it is retained
                async with MqttDisplayEmulator(mosquitto.url, "xa", 1, "display-late") as late:
                    await late.wait_until(lambda: late.number == first.number)

                # the one-button flow: next finishes the ticket at the counter (its citizen came:
                # start), then calls the next one
                keypad.press("start")
                await eventually(lambda: first.state == "serving")
                keypad.press("next")
                await eventually(lambda: f.runtime.floor.state.counters[1].served == 1)
                await eventually(lambda: len(f.runtime.floor.state.tickets) > 0 and bool(
                    f.runtime.floor.state.counters[1].current
                ) and f.runtime.floor.state.counters[1].current != first.id)
                second = f.runtime.floor.state.tickets[f.runtime.floor.state.counters[1].current or ""]
                async with MqttDisplayEmulator(mosquitto.url, "xa", 1, "display-late-2") as late:
                    await late.wait_until(lambda: late.number == second.number)
                _, hall = await watcher.wait_for(
                    lambda t, p: t == T.hall_state() and b'"' + second.number.encode() + b'"' in p
                )
                calls = json.loads(hall)["calls"]
                assert [(c["number"], c["counter"]) for c in calls[:2]] == [(second.number, 1), (first.number, 1)]
                assert f.service.stats.presses[("xa", "keypad")] == 3

    run(scenario())


def test_restart_resyncs_every_display(tmp_path: Path, mosquitto: Mosquitto) -> None:
    async def scenario() -> None:
        with MqttRecorder(mosquitto.port, [T.subscription("display_state")]) as watcher:
            async with device_floor(tmp_path, mosquitto.url, "real"):
                # every counter of the site has a display (registry defaults): each gets its state
                for counter in range(1, 7):
                    await watcher.wait_for(lambda t, p, c=counter: t == T.display_state(c))  # type: ignore[misc]
            _, closed = await watcher.wait_for(lambda t, p: t == T.display_state(2))
            assert json.loads(closed)["number"] is None and "đóng" in json.loads(closed)["text"]

    run(scenario())


def test_duplicate_and_retained_presses_call_nobody_twice(tmp_path: Path, mosquitto: Mosquitto) -> None:
    async def scenario() -> None:
        with MqttRecorder(mosquitto.port, []) as device:
            # a press a broker kept from an earlier time is delivered on subscribe: not a press now
            device.publish(T.keypad_press(1), b'{"key": "next", "seq": 1}', retain=True)
            async with device_floor(tmp_path, mosquitto.url, "real") as f:
                await eventually(lambda: f.service.stats.dropped_total("xa", "retained") == 1)
                device.publish(T.keypad_press(1), b"", retain=True)  # clear the retained press
                for _ in range(3):  # a QoS 1 redelivery, a bus retry: the same seq again
                    device.publish(T.keypad_press(1), b'{"key": "next", "seq": 255}')
                device.publish(T.keypad_press(1), b'{"key": "recall", "seq": 0}')  # the bridge's seq wrapped
                await eventually(lambda: f.service.stats.presses[("xa", "keypad")] == 2)
                await eventually(lambda: f.service.stats.dropped_total("xa", "duplicate") == 2)
                assert len(await logged(f.runtime, "ticket.called")) == 1
                assert len(await logged(f.runtime, "ticket.recalled")) == 1

    run(scenario())


KEEPER = """
import asyncio, sys
from firmware_bridge.mqtt_emulators import MqttKeypadEmulator
async def main():
    async with MqttKeypadEmulator(sys.argv[1], "xa", 2) as keypad:
        await keypad.link.wait_connected()
        print("up", flush=True)
        await asyncio.sleep(600)
asyncio.run(main())
"""


def test_last_will_marks_a_killed_device_offline(tmp_path: Path, mosquitto: Mosquitto) -> None:
    async def scenario() -> None:
        async with device_floor(tmp_path, mosquitto.url, "real") as f:
            proc = subprocess.Popen(
                [sys.executable, "-c", KEEPER, mosquitto.url], stdout=subprocess.PIPE, env=env_without_proxies()
            )
            try:
                assert proc.stdout is not None
                assert (await asyncio.to_thread(proc.stdout.readline)).strip() == b"up"
                board = f.service.router.sites["xa"].health if f.service.router else None
                assert board is not None
                await eventually(lambda: board.devices["keypad-2"].status == "online")
                proc.kill()  # no clean disconnect: only the broker's last will tells
                await asyncio.to_thread(proc.wait)
                await eventually(lambda: board.devices["keypad-2"].status == "offline")

                async def offline_logged() -> bool:
                    changes = [e.data for e in await logged(f.runtime, "device.changed")]
                    return {"device": "keypad-2", "status": "offline"}.items() <= (changes or [{}])[-1].items()

                async with asyncio.timeout(5):
                    while not await offline_logged():
                        await asyncio.sleep(0.05)
                changes = [e.data for e in await logged(f.runtime, "device.changed") if e.data["device"] == "keypad-2"]
                assert [c["status"] for c in changes] == ["online", "offline"]
                assert changes[-1]["kind"] == "keypad" and changes[-1]["counter"] == 2
                rows = {d["device"]: d for d in f.runtime.device_view()}
                assert rows["keypad-2"]["status"] == "offline"
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                if proc.stdout is not None:
                    proc.stdout.close()

    run(scenario())


MALFORMED: list[tuple[str, bytes]] = [
    (T.keypad_press(1), b"not json"),
    (T.keypad_press(1), b'{"key": "explode", "seq": 1}'),
    (T.keypad_press(1), b'{"key": "next"}'),
    (T.keypad_press(1), b'{"key": "next", "seq": -4}'),
    (T.keypad_press(1), b'["next", 1]'),
    (T.keypad_press(1), b"\xff\xfe"),
    (T.rating_press(1), b'{"score": 9, "seq": 1}'),
    (T.rating_press(1), b'{"score": "good", "seq": 2}'),
    (T.keypad_press(99), b'{"key": "next", "seq": 3}'),
    (T.device_status("keypad-1"), b'{"status": "sleepy"}'),
]


def test_a_thousand_malformed_payloads_change_nothing(tmp_path: Path, mosquitto: Mosquitto) -> None:
    async def scenario() -> None:
        async with device_floor(tmp_path, mosquitto.url, "real") as f:
            stats = f.service.stats
            # wait until the devices' first statuses (none here) and the start-up are done
            await asyncio.sleep(0.3)
            seq_before = f.runtime.last_seq
            with MqttRecorder(mosquitto.port, []) as device:
                for i in range(1000):
                    topic, payload = MALFORMED[i % len(MALFORMED)]
                    device.publish(topic, payload)
            await eventually(lambda: stats.dropped_total("xa") == 1000, timeout_s=20)
            assert f.runtime.last_seq == seq_before
            assert f.runtime.floor.state.counters[1].current is None
            assert f.runtime.floor.state.counters[1].status == CounterStatus.OPEN
            assert stats.dropped_total("xa", "unknown_counter") == 100
            assert stats.dropped_total("xa", "malformed") == 900
            metrics = render_metrics(f.controller, stats).decode()
            assert 'motcua_mqtt_dropped_total{reason="malformed",site="xa"} 900.0' in metrics

    run(scenario())


def test_rating_press_rates_the_last_ticket(tmp_path: Path, mosquitto: Mosquitto) -> None:
    async def scenario() -> None:
        async with (
            device_floor(tmp_path, mosquitto.url, "real") as f,
            MqttKeypadEmulator(mosquitto.url, "xa", 1) as keypad,
        ):
            await keypad.link.wait_connected()
            keypad.press("next")
            await eventually(lambda: bool(f.runtime.floor.state.counters[1].current))
            keypad.press("start")
            keypad.press("finish")
            await eventually(lambda: f.runtime.floor.state.counters[1].served == 1)
            keypad.rate(4)
            keypad.rate(3)  # a second rating of the same ticket: the core refuses it
            await eventually(lambda: f.service.stats.rejected[("xa", "already_rated")] == 1)
            ratings = await logged(f.runtime, "rating.recorded")
            assert [(r.data["counter"], r.data["score"]) for r in ratings] == [(1, 4)]

    run(scenario())




def test_a_keypad_with_a_display_is_asked_why_after_a_low_rating(tmp_path: Path, mosquitto: Mosquitto) -> None:
    """rating/{n}/ask after a low rating; the keypad's reasons press binds to that rating (CONTRACT.md 4)."""
    async def scenario() -> None:
        with MqttRecorder(mosquitto.port, [T.rating_ask(1)]) as asks:
            async with (
                device_floor(tmp_path, mosquitto.url, "real") as f,
                MqttKeypadEmulator(mosquitto.url, "xa", 1) as keypad,
            ):
                await keypad.link.wait_connected()
                for score in (4, 2):
                    keypad.press("next")
                    await eventually(lambda: bool(f.runtime.floor.state.counters[1].current))
                    keypad.press("start")
                    served = f.runtime.floor.state.counters[1].served
                    keypad.press("finish")
                    await eventually(lambda s=served: f.runtime.floor.state.counters[1].served == s + 1)
                    keypad.rate(score)
                    await eventually(lambda s=score: f.runtime.floor.state.ratings[-1:] != []
                                     and f.runtime.floor.state.ratings[-1]["score"] == s)
                _, payload = await asks.wait_for(lambda t, p: t == T.rating_ask(1))
                ask = parse_rating_ask(payload)
                assert ask.ticket == f.runtime.floor.state.ratings[-1]["ticket"]  # only the low one asked
                assert len(asks.drain()) == 1
                assert [code for code, _ in ask.reasons][:2] == ["waited_long", "guidance_unclear"]
                keypad.reasons(7)  # the site lists 5 reasons: refused, nothing recorded
                await eventually(lambda: f.service.stats.rejected[("xa", "invalid_reason")] == 1)
                keypad.reasons(1, 4)
                await eventually(lambda: f.runtime.floor.state.ratings[-1].get("reasons") is not None)
                given = await logged(f.runtime, "rating.reasons")
                assert [(e.data["ticket"], e.data["reasons"]) for e in given] == [
                    (ask.ticket, ["waited_long", "staff_attitude"])]

    run(scenario())
