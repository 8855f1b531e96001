"""A call through a running controller (`motcua serve`) is announced on motcua/{site}/voice/{zone}/say."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from devices.payloads import parse_voice_say
from devices.topics import SiteTopics
from tests.bridge_support import MqttRecorder
from tests.devices_support import COMMUNE
from tests.server import KIOSK, login, serve_process
from tests.services import Mosquitto

pytestmark = pytest.mark.integration

T = SiteTopics("xa")


def test_call_and_recall_are_published_for_the_hall_audio_player(tmp_path: Path, mosquitto: Mosquitto) -> None:
    with (
        serve_process(COMMUNE, tmp_path / "data", "--mqtt", mosquitto.url, "--devices", "real") as server,
        MqttRecorder(mosquitto.port, [T.subscription("voice_say")]) as watcher,
    ):
        staff = login(server.url, "quay1", "1234")
        httpx.post(f"{server.url}/api/v1/sites/xa/counters/1/open", headers=staff, timeout=10).raise_for_status()
        issued = httpx.post(
            f"{server.url}/api/v1/sites/xa/tickets", headers=KIOSK, json={"procedure": "ht-khai-sinh"}, timeout=10
        )
        issued.raise_for_status()
        number, ticket = str(issued.json()["number"]), str(issued.json()["id"])
        httpx.post(f"{server.url}/api/v1/sites/xa/counters/1/call-next", headers=staff, timeout=10).raise_for_status()
        httpx.post(f"{server.url}/api/v1/sites/xa/counters/1/recall", headers=staff, timeout=10).raise_for_status()

        async def watch() -> None:
            topic, payload = await watcher.wait_for(lambda t, p: parse_voice_say(p).kind == "call")
            assert topic == T.voice_say("hall")
            say = parse_voice_say(payload)
            assert (say.ticket, say.number, say.counter, say.zone) == (ticket, number, 1, "hall")
            assert say.text == f"Mời công dân có số thứ tự {number} đến quầy số 1"
            assert say.speech.endswith("đến quầy số một") and number not in say.speech
            _, payload = await watcher.wait_for(lambda t, p: parse_voice_say(p).kind == "recall")
            assert parse_voice_say(payload).text.startswith(f"Xin mời lần nữa, công dân có số thứ tự {number}")

        asyncio.run(watch())
        # a call is news, not state: nothing is retained for a player that connects later
        assert not any(retained for _, _, retained in watcher.drain())
