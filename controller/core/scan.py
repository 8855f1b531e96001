"""What the kiosk's 2D scanner read: one reader for every code a citizen may hold to it. Pure.

The scanner types what it reads as keystrokes, then Enter; the kiosk sends the text here
(POST /scan) and `read_scan` says which kind of code it is:

    TicketCode   a number that holds a place away (from a phone, or one that returns later): its QR
                 is "NUMBER-CODE", or the ticket page's address ending in "#NUMBER-CODE"
    IdCard       the chip ID card's QR (controller/core/id_card.py)
    Receipt      an intake receipt's QR (controller/core/receipt.py)

A text that is none of them is refused with `unreadable_code`; one that claims to be a card or a
receipt but is malformed, with that kind's own code (`invalid_card`, `invalid_receipt`). Nothing
is changed by reading.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from controller.core.errors import DomainError
from controller.core.id_card import IdCard, looks_like_id_card, read_id_card
from controller.core.receipt import Receipt, looks_like_receipt, read_receipt

__all__ = ["CHECK_CODE_ALPHABET", "CHECK_CODE_LENGTH", "MAX_SCAN", "Scanned", "TicketCode", "read_scan"]

# No I, L, O, 0 or 1 (the appointment codes' alphabet): read off a phone and typed at a kiosk.
CHECK_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CHECK_CODE_LENGTH = 6
MAX_SCAN = 2048  # what one scan may type; more is not a code of ours
# At the end of what was scanned: a printed ticket's QR is its page's address with the code after "#".
_TICKET = re.compile(rf"(?:^|[#/\s])([0-9]{{1,6}})-([{CHECK_CODE_ALPHABET}]{{{CHECK_CODE_LENGTH}}})$")


@dataclass(frozen=True, slots=True)
class TicketCode:
    """A ticket's number and its check-in code, as its QR says them."""

    number: str
    code: str

    @property
    def text(self) -> str:
        return f"{self.number}-{self.code}"


Scanned = TicketCode | IdCard | Receipt


def read_scan(text: str, today: dt.date) -> Scanned:
    """The code in what the scanner typed; DomainError (422) when it is none of ours, or malformed."""
    if len(text) > MAX_SCAN:
        raise _unknown()
    stripped = text.strip()
    if looks_like_id_card(stripped):  # first: a card's last fields are free text
        return read_id_card(stripped, today)
    ticket = _TICKET.search(stripped.upper())
    if ticket is not None:
        return TicketCode(ticket.group(1), ticket.group(2))
    if looks_like_receipt(stripped):
        return read_receipt(stripped)
    raise _unknown()


def _unknown() -> DomainError:
    return DomainError("unreadable_code", "Ki-ốt không đọc được mã này. Ki-ốt đọc: mã QR trên vé hoặc trên điện thoại, "
                                       "thẻ căn cước gắn chip, giấy hẹn trả kết quả / this kiosk cannot read that "
                                       "code; it reads the QR on a ticket or a phone, the chip ID card, and the "
                                       "intake receipt", 422)
