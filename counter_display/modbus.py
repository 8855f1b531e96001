"""Modbus RTU codec for LED-485 counter displays: pure bytes in, bytes out.

The LED-485 family shows the number written with function 06 (write single
register) to register 0x0000. Function 03 (read holding registers) is used only
as a liveness probe. A slave answers 06 with an echo of the request and an error
with an exception response (function | 0x80, exception code), which becomes a
ProtocolError here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from counter_display.framing import crc16_modbus
from devices.errors import ProtocolError

__all__ = [
    "EXCEPTION_NAMES",
    "READ_HOLDING",
    "WRITE_SINGLE",
    "ReadHolding",
    "WriteSingle",
    "decode_request",
    "encode_exception",
    "encode_read_response",
    "encode_request",
    "parse_read_response",
    "parse_write_response",
    "response_length",
    "with_crc",
]

READ_HOLDING: Final = 0x03
WRITE_SINGLE: Final = 0x06
REQUEST_LEN: Final = 8  # addr func reg_hi reg_lo val_hi val_lo crc_lo crc_hi
EXCEPTION_LEN: Final = 5
NUMBER_REGISTER: Final = 0x0000

EXCEPTION_NAMES: Final[dict[int, str]] = {
    0x01: "illegal function",
    0x02: "illegal data address",
    0x03: "illegal data value",
    0x04: "slave device failure",
    0x06: "slave device busy",
}


def _check_u16(name: str, value: int) -> None:
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"{name} {value} outside 0..65535")


@dataclass(frozen=True, slots=True)
class WriteSingle:
    """Function 06: write value to one holding register of a slave."""

    addr: int
    register: int
    value: int

    def __post_init__(self) -> None:
        if not 1 <= self.addr <= 247:
            raise ValueError(f"modbus address {self.addr} outside 1..247")
        _check_u16("register", self.register)
        _check_u16("value", self.value)


@dataclass(frozen=True, slots=True)
class ReadHolding:
    """Function 03: read count holding registers starting at register."""

    addr: int
    register: int
    count: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.addr <= 247:
            raise ValueError(f"modbus address {self.addr} outside 1..247")
        _check_u16("register", self.register)
        if not 1 <= self.count <= 125:
            raise ValueError(f"register count {self.count} outside 1..125")


def with_crc(body: bytes) -> bytes:
    """body followed by its CRC-16/MODBUS, low byte first."""
    crc = crc16_modbus(body)
    return body + bytes((crc & 0xFF, crc >> 8))


def encode_request(request: WriteSingle | ReadHolding) -> bytes:
    """Wire bytes of a request."""
    if isinstance(request, WriteSingle):
        fields = (request.register, request.value)
        func = WRITE_SINGLE
    else:
        fields = (request.register, request.count)
        func = READ_HOLDING
    return with_crc(bytes((request.addr, func)) + b"".join(f.to_bytes(2, "big") for f in fields))


def _check_crc(frame: bytes) -> None:
    if len(frame) < 4 or crc16_modbus(frame[:-2]) != frame[-2] | (frame[-1] << 8):
        raise ProtocolError(f"modbus frame {frame.hex(' ')} has a bad CRC")


def response_length(head: bytes) -> int | None:
    """Total length of the response starting with head, or None until 3 bytes are known."""
    if len(head) < 2:
        return None
    func = head[1]
    if func & 0x80:
        return EXCEPTION_LEN
    if func == WRITE_SINGLE:
        return REQUEST_LEN
    if func == READ_HOLDING:
        return None if len(head) < 3 else 5 + head[2]
    raise ProtocolError(f"unexpected modbus function 0x{func:02x}")


def _raise_if_exception(request_func: int, frame: bytes) -> None:
    if frame[1] == request_func | 0x80:
        _check_crc(frame[:EXCEPTION_LEN])
        code = frame[2]
        name = EXCEPTION_NAMES.get(code, "unknown exception")
        raise ProtocolError(f"modbus exception 0x{code:02x} ({name})")


def parse_write_response(request: WriteSingle, frame: bytes) -> None:
    """Accept the echo of request; ProtocolError on exception, bad CRC or mismatch."""
    _raise_if_exception(WRITE_SINGLE, frame)
    _check_crc(frame)
    if frame != encode_request(request):
        raise ProtocolError(f"modbus echo {frame.hex(' ')} does not match the request")


def parse_read_response(request: ReadHolding, frame: bytes) -> tuple[int, ...]:
    """Register values answered to request; ProtocolError on exception or malformed."""
    _raise_if_exception(READ_HOLDING, frame)
    _check_crc(frame)
    if frame[0] != request.addr or frame[1] != READ_HOLDING or frame[2] != 2 * request.count:
        raise ProtocolError(f"modbus read response {frame.hex(' ')} does not match the request")
    data = frame[3:-2]
    return tuple(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))


# slave side, used by the emulator


def decode_request(frame: bytes) -> WriteSingle | ReadHolding:
    """Parse an 8-byte 03/06 request (slave side); ProtocolError otherwise."""
    if len(frame) != REQUEST_LEN:
        raise ProtocolError(f"modbus request of {len(frame)} bytes, expected {REQUEST_LEN}")
    _check_crc(frame)
    addr, func = frame[0], frame[1]
    first = int.from_bytes(frame[2:4], "big")
    second = int.from_bytes(frame[4:6], "big")
    try:
        if func == WRITE_SINGLE:
            return WriteSingle(addr, first, second)
        if func == READ_HOLDING:
            return ReadHolding(addr, first, second)
    except ValueError as exc:
        raise ProtocolError(f"modbus request: {exc}") from exc
    raise ProtocolError(f"unsupported modbus function 0x{func:02x}")


def encode_exception(addr: int, func: int, code: int) -> bytes:
    """Exception response of a slave."""
    return with_crc(bytes((addr, func | 0x80, code)))


def encode_read_response(addr: int, values: tuple[int, ...]) -> bytes:
    """Function 03 response carrying values."""
    data = b"".join(v.to_bytes(2, "big") for v in values)
    return with_crc(bytes((addr, READ_HOLDING, len(data))) + data)
