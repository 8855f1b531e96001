"""Printer health from ESC/POS real-time status (DLE EOT n): pure byte parsing, both ways.

DLE EOT n asks for one status byte; every answer has bits 1 and 4 set and bits
0 and 7 clear (the pattern 0xx1xx10), which is how a reply is told from noise.

    n = 1  printer status   bit 3: offline
    n = 2  offline cause    bit 2: cover open, bit 3: paper fed by the button,
                            bit 5: stopped by paper end, bit 6: an error occurred
    n = 3  error cause      bit 2: recoverable error, bit 3: autocutter error,
                            bit 5: unrecoverable error, bit 6: auto-recoverable error
    n = 4  paper sensors    bits 2-3: roll near its end, bits 5-6: paper out
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from devices.errors import ProtocolError

__all__ = [
    "STATUS_ERROR_CAUSE",
    "STATUS_OFFLINE_CAUSE",
    "STATUS_PAPER",
    "STATUS_PRINTER",
    "ErrorCause",
    "OfflineCause",
    "PaperLevel",
    "PrinterHealth",
    "encode_status_bytes",
    "health_from_status",
    "parse_error_cause",
    "parse_offline_cause",
    "parse_paper",
    "parse_printer_online",
    "status_query",
]

STATUS_PRINTER = 1
STATUS_OFFLINE_CAUSE = 2
STATUS_ERROR_CAUSE = 3
STATUS_PAPER = 4

_FIXED_MASK = 0b1001_0011
_FIXED_BITS = 0b0001_0010


class PaperLevel(StrEnum):
    """What the paper sensors say."""

    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"
    UNKNOWN = "unknown"  # the transport cannot ask (file/USB device written one way)


@dataclass(frozen=True)
class OfflineCause:
    """Why the printer is offline (DLE EOT 2)."""

    cover_open: bool = False
    feeding: bool = False
    paper_end_stop: bool = False
    error: bool = False


@dataclass(frozen=True)
class ErrorCause:
    """Which error the printer is in (DLE EOT 3)."""

    recoverable: bool = False
    cutter: bool = False
    unrecoverable: bool = False
    auto_recoverable: bool = False


@dataclass(frozen=True)
class PrinterHealth:
    """A snapshot of a printer's health, as far as its transport can tell."""

    reachable: bool
    online: bool | None = None  # None: the transport cannot ask
    paper: PaperLevel = PaperLevel.UNKNOWN
    cover_open: bool | None = None
    error: str | None = None  # printer-side error, or why it is unreachable

    @property
    def can_print(self) -> bool:
        """True unless something known stops printing (unknown counts as able)."""
        return (
            self.reachable
            and self.online is not False
            and self.paper is not PaperLevel.OUT
            and self.cover_open is not True
            and self.error is None
        )

    def describe(self) -> str:
        """A short English line for logs and technicians."""
        if not self.reachable:
            return f"unreachable ({self.error})" if self.error else "unreachable"
        problems = []
        if self.paper is PaperLevel.OUT:
            problems.append("paper out")
        elif self.paper is PaperLevel.NEAR_END:
            problems.append("paper near end")
        if self.cover_open:
            problems.append("cover open")
        if self.error:
            problems.append(self.error)
        if self.online is False and not problems:
            problems.append("offline")
        if not problems:
            return "ready" if self.online else "reachable, status unknown"
        return ", ".join(problems)

    def as_payload(self) -> dict[str, object]:
        """JSON-ready health for the device status topic (CONTRACT.md section 4)."""
        return {
            "reachable": self.reachable,
            "online": self.online,
            "paper": self.paper.value,
            "cover_open": self.cover_open,
            "error": self.error,
            "can_print": self.can_print,
        }


def status_query(n: int) -> bytes:
    """The DLE EOT n real-time status request."""
    if n not in (STATUS_PRINTER, STATUS_OFFLINE_CAUSE, STATUS_ERROR_CAUSE, STATUS_PAPER):
        raise ValueError(f"DLE EOT {n} is not a status request this driver uses")
    return bytes((0x10, 0x04, n))


