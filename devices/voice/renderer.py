"""The one contract every text-to-speech source meets, and a fallback chain of them.

A renderer turns one segment of text in one voice into WAV bytes (any PCM
format; the library converts). Renderers raise DeviceError subclasses only:
DeviceUnavailable when they cannot serve this text now (no network, no
recorded clip, program missing), so the chain moves on to the next one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from devices.errors import DeviceError, DeviceUnavailable

__all__ = ["FallbackRenderer", "Renderer"]


class Renderer(Protocol):
    """Text in one voice -> WAV bytes."""

    @property
    def name(self) -> str:
        """Identity of the renderer and its settings; part of every cache key."""
        ...

    def available(self) -> bool:
        """Whether render() can be expected to work now (cheap, may be cached)."""
        ...

    def render(self, text: str, voice: str) -> bytes:
        """WAV bytes of `text` spoken in `voice`; raises DeviceError."""
        ...


class FallbackRenderer:
    """Try renderers in order of preference; the first that succeeds wins."""

    def __init__(self, renderers: Sequence[Renderer]) -> None:
        if not renderers:
            raise ValueError("a fallback chain needs at least one renderer")
        self.renderers = tuple(renderers)

    @property
    def name(self) -> str:
        """The names of the chain, best first."""
        return "+".join(r.name for r in self.renderers)

    def available(self) -> bool:
        """Whether any renderer of the chain is available."""
        return any(r.available() for r in self.renderers)

    def render(self, text: str, voice: str) -> bytes:
        """Render with the first renderer that succeeds."""
        failures: list[str] = []
        for renderer in self.renderers:
            try:
                return renderer.render(text, voice)
            except DeviceError as exc:
                failures.append(f"{renderer.name}: {exc}")
        raise DeviceUnavailable(f"no renderer could say {text!r}: " + "; ".join(failures))
