"""The real ticket printer: ESC/POS job bytes sent through an injected python-escpos printer.

The escpos printer (Network, Serial, File, Dummy, or the fake device) is only
the link: open, write bytes, read status bytes, close. Job bytes come from
encode.py, status bytes are read by status.py; this module owns the session
(one connection per job, always closed) and turns link failures into the
devices.errors tree.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Protocol

import escpos.exceptions
import serial

from devices.errors import DeviceError, DeviceTimeout, DeviceUnavailable
from devices.printer.encode import encode_ticket
from devices.printer.profile import PrinterProfile
from devices.printer.status import (
    STATUS_ERROR_CAUSE,
    STATUS_OFFLINE_CAUSE,
    STATUS_PAPER,
    STATUS_PRINTER,
    PrinterHealth,
    health_from_status,
    parse_offline_cause,
    parse_printer_online,
    status_query,
)
from devices.printer.ticket import TicketPrint

__all__ = ["EscposDriver", "EscposTicketPrinter"]


class EscposDriver(Protocol):
    """The part of a python-escpos printer this driver uses: a byte link."""

    def open(self) -> None:
        """Connect (socket, serial port, device file)."""
        ...

    def close(self) -> None:
        """Disconnect; safe to call when not connected."""
        ...

    def _raw(self, msg: bytes) -> None:
        """Write bytes to the printer (python-escpos names it _raw; Dummy docs send jobs so)."""
        ...

    def _read(self) -> bytes:
        """Read what the printer sent back."""
        ...


class EscposTicketPrinter:
    """A TicketPrinter over any python-escpos link, with DLE EOT health when it can read back."""

    def __init__(
        self,
        driver: EscposDriver,
        profile: PrinterProfile,
        *,
        bidirectional: bool,
        name: str = "printer",
        probe: Callable[[], None] | None = None,
    ) -> None:
        # probe: how status() checks a link without status bytes (raise OSError if gone).
        self._driver = driver
        self._profile = profile
        self._bidirectional = bidirectional
        self._probe = probe
        self.name = name
        # One job or status query at a time: a status poll must not interleave
        # its DLE EOT with a job on the same link.
        self._lock = threading.Lock()

    @property
    def profile(self) -> PrinterProfile:
        """Paper width and raster ability of this printer."""
        return self._profile

    @property
    def bidirectional(self) -> bool:
        """True when the link can read status bytes back (network, serial)."""
        return self._bidirectional

    def print_ticket(self, ticket: TicketPrint) -> None:
        """Render, encode and send one ticket; raise a DeviceError if it did not print."""
        self.send_job(encode_ticket(ticket, self._profile))

    def send_job(self, job: bytes) -> None:
        """Send finished ESC/POS job bytes, checking health before and after when possible."""
        with self._lock, self._session():
            if self._bidirectional:
                before = self._health()
                if not before.can_print:
                    raise DeviceUnavailable(f"{self.name} cannot print: {before.describe()}")
            # No probe here: opening the link already proved it is there, and a
            # second connection would be refused by printers that take only one.
            self._driver._raw(job)
            if self._bidirectional:
                # A printer answering DLE EOT after the job proves the link held
                # to the end; a dropped connection shows up here even when the
                # kernel had already accepted every byte of the job.
                self._discard_pending_input()
                after = self._health()
                if not after.can_print:
                    raise DeviceUnavailable(f"{self.name} stopped during the job: "
                                            f"{after.describe()}")

    def status(self) -> PrinterHealth:
        """Report health (DLE EOT on two-way links); unreachable is reported, not raised."""
        try:
            with self._lock:
                if not self._bidirectional:
                    if self._probe is not None:
                        with self._translated():
                            self._probe()
                    return PrinterHealth(reachable=True)
                with self._session():
                    return self._health()
        except DeviceError as exc:
            return PrinterHealth(reachable=False, error=str(exc))

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except DeviceError:
            raise
        except escpos.exceptions.Error as exc:
            raise DeviceUnavailable(f"{self.name}: {exc}".strip()) from exc
        except (TimeoutError, serial.SerialTimeoutException) as exc:
            raise DeviceTimeout(f"{self.name} did not answer in time") from exc
        except OSError as exc:
            raise DeviceUnavailable(f"{self.name}: {exc}") from exc

    @contextmanager
    def _session(self) -> Iterator[None]:
        # One connection per job: a printer restarted between jobs, or a socket
        # half-closed by a switch, costs nothing, and other hosts may use it too.
        try:
            with self._translated():
                self._driver.open()
                yield
        finally:
            with suppress(Exception):
                self._driver.close()

    def _query(self, n: int) -> int:
        self._driver._raw(status_query(n))
        reply = self._driver._read()
        if not reply:
            raise DeviceUnavailable(f"{self.name} closed the link or did not answer DLE EOT {n}")
        # The latest byte is the answer; anything before it is a late reply.
        return reply[-1]

    def _health(self) -> PrinterHealth:
        printer = self._query(STATUS_PRINTER)
        paper = self._query(STATUS_PAPER)
        offline = error = None
        if not parse_printer_online(printer):
            offline = self._query(STATUS_OFFLINE_CAUSE)
            if parse_offline_cause(offline).error:
                error = self._query(STATUS_ERROR_CAUSE)
        return health_from_status(printer, paper, offline, error)

    def _discard_pending_input(self) -> None:
        # Printers that obey real-time commands anywhere may answer bytes inside
        # the raster data that happen to read DLE EOT n; drop those answers so
        # the next query reads its own reply.
        link = getattr(self._driver, "_device", None)
        if isinstance(link, socket.socket):
            timeout = link.gettimeout()
            # Non-blocking for the drain only: with a timeout set, CPython waits
            # for readability before recv, MSG_DONTWAIT or not.
            link.settimeout(0.0)
            try:
                with suppress(BlockingIOError, InterruptedError):
                    while link.recv(4096):
                        pass
            finally:
                link.settimeout(timeout)
        elif isinstance(link, serial.Serial):
            link.reset_input_buffer()
