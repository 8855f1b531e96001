"""The offline renderer: espeak-ng (Debian package `espeak-ng`), voice "vi".

The text goes in on stdin (never on the command line, so no text can be
mistaken for an option) and the WAV comes back through a temporary file,
because espeak-ng's --stdout header carries no usable length.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from devices.errors import DeviceTimeout, DeviceUnavailable, ProtocolError

__all__ = ["DEFAULT_SPEED_WPM", "EspeakRenderer"]

# espeak-ng's default of 175 words a minute is hurried for a public-address hall.
DEFAULT_SPEED_WPM = 150


class EspeakRenderer:
    """Render text with the espeak-ng program."""

    def __init__(
        self,
        executable: str = "espeak-ng",
        speed_wpm: int = DEFAULT_SPEED_WPM,
        timeout_s: float = 10.0,
    ) -> None:
        if not 80 <= speed_wpm <= 450:
            raise ValueError(f"speed {speed_wpm} wpm outside espeak-ng's 80..450")
        self.executable = executable
        self.speed_wpm = speed_wpm
        self.timeout_s = timeout_s

    @property
    def name(self) -> str:
        """The name, espeak-<speed>wpm: the speed changes the audio, so it is part of the key."""
        return f"espeak-{self.speed_wpm}wpm"

    def available(self) -> bool:
        """Whether the espeak-ng program is installed."""
        return shutil.which(self.executable) is not None

    def render(self, text: str, voice: str) -> bytes:
        """Speak `text` with espeak-ng voice `voice` (e.g. "vi", "en", "vi+f3")."""
        program = shutil.which(self.executable)
        if program is None:
            raise DeviceUnavailable(f"{self.executable} is not installed")
        if not text.strip():
            raise ValueError("nothing to say")
        with tempfile.TemporaryDirectory(prefix="motcua-espeak-") as tmp:
            out = Path(tmp) / "clip.wav"
            command = [program, "-v", voice, "-s", str(self.speed_wpm), "-w", str(out)]
            try:
                done = subprocess.run(
                    command,
                    input=text.encode("utf-8"),
                    capture_output=True,
                    timeout=self.timeout_s,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise DeviceTimeout(f"espeak-ng took longer than {self.timeout_s} s") from exc
            if done.returncode != 0:
                message = done.stderr.decode(errors="replace").strip()
                raise DeviceUnavailable(f"espeak-ng failed for voice {voice!r}: {message}")
            data = out.read_bytes() if out.is_file() else b""
        if len(data) <= 44:  # a bare WAV header: espeak-ng said nothing
            raise ProtocolError(f"espeak-ng produced no audio for {text!r}")
        return data
