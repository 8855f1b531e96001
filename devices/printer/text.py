"""Text fallback for printers without raster: plain ASCII lines, diacritics stripped."""

from __future__ import annotations

import textwrap
import unicodedata
from dataclasses import dataclass
from typing import Literal

from devices.printer.ticket import TicketPrint
from devices.printer.wording import Bilingual, ticket_wording

__all__ = ["TextLine", "strip_diacritics", "text_ticket_lines"]

# Letters NFD does not decompose (đ is its own letter) and punctuation that
# code page 437 lacks; everything else non-ASCII becomes "?".
_ASCII_LOOKALIKES = str.maketrans({
    "đ": "d", "Đ": "D", "–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"',
    "…": "...", "\u00a0": " ",
})

Style = Literal["normal", "bold", "number"]


@dataclass(frozen=True)
class TextLine:
    """One printed line of the text fallback and how to emphasise it."""

    text: str
    style: Style = "normal"


def strip_diacritics(text: str) -> str:
    """Return text in plain ASCII: 'Đường Lê Lợi' -> 'Duong Le Loi'."""
    decomposed = unicodedata.normalize("NFD", text.translate(_ASCII_LOOKALIKES))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.encode("ascii", "replace").decode("ascii")


def text_ticket_lines(ticket: TicketPrint, columns: int) -> list[TextLine]:
    """Lay a ticket out as ASCII lines of at most `columns` characters (number lines excepted)."""
    words = ticket_wording(ticket)
    lines: list[TextLine] = []

    def add(text: str, style: Style = "normal") -> None:
        for part in textwrap.wrap(
            strip_diacritics(text), columns, break_long_words=True, break_on_hyphens=False
        ):
            lines.append(TextLine(part, style))

    def add_both(pair: Bilingual, style: Style = "normal") -> None:
        add(pair.vi, style)
        if pair.en:
            add(pair.en)

    rule = TextLine("-" * columns)
    add(words.site, "bold")
    lines.append(rule)
    add_both(words.number_caption)
    # Printed at 4x size by the encoder: one line, never wrapped.
    lines.append(TextLine(strip_diacritics(words.number), "number"))
    if words.priority is not None:
        add_both(words.priority, "bold")
    add(words.agency, "bold")
    add(words.procedure)
    if words.come_back is not None:
        add_both(words.come_back, "bold")
    if words.dossier is not None:
        add_both(words.dossier, "bold")
    add_both(words.counters, "bold")
    add_both(words.people_ahead)
    add_both(words.wait)
    lines.append(rule)
    # No QR here: a printer without raster cannot print one reliably, so the
    # citizen gets the status address to type instead.
    add_both(Bilingual("Theo dõi lượt của bạn tại:", "Follow your turn at:"))
    add(words.status_url)
    if words.check_in is not None:
        add_both(words.check_in, "bold")
    add_both(words.issued)
    return lines
