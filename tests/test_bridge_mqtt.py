"""The firmware bridge end to end: real mosquitto, socat pty, emulated devices on the bus."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devices.payloads import (
    DisplayState,
    KeyName,
    encode_display_state,
    parse_device_status,
    parse_key_press,
    parse_rating_press,
)
from devices.topics import SiteTopics
from firmware_bridge.bridge import Bridge, BridgeSettings
from firmware_bridge.emulators import KeypadEmulator, LedDisplayEmulator, SerialBusEmulator
from firmware_bridge.line import SerialLine
from firmware_bridge.site import load_bus
from tests.bridge_support import MqttRecorder, eventually
from tests.services import Mosquitto, PtyPair, mosquitto_server

pytestmark = pytest.mark.integration

T = SiteTopics("xa")

SITE = """
[site]
id = "xa"
name = "Trung tâm thử"

[[counter]]
ids = [1, 2]

[[device]]
id = "led-1"
kind = "display"
counter = 1
transport = "serial"
bus = "bus1"
address = 1

[[device]]
id = "led-2"
kind = "display"
counter = 2
transport = "serial"
bus = "bus1"
address = 2

[[device]]
id = "kp-1"
kind = "keypad"
counter = 1
transport = "serial"
bus = "bus1"
address = 11

[[device]]
id = "rate-1"
kind = "rating"
counter = 1
transport = "serial"
bus = "bus1"
address = 12

