"""Compose a plan of parts into one block of audio, and free text into a plan.

Composition is a byte join in LIBRARY_FORMAT: every clip from the library,
digital silence for each gap, the synthesised chime. So the length of an
announcement is exactly the sum of its parts.

Free text (`motcua voice say "..."`) is split into known phrases (longest
match over the template's phrases, ignoring case and punctuation), numbers
(runs of digits, read as Vietnamese numbers; a run with a
leading zero or beyond MAX_NUMBER, such as a phone number, digit by digit) and leftover words, which are
rendered as one segment each by the renderer chain (espeak-ng offline).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from devices.voice.library import ClipLibrary
from devices.voice.numerals import MAX_NUMBER, digit_chunks, number_chunks, reading_style
from devices.voice.pcm import Pcm, concat, silence
from devices.voice.template import (
    AnnouncementTemplate,
    Chime,
    Clip,
    Gap,
    Part,
    join_units,
    with_chime,
)

__all__ = ["compose", "parts_duration_s", "text_plan"]


def compose(parts: Iterable[Part], library: ClipLibrary) -> Pcm:
    """Join the audio of `parts`; raises DeviceError when a clip cannot be rendered."""
    blocks: list[Pcm] = []
    for part in parts:
        if isinstance(part, Chime):
            blocks.append(library.chime())
        elif isinstance(part, Gap):
            blocks.append(silence(part.seconds))
        else:
            blocks.append(library.clip(part))
    return concat(blocks)


def parts_duration_s(parts: Iterable[Part], library: ClipLibrary) -> float:
    """Seconds the composed parts will last (clips measured, gaps as planned)."""
    frames = 0
    for part in parts:
        if isinstance(part, Chime):
            frames += library.chime().frame_count
        elif isinstance(part, Gap):
            frames += silence(part.seconds).frame_count
        else:
            frames += library.clip(part).frame_count
    return frames / library.chime().format.rate


_TOKEN = re.compile(r"[0-9]+|[^\W\d_]+", re.UNICODE)


def _number_words(digits: str, template: AnnouncementTemplate) -> tuple[str, ...]:
    """A number as a number; a code with a leading zero or too long, digit by digit."""
    if (len(digits) > 1 and digits.startswith("0")) or int(digits) > MAX_NUMBER:
        return digit_chunks(digits)
    return number_chunks(int(digits), reading_style(template.southern))


def _key(word: str) -> str:
    return unicodedata.normalize("NFC", word).lower()


def text_plan(
    text: str,
    template: AnnouncementTemplate,
    phrases: Sequence[str] = (),
) -> tuple[Part, ...]:
    """Plan free text: known phrases as clips, numbers read aloud, the rest rendered."""
    known = {tuple(_key(w) for w in p.split()): p for p in phrases if p.split()}
    longest = max((len(k) for k in known), default=0)
    tokens = _TOKEN.findall(text)
    units: list[list[Clip]] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            units.append([Clip(" ".join(pending), template.voice)])
            pending.clear()

    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.isdigit():
            flush()
            units.append([Clip(c, template.voice) for c in _number_words(token, template)])
            index += 1
            continue
        for size in range(min(longest, len(tokens) - index), 0, -1):
            phrase = known.get(tuple(_key(t) for t in tokens[index : index + size]))
            if phrase is not None:
                flush()
                units.append([Clip(phrase, template.voice)])
                index += size
                break
        else:
            pending.append(token)
            index += 1
    flush()
    if not units:
        raise ValueError(f"nothing to say in {text!r}")
    return with_chime(join_units(units, template), template)
