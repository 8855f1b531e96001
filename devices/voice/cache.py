"""Rendered clips on disk, keyed by text + voice + renderer, and a renderer that uses them.

Layout: ROOT/<renderer name>/<sha256[:2]>/<sha256>.wav where the hash covers
the renderer name, the voice and the NFC text. Files are written to a
temporary name and renamed, so a crash never leaves a half clip that a later
run would take for a good one.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path

from devices.errors import DeviceUnavailable
from devices.voice.convert import to_library_format
from devices.voice.renderer import Renderer

__all__ = ["CachedRenderer", "ClipCache", "cache_key"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


def cache_key(text: str, voice: str, renderer: str) -> str:
    """The hex digest naming one rendered clip."""
    material = "\x1f".join((renderer, voice, unicodedata.normalize("NFC", text)))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class ClipCache:
    """A directory of rendered WAV clips."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, text: str, voice: str, renderer: str) -> Path:
        """Where the clip for this text, voice and renderer lives."""
        key = cache_key(text, voice, renderer)
        return self.root / _UNSAFE.sub("_", renderer) / key[:2] / f"{key}.wav"

    def get(self, text: str, voice: str, renderer: str) -> bytes | None:
        """The cached WAV bytes, or None."""
        path = self.path_for(text, voice, renderer)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        return data or None

    def put(self, text: str, voice: str, renderer: str, wav: bytes) -> Path:
        """Store WAV bytes atomically; returns the path."""
        path = self.path_for(text, voice, renderer)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".part", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(wav)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path


class CachedRenderer:
    """Wrap a renderer with the disk cache; `offline` serves only what is cached."""

    def __init__(self, inner: Renderer, cache: ClipCache, *, offline: bool = False) -> None:
        self.inner = inner
        self.cache = cache
        self.offline = offline

    @property
    def name(self) -> str:
        """The wrapped renderer's name (the cache is transparent)."""
        return self.inner.name

    def available(self) -> bool:
        """Offline: always (hits only); otherwise as the wrapped renderer."""
        return self.offline or self.inner.available()

    def render(self, text: str, voice: str) -> bytes:
        """The cached clip, rendering and storing it on a miss."""
        cached = self.cache.get(text, voice, self.inner.name)
        if cached is not None:
            return cached
        if self.offline:
            raise DeviceUnavailable(f"{self.inner.name} has no cached clip for {text!r}")
        # Store the library format so a warm start never converts again.
        wav = to_library_format(self.inner.render(text, voice)).to_wav()
        self.cache.put(text, voice, self.inner.name, wav)
        return wav
