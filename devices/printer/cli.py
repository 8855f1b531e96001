"""`motcua printer test`: print a sample ticket, for technicians installing a printer."""

from __future__ import annotations

import argparse
import sys

from devices.errors import DeviceError
from devices.printer.address import open_printer
from devices.printer.encode import encode_ticket
from devices.printer.fake import FakePrinter
from devices.printer.profile import PrinterProfile
from devices.printer.ticket import sample_ticket

__all__ = ["run"]


def _fail(message: str, code: int = 1) -> int:
    print(f"Lỗi / error: {message}", file=sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    """Print one sample ticket on --printer; 0 when it printed, non-zero with the reason if not."""
    try:
        profile = PrinterProfile(width_mm=args.width_mm, raster=not args.text_only)
        printer = open_printer(args.printer, profile)
    except ValueError as exc:
        return _fail(str(exc), 2)
    mode = f"raster {profile.dots} dots" if profile.raster else f"text {profile.text_columns} cols"
    print(f"Máy in / printer: {printer.name} ({profile.width_mm} mm, {mode})")

    health = printer.status()
    print(f"Tình trạng / status: {health.describe()}")
    if not health.reachable:
        return _fail(f"cannot reach the printer: {health.error}. Check power, cable, "
                     "address and that no other program holds the port.")
    if not health.can_print:
        return _fail(f"the printer cannot print now: {health.describe()}")

    ticket = sample_ticket()
    try:
        printer.print_ticket(ticket)
    except DeviceError as exc:
        return _fail(f"the sample ticket did not print: {exc}")
    size = len(encode_ticket(ticket, profile))
    print(f"Đã in vé mẫu số {ticket.number} / sample ticket printed ({size} bytes)")
    if isinstance(printer, FakePrinter):
        print("(dummy printer: nothing left this computer)")
    elif not printer.bidirectional:
        print("This link is one-way: check the paper to confirm the ticket came out.")
    return 0
