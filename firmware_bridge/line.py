"""An asyncio byte line over a pyserial port (a real UART or a socat pty).

Reads never block the event loop: the port's file descriptor is watched with
`loop.add_reader`. Writes can be paced to the baud rate (10 bits a byte), because
a pty delivers instantly and timing figures would otherwise flatter the bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from types import TracebackType
from typing import Any, Protocol

import serial
import serial.rs485

from devices.errors import DeviceUnavailable

__all__ = ["ByteLine", "SerialLine"]

BITS_PER_BYTE = 10  # start + 8 data + stop


class ByteLine(Protocol):
    """What the bus master and the emulators need from a half-duplex line."""

    async def write(self, data: bytes) -> None:
        """Send data; returns once it would have left the wire."""

    async def read(self, timeout_s: float) -> bytes:
        """Bytes received so far, waiting up to timeout_s for at least one; b"" on timeout."""

    def discard_input(self) -> int:
        """Drop what was received and not read yet; return how many bytes."""


class SerialLine:
    """A ByteLine on a serial port path; open it with `async with`."""

    def __init__(
        self, port: str, baud: int = 9600, *, pace: bool = True, rs485: bool = False
    ) -> None:
        self.port = port
        self.baud = baud
        self.pace = pace
        # RS-485 direction control is a UART ioctl: it fails on a pty, so it is opt-in
        self.rs485 = rs485
        self.bytes_in = 0
        self.bytes_out = 0
        self._serial: Any = None
        self._fd = -1
        self._buf = bytearray()
        self._readable = asyncio.Event()
        self._error: DeviceUnavailable | None = None

    @property
    def byte_time_s(self) -> float:
        """Time one byte takes on the wire at this baud rate."""
        return BITS_PER_BYTE / self.baud

    async def __aenter__(self) -> SerialLine:
        try:
            port = serial.Serial(self.port, self.baud, timeout=0, write_timeout=2)
        except (serial.SerialException, OSError) as exc:
            raise DeviceUnavailable(f"cannot open serial port {self.port}: {exc}") from exc
        if self.rs485:
            port.rs485_mode = serial.rs485.RS485Settings()
        self._serial = port
        self._fd = port.fileno()
        asyncio.get_running_loop().add_reader(self._fd, self._on_readable)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop_reading()
        if self._serial is not None:
            with contextlib.suppress(OSError, serial.SerialException):
                self._serial.close()
            self._serial = None

    def _stop_reading(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(RuntimeError, ValueError, OSError):
                asyncio.get_running_loop().remove_reader(self._fd)
            self._fd = -1

    def _on_readable(self) -> None:
        try:
            data = os.read(self._fd, 4096)
        except BlockingIOError:
            return
        except OSError as exc:
            data, reason = b"", str(exc)
        else:
            reason = "the other end closed the line"
        if not data:
            # the pty peer (or the USB adapter) went away: every waiter must learn it
            self._error = DeviceUnavailable(f"serial port {self.port}: {reason}")
            self._stop_reading()
        else:
            self._buf += data
            self.bytes_in += len(data)
        self._readable.set()

    async def write(self, data: bytes) -> None:
        """Send data, after the time it takes on the wire when pacing."""
        if self._error is not None:
            raise self._error
        if self._serial is None:
            raise DeviceUnavailable(f"serial port {self.port} is not open")
        if self.pace:
            # the far end of a real line has the whole frame only once it was shifted out
            await asyncio.sleep(len(data) * self.byte_time_s)
        try:
            self._serial.write(data)
        except (serial.SerialException, OSError) as exc:
            raise DeviceUnavailable(f"serial port {self.port}: {exc}") from exc
        self.bytes_out += len(data)

    async def read(self, timeout_s: float) -> bytes:
        """Bytes received so far, waiting up to timeout_s for the first one."""
        if not self._buf and self._error is None and timeout_s > 0:
            self._readable.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await self._readable.wait()
        if self._buf:
            data = bytes(self._buf)
            self._buf.clear()
            return data
        if self._error is not None:
            raise self._error
        return b""

    def discard_input(self) -> int:
        """Drop unread input, e.g. a late answer to an earlier attempt."""
        dropped = len(self._buf)
        self._buf.clear()
        return dropped
