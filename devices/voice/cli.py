"""`motcua voice build | words | say`.

- `build [--renderer gtts|espeak|clips] [--cache-dir D]` renders the clip
  library of the default template (phrases and every number chunk) into the
  voice directory (wiring.py), with the best renderer available (recorded
  clips, then gTTS when Google is reachable, then espeak-ng) or the one named.
  With `clips` it lists the recordings still missing. Exit 1 if any clip
  could not be made.
- `words N [--southern]` prints the Vietnamese reading of N.
- `say "TEXT" [--out FILE.wav] [--cache-dir D]` says free text: the chime,
  then the text split into known phrases (clips of the library), numbers
  (runs of digits, read as Vietnamese numbers, so `say 1024` says "một nghìn
  không trăm hai mươi tư") and any other words (rendered offline by
  espeak-ng). A full call is simply its words: `say "Mời công dân có số thứ
  tự 1024 đến quầy số 5"` is composed entirely from library clips. With
  --out it writes a WAV; without, it plays through pygame.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from devices.errors import DeviceError
from devices.voice.clips import clip_filename
from devices.voice.compose import compose, text_plan
from devices.voice.library import ClipLibrary
from devices.voice.numerals import read_number, reading_style
from devices.voice.template import AnnouncementTemplate
from devices.voice.wiring import build_renderer, runtime_renderer, voice_dir

__all__ = ["run"]


def run(args: argparse.Namespace) -> int:
    """Dispatch `motcua voice ...`; returns the exit code."""
    command: str = args.voice_command
    try:
        if command == "words":
            return _words(args)
        if command == "build":
            return _build(args)
        if command == "say":
            return _say(args)
    except DeviceError as exc:
        print(f"motcua voice {command}: {exc}", file=sys.stderr)
        return 1
    print(f"motcua voice: unknown command {command!r}", file=sys.stderr)
    return 2


def _words(args: argparse.Namespace) -> int:
    try:
        print(read_number(args.number, reading_style(args.southern)))
    except ValueError as exc:
        print(f"motcua voice words: {exc}", file=sys.stderr)
        return 2
    return 0


def _quiet_pygame(driver: str | None) -> None:
    """Silence pygame's banner; choose an audio driver when the caller does not play."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    if driver is not None:
        os.environ.setdefault("SDL_AUDIODRIVER", driver)


def _build(args: argparse.Namespace) -> int:
    # Building only decodes MP3 (gTTS); it plays nothing, so no sound card is needed.
    _quiet_pygame("dummy")
    root = voice_dir(args.cache_dir)
    renderer = build_renderer(root, args.renderer)
    clips = AnnouncementTemplate().clip_inventory()
    started = time.perf_counter()
    report = ClipLibrary(renderer).warm(clips)
    elapsed = time.perf_counter() - started
    print(f"{report.ready}/{len(clips)} clips ready in {root} ({renderer.name}, {elapsed:.1f} s)")
    if report.failed:
        if args.renderer == "clips":
            print(f"record these {len(report.failed)} clips into {root / 'clips'}:")
            for clip in report.failed:
                print(f"  {clip_filename(clip.text)}.wav\t{clip.text}")
        else:
            for clip, reason in report.failed.items():
                print(f"  failed: {clip.text!r}: {reason}", file=sys.stderr)
        return 1
    return 0


def _say(args: argparse.Namespace) -> int:
    _quiet_pygame(None)
    template = AnnouncementTemplate()
    library = ClipLibrary(runtime_renderer(voice_dir(args.cache_dir)))
    phrases = [clip.text for clip in template.clip_inventory() if clip.voice == template.voice]
    try:
        parts = text_plan(args.text, template, phrases)
    except ValueError as exc:
        print(f"motcua voice say: {exc}", file=sys.stderr)
        return 2
    audio = compose(parts, library)
    if args.out:
        Path(args.out).write_bytes(audio.to_wav())
        print(f"wrote {args.out} ({audio.duration_s:.2f} s)")
        return 0
    from devices.voice.pygame_player import PygamePlayer, mixer_session

    with mixer_session():
        PygamePlayer().play(audio, args.text)
    return 0
