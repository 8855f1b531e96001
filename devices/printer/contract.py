"""The one small contract every ticket printer (real driver or fake) fulfils."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from devices.printer.profile import PrinterProfile
from devices.printer.status import PrinterHealth
from devices.printer.ticket import TicketPrint

__all__ = ["TicketPrinter"]


@runtime_checkable
class TicketPrinter(Protocol):
    """A ticket printer. Both methods block: call them from a thread (PrintQueue does)."""

    @property
    def profile(self) -> PrinterProfile:
        """Paper width and raster ability of this printer."""
        ...

    def print_ticket(self, ticket: TicketPrint) -> None:
        """Print one ticket, or raise a DeviceError saying why it did not print."""
        ...

    def status(self) -> PrinterHealth:
        """Report the printer's health; never raises DeviceError (unreachable is a health)."""
        ...