[[device]]
id = "printer-k1"
kind = "printer"
"""


@dataclass
class Floor:
    bridge: Bridge
    led1: LedDisplayEmulator
    led2: LedDisplayEmulator
    keypad: KeypadEmulator
    rating: KeypadEmulator


def site_file(tmp_path: Path) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(SITE, encoding="utf-8")
    return path


@contextlib.asynccontextmanager
async def floor(tmp_path: Path, broker_url: str, pair: PtyPair) -> AsyncIterator[Floor]:
    led1, led2 = LedDisplayEmulator(1), LedDisplayEmulator(2)
    keypad, rating = KeypadEmulator(11), KeypadEmulator(12)
    settings = BridgeSettings(
        mqtt_url=broker_url,
        serial_port=pair.host_side,
        timeout_s=0.1,
        poll_interval_s=0.05,
        probe_interval_s=0.2,
    )
    config = load_bus(site_file(tmp_path), "bus1")
    async with (
        SerialLine(pair.device_side) as line,
        SerialBusEmulator(line, [led1, led2, keypad, rating]),
        Bridge(config, settings) as bridge,
    ):
        assert bridge.mqtt is not None
        await bridge.mqtt.wait_connected()
        yield Floor(bridge, led1, led2, keypad, rating)


def run(scenario: Coroutine[Any, Any, None]) -> None:
    asyncio.run(scenario)


def test_display_states_show_blink_and_clear(
    tmp_path: Path, mosquitto: Mosquitto, pty_pair: PtyPair
) -> None:
    async def scenario() -> None:
        with MqttRecorder(mosquitto.port, []) as controller:
            # retained before the bridge starts: it must pick it up on subscribe
            controller.publish(
                T.display_state(1), encode_display_state(DisplayState("1001", 1)), retain=True
            )
            async with floor(tmp_path, mosquitto.url, pty_pair) as f:
                await eventually(lambda: f.led1.number == "1001")
                state = DisplayState("2015", 2, blink=True, text="Mời công dân số 2015")
                controller.publish(T.display_state(2), encode_display_state(state), retain=True)
                await eventually(lambda: (f.led2.number, f.led2.blink_s) == ("2015", 5))
                assert f.led2.counter == 2
                controller.publish(
                    T.display_state(2), b'{"number": null, "counter": 2}', retain=True
                )
                await eventually(lambda: f.led2.number is None)
                controller.publish(T.display_state(1), b"", retain=True)  # retained state deleted
                await eventually(lambda: f.led1.number is None)

    run(scenario())


def test_malformed_states_are_counted_and_change_nothing(
    tmp_path: Path, mosquitto: Mosquitto, pty_pair: PtyPair
) -> None:
    async def scenario() -> None:
        with MqttRecorder(mosquitto.port, []) as controller:
            async with floor(tmp_path, mosquitto.url, pty_pair) as f:
                controller.publish(T.display_state(1), encode_display_state(DisplayState("7", 1)))
                await eventually(lambda: f.led1.number == "7")
                for bad in (
                    b"\xff\xfe",
                    b"{oops",
                    b'{"number": "7 7", "counter": 1}',
                    b'{"number": "8", "counter": 2}',  # state of counter 2 on counter 1's topic
                ):
                    controller.publish(T.display_state(1), bad)
                await eventually(lambda: f.bridge.stats.malformed == 4)
                controller.publish(T.display_state(1), encode_display_state(DisplayState("9", 1)))
                await eventually(lambda: f.led1.number == "9")
                assert [s.number for s in f.led1.history] == ["7", "9"]

    run(scenario())


def test_keypad_and_rating_presses_are_published(
    tmp_path: Path, mosquitto: Mosquitto, pty_pair: PtyPair
) -> None:
    async def scenario() -> None:
        topics = [T.subscription("keypad_press"), T.subscription("rating_press")]
        with MqttRecorder(mosquitto.port, topics) as controller:
            async with floor(tmp_path, mosquitto.url, pty_pair) as f:
                f.keypad.press("next")
                f.keypad.press("no_show")
                f.rating.rate(4)
                await controller.wait_for(lambda t, p: t == T.rating_press(1))
                await controller.wait_for(lambda t, p: t == T.keypad_press(1) and parse_key_press(p).key == "no_show")
                presses = [
                    parse_key_press(p) for t, p, _ in controller.drain() if t == T.keypad_press(1)
                ]
                # the bridge's own count, up by one a press, and the time each was polled
                assert [p.key for p in presses] == ["next", "no_show"]
                assert presses[1].seq == presses[0].seq + 1
                assert all(p.at is not None and abs(time.time() - p.at) < 5 for p in presses)
                _, payload = await controller.wait_for(lambda t, p: t == T.rating_press(1))
                assert parse_rating_press(payload).score == 4

    run(scenario())


def test_dead_display_goes_offline_and_gets_its_state_back(
    tmp_path: Path, mosquitto: Mosquitto, pty_pair: PtyPair
) -> None:
    async def scenario() -> None:
        topics = [T.subscription("device_status"), T.subscription("keypad_press")]
        with MqttRecorder(mosquitto.port, topics) as controller:
            async with floor(tmp_path, mosquitto.url, pty_pair) as f:
                status = T.device_status("led-1")
                await controller.wait_for(
                    lambda t, p: t == status and parse_device_status(p).online
                )
                await controller.wait_for(
                    lambda t, p: t == T.device_status("bridge-bus1") and p == b"online"
                )
                f.led1.silent = True
                controller.publish(T.display_state(1), encode_display_state(DisplayState("31", 1)))
                await controller.wait_for(lambda t, p: t == status and p == b"offline")
                # the rest of the bus goes on
                controller.publish(T.display_state(2), encode_display_state(DisplayState("32", 2)))
                await eventually(lambda: f.led2.number == "32")
                f.keypad.press("recall")
                await controller.wait_for(lambda t, p: t == T.keypad_press(1))
                # back: the bridge finds it and resends the current state
                controller.drain()
                f.led1.silent = False
                await eventually(lambda: f.led1.number == "31")
                _, payload = await controller.wait_for(
                    lambda t, p: t == status and p != b"offline" and parse_device_status(p).online
                )
                assert json.loads(payload)["fw"] == "emu-1.0"
            # a clean stop: the bridge and its devices are reported offline
            final = {t: p for t, p, _ in controller.drain()}
            await controller.wait_for(
                lambda t, p: t == T.device_status("bridge-bus1") and p == b"offline"
            )
            await controller.wait_for(lambda t, p: t == T.device_status("kp-1") and p == b"offline")
            assert final  # statuses were flowing

    run(scenario())


def test_presses_made_while_the_broker_is_down_arrive_in_order(
    tmp_path: Path, pty_pair: PtyPair
) -> None:
    # the recorder's session must survive the broker restart, or it could miss messages
    # the bridge delivers before the recorder has subscribed again
    store = tmp_path / "broker"
    store.mkdir()
    # Started as root, mosquitto would drop to its own user, which cannot reach pytest's 0700
    # temp dirs: the session would silently not persist. Keep the user that owns the dir.
    extra = f"persistence true\npersistence_location {store}/\nuser root\n"

    async def scenario() -> None:
        with (
            mosquitto_server(tmp_path, extra_config=extra) as broker,
            MqttRecorder(broker.port, [T.subscription("keypad_press")], session="ctl") as ctl,
        ):
            async with floor(tmp_path, broker.url, pty_pair) as f:
                assert f.bridge.mqtt is not None
                f.keypad.press("next")
                await ctl.wait_for(lambda t, p: parse_key_press(p).key == "next")
                broker.process.terminate()
                broker.process.wait()
                await eventually(lambda: not f.bridge.mqtt.connected)  # type: ignore[union-attr]
                keys: list[KeyName] = [
                    "start", "finish", "next", "recall", "no_show", "pause", "transfer",
                ]
                for key in keys:
                    f.keypad.press(key)
                await eventually(lambda: f.bridge.stats.presses == 1 + len(keys))
                assert f.bridge.mqtt.pending >= len(keys)
                await asyncio.to_thread(broker.restart)
                await eventually(lambda: len(ctl.drain()) >= 1 + len(keys), timeout_s=15)
                got = [parse_key_press(p) for _, p, _ in ctl.drain()]
                assert list((store).iterdir()), "the broker did not persist the recorder's session"
                # at most the message in flight at the cut may come twice, right after itself
                deduped = [p for i, p in enumerate(got) if i == 0 or p != got[i - 1]]
                expected: list[KeyName] = ["next", *keys]
                assert [p.key for p in deduped] == expected
                assert [p.seq - deduped[0].seq for p in deduped] == list(range(len(expected)))

    run(scenario())