def _checked(byte: int, n: int) -> int:
    if not 0 <= byte <= 0xFF or byte & _FIXED_MASK != _FIXED_BITS:
        raise ProtocolError(f"DLE EOT {n} answer 0x{byte:02x} is not a status byte")
    return byte


def parse_printer_online(byte: int) -> bool:
    """DLE EOT 1: True when the printer is online."""
    return not _checked(byte, STATUS_PRINTER) & 0x08


def parse_offline_cause(byte: int) -> OfflineCause:
    """DLE EOT 2: why the printer is offline."""
    _checked(byte, STATUS_OFFLINE_CAUSE)
    return OfflineCause(
        cover_open=bool(byte & 0x04),
        feeding=bool(byte & 0x08),
        paper_end_stop=bool(byte & 0x20),
        error=bool(byte & 0x40),
    )


def parse_error_cause(byte: int) -> ErrorCause:
    """DLE EOT 3: which error stopped the printer."""
    _checked(byte, STATUS_ERROR_CAUSE)
    return ErrorCause(
        recoverable=bool(byte & 0x04),
        cutter=bool(byte & 0x08),
        unrecoverable=bool(byte & 0x20),
        auto_recoverable=bool(byte & 0x40),
    )


def parse_paper(byte: int) -> PaperLevel:
    """DLE EOT 4: paper out, near its end, or fine."""
    _checked(byte, STATUS_PAPER)
    # Models set one or both bits of each pair; either one means the sensor fired.
    if byte & 0x60:
        return PaperLevel.OUT
    if byte & 0x0C:
        return PaperLevel.NEAR_END
    return PaperLevel.OK


def _error_text(cause: ErrorCause) -> str | None:
    if cause.cutter:
        return "autocutter error"
    if cause.unrecoverable:
        return "unrecoverable error"
    if cause.recoverable:
        return "mechanism error"
    if cause.auto_recoverable:
        return "head overheated or paused"
    return None


def health_from_status(
    printer: int,
    paper: int,
    offline_cause: int | None = None,
    error_cause: int | None = None,
) -> PrinterHealth:
    """Combine DLE EOT 1 and 4 answers (and 2 and 3 when offline) into a PrinterHealth."""
    online = parse_printer_online(printer)
    level = parse_paper(paper)
    cover_open = False
    error: str | None = None
    if offline_cause is not None:
        cause = parse_offline_cause(offline_cause)
        cover_open = cause.cover_open
        if cause.paper_end_stop:
            level = PaperLevel.OUT
        if cause.error:
            error = "printer error"
    if error_cause is not None:
        error = _error_text(parse_error_cause(error_cause)) or error
    return PrinterHealth(
        reachable=True, online=online, paper=level, cover_open=cover_open, error=error
    )


def encode_status_bytes(
    online: bool = True,
    paper: PaperLevel = PaperLevel.OK,
    cover_open: bool = False,
    error: bool = False,
) -> dict[int, int]:
    """The answers a printer in this state gives to DLE EOT 1..4 (for fakes and emulators)."""
    stopped = not online or cover_open or paper is PaperLevel.OUT or error
    printer = _FIXED_BITS | (0x08 if stopped else 0)
    offline = _FIXED_BITS
    if cover_open:
        offline |= 0x04
    if paper is PaperLevel.OUT:
        offline |= 0x20
    if error:
        offline |= 0x40
    error_byte = _FIXED_BITS | (0x04 if error else 0)
    paper_byte = _FIXED_BITS
    if paper is PaperLevel.NEAR_END:
        paper_byte |= 0x0C
    elif paper is PaperLevel.OUT:
        # An empty roll also trips the near-end sensor.
        paper_byte |= 0x6C
    return {
        STATUS_PRINTER: printer,
        STATUS_OFFLINE_CAUSE: offline,
        STATUS_ERROR_CAUSE: error_byte,
        STATUS_PAPER: paper_byte,
    }
