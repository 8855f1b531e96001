"""Bring any clip (WAV of any PCM format, FLAC, Ogg, MP3) into LIBRARY_FORMAT.

WAV already in LIBRARY_FORMAT is taken as is. Other WAV, FLAC and Ogg go
through sox (an apt dependency). Debian's sox is built without MP3, so MP3
(what gTTS returns) is decoded by pygame's SDL_mixer, which handles MP3
natively, and the decoded PCM is then resampled by sox when its rate or
channel count differs.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import threading

from devices.errors import DeviceError, DeviceTimeout, DeviceUnavailable, ProtocolError
from devices.voice.pcm import LIBRARY_FORMAT, Pcm, PcmFormat

__all__ = ["SOX_TIMEOUT_S", "decode_mp3", "to_library_format"]

SOX_TIMEOUT_S = 20.0

# pygame's mixer is process-wide; decoding may have to open and close it.
_MIXER_LOCK = threading.Lock()


def to_library_format(data: bytes, kind: str = "wav") -> Pcm:
    """Convert audio bytes of `kind` (wav, flac, ogg, mp3) to LIBRARY_FORMAT PCM."""
    kind = kind.lower().lstrip(".")
    if kind == "mp3":
        return decode_mp3(data)
    if kind == "wav":
        try:
            pcm = Pcm.from_wav(data)
        except ValueError:
            pass  # float or compressed WAV: sox reads those
        else:
            if pcm.format == LIBRARY_FORMAT:
                return pcm
    return _sox_to_library(["-t", kind], data)


def _sox_to_library(input_args: list[str], data: bytes) -> Pcm:
    """Run sox from stdin to raw LIBRARY_FORMAT frames on stdout."""
    sox = shutil.which("sox")
    if sox is None:
        raise DeviceUnavailable("sox is not installed; it converts clips to the library format")
    fmt = LIBRARY_FORMAT
    output_args = ["-t", "raw", "-r", str(fmt.rate), "-c", str(fmt.channels)]
    output_args += ["-b", str(8 * fmt.sample_width), "-e", "signed-integer", "-L", "-"]
    try:
        done = subprocess.run(
            [sox, "-q", *input_args, "-", *output_args],
            input=data,
            capture_output=True,
            timeout=SOX_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise DeviceTimeout(f"sox took longer than {SOX_TIMEOUT_S} s") from exc
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()
        raise ProtocolError(f"sox cannot convert the clip: {message}")
    frames = done.stdout
    return Pcm(fmt, frames[: len(frames) - len(frames) % fmt.frame_bytes])


def decode_mp3(data: bytes) -> Pcm:
    """Decode MP3 bytes with pygame's mixer and convert to LIBRARY_FORMAT."""
    import pygame  # imported here: only MP3 clips need it

    with _MIXER_LOCK:
        opened_here = not pygame.mixer.get_init()
        if opened_here:
            fmt = LIBRARY_FORMAT
            try:
                pygame.mixer.init(frequency=fmt.rate, size=-16, channels=fmt.channels)
            except pygame.error as exc:
                raise DeviceUnavailable(f"no audio driver to decode MP3: {exc}") from exc
        try:
            rate, size, channels = pygame.mixer.get_init()
            try:
                raw = pygame.mixer.Sound(file=io.BytesIO(data)).get_raw()
            except pygame.error as exc:
                raise ProtocolError(f"not a decodable MP3: {exc}") from exc
        finally:
            if opened_here:
                pygame.mixer.quit()
    if size == -16:
        pcm = Pcm(PcmFormat(rate, channels, 2), raw)
        if pcm.format == LIBRARY_FORMAT:
            return pcm
        return _sox_to_library(["-t", "wav"], pcm.to_wav())
    encoding = {8: "unsigned-integer", -8: "signed-integer", 16: "unsigned-integer"}
    encoding |= {32: "floating-point", -32: "signed-integer"}
    if size not in encoding:
        raise DeviceError(f"unexpected pygame mixer sample size {size}")
    raw_args = ["-t", "raw", "-r", str(rate), "-c", str(channels)]
    raw_args += ["-b", str(abs(size)), "-e", encoding[size], "-L"]
    return _sox_to_library(raw_args, raw)
