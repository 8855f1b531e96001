"""Draw a HallBoard on a pygame surface: the same layout as the hall web page.

Sizes are fractions of the surface height, so one drawing fits a 720p mini-PC
output and a 4K TV. DejaVu Sans (shipped with the printer) has every
Vietnamese glyph, so diacritics render without system fonts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pygame

from counter_display.hall_board import HallBoard

__all__ = ["BG", "BLUE", "GOLD", "PANEL", "WHITE", "HallPainter", "site_time"]

FONTS = Path(__file__).resolve().parent.parent / "devices" / "printer" / "fonts"
BG = (10, 15, 26)
PANEL = (18, 27, 44)
BLUE = (11, 61, 145)
GOLD = (255, 210, 63)
WHITE = (255, 255, 255)
DIM = (201, 211, 224)
LINE = (51, 65, 90)
INK = (17, 17, 17)
NOTICE_CHARS_PER_S = 12.0


def site_time(wall: float, timezone: str) -> str:
    """HH:MM on the site's clock, whatever zone the mini-PC is set to (its own if the zone is unknown)."""
    try:
        return datetime.fromtimestamp(wall, ZoneInfo(timezone)).strftime("%H:%M")
    except (ZoneInfoNotFoundError, ValueError):
        return time.strftime("%H:%M", time.localtime(wall))


