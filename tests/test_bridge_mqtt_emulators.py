"""The MQTT display and keypad emulators against a real broker."""

from __future__ import annotations

import asyncio

import pytest

from devices.payloads import (
    DisplayState,
    encode_display_state,
    parse_key_press,
    parse_rating_press,
)
from devices.topics import SiteTopics
from firmware_bridge.mqtt_emulators import MqttDisplayEmulator, MqttKeypadEmulator
from tests.bridge_support import MqttRecorder
from tests.services import Mosquitto

pytestmark = pytest.mark.integration

T = SiteTopics("xa")


def test_display_and_keypad_emulators(mosquitto: Mosquitto) -> None:
    async def scenario() -> None:
        topics = [T.subscription("keypad_press"), T.subscription("rating_press"),
                  T.subscription("device_status")]
        with MqttRecorder(mosquitto.port, topics) as ctl:
            async with (
                MqttDisplayEmulator(mosquitto.url, "xa", 3) as display,
                MqttKeypadEmulator(mosquitto.url, "xa", 3) as keypad,
            ):
                await display.link.wait_connected()
                await ctl.wait_for(
                    lambda t, p: t == T.device_status("display-3") and p == b"online"
                )
                ctl.publish(T.display_state(3), b"not json")
                ctl.publish(T.display_state(3), encode_display_state(DisplayState("3001", 3)))
                await display.wait_until(lambda: display.number == "3001")
                assert display.malformed == 1
                pressed = keypad.press("next")
                rated = keypad.rate(4)
                _, payload = await ctl.wait_for(lambda t, p: t == T.keypad_press(3))
                assert parse_key_press(payload) == pressed
                _, payload = await ctl.wait_for(lambda t, p: t == T.rating_press(3))
                assert parse_rating_press(payload) == rated
                # one count for both, up by one a press; each stamped with when it was made
                assert rated.seq == pressed.seq + 1 and pressed.at is not None and rated.at is not None
            await ctl.wait_for(lambda t, p: t == T.device_status("keypad-3") and p == b"offline")

    asyncio.run(scenario())
