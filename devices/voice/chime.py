"""The attention chime played before an announcement, synthesised in code.

A two-tone "ding-dong" (a major third down, as public-address chimes do) with
a soft attack and an exponential decay, so it needs no downloaded asset and
is identical on every machine.
"""

from __future__ import annotations

import math
import sys
from array import array

from devices.voice.pcm import LIBRARY_FORMAT, Pcm, PcmFormat, concat

__all__ = ["chime", "tone"]


def _tone(frequency: float, seconds: float, fmt: PcmFormat, peak: float) -> Pcm:
    count = fmt.frames_for(seconds)
    attack = max(fmt.frames_for(0.01), 1)
    values = array("h")
    for i in range(count):
        t = i / fmt.rate
        envelope = min(i / attack, 1.0) * math.exp(-4.0 * t / seconds)
        # A quieter octave overtone makes it sound like a bell rather than a test tone.
        sample = math.sin(2 * math.pi * frequency * t) + 0.3 * math.sin(4 * math.pi * frequency * t)
        value = int(peak * envelope * sample / 1.3)
        values.extend([value] * fmt.channels)
    if sys.byteorder == "big":
        values.byteswap()
    return Pcm(fmt, values.tobytes())


def tone(hz: float, seconds: float, peak: int = 8_000, fmt: PcmFormat = LIBRARY_FORMAT) -> Pcm:
    """A plain 16-bit sine tone, for fakes and tests."""
    if fmt.sample_width != 2:
        raise ValueError("tones are synthesised as 16-bit audio")
    values = array("h")
    for i in range(fmt.frames_for(seconds)):
        values.extend([int(peak * math.sin(2 * math.pi * hz * i / fmt.rate))] * fmt.channels)
    if sys.byteorder == "big":
        values.byteswap()
    return Pcm(fmt, values.tobytes())


def chime(
    high_hz: float = 784.0,
    low_hz: float = 622.0,
    note_s: float = 0.45,
    fmt: PcmFormat = LIBRARY_FORMAT,
) -> Pcm:
    """Two decaying tones, high then low, in `fmt` (16-bit only)."""
    if fmt.sample_width != 2:
        raise ValueError("the chime is synthesised as 16-bit audio")
    peak = 0.5 * 32767
    return concat([_tone(high_hz, note_s, fmt, peak), _tone(low_hz, note_s, fmt, peak)])
