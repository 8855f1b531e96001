"""Announcement templates per site, announcements, and the plan of parts they compose to.

A template is a frozen dataclass with Vietnamese defaults. Its texts use two
placeholders, {number} (the ticket number) and {counter} (the counter
number); punctuation in the fixed text marks a pause and splits it into
separate clips, so "Xin mời lần nữa, công dân ..." is two clips.

The ticket number is read as a whole number by 3-digit groups
(`number_style="whole"`: 1024 -> "một nghìn không trăm hai mươi tư"; leading
zeros are not spoken, "0042" is read as 42) or one digit at a time
(`number_style="digits"`: "một không hai bốn"). The counter is always read as
a number. English, when configured, reads both one digit at a time, so its
clips are ten digit words.

`plan()` is pure: it turns an announcement into Chime / Clip / Gap parts;
compose.py turns those into audio.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Literal, get_args

from devices.voice.numerals import (
    chunk_inventory,
    digit_chunks,
    english_digit_chunks,
    number_chunks,
    reading_style,
)

__all__ = [
    "Announcement",
    "AnnouncementKind",
    "AnnouncementTemplate",
    "Chime",
    "Clip",
    "Gap",
    "Part",
    "join_units",
    "plan",
    "split_phrases",
    "with_chime",
]

AnnouncementKind = Literal["call", "recall"]
NumberStyle = Literal["whole", "digits"]
PLACEHOLDERS = frozenset({"number", "counter"})
MAX_REPEAT = 5
_PAUSE = re.compile(r"[,;:.!?…]+")
_ZONE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


@dataclass(frozen=True)
class Clip:
    """One recorded or rendered segment: text spoken in a voice."""

    text: str
    voice: str


@dataclass(frozen=True)
class Gap:
    """Silence between segments."""

    seconds: float


@dataclass(frozen=True)
class Chime:
    """The attention chime."""


Part = Clip | Gap | Chime


def split_phrases(text: str) -> list[str]:
    """Split fixed text at punctuation into phrases, whitespace normalised."""
    return [" ".join(p.split()) for p in _PAUSE.split(text) if p.strip()]


def _check_text(field: str, text: str, required: frozenset[str]) -> None:
    """A template text is non-empty, uses only known placeholders, and all required ones."""
    seen: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ValueError(f"{field}: {exc}") from exc
    for literal, name, spec, conversion in parsed:
        for phrase in split_phrases(literal):
            if not any(ch.isalpha() for ch in phrase):
                raise ValueError(f"{field}: {phrase!r} has no words to say")
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            raise ValueError(f"{field}: unknown placeholder {{{name}}} (use {{number}}, {{counter}})")
        seen.add(name)
    if missing := required - seen:
        raise ValueError(f"{field}: must contain {{{min(missing)}}}")


@dataclass(frozen=True)
class AnnouncementTemplate:
    """How a site words, paces and repeats its announcements."""

    call: str = "Mời công dân có số thứ tự {number} đến quầy số {counter}"
    recall: str = "Xin mời lần nữa, công dân có số thứ tự {number} đến quầy số {counter}"
    english_call: str | None = None  # e.g. "Ticket number {number}, please go to counter {counter}"
    english_recall: str | None = None
    voice: str = "vi"
    english_voice: str = "en"
    southern: bool = False
    number_style: NumberStyle = "whole"
    chime: bool = True
    repeat: int = 2
    word_gap_s: float = 0.04
    phrase_gap_s: float = 0.15
    chime_gap_s: float = 0.3
    repeat_gap_s: float = 0.8

    def __post_init__(self) -> None:
        _check_text("call", self.call, PLACEHOLDERS)
        _check_text("recall", self.recall, PLACEHOLDERS)
        if self.english_call is not None:
            _check_text("english_call", self.english_call, PLACEHOLDERS)
        if self.english_recall is not None:
            if self.english_call is None:
                raise ValueError("english_recall: needs english_call too")
            _check_text("english_recall", self.english_recall, PLACEHOLDERS)
        for name in ("voice", "english_voice"):
            if not re.fullmatch(r"[A-Za-z0-9_+-]+", getattr(self, name)):
                raise ValueError(f"{name}: not a voice name: {getattr(self, name)!r}")
        if self.number_style not in get_args(NumberStyle):
            raise ValueError(f"number_style: 'whole' or 'digits', not {self.number_style!r}")
        if not 1 <= self.repeat <= MAX_REPEAT:
            raise ValueError(f"repeat: 1..{MAX_REPEAT}, not {self.repeat}")
        for name in ("word_gap_s", "phrase_gap_s", "chime_gap_s", "repeat_gap_s"):
            if not 0.0 <= getattr(self, name) <= 5.0:
                raise ValueError(f"{name}: 0..5 seconds, not {getattr(self, name)}")

    @classmethod
    def from_mapping(cls, table: Mapping[str, object]) -> AnnouncementTemplate:
        """Build from a site file's [voice] table; unknown keys and wrong types are refused."""
        # Field annotations are strings here (postponed evaluation); they name the type.
        kinds = {f.name: str(f.type) for f in fields(cls)}
        values: dict[str, object] = {}
        for key, value in table.items():
            kind = kinds.get(key)
            if kind is None:
                raise ValueError(f"voice.{key}: unknown setting")
            if kind == "bool":
                ok = isinstance(value, bool)
            elif kind == "int":
                ok = isinstance(value, int) and not isinstance(value, bool)
            elif kind == "float":
                ok = isinstance(value, int | float) and not isinstance(value, bool)
                value = float(value) if isinstance(value, int | float) else value
            else:
                ok = isinstance(value, str) or (value is None and "None" in kind)
            if not ok:
                raise ValueError(f"voice.{key}: wrong type {type(value).__name__}")
            values[key] = value
        try:
            return cls(**values)  # type: ignore[arg-type]
        except ValueError as exc:
            raise ValueError(f"voice.{exc}") from exc

    def text_for(self, kind: AnnouncementKind, english: bool) -> str | None:
        """The template text of `kind` in Vietnamese or English (None: no English)."""
        if english:
            if self.english_call is None:
                return None
            return (self.english_recall or self.english_call) if kind == "recall" else self.english_call
        return self.recall if kind == "recall" else self.call

    def clip_inventory(self) -> tuple[Clip, ...]:
        """Every clip any announcement of this template can need, each once."""
        clips: dict[Clip, None] = {}
        for kind in get_args(AnnouncementKind):
            for english in (False, True):
                text = self.text_for(kind, english)
                if text is None:
                    continue
                voice = self.english_voice if english else self.voice
                for literal, _name, _spec, _conv in string.Formatter().parse(text):
                    clips.update(dict.fromkeys(Clip(p, voice) for p in split_phrases(literal)))
        clips.update(dict.fromkeys(Clip(c, self.voice) for c in self.number_words()))
        if self.english_call is not None:
            words = english_digit_chunks("0123456789")
            clips.update(dict.fromkeys(Clip(w, self.english_voice) for w in words))
        return tuple(clips)

    def number_words(self) -> tuple[str, ...]:
        """Every Vietnamese number chunk this template can say."""
        return chunk_inventory(reading_style(self.southern))