@dataclass
class HallPainter:
    """Renders boards at one surface size; fonts are loaded once per size."""

    size: tuple[int, int]
    _fonts: dict[tuple[int, bool], pygame.font.Font] = field(default_factory=dict)

    def font(self, px: int, bold: bool = False) -> pygame.font.Font:
        key = (max(8, px), bold)
        if key not in self._fonts:
            name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
            self._fonts[key] = pygame.font.Font(str(FONTS / name), key[0])
        return self._fonts[key]

    def text(self, surface: pygame.Surface, text: str, px: int, color: tuple[int, int, int],
             pos: tuple[int, int], bold: bool = False, anchor: str = "topleft", max_width: int | None = None) -> None:
        font = self.font(px, bold)
        while max_width is not None and font.size(text)[0] > max_width and len(text) > 2:
            text = text[:-2] + "…"  # shorten long agency names rather than overflow their box
        image = font.render(text, True, color)
        rect = image.get_rect(**{anchor: pos})
        surface.blit(image, rect)

    def draw(self, surface: pygame.Surface, board: HallBoard, now: float, wall: float | None = None) -> None:
        """Paint the whole board; `now` is monotonic (blink, scroll), `wall` the clock shown."""
        width, height = surface.get_size()
        vh = height / 100
        surface.fill(BG)
        self._header(surface, board, wall if wall is not None else time.time(), width, vh)
        top, bottom = round(9 * vh), round(60 * vh)
        left_w = round(width * 0.55)
        self._newest(surface, board, now, pygame.Rect(round(2 * vh), top, left_w - round(3 * vh), bottom - top), vh)
        recent = pygame.Rect(left_w + round(vh), top, width - left_w - round(3 * vh), bottom - top)
        self._recent(surface, board, recent, vh)
        self._agencies(surface, board, pygame.Rect(round(2 * vh), bottom + round(2 * vh), width - round(4 * vh),
                                                   round(28 * vh)), vh, now)
        self._notice(surface, board, now, pygame.Rect(0, height - round(7 * vh), width, round(7 * vh)), vh)

    def _header(self, surface: pygame.Surface, board: HallBoard, wall: float, width: int, vh: float) -> None:
        pygame.draw.rect(surface, BLUE, pygame.Rect(0, 0, width, round(7 * vh)))
        self.text(surface, board.name, round(3.4 * vh), WHITE, (round(2 * vh), round(3.5 * vh)), True, "midleft",
                  max_width=width - round(20 * vh))
        clock = site_time(wall, board.timezone)
        self.text(surface, clock, round(3.8 * vh), WHITE, (width - round(2 * vh), round(3.5 * vh)), True, "midright")

    def _newest(self, surface: pygame.Surface, board: HallBoard, now: float, box: pygame.Rect, vh: float) -> None:
        inverted = board.blink_phase(now)
        paper, ink = (GOLD, BG) if inverted else (PANEL, GOLD)
        pygame.draw.rect(surface, paper, box, border_radius=round(2 * vh))
        pygame.draw.rect(surface, GOLD, box, width=max(2, round(0.5 * vh)), border_radius=round(2 * vh))
        newest = board.calls[0] if board.calls else None
        cx = box.centerx
        self.text(surface, "Mời số", round(5 * vh), ink, (cx, box.top + round(7 * vh)), anchor="center")
        self.text(surface, "Now serving", round(2.6 * vh), ink, (cx, box.top + round(11.5 * vh)), anchor="center")
        self.text(surface, newest.number if newest else "—", round(22 * vh), ink, (cx, box.centery), True, "center")
        line = f"đến quầy {newest.counter}" if newest else "đến quầy —"
        self.text(surface, line, round(7 * vh), ink, (cx, box.bottom - round(9 * vh)), True, "center")
        self.text(surface, "counter", round(2.6 * vh), ink, (cx, box.bottom - round(3.5 * vh)), anchor="center")

    def _recent(self, surface: pygame.Surface, board: HallBoard, box: pygame.Rect, vh: float) -> None:
        self._title(surface, "Số vừa gọi", "Recent calls", box.topleft, vh)
        y = box.top + round(6 * vh)
        self.text(surface, "Số", round(2.6 * vh), DIM, (box.left, y), True)
        self.text(surface, "Quầy", round(2.6 * vh), DIM, (box.right, y), True, "topright")
        y += round(4 * vh)
        pygame.draw.line(surface, LINE, (box.left, y), (box.right, y), max(1, round(0.3 * vh)))
        row = round(6.2 * vh)
        for index, call in enumerate(board.calls):
            if y + row > box.bottom:
                break
            color = GOLD if index == 0 else WHITE
            baseline = y + round(0.5 * vh)
            self.text(surface, call.number, round(5 * vh), color, (box.left, baseline), True)
            self.text(surface, str(call.counter), round(5 * vh), color, (box.right, baseline), True, "topright")
            y += row
            pygame.draw.line(surface, LINE, (box.left, y), (box.right, y), 1)

    def _title(self, surface: pygame.Surface, vietnamese: str, english: str, at: tuple[int, int], vh: float) -> None:
        """A section title, Vietnamese first and English after it, smaller."""
        self.text(surface, vietnamese, round(3.6 * vh), DIM, at, True)
        width = self.font(round(3.6 * vh), True).size(vietnamese)[0]
        self.text(surface, english, round(2.2 * vh), DIM, (at[0] + width + round(vh), at[1] + round(1.2 * vh)))

    def _agencies(self, surface: pygame.Surface, board: HallBoard, box: pygame.Rect, vh: float,
                  now: float = 0.0) -> None:
        self._title(surface, "Đang chờ", "Waiting", box.topleft, vh)
        columns = 4
        cell_w = (box.width - (columns - 1) * round(vh)) // columns
        cell_h = round(4.2 * vh)
        top = box.top + round(5 * vh)
        rows = max(1, (box.bottom - top + round(0.6 * vh)) // (cell_h + round(0.6 * vh)))
        # A TV cannot be scrolled: a longer list is shown a page at a time.
        lines, page, pages = board.agency_page(rows * columns, now)
        if pages > 1:
            self.text(surface, f"{page}/{pages}", round(2.6 * vh), DIM, (box.right, box.top), True, "topright")
        for index, agency in enumerate(lines):
            row, col = divmod(index, columns)
            cell = pygame.Rect(box.left + col * (cell_w + round(vh)), top + row * (cell_h + round(0.6 * vh)),
                               cell_w, cell_h)
            pygame.draw.rect(surface, PANEL, cell, border_radius=round(0.8 * vh))
            count_x = cell.right - round(vh)
            self.text(surface, str(agency.waiting), round(2.8 * vh), GOLD, (count_x, cell.centery), True, "midright")
            self.text(surface, agency.name, round(2.1 * vh), WHITE, (cell.left + round(vh), cell.centery),
                      anchor="midleft", max_width=cell_w - round(7 * vh))

    def _notice(self, surface: pygame.Surface, board: HallBoard, now: float, box: pygame.Rect, vh: float) -> None:
        pygame.draw.rect(surface, GOLD, box)
        if not board.notice:
            return
        font = self.font(round(3.4 * vh), True)
        text_w = font.size(board.notice)[0]
        speed = max(1.0, text_w / max(1, len(board.notice))) * NOTICE_CHARS_PER_S  # px per second
        travel = box.width + text_w
        x = box.right - (now * speed) % travel
        surface.set_clip(box)
        self.text(surface, board.notice, round(3.4 * vh), INK, (round(x), box.centery), True, "midleft")
        surface.set_clip(None)
