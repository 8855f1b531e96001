"""Where the voice files live and which renderers serve them, built once at the edge.

    VOICE_DIR/clips/    recorded human clips (see clips.py for the file names)
    VOICE_DIR/mp3/      gTTS originals (MP3), kept so they are fetched once
    VOICE_DIR/render/   rendered clips in the library format, per renderer

VOICE_DIR is --cache-dir, else $MOTCUA_VOICE_DIR, else
$XDG_CACHE_HOME/motcua/voice (~/.cache/motcua/voice).

Preference, best first: recorded clips, gTTS, espeak-ng. At run time
(`runtime_renderer`) gTTS is used from its cache only, so a cache miss never
waits for the network; espeak-ng renders any miss offline in milliseconds.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from devices.voice.cache import CachedRenderer, ClipCache
from devices.voice.clips import ClipFolderRenderer
from devices.voice.espeak import EspeakRenderer
from devices.voice.gtts_renderer import GttsRenderer
from devices.voice.renderer import FallbackRenderer, Renderer

__all__ = ["RendererChoice", "build_renderer", "runtime_renderer", "voice_dir"]

RendererChoice = Literal["gtts", "espeak", "clips"]


def voice_dir(explicit: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The voice directory: explicit, else $MOTCUA_VOICE_DIR, else the XDG cache."""
    environ = os.environ if env is None else env
    if explicit:
        return Path(explicit)
    if environ.get("MOTCUA_VOICE_DIR"):
        return Path(environ["MOTCUA_VOICE_DIR"])
    cache_home = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache_home) / "motcua" / "voice"


def build_renderer(root: Path, choice: RendererChoice | None = None) -> Renderer:
    """The renderer `motcua voice build` uses: `choice` only, or the best available chain."""
    cache = ClipCache(root / "render")
    clips = ClipFolderRenderer(root / "clips")
    gtts = CachedRenderer(GttsRenderer(root / "mp3"), cache)
    espeak = CachedRenderer(EspeakRenderer(), cache)
    if choice == "clips":
        return clips
    if choice == "gtts":
        return gtts
    if choice == "espeak":
        return espeak
    return FallbackRenderer([clips, gtts, espeak])


def runtime_renderer(root: Path) -> Renderer:
    """The offline chain for announcing: recorded clips, cached gTTS, espeak-ng."""
    cache = ClipCache(root / "render")
    return FallbackRenderer(
        [
            ClipFolderRenderer(root / "clips"),
            CachedRenderer(GttsRenderer(root / "mp3"), cache, offline=True),
            CachedRenderer(EspeakRenderer(), cache),
        ]
    )
