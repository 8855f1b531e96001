"""The clip library: every segment in LIBRARY_FORMAT, warm in memory, rendered once.

`warm()` renders (or loads from the disk cache) a set of clips up front, in a
few threads because espeak-ng and sox are separate processes; afterwards
`clip()` is a dictionary lookup, which is what lets an announcement start
playing within milliseconds. A clip missing at announce time is rendered on
the spot through the same renderer chain (espeak-ng takes ~15 ms).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from devices.errors import DeviceError, ProtocolError
from devices.voice.chime import chime
from devices.voice.convert import to_library_format
from devices.voice.pcm import Pcm
from devices.voice.renderer import Renderer
from devices.voice.template import Clip

__all__ = ["ClipLibrary", "WarmReport"]


@dataclass(frozen=True)
class WarmReport:
    """What warm() achieved: clips ready and clips that failed, with reasons."""

    ready: int
    failed: dict[Clip, str] = field(default_factory=dict)


class ClipLibrary:
    """Clips by (text, voice), rendered through one renderer (usually a fallback chain)."""

    def __init__(self, renderer: Renderer, *, trim: bool = True) -> None:
        self.renderer = renderer
        self.trim = trim
        self._clips: dict[Clip, Pcm] = {}
        self._lock = threading.Lock()
        self._chime = chime()

    def __contains__(self, clip: object) -> bool:
        with self._lock:
            return clip in self._clips

    def __len__(self) -> int:
        with self._lock:
            return len(self._clips)

    def chime(self) -> Pcm:
        """The attention chime in the library format."""
        return self._chime

    def clip(self, clip: Clip) -> Pcm:
        """The audio of one clip, rendering it on a miss; raises DeviceError."""
        with self._lock:
            pcm = self._clips.get(clip)
        if pcm is not None:
            return pcm
        pcm = to_library_format(self.renderer.render(clip.text, clip.voice))
        if self.trim:
            # Renderers pad their output with silence; the plan's gaps set the pacing instead.
            pcm = pcm.trimmed()
        if pcm.frame_count == 0:
            raise ProtocolError(f"{self.renderer.name} rendered silence for {clip.text!r}")
        with self._lock:
            self._clips[clip] = pcm
        return pcm

    def warm(self, clips: Iterable[Clip], workers: int = 4) -> WarmReport:
        """Render or load `clips` into memory; failures are reported, not raised."""
        wanted = list(dict.fromkeys(clips))
        failed: dict[Clip, str] = {}

        def load(clip: Clip) -> None:
            try:
                self.clip(clip)
            except DeviceError as exc:
                failed[clip] = str(exc)

        with ThreadPoolExecutor(max_workers=max(workers, 1), thread_name_prefix="voice-warm") as pool:
            list(pool.map(load, wanted))
        return WarmReport(ready=len(wanted) - len(failed), failed=failed)
