"""Voice in the controller: calls -> announcements (wording, zones, staleness), played by the FakePlayer."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path

import pytest

from controller.core.commands import CallNext, OpenCounter, Recall, Start
from controller.core.errors import SiteError
from controller.core.events import Event
from controller.core.floor import Floor
from controller.core.site import Site
from controller.core.state import SiteState
from controller.devices.speakers import LocalSpeaker
from controller.devices.voice import VoiceZones, announcement_key, is_stale, site_template, voice_calls
from controller.sitefile import site_from_dict
from devices.errors import DeviceUnavailable, ProtocolError
from devices.payloads import VoiceSay, encode_voice_say, parse_voice_say
from devices.registry import DeviceSpec, default_devices
from devices.voice.compose import parts_duration_s
from devices.voice.player import FakePlayer
from devices.voice.template import Announcement, AnnouncementTemplate, plan
from tests.devices_support import COMMUNE, DeviceFloor, device_floor, logged

CALL_1024 = "Mời công dân có số thứ tự 1024 đến quầy số 5"


def _commune(**extra: object) -> dict[str, object]:
    with COMMUNE.open("rb") as handle:
        return {**tomllib.load(handle), **extra}


def _called(number: str, counter: int, kind: str = "ticket.called") -> Event:
    return Event(kind, 100.0, {"ticket": f"20260105-{number}", "number": number, "counter": counter})


def test_a_call_is_worded_by_the_default_template_with_the_numbers_in_words() -> None:
    site = site_from_dict(_commune(), "commune")
    zones = VoiceZones.of(site.devices)
    [say] = voice_calls([_called("1024", 5)], _state(site), zones, site_template(site))
    assert say.text == CALL_1024
    assert say.speech == "Mời công dân có số thứ tự một nghìn không trăm hai mươi tư đến quầy số năm"
    assert (say.zone, say.kind, say.repeat, say.chime, say.at) == ("hall", "call", 2, True, 100.0)
    [again] = voice_calls([_called("1024", 5, "ticket.recalled")], _state(site), zones, site_template(site))
    assert again.kind == "recall" and again.text.startswith("Xin mời lần nữa, công dân có số thứ tự 1024")


def test_the_site_voice_table_sets_the_wording() -> None:
    site = site_from_dict(
        _commune(voice={"call": "Kính mời số {number} tới quầy {counter}", "repeat": 1, "southern": True}), "c"
    )
    [say] = voice_calls([_called("105", 3)], _state(site), VoiceZones.of(site.devices), site_template(site))
    assert say.text == "Kính mời số 105 tới quầy 3"
    assert say.speech == "Kính mời số một trăm lẻ năm tới quầy ba"
    assert say.repeat == 1


def test_a_bad_voice_table_is_refused_when_the_site_is_loaded() -> None:
    with pytest.raises(SiteError) as caught:
        site_from_dict(_commune(voice={"call": "Mời số {number}"}), "commune.toml")
    assert "voice.call" in str(caught.value) and "{counter}" in str(caught.value)
    with pytest.raises(SiteError, match=r"voice\.volume"):
        site_from_dict(_commune(voice={"volume": 3}), "commune.toml")


def test_speakers_choose_the_zones_of_each_counter() -> None:
    specs = (
        *default_devices([1, 2, 3]),
        DeviceSpec("loa-sanh", "speaker", zone="sanh", url="local:"),
        DeviceSpec("loa-tang2", "speaker", zone="tang2", counter=3),
        DeviceSpec("loa-tang2b", "speaker", zone="tang2b", counter=3),
    )
    zones = VoiceZones.of(specs)
    assert zones.zones(1) == ("sanh",)
    assert zones.zones(3) == ("tang2", "tang2b")
    assert zones.local == frozenset({"sanh"})
    assert VoiceZones.of(default_devices([1])).zones(1) == ("hall",)


def test_voice_say_payload_round_trips_and_rejects_bad_values() -> None:
    say = VoiceSay("20260105-1024", "1024", 5, "hall", CALL_1024, "Mời ... một nghìn", at=12.5)
    assert parse_voice_say(encode_voice_say(say)) == say
    loose = parse_voice_say(b'{"ticket":"t-1","number":1024,"counter":"5","zone":"hall","text":"Moi 1024"}')
    assert (loose.number, loose.counter, loose.speech, loose.repeat) == ("1024", 5, "Moi 1024", 1)
    for bad in (
        b'{"ticket":"t-1","number":"10a4","counter":5,"zone":"hall","text":"x"}',
        b'{"ticket":"t-1","number":"1","counter":5,"zone":"a/b","text":"x"}',
        b'{"ticket":"t-1","number":"1","counter":5,"zone":"hall","text":""}',
        b'{"ticket":"t-1","number":"1","counter":5,"zone":"hall","text":"x","repeat":9}',
        b'[1]',
    ):
        with pytest.raises(ProtocolError):
            parse_voice_say(bad)


def _state(site: Site) -> SiteState:
    return Floor(site, "deadline").state


def test_fake_player_plays_the_composed_call_and_skips_a_stale_one(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with device_floor(tmp_path, tickets=3) as f:
            voice = f.service.voice
            assert voice is not None and isinstance(voice.local, LocalSpeaker)
            local = voice.local
            await f.runtime.execute(OpenCounter(2, staff="quay2"))
            await f.runtime.execute(CallNext(1))
            first = f.runtime.floor.state.tickets[f.runtime.floor.state.counters[1].current or ""]
            # counter 2 calls right after: its announcement waits in the zone's queue behind
            # counter 1's (about 3 s); its citizen is at the desk (started) before its turn
            # comes, so it must not be said
            await f.runtime.execute(CallNext(2))
            second = f.runtime.floor.state.counters[2].current or ""
            await f.runtime.execute(Start(2))
            await f.runtime.execute(Recall(1))
            await local.join()
            outcomes = {(o.announcement.ticket_id, o.announcement.kind): o for o in local.announcers["xa"].outcomes}
            assert outcomes[(announcement_key(second, 2), "call")].status == "stale"
            played = outcomes[(announcement_key(first.id, 1), "call")]
            assert played.status == "played" and played.record is not None
            assert played.record.label == f"call:{first.id}@1:{first.number}@1"
            template = AnnouncementTemplate()
            expected = parts_duration_s(plan(Announcement("x", first.number, 1), template), local.library)
            assert played.record.duration_s == pytest.approx(expected)
            assert outcomes[(announcement_key(first.id, 1), "recall")].status == "played"
            assert isinstance(local.player, FakePlayer)
            assert [r.label.split(":")[0] for r in local.player.history] == ["call", "recall"]

    asyncio.run(scenario())


def test_is_stale_reads_the_floor_at_that_counter(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with device_floor(tmp_path, devices="none") as f:
            await f.runtime.execute(CallNext(1))
            state = f.runtime.floor.state
            ticket = state.counters[1].current or ""
            assert not is_stale(state, announcement_key(ticket, 1))
            assert is_stale(state, announcement_key(ticket, 2))
            assert is_stale(state, announcement_key("no-such-ticket", 1))
            await f.runtime.execute(Start(1))
            assert is_stale(state, announcement_key(ticket, 1))

    asyncio.run(scenario())


SPEAKER_FLOOR = """
[[device]]
id = "display-1"
kind = "display"
counter = 1

