"""The chip ID card's QR (căn cước công dân gắn chip), as the kiosk's 2D scanner types it. Pure.

The card's QR holds fields separated by `|`:

    12-digit ID number | old 9-digit ID number (may be empty) | full name | date of birth ddmmyyyy
    | sex | address | issue date ddmmyyyy [| more fields on newer cards, ignored]

`read_id_card` keeps only what the kiosk needs and nothing more: the ID number (hashed at once by
the caller, never stored as it is), the name (for the greeting on screen) and the date of birth
(for the elderly priority). The address, the old number, the sex and the issue date are checked
for shape and dropped. A text that is not such a card, or one whose number and date of birth
disagree, is refused with `invalid_card`: a misread scan must not greet a stranger or offer a
priority.

The number's digits 4 to 6 carry the century, the sex and the year of birth (Circular
07/2016/TT-BCA: 0/1 born in the 1900s, 2/3 in the 2000s, 4/5 the 2100s...; even for men): a
misread digit, or a QR that merely looks like a card, is caught by that.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from controller.core.errors import DomainError

__all__ = ["IdCard", "looks_like_id_card", "read_id_card"]

_NUMBER = re.compile(r"[0-9]{12}")
_OLD_NUMBER = re.compile(r"(?:[0-9]{9}|[0-9]{12})?")
_DATE = re.compile(r"[0-9]{8}")
MAX_TEXT = 2048  # a card's QR is a few hundred characters; more is not a card
MAX_NAME = 100
OLDEST = 130  # years: a date of birth earlier than this is a misread


@dataclass(frozen=True, slots=True)
class IdCard:
    """What the kiosk uses of a card: its number (to hash), the name (to greet) and the date of birth."""

    number: str
    name: str
    birth: dt.date

    def __post_init__(self) -> None:
        if not _NUMBER.fullmatch(self.number):
            raise ValueError("an ID number is 12 digits")
        if not self.name or len(self.name) > MAX_NAME:
            raise ValueError("a name is 1 to 100 characters")

    def __repr__(self) -> str:  # never the number or the name in a log or a traceback
        return "IdCard(...)"

    def age_on(self, day: dt.date) -> int:
        """Whole years of age on `day` (someone born on 29 February turns a year older on 1 March)."""
        return day.year - self.birth.year - ((day.month, day.day) < (self.birth.month, self.birth.day))


def _refused(why: str, why_en: str) -> DomainError:
    return DomainError("invalid_card", f"Không đọc được thẻ căn cước ({why}); mời quét lại hoặc chọn thủ tục trên "
                                       f"màn hình / the ID card could not be read ({why_en}): scan it again or choose "
                                       "on the screen", 422)


def _date(text: str) -> dt.date | None:
    if not _DATE.fullmatch(text):
        return None
    try:
        return dt.date(int(text[4:]), int(text[2:4]), int(text[:2]))
    except ValueError:
        return None


def looks_like_id_card(text: str) -> bool:
    """Whether a scanned text claims to be an ID card's QR: 12 digits, then `|` (read_id_card checks the rest)."""
    return _NUMBER.fullmatch(text.strip()[:12]) is not None and text.strip()[12:13] == "|"


def read_id_card(text: str, today: dt.date) -> IdCard:
    """The card in a scanned text; DomainError `invalid_card` (422) when it is not a valid card's QR."""
    if len(text) > MAX_TEXT:
        raise _refused("mã quá dài", "too long")
    fields = [unicodedata.normalize("NFC", f).strip() for f in text.strip().split("|")]
    if len(fields) < 7:
        raise _refused("thiếu thông tin", "fields missing")
    number, old, name, birth_text, _sex, _address, issued_text = fields[:7]
    if not _NUMBER.fullmatch(number) or not _OLD_NUMBER.fullmatch(old):
        raise _refused("số căn cước sai", "wrong ID number")
    birth = _date(birth_text)
    if birth is None or birth > today or today.year - birth.year > OLDEST:
        raise _refused("ngày sinh sai", "wrong date of birth")
    issued = _date(issued_text)
    if issued_text and (issued is None or issued > today or issued < birth):
        raise _refused("ngày cấp sai", "wrong issue date")
    century = 1900 + int(number[3]) // 2 * 100
    if century + int(number[4:6]) != birth.year:
        raise _refused("số và ngày sinh không khớp", "number and date of birth disagree")
    name = " ".join("".join(ch for ch in name if unicodedata.category(ch)[0] != "C").split())
    if not name or len(name) > MAX_NAME:
        raise _refused("họ tên sai", "wrong name")
    return IdCard(number=number, name=name, birth=birth)
