"""A renderer for simulations, demos and tests: every text becomes a short beep.

Each clip is a sine tone whose length is proportional to the text and whose
pitch depends on it, so composed announcements have real, predictable
durations without espeak-ng or a network.
"""

from __future__ import annotations

from devices.voice.chime import tone

__all__ = ["ToneRenderer"]


class ToneRenderer:
    """Render `text` as a tone lasting `seconds_per_char` per character."""

    def __init__(self, seconds_per_char: float = 0.002, name: str = "tone") -> None:
        if seconds_per_char <= 0:
            raise ValueError("seconds_per_char must be positive")
        self.seconds_per_char = seconds_per_char
        self._name = name
        self.rendered: list[str] = []

    @property
    def name(self) -> str:
        """The name given at construction (part of cache keys)."""
        return self._name

    def available(self) -> bool:
        """Always available."""
        return True

    def render(self, text: str, voice: str) -> bytes:
        """A tone for `text`; remembers what it rendered."""
        if not text.strip():
            raise ValueError("nothing to say")
        self.rendered.append(text)
        return tone(200 + 10 * (len(text) % 50), self.seconds_per_char * len(text)).to_wav()
