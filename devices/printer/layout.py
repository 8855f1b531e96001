"""Ticket layout: draw a ticket with Pillow as a black-and-white image one paper width wide."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import qrcode
import qrcode.constants
from PIL import Image, ImageDraw, ImageFont

from devices.printer.profile import PrinterProfile
from devices.printer.ticket import TicketPrint
from devices.printer.wording import Bilingual, ticket_wording

__all__ = [
    "FONT_DIR",
    "QR_BORDER_MODULES",
    "QR_ERROR_CORRECTION",
    "RenderedTicket",
    "font",
    "qr_matrix",
    "render_ticket",
]

FONT_DIR = Path(__file__).resolve().parent / "fonts"
_FONT_FILES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}

# Medium error correction survives a smudged thermal print; the 4-module quiet
# zone is what scanners expect (ISO/IEC 18004).
QR_ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
QR_BORDER_MODULES = 4

Box = tuple[int, int, int, int]
Align = Literal["left", "center"]


@dataclass(frozen=True)
class RenderedTicket:
    """A drawn ticket and where its key regions are (for tests and previews)."""

    image: Image.Image  # mode "1", white paper = 255, width = printer dots
    number_box: Box  # left, top, right, bottom of the big number
    qr_box: Box  # the QR code including its quiet zone
    qr_module_px: int  # side of one QR module in dots


@lru_cache(maxsize=64)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """Load the shipped DejaVu Sans (regular or bold) at a pixel size, cached."""
    return ImageFont.truetype(str(FONT_DIR / _FONT_FILES[bold]), size)


def qr_matrix(url: str) -> list[list[bool]]:
    """Return the QR modules (True = dark) for url, quiet zone included."""
    code = qrcode.QRCode(error_correction=QR_ERROR_CORRECTION, border=QR_BORDER_MODULES)
    code.add_data(url)
    code.make(fit=True)
    return [[bool(cell) for cell in row] for row in code.get_matrix()]


def _qr_image(url: str, max_side: int) -> tuple[Image.Image, int]:
    matrix = qr_matrix(url)
    modules = len(matrix)
    # Whole dots per module keep every module the same size on paper; below
    # 3 dots (0.4 mm) phone cameras start to miss modules.
    module_px = max(3, max_side // modules)
    small = Image.new("L", (modules, modules), 255)
    small.putdata([0 if cell else 255 for row in matrix for cell in row])
    side = modules * module_px
    return small.resize((side, side), Image.Resampling.NEAREST), module_px


def _wrap(text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if face.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        # A single word wider than the paper (a long code) is cut by characters.
        while face.getlength(word) > width:
            cut = len(word)
            while cut > 1 and face.getlength(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines


@dataclass(frozen=True)
class _TextOp:
    y: int
    text: str
    face: ImageFont.FreeTypeFont
    align: Align
    inverted: bool
    height: int


@dataclass(frozen=True)
class _RuleOp:
    y: int
    thickness: int


@dataclass(frozen=True)
class _ImageOp:
    y: int
    image: Image.Image


class _Column:
    """Stacks blocks top to bottom, measuring first so the image is cut to fit."""

    def __init__(self, width: int, scale: float) -> None:
        self.width = width
        self.scale = scale
        self.margin = max(6, round(12 * scale))
        self.inner = width - 2 * self.margin
        self.y = self.margin
        self.ops: list[_TextOp | _RuleOp | _ImageOp] = []

    def px(self, base: int, floor: int) -> int:
        return max(floor, round(base * self.scale))

    def space(self, base: int) -> None:
        self.y += self.px(base, 2)

    def text(
        self,
        text: str,
        face: ImageFont.FreeTypeFont,
        align: Align = "center",
        inverted: bool = False,
    ) -> None:
        ascent, descent = face.getmetrics()
        height = ascent + descent
        for line in _wrap(text, face, self.inner - (2 * self.margin if inverted else 0)):
            self.ops.append(_TextOp(self.y, line, face, align, inverted, height))
            self.y += height

    def bilingual(self, words: Bilingual, vi: ImageFont.FreeTypeFont,
                  en: ImageFont.FreeTypeFont) -> None:
        self.text(words.vi, vi)
        if words.en:
            self.text(words.en, en)

    def rule(self) -> None:
        self.space(8)
        thickness = self.px(3, 2)
        self.ops.append(_RuleOp(self.y, thickness))
        self.y += thickness
        self.space(8)

    def image(self, image: Image.Image) -> None:
        self.ops.append(_ImageOp(self.y, image))
        self.y += image.height


def _number_font(number: str, width: int, max_size: int) -> ImageFont.FreeTypeFont:
    size = max_size
    # Shrink until the number fits: longer codes ("A0015") still print in one line.
    while size > 24 and font(size, True).getlength(number) > width:
        size -= 4
    return font(size, True)


def render_ticket(ticket: TicketPrint, profile: PrinterProfile) -> RenderedTicket:
    """Draw the ticket for a printer profile: Vietnamese first, big number near the top."""
    words = ticket_wording(ticket)
    width = profile.dots
    col = _Column(width, width / 576)
    title = font(col.px(30, 20), True)
    caption = font(col.px(22, 16))
    agency = font(col.px(30, 20), True)
    body_vi = font(col.px(25, 18))
    body_vi_bold = font(col.px(25, 18), True)
    body_en = font(col.px(20, 15))

    col.text(words.site, title)
    col.rule()
    col.bilingual(words.number_caption, caption, caption)
    number_face = _number_font(words.number, int(col.inner * 0.95), col.px(190, 120))
    number_top = col.y
    col.text(words.number, number_face)
    number_bottom = col.y
    if words.priority is not None:
        col.space(4)
        col.text(words.priority.vi, body_vi_bold, inverted=True)
        if words.priority.en:
            col.text(words.priority.en, body_en, inverted=True)
    if words.come_back is not None:
        col.space(6)
        col.text(words.come_back.vi, agency, inverted=True)  # what the citizen must remember, in large type
        if words.come_back.en:
            col.text(words.come_back.en, body_en, inverted=True)
    col.space(10)
    col.text(words.agency, agency)
    col.text(words.procedure, body_vi)
    if words.dossier is not None:
        col.space(4)
        col.bilingual(words.dossier, body_vi_bold, body_en)
    col.space(10)
    col.bilingual(words.counters, body_vi_bold, body_en)
    col.space(6)
    col.bilingual(words.people_ahead, body_vi, body_en)
    col.space(6)
    col.bilingual(words.wait, body_vi, body_en)
    col.rule()
    qr, module_px = _qr_image(words.status_url, int(col.inner * 0.55))
    qr_left = (width - qr.width) // 2
    qr_top = col.y
    col.image(qr)
    col.bilingual(words.qr_hint, body_vi, body_en)
    if words.check_in is not None:
        col.space(4)
        col.bilingual(words.check_in, body_vi_bold, body_en)
    col.space(10)
    col.bilingual(words.issued, caption, caption)
    col.space(6)

    canvas = Image.new("L", (width, col.y + col.margin), 255)
    draw = ImageDraw.Draw(canvas)
    number_box: Box = (0, number_top, width, number_bottom)
    for op in col.ops:
        if isinstance(op, _RuleOp):
            draw.rectangle((col.margin, op.y, width - col.margin - 1, op.y + op.thickness - 1),
                           fill=0)
        elif isinstance(op, _ImageOp):
            canvas.paste(op.image, ((width - op.image.width) // 2, op.y))
        else:
            if op.inverted:
                draw.rectangle((col.margin, op.y, width - col.margin - 1, op.y + op.height - 1),
                               fill=0)
            text_width = op.face.getlength(op.text)
            x = col.margin if op.align == "left" else (width - text_width) / 2
            draw.text((x, op.y), op.text, font=op.face, fill=255 if op.inverted else 0,
                      anchor="la")
            if op.face is number_face and op.text == words.number:
                left, top, right, bottom = draw.textbbox((x, op.y), op.text, font=op.face,
                                                         anchor="la")
                number_box = (int(left), int(top), int(right) + 1, int(bottom) + 1)
    # Thermal heads print dots, not greys: threshold (no dithering) so the
    # antialiased glyph edges become crisp and the raster is exactly this image.
    image = canvas.convert("1", dither=Image.Dither.NONE)
    qr_box: Box = (qr_left, qr_top, qr_left + qr.width, qr_top + qr.height)
    return RenderedTicket(image=image, number_box=number_box, qr_box=qr_box,
                          qr_module_px=module_px)
