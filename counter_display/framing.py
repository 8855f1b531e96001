"""The motcua serial framing of SERIAL.md: pure bytes in, bytes out.

    STX ADDR CMD SEQ LEN PAYLOAD... CRC_LO CRC_HI   (CRC-16/MODBUS over ADDR..PAYLOAD)

`encode` turns a `Frame` into bytes; `StreamDecoder` turns a byte stream (split
reads, garbage, corrupted frames) back into frames. No I/O and no clocks here:
the caller passes the time in when it wants the inter-byte timeout applied.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from devices.errors import ProtocolError

__all__ = [
    "ACK",
    "BLINK",
    "BRIGHTNESS",
    "BROADCAST",
    "CLEAR",
    "KEYS",
    "KEY_ACTIONS",
    "KEY_CODES",
    "MAX_PAYLOAD",
    "NAK",
    "PING",
    "POLL",
    "RATING_KEY_BASE",
    "SHOW",
    "STATUS",
    "STX",
    "Frame",
    "KeyEvent",
    "StreamDecoder",
    "blink_payload",
    "brightness_payload",
    "crc16_modbus",
    "encode",
    "keys_payload",
    "parse_show_payload",
    "rating_key",
    "read_keys",
    "show_payload",
]

STX: Final = 0x02
BROADCAST: Final = 0xFF
MAX_PAYLOAD: Final = 240
HEADER_LEN: Final = 5  # STX ADDR CMD SEQ LEN
OVERHEAD: Final = HEADER_LEN + 2  # header + CRC

# host -> device
SHOW: Final = 0x10
BLINK: Final = 0x11
CLEAR: Final = 0x12
BRIGHTNESS: Final = 0x13
PING: Final = 0x20
POLL: Final = 0x30
# device -> host
ACK: Final = 0x06
NAK: Final = 0x15
STATUS: Final = 0x21
KEYS: Final = 0x31

# KEYS payload codes of the staff keypad, named as on MQTT (CONTRACT.md section 4)
KEY_ACTIONS: Final[dict[int, str]] = {
    0x01: "next",
    0x02: "recall",
    0x03: "no_show",
    0x04: "start",
    0x05: "finish",
    0x06: "pause",
    0x07: "transfer",
}
KEY_CODES: Final[dict[str, int]] = {name: code for code, name in KEY_ACTIONS.items()}
RATING_KEY_BASE: Final = 0x40  # 0x41..0x45 = rating 1..5
MAX_RATING: Final = 5

_SHOW_NUMBER = re.compile(r"[0-9A-Za-z]{1,16}")


def crc16_modbus(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF) of data."""
    crc = 0xFFFF
    for byte in bytes(data):
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame of the bus, checked when made."""

    addr: int
    cmd: int
    seq: int
    payload: bytes = b""

    def __post_init__(self) -> None:
        if not isinstance(self.payload, bytes):
            raise TypeError(f"payload must be bytes, not {type(self.payload).__name__}")
        if not 1 <= self.addr <= 0xFF:
            raise ValueError(f"addr {self.addr} outside 1..255")
        if not 0 <= self.cmd <= 0xFF:
            raise ValueError(f"cmd {self.cmd} outside 0..255")
        if not 0 <= self.seq <= 0xFF:
            raise ValueError(f"seq {self.seq} outside 0..255")
        if len(self.payload) > MAX_PAYLOAD:
            raise ValueError(f"payload of {len(self.payload)} bytes exceeds {MAX_PAYLOAD}")


def encode(frame: Frame) -> bytes:
    """The wire bytes of frame, CRC included."""
    body = bytes((frame.addr, frame.cmd, frame.seq, len(frame.payload))) + frame.payload
    crc = crc16_modbus(body)
    return bytes((STX,)) + body + bytes((crc & 0xFF, crc >> 8))


class StreamDecoder:
    """Incremental decoder: feed it whatever the line gave, get whole frames back.

    It hunts for STX, waits for LEN + 2 bytes, and drops a candidate whose header is
    impossible or whose CRC is wrong. A dropped candidate costs only its STX byte:
    the bytes after it are scanned again, so a stray 0x02 in line noise cannot
    swallow the real frame that follows it.
    """

    def __init__(self, inter_byte_timeout_s: float | None = None) -> None:
        self.inter_byte_timeout_s = inter_byte_timeout_s
        self.bad_crc = 0
        self.dropped_bytes = 0
        self.frames = 0
        self._buf = bytearray()
        self._last_byte_at: float | None = None

    @property
    def pending(self) -> int:
        """Bytes held while waiting for the rest of a frame."""
        return len(self._buf)

    def feed(self, data: bytes, now: float | None = None) -> list[Frame]:
        """Add bytes read at time now (optional) and return the frames completed by them."""
        out: list[Frame] = []
        if (
            now is not None
            and self.inter_byte_timeout_s is not None
            and self._buf
            and self._last_byte_at is not None
            and now - self._last_byte_at > self.inter_byte_timeout_s
        ):
            # the line went quiet mid-frame: what we hold can never complete
            out.extend(self.flush())
        if data:
            self._buf += data
            if now is not None:
                self._last_byte_at = now
        out.extend(self._scan(final=False))
        return out

    def flush(self) -> list[Frame]:
        """End of a burst (inter-byte timeout): return hidden frames, drop the incomplete rest."""
        out = self._scan(final=True)
        self.dropped_bytes += len(self._buf)
        self._buf.clear()
        return out

    def reset(self) -> None:
        """Forget buffered bytes (counted as dropped), e.g. before a new request."""
        self.dropped_bytes += len(self._buf)
        self._buf.clear()

    def _scan(self, *, final: bool) -> list[Frame]:
        out: list[Frame] = []
        buf = self._buf
        while buf:
            start = buf.find(STX)
            if start < 0:
                self.dropped_bytes += len(buf)
                buf.clear()
                break
            if start:
                self.dropped_bytes += start
                del buf[:start]
            if len(buf) < HEADER_LEN:
                if final:
                    self._drop_stx()
                    continue
                break
            addr, length = buf[1], buf[4]
            if addr == 0 or length > MAX_PAYLOAD:
                self._drop_stx()
                continue
            total = OVERHEAD + length
            if len(buf) < total:
                if final:
                    self._drop_stx()
                    continue
                break
            body = bytes(buf[1 : total - 2])
            if crc16_modbus(body) != buf[total - 2] | (buf[total - 1] << 8):
                self.bad_crc += 1
                self._drop_stx()
                continue
            out.append(Frame(addr=body[0], cmd=body[1], seq=body[2], payload=body[4:]))
            self.frames += 1
            del buf[:total]
        return out

    def _drop_stx(self) -> None:
        self.dropped_bytes += 1
        del self._buf[:1]


def show_payload(number: str, counter: int) -> bytes:
    """SHOW payload "NUMBER|COUNTER", counter zero-padded to two digits as in SERIAL.md."""
    if not _SHOW_NUMBER.fullmatch(number):
        raise ValueError(f"number {number!r} must be 1-16 ASCII letters or digits")
    if not 0 <= counter <= 999:
        raise ValueError(f"counter {counter} outside 0..999")
    return f"{number}|{counter:02d}".encode("ascii")


def parse_show_payload(payload: bytes) -> tuple[str, int]:
    """Split a SHOW payload into (number, counter)."""
    try:
        number, _, counter = payload.decode("ascii").partition("|")
    except UnicodeDecodeError as exc:
        raise ProtocolError("SHOW payload is not ASCII") from exc
    if not _SHOW_NUMBER.fullmatch(number) or not counter.isdigit():
        raise ProtocolError(f"SHOW payload {payload!r} is not NUMBER|COUNTER")
    return number, int(counter)


def blink_payload(seconds: int) -> bytes:
    """BLINK payload: one byte of seconds (0 stops blinking)."""
    if not 0 <= seconds <= 0xFF:
        raise ValueError(f"blink seconds {seconds} outside 0..255")
    return bytes((seconds,))


def brightness_payload(level: int) -> bytes:
    """BRIGHTNESS payload: one byte 0-15."""
    if not 0 <= level <= 15:
        raise ValueError(f"brightness {level} outside 0..15")
    return bytes((level,))


def rating_key(score: int) -> int:
    """KEYS code of rating score 1..5."""
    if not 1 <= score <= MAX_RATING:
        raise ValueError(f"rating {score} outside 1..{MAX_RATING}")
    return RATING_KEY_BASE + score


@dataclass(frozen=True, slots=True)
class KeyEvent:
    """One key press reported in a KEYS payload."""

    code: int
    press_seq: int

    def __post_init__(self) -> None:
        if self.code not in KEY_ACTIONS and not 1 <= self.code - RATING_KEY_BASE <= MAX_RATING:
            raise ValueError(f"unknown key code 0x{self.code:02x}")
        if not 0 <= self.press_seq <= 0xFF:
            raise ValueError(f"press seq {self.press_seq} outside 0..255")

    @property
    def action(self) -> str | None:
        """Staff key name (next, recall, ...) or None for a rating key."""
        return KEY_ACTIONS.get(self.code)

    @property
    def score(self) -> int | None:
        """Rating 1..5, or None for a staff key."""
        return None if self.code in KEY_ACTIONS else self.code - RATING_KEY_BASE


def keys_payload(events: Iterable[KeyEvent]) -> bytes:
    """KEYS payload: KEY, PRESS_SEQ per press."""
    out = bytearray()
    for event in events:
        out += bytes((event.code, event.press_seq))
    if len(out) > MAX_PAYLOAD:
        raise ValueError(f"{len(out) // 2} presses do not fit in one frame")
    return bytes(out)


def read_keys(payload: bytes) -> tuple[list[KeyEvent], list[tuple[int, int]]]:
    """Decode a KEYS payload: the presses of known keys, and (KEY, PRESS_SEQ) of unknown ones.

    A key SERIAL.md does not list (a vendor's extra key) costs only itself: the presses
    beside it in the same answer are real, and the keypad will not send them again.
    ProtocolError on an odd length, where no pair can be trusted.
    """
    if len(payload) % 2:
        raise ProtocolError(f"KEYS payload has odd length {len(payload)}")
    events: list[KeyEvent] = []
    unknown: list[tuple[int, int]] = []
    for i in range(0, len(payload), 2):
        try:
            events.append(KeyEvent(code=payload[i], press_seq=payload[i + 1]))
        except ValueError:
            unknown.append((payload[i], payload[i + 1]))
    return events, unknown