@dataclass(frozen=True)
class Announcement:
    """One call or recall of a ticket to a counter, in one zone."""

    ticket_id: str
    number: str
    counter: int
    zone: str = "hall"
    kind: AnnouncementKind = "call"
    repeat: int | None = None  # None: the template's

    def __post_init__(self) -> None:
        if not self.ticket_id or len(self.ticket_id) > 64:
            raise ValueError(f"ticket_id: 1..64 characters, not {self.ticket_id!r}")
        if not (self.number.isascii() and self.number.isdigit() and len(self.number) <= 12):
            raise ValueError(f"number: 1..12 ASCII digits, not {self.number!r}")
        if isinstance(self.counter, bool) or not 0 <= self.counter <= 9999:
            raise ValueError(f"counter: 0..9999, not {self.counter!r}")
        if not _ZONE.fullmatch(self.zone):
            raise ValueError(f"zone: lower-case letters, digits, '-', '_', not {self.zone!r}")
        if self.kind not in get_args(AnnouncementKind):
            raise ValueError(f"kind: 'call' or 'recall', not {self.kind!r}")
        if self.repeat is not None and not 1 <= self.repeat <= MAX_REPEAT:
            raise ValueError(f"repeat: 1..{MAX_REPEAT}, not {self.repeat}")


def _number_clips(template: AnnouncementTemplate, value: str, is_ticket: bool) -> list[Clip]:
    if is_ticket and template.number_style == "digits":
        return [Clip(w, template.voice) for w in digit_chunks(value)]
    words = number_chunks(int(value), reading_style(template.southern))
    return [Clip(w, template.voice) for w in words]


def _body_units(template: AnnouncementTemplate, announcement: Announcement, english: bool) -> list[list[Clip]]:
    """The spoken units of one language: a phrase is one unit, a number is one unit of chunks."""
    text = template.text_for(announcement.kind, english)
    if text is None:
        return []
    voice = template.english_voice if english else template.voice
    units: list[list[Clip]] = []
    for literal, name, _spec, _conv in string.Formatter().parse(text):
        units.extend([Clip(p, voice)] for p in split_phrases(literal))
        if name is None:
            continue
        value = announcement.number if name == "number" else str(announcement.counter)
        if english:
            units.append([Clip(w, voice) for w in english_digit_chunks(value)])
        else:
            units.append(_number_clips(template, value, is_ticket=name == "number"))
    return units


def join_units(units: Sequence[Sequence[Clip]], template: AnnouncementTemplate) -> list[Part]:
    """Clips of a unit apart by the word gap, units apart by the phrase gap."""
    parts: list[Part] = []
    for index, unit in enumerate(units):
        if index:
            parts.append(Gap(template.phrase_gap_s))
        for position, clip in enumerate(unit):
            if position:
                parts.append(Gap(template.word_gap_s))
            parts.append(clip)
    return parts


def with_chime(body: Sequence[Part], template: AnnouncementTemplate, repeat: int = 1) -> tuple[Part, ...]:
    """The chime (if the template has one), then `body` `repeat` times apart by the repeat gap."""
    parts: list[Part] = [Chime(), Gap(template.chime_gap_s)] if template.chime else []
    for time in range(repeat):
        if time:
            parts.append(Gap(template.repeat_gap_s))
        parts += body
    # Zero-length gaps carry no sound and would only clutter the plan.
    return tuple(p for p in parts if not (isinstance(p, Gap) and p.seconds == 0))


def plan(announcement: Announcement, template: AnnouncementTemplate) -> tuple[Part, ...]:
    """The parts of an announcement: chime, then the body `repeat` times, with gaps."""
    units = _body_units(template, announcement, english=False)
    units += _body_units(template, announcement, english=True)
    return with_chime(join_units(units, template), template, announcement.repeat or template.repeat)
