"""Printer addresses (tcp://HOST:9100, serial:PORT, file:PATH, dummy) and the printer each opens.

Options go in the query string: tcp://10.0.0.5:9100?timeout=5&status=off,
serial:/dev/ttyUSB0?baud=19200&timeout=1. status=off is for printers that never
answer DLE EOT: they are then treated like a one-way link.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal
from urllib.parse import parse_qs, urlsplit

from escpos.printer import File, Network, Serial

from devices.printer.driver import EscposTicketPrinter
from devices.printer.fake import FakePrinter
from devices.printer.profile import PrinterProfile
from devices.registry import BAUD_RATES

__all__ = [
    "SERIAL_TIMEOUT_S",
    "ClosingNetwork",
    "PrinterAddress",
    "PromptSerial",
    "open_printer",
    "parse_printer_url",
]

Kind = Literal["tcp", "serial", "file", "dummy"]
SERIAL_TIMEOUT_S: Final = 2.0  # a status byte answers well within it


@dataclass(frozen=True)
class PrinterAddress:
    """Where a printer is and how to talk to it; checked when made."""

    kind: Kind
    target: str = ""  # host, serial port or file path
    port: int = 9100
    baudrate: int = 9600
    timeout_s: float = 10.0
    status: bool = True

    def __post_init__(self) -> None:
        if self.kind not in ("tcp", "serial", "file", "dummy"):
            raise ValueError(f"printer kind {self.kind!r} is not tcp, serial, file or dummy")
        if self.kind != "dummy" and not self.target:
            raise ValueError(f"a {self.kind} printer needs a host, port or path")
        if not 0 < self.port < 65536:
            raise ValueError(f"TCP port {self.port} is out of range")
        if self.baudrate not in BAUD_RATES:
            raise ValueError(f"baud rate {self.baudrate} is not one of {BAUD_RATES}")
        if not 0 < self.timeout_s <= 120:
            raise ValueError(f"timeout {self.timeout_s}s is not within (0, 120]")


def _options(query: str, allowed: set[str]) -> dict[str, str]:
    options = {key: values[-1] for key, values in parse_qs(query, strict_parsing=False).items()}
    unknown = set(options) - allowed
    if unknown:
        raise ValueError(f"unknown printer option(s) {', '.join(sorted(unknown))}; "
                         f"allowed: {', '.join(sorted(allowed))}")
    return options


def _flag(value: str) -> bool:
    if value.lower() in ("on", "1", "true", "yes"):
        return True
    if value.lower() in ("off", "0", "false", "no"):
        return False
    raise ValueError(f"status={value!r} is not on or off")


def _number(value: str, name: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a number") from None


def parse_printer_url(url: str) -> PrinterAddress:
    """Parse tcp://HOST[:PORT], serial:PORT, file:PATH or dummy (with ?options)."""
    text = url.strip()
    if text == "dummy":
        return PrinterAddress(kind="dummy")
    scheme, _, rest = text.partition(":")
    path, _, query = rest.partition("?")
    if scheme == "tcp":
        parts = urlsplit(text)
        options = _options(parts.query, {"timeout", "status"})
        try:
            port = parts.port or 9100
        except ValueError:
            raise ValueError(f"{url!r} has a bad port number") from None
        return PrinterAddress(
            kind="tcp",
            target=parts.hostname or "",
            port=port,
            timeout_s=_number(options.get("timeout", "10"), "timeout"),
            status=_flag(options.get("status", "on")),
        )
    if scheme == "serial":
        options = _options(query, {"baud", "timeout", "status"})
        return PrinterAddress(
            kind="serial",
            target=path,
            baudrate=int(_number(options.get("baud", "9600"), "baud")),
            timeout_s=_number(options.get("timeout", str(SERIAL_TIMEOUT_S)), "timeout"),
            status=_flag(options.get("status", "on")),
        )
    if scheme == "file":
        _options(query, set())
        return PrinterAddress(kind="file", target=path)
    raise ValueError(f"printer {url!r} is not tcp://HOST:9100, serial:PORT, file:PATH or dummy")


class ClosingNetwork(Network):  # type: ignore[misc]  # python-escpos ships no type hints
    """escpos Network whose open() closes its socket when the connection fails.

    escpos 3.1 drops the half-made socket on a failed connect, which leaks it
    (a ResourceWarning per retry while a printer is down).
    """

    def open(self, raise_not_found: bool = True) -> None:
        """Connect to host:port within the timeout; raise OSError when that fails."""
        self.close()
        self.device = socket.create_connection((self.host, self.port), timeout=self.timeout)


class PromptSerial(Serial):  # type: ignore[misc]  # python-escpos ships no type hints
    """escpos Serial whose read returns as soon as a status byte is in.

    escpos 3.1 reads 16 bytes, so every one-byte DLE EOT answer waits out the
    whole serial timeout.
    """

    def _read(self) -> bytes:
        """Read what has arrived, waiting (up to the timeout) for at least one byte."""
        assert self.device
        data: bytes = self.device.read(max(1, self.device.in_waiting))
        return data


def _writable_probe(path: str) -> None:
    target = Path(path)
    # A USB printer's device file vanishes when it is unplugged or switched off.
    if target.exists():
        if not os.access(target, os.W_OK):
            raise PermissionError(f"{path} is not writable by this user")
    elif not target.parent.is_dir():
        raise FileNotFoundError(f"{path} does not exist")


def _connect_probe(host: str, port: int, timeout_s: float) -> None:
    # Without status bytes, accepting a connection is the only sign of life.
    socket.create_connection((host, port), timeout=timeout_s).close()


def _label(where: PrinterAddress) -> str:
    if where.kind == "tcp":
        return f"tcp://{where.target}:{where.port}"
    return f"{where.kind}:{where.target}" if where.target else where.kind


def open_printer(
    address: str | PrinterAddress, profile: PrinterProfile, *, name: str | None = None
) -> EscposTicketPrinter:
    """Build the TicketPrinter for an address; nothing connects until the first job or status."""
    where = parse_printer_url(address) if isinstance(address, str) else address
    label = name or _label(where)
    if where.kind == "dummy":
        return FakePrinter(profile, name=label)
    if where.kind == "tcp":
        network = ClosingNetwork(host=where.target, port=where.port, timeout=where.timeout_s)
        return EscposTicketPrinter(
            network, profile, bidirectional=where.status, name=label,
            probe=lambda: _connect_probe(where.target, where.port, where.timeout_s),
        )
    if where.kind == "serial":
        line = PromptSerial(devfile=where.target, baudrate=where.baudrate, timeout=where.timeout_s,
                            dsrdtr=False)
        return EscposTicketPrinter(
            line, profile, bidirectional=where.status, name=label,
            probe=lambda: _writable_probe(where.target),
        )
    device = File(devfile=where.target)
    return EscposTicketPrinter(
        device, profile, bidirectional=False, name=label,
        probe=lambda: _writable_probe(where.target),
    )
