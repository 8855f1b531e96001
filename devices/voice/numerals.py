"""Vietnamese number reading (int -> words) and its reverse parser (words -> int).

The reading follows the rules people use on the floor, not the textbook edge
cases num2words or espeak-ng get wrong:

- 1 after "mươi" is "mốt" (21 "hai mươi mốt"), but 11 is "mười một".
- 4 after "mươi" is "tư" (24 "hai mươi tư"). After "mười" we say "bốn"
  (14 "mười bốn"): "mười tư" is heard in some regions but "mười bốn" is what
  both dialects understand, so it is the canonical reading; the parser accepts
  both.
- 5 after "mười"/"mươi" is "lăm" (15 "mười lăm", 25 "hai mươi lăm"); after
  "linh" it stays "năm" (105 "một trăm linh năm").
- A zero tens digit after a hundreds word is "linh" (Northern) or "lẻ"
  (Southern): 105 "một trăm linh năm", Southern "một trăm lẻ năm".
- A group of three digits that follows a higher group is read in full, with
  "không trăm" when its hundreds digit is zero: 1005 "một nghìn không trăm
  linh năm", 1024 "một nghìn không trăm hai mươi tư". A group that is all zero
  is skipped: 1000 "một nghìn", 1000024 "một triệu không trăm hai mươi tư".
- The Southern style also says "ngàn" for "nghìn" (1005 "một ngàn không trăm
  lẻ năm"), since that is how the South says it; the parser accepts both.

A reading is a tuple of *chunks* ("hai mươi", "nghìn", "chín trăm", "chín
mươi chín"); the clip library records one clip per chunk, and
`chunk_inventory` lists every chunk any number up to MAX_NUMBER can need, so
every number can be said offline.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "MAX_NUMBER",
    "NORTHERN",
    "SOUTHERN",
    "ReadingStyle",
    "chunk_inventory",
    "digit_chunks",
    "english_digit_chunks",
    "number_chunks",
    "parse_number",
    "read_number",
    "reading_style",
]

MAX_NUMBER = 999_999_999_999

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
ENGLISH_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
HUNDRED = "trăm"
TEN = "mười"
TENS = "mươi"
MILLION = "triệu"
BILLION = "tỷ"


@dataclass(frozen=True)
class ReadingStyle:
    """Dialect choices for reading numbers."""

    zero_tens: Literal["linh", "lẻ"] = "linh"
    thousand: Literal["nghìn", "ngàn"] = "nghìn"

    def __post_init__(self) -> None:
        if self.zero_tens not in ("linh", "lẻ"):
            raise ValueError(f"zero_tens must be 'linh' or 'lẻ', not {self.zero_tens!r}")
        if self.thousand not in ("nghìn", "ngàn"):
            raise ValueError(f"thousand must be 'nghìn' or 'ngàn', not {self.thousand!r}")

    @property
    def scales(self) -> tuple[str, ...]:
        """Scale words from the units group upwards (the units group has none)."""
        return ("", self.thousand, MILLION, BILLION)


NORTHERN = ReadingStyle()
SOUTHERN = ReadingStyle(zero_tens="lẻ", thousand="ngàn")


def reading_style(southern: bool) -> ReadingStyle:
    """The Southern or the Northern (default) style."""
    return SOUTHERN if southern else NORTHERN


def _two_digits(value: int) -> str:
    """Read 10..99 as one chunk ("mười lăm", "hai mươi tư")."""
    tens, unit = divmod(value, 10)
    head = TEN if tens == 1 else f"{DIGITS[tens]} {TENS}"
    if unit == 0:
        return head
    if unit == 1:
        word = "mốt" if tens >= 2 else "một"
    elif unit == 4:
        word = "tư" if tens >= 2 else "bốn"
    elif unit == 5:
        word = "lăm"
    else:
        word = DIGITS[unit]
    return f"{head} {word}"


def _group_chunks(group: int, full: bool, style: ReadingStyle) -> list[str]:
    """Read one group of three digits (1..999); `full` forces "không trăm"."""
    hundreds, rest = divmod(group, 100)
    chunks: list[str] = []
    if full or hundreds:
        chunks.append(f"{DIGITS[hundreds]} {HUNDRED}")
    if rest == 0:
        return chunks
    if rest < 10:
        chunks.append(f"{style.zero_tens} {DIGITS[rest]}" if chunks else DIGITS[rest])
    else:
        chunks.append(_two_digits(rest))
    return chunks


def number_chunks(number: int, style: ReadingStyle = NORTHERN) -> tuple[str, ...]:
    """Read `number` (0..MAX_NUMBER) as a tuple of clip chunks."""
    if isinstance(number, bool) or not isinstance(number, int):
        raise TypeError(f"expected an int, got {type(number).__name__}")
    if not 0 <= number <= MAX_NUMBER:
        raise ValueError(f"{number} is outside 0..{MAX_NUMBER}")
    if number == 0:
        return (DIGITS[0],)
    groups: list[int] = []
    remaining = number
    while remaining:
        remaining, group = divmod(remaining, 1000)
        groups.append(group)
    chunks: list[str] = []
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            continue
        # Only the leading group may drop "không trăm"; later groups keep their place value.
        chunks.extend(_group_chunks(group, full=bool(chunks), style=style))
        scale = style.scales[index]
        if scale:
            chunks.append(scale)
    return tuple(chunks)


def read_number(number: int, style: ReadingStyle = NORTHERN) -> str:
    """Read `number` in Vietnamese words, e.g. 1024 -> "một nghìn không trăm hai mươi tư"."""
    return " ".join(number_chunks(number, style))


def digit_chunks(digits: str) -> tuple[str, ...]:
    """Read a digit string one digit at a time ("1024" -> một, không, hai, bốn)."""
    _check_digits(digits)
    return tuple(DIGITS[int(d)] for d in digits)


def english_digit_chunks(digits: str) -> tuple[str, ...]:
    """Read a digit string one digit at a time in English ("15" -> one, five)."""
    _check_digits(digits)
    return tuple(ENGLISH_DIGITS[int(d)] for d in digits)


def _check_digits(digits: str) -> None:
    if not digits or not digits.isascii() or not digits.isdigit():
        raise ValueError(f"expected ASCII digits, got {digits!r}")


def chunk_inventory(style: ReadingStyle = NORTHERN) -> tuple[str, ...]:
    """Every chunk `number_chunks` can produce in `style`, each once."""
    chunks: list[str] = list(DIGITS)
    chunks += [_two_digits(n) for n in range(10, 100)]
    chunks += [f"{style.zero_tens} {DIGITS[d]}" for d in range(1, 10)]
    chunks += [f"{DIGITS[d]} {HUNDRED}" for d in range(10)]
    chunks += [s for s in style.scales if s]
    return tuple(chunks)


# ---------------------------------------------------------------- parsing

_DIGIT_WORDS = {word: value for value, word in enumerate(DIGITS)} | {"bẩy": 7}
# Unit words allowed after "mười"/"mươi", including the variants people say.
_UNIT_AFTER_TENS = _DIGIT_WORDS | {"mốt": 1, "tư": 4, "lăm": 5, "nhăm": 5}
_SCALE_VALUES = {"nghìn": 1000, "ngàn": 1000, MILLION: 10**6, BILLION: 10**9, "tỉ": 10**9}
_ZERO_TENS = ("linh", "lẻ")


def parse_number(text: str) -> int:
    """Parse a Vietnamese reading back to its value; raises ValueError if malformed."""
    tokens = [t.strip(".,;:!?") for t in unicodedata.normalize("NFC", text).lower().split()]
    tokens = [t for t in tokens if t]
    if not tokens:
        raise ValueError("empty reading")
    if tokens == [DIGITS[0]]:
        return 0
    total = 0
    run: list[str] = []
    last_scale = 10**12
    for token in [*tokens, ""]:
        if token and token not in _SCALE_VALUES:
            run.append(token)
            continue
        scale = _SCALE_VALUES.get(token, 1)
        if scale >= last_scale:
            raise ValueError(f"scale word {token!r} out of order in {text!r}")
        if not run:
            if token:
                raise ValueError(f"scale word {token!r} without a count in {text!r}")
            break
        total += _parse_group(run, leading=total == 0, text=text) * scale
        last_scale = scale
        run = []
    return total


def _parse_group(tokens: list[str], leading: bool, text: str) -> int:
    """Parse one group of three digits (1..999)."""

    def bad(reason: str) -> ValueError:
        return ValueError(f"{reason} in {text!r}")

    value = 0
    rest = tokens
    has_hundreds = len(tokens) >= 2 and tokens[1] == HUNDRED
    if has_hundreds:
        hundreds = _DIGIT_WORDS.get(tokens[0])
        if hundreds is None or (hundreds == 0 and leading):
            raise bad(f"bad hundreds word {tokens[0]!r}")
        value = 100 * hundreds
        rest = tokens[2:]
    elif not leading:
        raise bad("a group after a scale word must state its hundreds")
    if not rest:
        if value == 0:
            raise bad("empty group")
        return value
    first = rest[0]
    if first in _ZERO_TENS:
        if not has_hundreds or len(rest) != 2:
            raise bad(f"{first!r} must follow a hundreds word and precede one digit")
        unit = _DIGIT_WORDS.get(rest[1], 0)
        if unit == 0:
            raise bad(f"bad digit after {first!r}")
        return value + unit
    if first == TEN:
        tens = 1
        units = rest[1:]
    elif len(rest) >= 2 and rest[1] == TENS:
        tens = _DIGIT_WORDS.get(first, 0)
        if tens < 2:
            raise bad(f"bad tens word {first!r}")
        units = rest[2:]
    else:
        if has_hundreds or len(rest) != 1:
            raise bad(f"unexpected words {rest!r}")
        unit = _DIGIT_WORDS.get(first, 0)
        if unit == 0:
            raise bad(f"bad word {first!r}")
        return unit
    if not units:
        return value + 10 * tens
    if len(units) != 1 or units[0] not in _UNIT_AFTER_TENS or units[0] == DIGITS[0]:
        raise bad(f"bad unit words {units!r}")
    word = units[0]
    # "năm" after the tens means "year" in speech, so only "lăm"/"nhăm" read as 5 there;
    # "mốt" is never said after "mười".
    if word == DIGITS[5] or (word == "mốt" and tens == 1):
        raise bad(f"{word!r} cannot follow the tens")
    return value + 10 * tens + _UNIT_AFTER_TENS[word]
