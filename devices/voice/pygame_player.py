"""The real player: pygame.mixer, one dedicated Channel per player (one per zone).

pygame is imported lazily so that `motcua voice words` and the controller's
start-up do not pay for it. The mixer is process-wide; `mixer_session()`
opens it in the library format for the lifetime of a with-block (and leaves
alone a mixer someone else opened). Tests and benchmarks run it with
SDL_AUDIODRIVER=dummy, which keeps real time without a sound card.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from devices.errors import DeviceUnavailable, ProtocolError
from devices.voice.pcm import LIBRARY_FORMAT, Pcm, PcmFormat
from devices.voice.player import OnStart, PlayRecord

if TYPE_CHECKING:
    import pygame

__all__ = ["PygamePlayer", "mixer_session"]


@contextmanager
def mixer_session(fmt: PcmFormat = LIBRARY_FORMAT, buffer: int = 512) -> Iterator[None]:
    """Open pygame's mixer in `fmt` for the block, unless it is already open."""
    import pygame

    if pygame.mixer.get_init():
        yield
        return
    try:
        # A small buffer keeps the start of playback close to the play() call.
        pygame.mixer.init(frequency=fmt.rate, size=-16, channels=fmt.channels, buffer=buffer)
    except pygame.error as exc:
        raise DeviceUnavailable(f"no audio output: {exc}") from exc
    try:
        yield
    finally:
        pygame.mixer.quit()


class PygamePlayer:
    """Play through pygame.mixer on Channel `channel`."""

    def __init__(self, channel: int = 0, on_start: OnStart | None = None, poll_s: float = 0.005) -> None:
        if not 0 <= channel < 64:
            raise ValueError(f"channel {channel} outside 0..63")
        self.channel_id = channel
        self.on_start = on_start
        self.poll_s = poll_s
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def _sound(self, audio: Pcm) -> pygame.mixer.Sound:
        import pygame

        init = pygame.mixer.get_init()
        if not init:
            raise DeviceUnavailable("pygame mixer is not open (use mixer_session())")
        rate, size, channels = init
        fmt = audio.format
        try:
            if (rate, size, channels) == (fmt.rate, -8 * fmt.sample_width, fmt.channels):
                return pygame.mixer.Sound(buffer=audio.frames)
            # Another format: let SDL convert from WAV rather than reinterpret the bytes.
            return pygame.mixer.Sound(file=io.BytesIO(audio.to_wav()))
        except pygame.error as exc:
            raise ProtocolError(f"pygame cannot load the audio: {exc}") from exc

    def _channel(self) -> pygame.mixer.Channel:
        import pygame

        if pygame.mixer.get_num_channels() <= self.channel_id:
            pygame.mixer.set_num_channels(self.channel_id + 1)
        return pygame.mixer.Channel(self.channel_id)

    def play(self, audio: Pcm, label: str) -> PlayRecord:
        """Play `audio` on this player's channel and wait until it has finished."""
        with self._lock:
            self._stop.clear()
            sound = self._sound(audio)
            channel = self._channel()
            channel.play(sound)
            started = time.perf_counter()
            if self.on_start is not None:
                self.on_start(label, started)
            # A driver that never reports the channel idle must not hold the zone forever.
            deadline = started + audio.duration_s + 2.0
            completed = True
            while channel.get_busy():
                if self._stop.wait(self.poll_s) or time.perf_counter() > deadline:
                    completed = not self._stop.is_set()
                    channel.stop()
                    break
            return PlayRecord(label, audio.duration_s, started, time.perf_counter(), completed)

    def stop(self) -> None:
        """Cut the sound now playing on this player's channel."""
        self._stop.set()
