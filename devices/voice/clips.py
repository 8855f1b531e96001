"""Recorded human clips dropped into a folder, found by a name derived from the text.

File names: `clip_filename(text)` plus one of .wav, .flac, .ogg, .mp3. The
name is the text in lower case, Unicode NFC, with every run of characters
that are not letters or digits replaced by one "_", diacritics kept (they
tell "mười" from "mươi" and "năm" from "nam"):

    "Mời công dân có số thứ tự"  -> mời_công_dân_có_số_thứ_tự.wav
    "hai mươi tư"                 -> hai_mươi_tư.wav
    "đến quầy số"                 -> đến_quầy_số.wav

A clip is looked up in FOLDER/VOICE/ first (e.g. clips/vi/), then in FOLDER/.
Names written in NFD (as macOS does) are found too. `motcua voice build
--renderer clips` lists the clips still missing.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from devices.errors import DeviceUnavailable
from devices.voice.convert import to_library_format

__all__ = ["CLIP_EXTENSIONS", "ClipFolderRenderer", "clip_filename"]

CLIP_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")

_SEPARATORS = re.compile(r"[\W_]+", re.UNICODE)


def clip_filename(text: str) -> str:
    """The file name stem a recorded clip of `text` must have."""
    stem = _SEPARATORS.sub("_", unicodedata.normalize("NFC", text).lower()).strip("_")
    if not stem:
        raise ValueError(f"no letters or digits in {text!r}")
    return stem


class ClipFolderRenderer:
    """Serve recorded clips from a folder; no clip means DeviceUnavailable."""

    name = "clips"

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def available(self) -> bool:
        """Whether the folder exists."""
        return self.folder.is_dir()

    def find(self, text: str, voice: str) -> Path | None:
        """The recorded file for `text` in `voice`, if there is one."""
        stem = clip_filename(text)
        for directory in (self.folder / voice, self.folder):
            if not directory.is_dir():
                continue
            for path in sorted(directory.iterdir()):
                if path.suffix.lower() not in CLIP_EXTENSIONS or not path.is_file():
                    continue
                if unicodedata.normalize("NFC", path.stem).lower() == stem:
                    return path
        return None

    def render(self, text: str, voice: str) -> bytes:
        """The recorded clip converted to WAV in the library format."""
        path = self.find(text, voice)
        if path is None:
            raise DeviceUnavailable(f"no recorded clip {clip_filename(text)}.* in {self.folder}")
        return to_library_format(path.read_bytes(), path.suffix).to_wav()
