"""The QR of an intake receipt (giấy tiếp nhận hồ sơ và hẹn trả kết quả), as the kiosk's scanner types it. Pure.

The province's one-stop systems print a QR on the receipt with the dossier code (mã hồ sơ,
e.g. `000.00.21.H29-241207-0001`: the receiving office's code, the intake date yymmdd, a
sequence), and often the procedure code (mã thủ tục, e.g. `1.001234`) and the appointed return
date (ngày hẹn trả). Systems differ in how they write it, so every form seen in the field is
read (CONTRACT.md section 2, "The intake receipt's QR"):

    JSON            {"ma_ho_so": "...", "ma_thu_tuc": "...", "ngay_hen_tra": "20/12/2024"}
                    (keys in any case, with or without `_`: MaHoSo, maHoSo, dossier, code; ...)
    `|`-separated   000.00.21.H29-241207-0001|1.001234|20/12/2024 (each field found by its shape)
    a URL           https://dichvucong.../tra-cuu?ma_ho_so=...&ngay_hen_tra=... (or the code in its path)
    the code alone  000.00.21.H29-241207-0001

Dates are dd/mm/yyyy, dd-mm-yyyy, yyyy-mm-dd or ddmmyyyy, a time after them ignored. Only the
dossier code is required; a text without one is refused with `invalid_receipt`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from controller.core.errors import DomainError

__all__ = ["Receipt", "looks_like_receipt", "read_receipt"]

MAX_TEXT = 2048
# The receiving office's code (dotted), the intake date yymmdd, the sequence of the day.
_DOSSIER = re.compile(r"(?<![0-9A-Z.])([0-9A-Z]{1,10}(?:\.[0-9A-Z]{1,10}){0,6})-([0-9]{6})-([0-9]{1,8})(?![0-9A-Z])")
_PROCEDURE = re.compile(r"[0-9]{1,2}\.[0-9]{4,8}(?:\.[0-9A-Z]{1,6}){0,6}")
_ANY_PROCEDURE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,63}")
_DATE_FORMS = (
    (re.compile(r"([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})"), (3, 2, 1)),
    (re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})"), (1, 2, 3)),
    (re.compile(r"([0-9]{2})([0-9]{2})([0-9]{4})"), (3, 2, 1)),
)
_DOSSIER_KEYS = frozenset({"mahoso", "mahs", "sohoso", "hoso", "dossier", "dossiercode", "code", "ma", "id",
                           "receiptcode", "maphieu"})
_PROCEDURE_KEYS = frozenset({"mathutuc", "matthc", "mathutuchanhchinh", "thutuc", "procedure", "procedurecode",
                             "tthc"})
_DATE_KEYS = frozenset({"ngayhentra", "hentra", "ngaytra", "ngayhen", "ngaytraketqua", "returndate",
                        "appointeddate", "duedate"})


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the result counter needs to fetch the right file."""

    dossier: str
    procedure_code: str | None = None
    return_date: dt.date | None = None

    def early_on(self, day: dt.date) -> bool:
        """Whether the citizen comes before the appointed return date (the result may not be ready)."""
        return self.return_date is not None and day < self.return_date


def _refused(why: str, why_en: str) -> DomainError:
    return DomainError("invalid_receipt", f"Không đọc được mã trên giấy hẹn trả kết quả ({why}); mời quét lại hoặc "
                                          f"hỏi quầy hướng dẫn / the receipt's QR could not be read ({why_en}): scan "
                                          "it again or ask at the help desk", 422)


def _dossier(text: str) -> str | None:
    """The first dossier code in a text (upper case), its intake date a real date."""
    for match in _DOSSIER.finditer(text.upper()):
        yymmdd = match.group(2)
        try:
            dt.date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:]))
        except ValueError:
            continue
        return match.group(0)
    return None


def _return_date(text: str) -> dt.date | None:
    """A date in one of the receipt forms at the start of `text` (a time after it ignored)."""
    text = text.strip()
    for pattern, (y, m, d) in _DATE_FORMS:
        match = pattern.match(text)
        if match and (len(match.group(0)) == len(text) or not text[len(match.group(0))].isdigit()):
            try:
                return dt.date(int(match.group(y)), int(match.group(m)), int(match.group(d)))
            except ValueError:
                return None
    return None


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _from_pairs(pairs: list[tuple[str, Any]], text: str) -> Receipt:
    dossier = procedure = None
    date: dt.date | None = None
    for name, value in pairs:
        key, value = _key(str(name)), str(value).strip() if isinstance(value, str | int) else ""
        if key in _DOSSIER_KEYS and dossier is None:
            dossier = _dossier(value)
        elif key in _PROCEDURE_KEYS and procedure is None and _ANY_PROCEDURE.fullmatch(value):
            procedure = value
        elif key in _DATE_KEYS and date is None:
            date = _return_date(value)
            if date is None and value:
                raise _refused("ngày hẹn trả sai", "wrong return date")
    dossier = dossier or _dossier(text)
    if dossier is None:
        raise _refused("không có mã hồ sơ", "no dossier code")
    return Receipt(dossier, procedure, date)


def _from_fields(fields: list[str]) -> Receipt:
    dossier = procedure = None
    date: dt.date | None = None
    for field in fields:
        if dossier is None and (found := _dossier(field)) is not None:
            dossier = found
        elif date is None and (when := _return_date(field)) is not None:
            date = when
        elif procedure is None and _PROCEDURE.fullmatch(field.strip().upper()):
            procedure = field.strip().upper()
    if dossier is None:
        raise _refused("không có mã hồ sơ", "no dossier code")
    return Receipt(dossier, procedure, date)


def looks_like_receipt(text: str) -> bool:
    """Whether a scanned text may be a receipt's QR: it holds a dossier code, or is JSON (read_receipt decides)."""
    stripped = text.strip()
    return len(text) <= MAX_TEXT and (stripped.startswith("{") or _dossier(unquote(stripped)) is not None)


def read_receipt(text: str) -> Receipt:
    """The receipt in a scanned text; DomainError `invalid_receipt` (422) when it holds no dossier code."""
    if len(text) > MAX_TEXT:
        raise _refused("mã quá dài", "too long")
    text = text.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise _refused("JSON hỏng", "broken JSON") from None
        if not isinstance(data, dict):
            raise _refused("JSON không phải đối tượng", "JSON is not an object")
        return _from_pairs(list(data.items()), "")
    parts = urlsplit(text) if re.match(r"(?i)https?://", text) else None
    if parts is not None:
        return _from_pairs(parse_qsl(parts.query) + parse_qsl(parts.fragment), unquote(parts.path))
    return _from_fields(text.split("|"))
