"""PCM audio values: WAV bytes in and out, silence, concatenation, loudness, trimming.

Pure and synchronous: no files, no subprocesses. Every clip of the library is
held in one format, LIBRARY_FORMAT (what espeak-ng writes: 22,050 Hz, mono,
16-bit signed little-endian), so composing an announcement is a byte join.
"""

from __future__ import annotations

import io
import math
import sys
import wave
from array import array
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["LIBRARY_FORMAT", "Pcm", "PcmFormat", "concat", "silence"]


@dataclass(frozen=True)
class PcmFormat:
    """Sample rate, channel count and bytes per sample of signed PCM."""

    rate: int
    channels: int
    sample_width: int

    def __post_init__(self) -> None:
        if not 8000 <= self.rate <= 192_000:
            raise ValueError(f"sample rate {self.rate} out of range")
        if self.channels not in (1, 2):
            raise ValueError(f"{self.channels} channels: only mono or stereo")
        if self.sample_width not in (1, 2, 3, 4):
            raise ValueError(f"sample width {self.sample_width} bytes unsupported")

    @property
    def frame_bytes(self) -> int:
        """Bytes per frame (one sample of every channel)."""
        return self.channels * self.sample_width

    def frames_for(self, seconds: float) -> int:
        """Whole frames that last `seconds`."""
        return round(seconds * self.rate)


LIBRARY_FORMAT = PcmFormat(rate=22_050, channels=1, sample_width=2)


@dataclass(frozen=True)
class Pcm:
    """A block of PCM frames in one format."""

    format: PcmFormat
    frames: bytes

    def __post_init__(self) -> None:
        if len(self.frames) % self.format.frame_bytes:
            raise ValueError("frame bytes are not a whole number of frames")

    @property
    def frame_count(self) -> int:
        """Number of frames."""
        return len(self.frames) // self.format.frame_bytes

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.frame_count / self.format.rate

    @classmethod
    def from_wav(cls, data: bytes) -> Pcm:
        """Parse integer-PCM WAV bytes; raises ValueError for anything else."""
        try:
            with wave.open(io.BytesIO(data), "rb") as reader:
                fmt = PcmFormat(reader.getframerate(), reader.getnchannels(), reader.getsampwidth())
                frames = reader.readframes(reader.getnframes())
        except (wave.Error, EOFError) as exc:
            raise ValueError(f"not a PCM WAV: {exc}") from exc
        # Headers written by streaming tools may overstate the length; keep whole frames.
        return cls(fmt, frames[: len(frames) - len(frames) % fmt.frame_bytes])

    def to_wav(self) -> bytes:
        """Serialise as WAV bytes."""
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as writer:
            writer.setframerate(self.format.rate)
            writer.setnchannels(self.format.channels)
            writer.setsampwidth(self.format.sample_width)
            writer.writeframes(self.frames)
        return buffer.getvalue()

    def samples(self) -> array[int]:
        """16-bit samples (interleaved); only for 16-bit audio."""
        if self.format.sample_width != 2:
            raise ValueError("samples() needs 16-bit audio")
        values = array("h")
        values.frombytes(self.frames)
        if sys.byteorder == "big":
            values.byteswap()  # WAV is little-endian
        return values

    def rms(self) -> float:
        """Root-mean-square level of 16-bit audio, 0..32768."""
        values = self.samples()
        if not values:
            return 0.0
        return math.sqrt(math.fsum(v * v for v in values) / len(values))

    def trimmed(self, threshold: int = 300, keep_s: float = 0.02) -> Pcm:
        """Drop leading and trailing near-silence, keeping `keep_s` of margin."""
        values = self.samples()
        channels = self.format.channels
        loud = [i for i in (_first_loud(values, threshold), _last_loud(values, threshold)) if i >= 0]
        if not loud:
            return Pcm(self.format, b"")
        keep = self.format.frames_for(keep_s)
        first = max(loud[0] // channels - keep, 0)
        last = min(loud[1] // channels + keep + 1, self.frame_count)
        width = self.format.frame_bytes
        return Pcm(self.format, self.frames[first * width : last * width])


def _first_loud(values: array[int], threshold: int) -> int:
    for index, value in enumerate(values):
        if abs(value) > threshold:
            return index
    return -1


def _last_loud(values: array[int], threshold: int) -> int:
    for index in range(len(values) - 1, -1, -1):
        if abs(values[index]) > threshold:
            return index
    return -1


def silence(seconds: float, fmt: PcmFormat = LIBRARY_FORMAT) -> Pcm:
    """Digital silence of `seconds`."""
    if seconds < 0:
        raise ValueError("negative silence")
    return Pcm(fmt, bytes(fmt.frames_for(seconds) * fmt.frame_bytes))


def concat(parts: Iterable[Pcm]) -> Pcm:
    """Join blocks of one format end to end."""
    blocks = list(parts)
    if not blocks:
        raise ValueError("nothing to concatenate")
    fmt = blocks[0].format
    for block in blocks:
        if block.format != fmt:
            raise ValueError(f"format mismatch: {block.format} vs {fmt}")
    return Pcm(fmt, b"".join(b.frames for b in blocks))
