"""Vietnamese voice announcements: number reading, clip library, composition, playback.

    numerals       int <-> Vietnamese words (Northern "linh"/"nghìn", Southern "lẻ"/"ngàn")
    template       AnnouncementTemplate (per site), Announcement, plan() -> parts
    pcm, chime     PCM values and WAV bytes; the synthesised chime
    convert        any clip -> the library format (sox; pygame for MP3)
    renderer       the Renderer contract and the fallback chain
    clips, gtts_renderer, espeak    recorded clips, Google TTS, espeak-ng
    cache          rendered clips on disk, keyed by text + voice + renderer
    library        ClipLibrary: clips warm in memory
    compose        parts -> one block of audio; free text -> parts
    player, pygame_player           the Player contract, FakePlayer, PygamePlayer
    announcer      Announcer: one queue per zone, stale tickets skipped
    wiring         the voice directory and the renderer chains
    cli            `motcua voice build | words | say`

The controller calls:

    library = ClipLibrary(runtime_renderer(voice_dir()))
    with mixer_session():
        async with Announcer(template, library, players=lambda zone: PygamePlayer(...),
                             is_stale=...) as announcer:
            await announcer.announce(Announcement(ticket_id, number, counter, zone, kind))

Errors are devices.errors.DeviceError and its subclasses, nothing else.
"""

from __future__ import annotations

from devices.voice.announcer import Announcer, Outcome, OutcomeStatus, StalePredicate
from devices.voice.library import ClipLibrary, WarmReport
from devices.voice.numerals import (
    NORTHERN,
    SOUTHERN,
    ReadingStyle,
    number_chunks,
    parse_number,
    read_number,
    reading_style,
)
from devices.voice.pcm import LIBRARY_FORMAT, Pcm, PcmFormat
from devices.voice.player import FakePlayer, Player, PlayRecord
from devices.voice.pygame_player import PygamePlayer, mixer_session
from devices.voice.renderer import FallbackRenderer, Renderer
from devices.voice.template import Announcement, AnnouncementKind, AnnouncementTemplate, plan
from devices.voice.wiring import build_renderer, runtime_renderer, voice_dir

__all__ = [
    "LIBRARY_FORMAT",
    "NORTHERN",
    "SOUTHERN",
    "Announcement",
    "AnnouncementKind",
    "AnnouncementTemplate",
    "Announcer",
    "ClipLibrary",
    "FakePlayer",
    "FallbackRenderer",
    "Outcome",
    "OutcomeStatus",
    "Pcm",
    "PcmFormat",
    "PlayRecord",
    "Player",
    "PygamePlayer",
    "ReadingStyle",
    "Renderer",
    "StalePredicate",
    "WarmReport",
    "build_renderer",
    "mixer_session",
    "number_chunks",
    "parse_number",
    "plan",
    "read_number",
    "reading_style",
    "runtime_renderer",
    "voice_dir",
]
