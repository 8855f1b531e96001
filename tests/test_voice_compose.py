"""Composition and the clip library: real espeak-ng clips, exact durations, audible speech."""

from __future__ import annotations

import asyncio
import subprocess
import threading
import wave
from pathlib import Path

import pytest

from devices.errors import DeviceUnavailable, ProtocolError
from devices.voice.announcer import Announcer
from devices.voice.cache import CachedRenderer, ClipCache
from devices.voice.compose import compose, parts_duration_s
from devices.voice.espeak import EspeakRenderer
from devices.voice.fake_renderer import ToneRenderer
from devices.voice.library import ClipLibrary
from devices.voice.pcm import LIBRARY_FORMAT, Pcm, silence
from devices.voice.player import PlayRecord
from devices.voice.pygame_player import PygamePlayer, mixer_session
from devices.voice.template import (
    Announcement,
    AnnouncementTemplate,
    Chime,
    Clip,
    Gap,
    Part,
    plan,
)

TEMPLATE = AnnouncementTemplate(repeat=2)
CALLS = [
    Announcement("a", "1024", counter=5),
    Announcement("b", "20999", counter=12, kind="recall", repeat=1),
]
SPEECH_RMS_FLOOR = 500.0


@pytest.fixture(scope="session")
def espeak_library(tmp_path_factory: pytest.TempPathFactory) -> ClipLibrary:
    """A library warmed with just the clips CALLS need (not the whole inventory)."""
    cache = ClipCache(tmp_path_factory.mktemp("voice-cache"))
    library = ClipLibrary(CachedRenderer(EspeakRenderer(), cache))
    needed = {p for a in CALLS for p in plan(a, TEMPLATE) if isinstance(p, Clip)}
    report = library.warm(needed)
    assert report.failed == {}
    return library


def regions(parts: tuple[Part, ...], library: ClipLibrary) -> list[tuple[Part, int, int]]:
    """Each part with its first and last frame in the composed audio."""
    out: list[tuple[Part, int, int]] = []
    at = 0
    for part in parts:
        if isinstance(part, Chime):
            frames = library.chime().frame_count
        elif isinstance(part, Gap):
            frames = silence(part.seconds).frame_count
        else:
            frames = library.clip(part).frame_count
        out.append((part, at, at + frames))
        at += frames
    return out


@pytest.mark.integration
@pytest.mark.parametrize("announcement", CALLS, ids=lambda a: a.number)
def test_composed_announcement_lasts_the_sum_of_its_parts(
    announcement: Announcement, espeak_library: ClipLibrary, tmp_path: Path
) -> None:
    parts = plan(announcement, TEMPLATE)
    audio = compose(parts, espeak_library)
    clips_s = sum(espeak_library.clip(p).duration_s for p in parts if isinstance(p, Clip))
    gaps_s = sum(p.seconds for p in parts if isinstance(p, Gap))
    chime_s = espeak_library.chime().duration_s
    expected_s = clips_s + gaps_s + chime_s
    out = tmp_path / "call.wav"
    out.write_bytes(audio.to_wav())
    with wave.open(str(out)) as reader:
        measured_s = reader.getnframes() / reader.getframerate()
        assert (reader.getframerate(), reader.getnchannels()) == (22_050, 1)
    # Each gap rounds to whole frames: allow one frame per part.
    assert measured_s == pytest.approx(expected_s, abs=len(parts) / 22_050)
    assert measured_s == pytest.approx(parts_duration_s(parts, espeak_library), abs=1e-9)
    soxi = subprocess.run(["soxi", "-D", str(out)], capture_output=True, text=True, check=True)
    assert float(soxi.stdout) == pytest.approx(measured_s, abs=1e-3)


@pytest.mark.integration
@pytest.mark.parametrize("announcement", CALLS, ids=lambda a: a.number)
def test_composed_announcement_is_speech_where_planned_and_silence_between(
    announcement: Announcement, espeak_library: ClipLibrary
) -> None:
    parts = plan(announcement, TEMPLATE)
    audio = compose(parts, espeak_library)
    assert audio.format == LIBRARY_FORMAT
    assert audio.rms() > SPEECH_RMS_FLOOR
    width = LIBRARY_FORMAT.frame_bytes
    for part, first, last in regions(parts, espeak_library):
        piece = Pcm(LIBRARY_FORMAT, audio.frames[first * width : last * width])
        if isinstance(part, Gap):
            assert piece.rms() == 0.0
        else:
            assert piece.rms() > SPEECH_RMS_FLOOR, part
    assert 4.0 < audio.duration_s < 30.0


def test_library_renders_each_clip_once_and_trims_padding() -> None:
    renderer = ToneRenderer(seconds_per_char=0.01)
    library = ClipLibrary(renderer)
    first = library.clip(Clip("mười lăm", "vi"))
    assert library.clip(Clip("mười lăm", "vi")) is first
    assert renderer.rendered == ["mười lăm"]
    assert Clip("mười lăm", "vi") in library and len(library) == 1


class PaddedRenderer:
    """Speech padded with silence, as espeak-ng and recordings have it."""

    name = "padded"

    def available(self) -> bool:
        return True

    def render(self, text: str, voice: str) -> bytes:
        if text == "im lặng":
            return silence(0.5).to_wav()
        if text == "mất":
            raise DeviceUnavailable("no clip")
        body = Pcm.from_wav(ToneRenderer(seconds_per_char=0.05).render(text, voice))
        return Pcm(LIBRARY_FORMAT, silence(0.3).frames + body.frames + silence(0.4).frames).to_wav()


def test_library_trims_silence_refuses_silent_clips_and_reports_failures() -> None:
    library = ClipLibrary(PaddedRenderer())
    trimmed = library.clip(Clip("năm", "vi"))
    assert trimmed.duration_s == pytest.approx(0.15 + 0.04, abs=0.01)
    untrimmed = ClipLibrary(PaddedRenderer(), trim=False).clip(Clip("năm", "vi"))
    assert untrimmed.duration_s == pytest.approx(0.85, abs=0.001)
    with pytest.raises(ProtocolError):
        library.clip(Clip("im lặng", "vi"))
    report = library.warm([Clip("sáu", "vi"), Clip("mất", "vi"), Clip("im lặng", "vi")])
    assert report.ready == 1
    assert set(report.failed) == {Clip("mất", "vi"), Clip("im lặng", "vi")}
    assert "no clip" in report.failed[Clip("mất", "vi")]


@pytest.mark.integration
def test_announcer_plays_a_real_announcement_through_pygame(espeak_library: ClipLibrary) -> None:
    """End to end: espeak-ng clips, composition, the zone queue, pygame (dummy driver)."""
    call = Announcement("a", "1024", counter=5, repeat=1)
    records: list[PlayRecord] = []

    class Recorder:
        def __init__(self) -> None:
            self.inner = PygamePlayer()

        def play(self, audio: Pcm, label: str) -> PlayRecord:
            # Cut after a moment: the test is about what was handed to the mixer.
            threading.Timer(0.2, self.inner.stop).start()
            records.append(self.inner.play(audio, label))
            return records[-1]

        def stop(self) -> None:
            self.inner.stop()

    async def scenario() -> None:
        async with Announcer(TEMPLATE, espeak_library, lambda zone: Recorder(), warm=False) as a:
            await a.announce(call)
            await a.join()

    with mixer_session():
        asyncio.run(scenario())
    expected = compose(plan(call, TEMPLATE), espeak_library)
    assert [r.label for r in records] == ["call:a:1024@5"]
    assert records[0].duration_s == pytest.approx(expected.duration_s)
    assert not records[0].completed