[[device]]
id = "loa-sanh"
kind = "speaker"
zone = "hall"
transport = "local"
"""


def test_a_local_speaker_reports_online_and_offline_when_its_output_fails(tmp_path: Path) -> None:
    site_file = tmp_path / "site.toml"
    site_file.write_text(COMMUNE.read_text(encoding="utf-8") + SPEAKER_FLOOR, encoding="utf-8")

    def shown() -> str:
        return next(str(d["status"]) for d in f.runtime.device_view() if d["device"] == "loa-sanh")

    async def logged_statuses() -> list[str]:
        return [str(e.data["status"]) for e in await logged(f.runtime, "device.changed")
                if e.data["device"] == "loa-sanh"]

    async def until(shown_now: str, logged_so_far: list[str]) -> None:
        # the monitor shows it as soon as the router has it; the log after the hold (0.2 s)
        async with asyncio.timeout(5):
            while shown() != shown_now or await logged_statuses() != logged_so_far:
                await asyncio.sleep(0.05)

    def no_sound_card(label: str, started: float) -> None:
        raise DeviceUnavailable("ALSA: no such device")

    async def scenario() -> None:
        nonlocal f
        async with device_floor(tmp_path / "data", site_file=site_file, tickets=2) as f:
            voice = f.service.voice
            assert voice is not None and voice.local is not None and isinstance(voice.local.player, FakePlayer)
            player = voice.local.player
            player.time_scale = 0  # the test need not wait out the sound
            # the output opened: online
            await until("online", ["online"])
            # the sound card goes: the call is not heard, the speaker is offline
            player.on_start = no_sound_card
            await f.runtime.execute(CallNext(1))
            await voice.local.join()
            await until("offline", ["online", "offline"])
            # it comes back: the recall is heard, online again
            player.on_start = None
            await f.runtime.execute(Recall(1))
            await voice.local.join()
            await until("online", ["online", "offline", "online"])

    f: DeviceFloor
    asyncio.run(scenario())
