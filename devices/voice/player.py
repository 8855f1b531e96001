"""The playback contract, and the fake player that keeps it without a sound card.

A Player plays one block of audio at a time: play() blocks until the sound
has finished (or stop() cut it) and never lets two sounds of the same player
overlap, even when called from several threads. Both the pygame player and
FakePlayer pass the same contract tests (tests/test_voice_player.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from devices.voice.pcm import Pcm

__all__ = ["FakePlayer", "OnStart", "PlayRecord", "Player"]


@dataclass(frozen=True)
class PlayRecord:
    """One sound played: what, how long it lasts, when it ran, whether it ran to the end."""

    label: str
    duration_s: float
    started_at: float  # time.perf_counter() right after playback was started
    ended_at: float
    completed: bool


# Called from the playing thread the moment playback starts: (label, started_at).
OnStart = Callable[[str, float], None]


class Player(Protocol):
    """Plays audio, one sound at a time."""

    def play(self, audio: Pcm, label: str) -> PlayRecord:
        """Play `audio` to the end (or until stop()); blocks; never overlaps another play."""
        ...

    def stop(self) -> None:
        """Cut the sound now playing, if any; later plays are unaffected."""
        ...


class FakePlayer:
    """Records what it would play, waiting `time_scale` x the duration of each sound."""

    def __init__(self, time_scale: float = 1.0, on_start: OnStart | None = None) -> None:
        if time_scale < 0:
            raise ValueError("time_scale must be >= 0")
        self.time_scale = time_scale
        self.on_start = on_start
        self.history: list[PlayRecord] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def play(self, audio: Pcm, label: str) -> PlayRecord:
        """Pretend to play `audio`, holding the player for its (scaled) duration."""
        with self._lock:
            self._stop.clear()
            started = time.perf_counter()
            if self.on_start is not None:
                self.on_start(label, started)
            cut = self._stop.wait(audio.duration_s * self.time_scale)
            record = PlayRecord(label, audio.duration_s, started, time.perf_counter(), not cut)
            self.history.append(record)
            return record

    def stop(self) -> None:
        """Cut the pretended sound."""
        self._stop.set()
