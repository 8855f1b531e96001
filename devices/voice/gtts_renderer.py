"""The online renderer: Google Translate's TTS through gTTS, used only when reachable.

gTTS writes MP3. A failed request leaves an empty or partial file behind, so
the MP3 goes to a temporary name and is renamed into the MP3 cache only once
it is complete and non-empty. The MP3 cache (keyed by text, voice, tld and
speed) is kept as the original; render() decodes it to WAV (convert.py).

Reachability is probed with a TCP connect to the gTTS host under a short
timeout, and the answer is remembered for `probe_ttl_s`, so an offline
centre pays for one probe a minute, not one per clip.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from devices.errors import DeviceUnavailable, ProtocolError
from devices.voice.convert import to_library_format

__all__ = ["GttsFactory", "GttsRenderer", "GttsSpeech", "tcp_reachable"]


class GttsSpeech(Protocol):
    """What we use of a gtts.gTTS object."""

    def save(self, savefile: str) -> None:
        """Write the MP3 to `savefile`."""
        ...


# Called as factory(text, lang=..., tld=..., slow=...), like gtts.gTTS.
GttsFactory = Callable[..., GttsSpeech]


def tcp_reachable(host: str, port: int = 443, timeout_s: float = 1.5) -> bool:
    """Whether a TCP connection to host:port opens within `timeout_s` (DNS included)."""
    result: list[bool] = []

    def attempt() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                result.append(True)
        except OSError:
            result.append(False)

    # getaddrinfo has no timeout of its own, so the whole attempt runs in a daemon
    # thread that we stop waiting for.
    worker = threading.Thread(target=attempt, name="gtts-probe", daemon=True)
    worker.start()
    worker.join(timeout_s)
    return bool(result and result[0])


def _default_factory(text: str, **kwargs: object) -> GttsSpeech:
    from gtts import gTTS  # imported here: only the online renderer needs it

    speech: GttsSpeech = gTTS(text, **kwargs)
    return speech


class GttsRenderer:
    """Render text with Google TTS (gTTS), keeping each MP3 in `mp3_dir`."""

    def __init__(
        self,
        mp3_dir: Path,
        *,
        tld: str = "com",
        slow: bool = False,
        factory: GttsFactory | None = None,
        probe: Callable[[], bool] | None = None,
        probe_ttl_s: float = 60.0,
    ) -> None:
        self.mp3_dir = Path(mp3_dir)
        self.tld = tld
        self.slow = slow
        self.factory: GttsFactory = factory or _default_factory
        self.probe: Callable[[], bool] = probe or (lambda: tcp_reachable(f"translate.google.{tld}"))
        self.probe_ttl_s = probe_ttl_s
        self._probed_at = -float("inf")
        self._reachable = False
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The name, gtts-<tld>, plus -slow for the slow voice."""
        return f"gtts-{self.tld}" + ("-slow" if self.slow else "")

    def available(self) -> bool:
        """Whether Google TTS answered the last probe (re-probed after probe_ttl_s)."""
        with self._lock:
            now = time.monotonic()
            if now - self._probed_at >= self.probe_ttl_s:
                self._reachable = self.probe()
                self._probed_at = now
            return self._reachable

    def mp3_path(self, text: str, voice: str) -> Path:
        """Where the MP3 of this text and voice is kept."""
        material = "\x1f".join((self.name, voice, unicodedata.normalize("NFC", text)))
        key = hashlib.sha256(material.encode("utf-8")).hexdigest()
        return self.mp3_dir / key[:2] / f"{key}.mp3"

    def fetch(self, text: str, voice: str) -> Path:
        """The MP3 of `text`, downloading it only when not already kept."""
        path = self.mp3_path(text, voice)
        if path.is_file() and path.stat().st_size > 0:
            return path
        if not self.available():
            raise DeviceUnavailable("Google TTS is not reachable")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex}.part")
        # gTTS takes a language, not an espeak-style voice with a variant ("vi+f3").
        lang = voice.split("+", 1)[0]
        try:
            self.factory(text, lang=lang, tld=self.tld, slow=self.slow).save(str(tmp))
            if not tmp.is_file() or tmp.stat().st_size == 0:
                raise ProtocolError(f"gTTS returned no audio for {text!r}")
            os.replace(tmp, path)
        except ProtocolError:
            raise
        except Exception as exc:
            # gTTS raises gTTSError, requests' errors or AssertionError: translate them all
            # at this boundary so the fallback chain can move on.
            raise DeviceUnavailable(f"gTTS failed for {text!r}: {exc}") from exc
        finally:
            tmp.unlink(missing_ok=True)
        return path

    def render(self, text: str, voice: str) -> bytes:
        """WAV bytes of `text`, decoded from the (possibly just fetched) MP3."""
        return to_library_format(self.fetch(text, voice).read_bytes(), "mp3").to_wav()
