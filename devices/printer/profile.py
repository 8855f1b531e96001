"""What a ticket printer model can do: paper width in dots, raster or text only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["DPI", "PaperWidth", "PrinterProfile"]

# Kiosk thermal printers print at 8 dots per mm (203 dpi).
DPI = 203

PaperWidth = Literal[58, 80]

# Printable width of the paper roll: 58 mm paper prints 48 mm, 80 mm paper 72 mm.
_DOTS: dict[int, int] = {58: 384, 80: 576}
# Columns of the printer's 12x24 font A over that width.
_COLUMNS: dict[int, int] = {58: 32, 80: 48}


@dataclass(frozen=True)
class PrinterProfile:
    """A printer model as far as tickets care; checked when made."""

    width_mm: PaperWidth = 80
    raster: bool = True
    cut: Literal["PART", "FULL"] = "PART"
    # Raster images taller than this go out as several GS v 0 blocks, so printers
    # with small receive buffers never get one oversized command.
    raster_fragment_rows: int = 960

    def __post_init__(self) -> None:
        if self.width_mm not in _DOTS:
            raise ValueError(f"paper width {self.width_mm!r} mm is not 58 or 80")
        if self.cut not in ("PART", "FULL"):
            raise ValueError(f"cut {self.cut!r} is not PART or FULL")
        if not 24 <= self.raster_fragment_rows <= 2303:
            raise ValueError("raster_fragment_rows must be within 24..2303")

    @property
    def dots(self) -> int:
        """Printable width in dots (384 for 58 mm, 576 for 80 mm)."""
        return _DOTS[self.width_mm]

    @property
    def text_columns(self) -> int:
        """Characters per line of font A, for the text fallback."""
        return _COLUMNS[self.width_mm]
