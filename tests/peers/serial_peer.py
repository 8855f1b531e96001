"""A clean-room device side of SERIAL.md: framing, an LED display, a keypad, a bus on a pty.

Everything is derived from the document's text, nothing from motcua's code:

    STX ADDR CMD SEQ LEN PAYLOAD... CRC_LO CRC_HI   CRC-16/MODBUS over ADDR..PAYLOAD

Readings this peer takes where SERIAL.md leaves room (each is a note in the report):

- Duplicates are recognised by SEQ alone, per device: "a retry repeats the same SEQ so the
  device can drop a duplicate and still acknowledge it". The acknowledgement of a duplicate is
  the answer given to the original (for a POLL, the same KEYS again), so an answer lost on the
  line loses no presses.
- The inter-byte timeout is not given a value; 50 ms here (about 48 byte times at 9600 baud).
- STATUS carries JSON (the document allows "JSON or TLV"; TLV is not specified further).
- NAK reasons are not enumerated; this peer uses 0x01 unknown command, 0x02 bad payload.
- SHOW's "NUMBER|COUNTER" counter is written as in the example ("05"), read as any digits.

Misbehaviour for conformance tests is injected per device with `misbehave`: a function of
(request, encoded answer) returning the writes to make instead, each (delay_s, bytes).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import serial

STX = 0x02
BROADCAST = 0xFF
MAX_LEN = 240
INTER_BYTE_TIMEOUT_S = 0.05

# host -> device
SHOW, BLINK, CLEAR, BRIGHTNESS, PING, POLL = 0x10, 0x11, 0x12, 0x13, 0x20, 0x30
HOST_COMMANDS = frozenset({SHOW, BLINK, CLEAR, BRIGHTNESS, PING, POLL})
# device -> host
ACK, NAK, STATUS, KEYS = 0x06, 0x15, 0x21, 0x31

NAK_UNKNOWN_COMMAND, NAK_BAD_PAYLOAD = 0x01, 0x02
KEY_CODES = {"next": 0x01, "recall": 0x02, "no_show": 0x03, "start": 0x04, "finish": 0x05,
             "pause": 0x06, "transfer": 0x07}
RATING_BASE = 0x40  # 0x41..0x45 = rating 1..5


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc_table()


def crc16_modbus(data: bytes) -> int:
    """CRC-16/MODBUS: poly 0xA001 reflected, init 0xFFFF (table driven)."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc


def frame(addr: int, cmd: int, seq: int, payload: bytes = b"") -> bytes:
    """The bytes of one frame, CRC little-endian."""
    if len(payload) > MAX_LEN:
        raise ValueError("LEN is 0-240")
    body = bytes([addr, cmd, seq & 0xFF, len(payload)]) + payload
    crc = crc16_modbus(body)
    return bytes([STX]) + body + crc.to_bytes(2, "little")


@dataclass(frozen=True)
class Parsed:
    """One frame read off the line, with the exact bytes it came in."""

    addr: int
    cmd: int
    seq: int
    payload: bytes
    raw: bytes


class Decoder:
    """Hunts for STX, reads the header, waits for LEN + 2 bytes with an inter-byte timeout and
    drops a frame with a bad CRC (counting it); the hunt then goes on after that STX."""

    def __init__(self, inter_byte_timeout_s: float = INTER_BYTE_TIMEOUT_S) -> None:
        self.inter_byte_timeout_s = inter_byte_timeout_s
        self.bad_crc = 0
        self.noise = 0  # bytes outside any frame
        self.timed_out = 0  # partial frames abandoned after the inter-byte timeout
        self._buf = bytearray()
        self._last = 0.0

    def feed(self, data: bytes, now: float) -> list[Parsed]:
        if self._buf and now - self._last > self.inter_byte_timeout_s:
            self.timed_out += 1
            self.noise += len(self._buf)
            self._buf.clear()
        self._buf += data
        self._last = now
        out: list[Parsed] = []
        while self._buf:
            if self._buf[0] != STX:
                self.noise += 1
                del self._buf[0]
                continue
            if len(self._buf) < 5:
                break
            length = self._buf[4]
            if length > MAX_LEN:
                self.noise += 1
                del self._buf[0]
                continue
            size = 5 + length + 2
            if len(self._buf) < size:
                break
            raw = bytes(self._buf[:size])
            if crc16_modbus(raw[1:-2]) != int.from_bytes(raw[-2:], "little"):
                self.bad_crc += 1
                self.noise += 1
                del self._buf[0]
                continue
            del self._buf[:size]
            out.append(Parsed(raw[1], raw[2], raw[3], raw[5:-2], raw))
        return out


Misbehave = Callable[[Parsed, bytes], list[tuple[float, bytes]]]


@dataclass
class Device:
    """What every device of the bus does: its address, SEQ duplicates, PING, faults."""

    addr: int
    firmware: str = "peer-1.0"
    silent: bool = False
    misbehave: Misbehave | None = None
    requests: list[Parsed] = field(default_factory=list)  # every frame addressed to it
    duplicates: int = 0
    errors: int = 0
    started: float = field(default_factory=time.monotonic)
    _last_seq: int | None = None
    _last_answer: bytes | None = None

    def answer(self, request: Parsed) -> bytes | None:
        """The bytes to send back for a request addressed to this device (None: nothing)."""
        self.requests.append(request)
        if request.addr == BROADCAST:
            self.act(request)  # never acknowledged
            return None
        if request.seq == self._last_seq and self._last_answer is not None:
            self.duplicates += 1
            return self._last_answer
        cmd, payload = self.act(request)
        answer = frame(self.addr, cmd, request.seq, payload)
        self._last_seq, self._last_answer = request.seq, answer
        return answer

    def act(self, request: Parsed) -> tuple[int, bytes]:
        if request.cmd == PING:
            health = {"firmware": self.firmware, "errors": self.errors,
                      "uptime": round(time.monotonic() - self.started, 1)}
            return STATUS, json.dumps(health).encode()
        return self.nak(NAK_UNKNOWN_COMMAND)

    def nak(self, reason: int) -> tuple[int, bytes]:
        self.errors += 1
        return NAK, bytes([reason])


@dataclass
class Display(Device):
    """An LED counter display: SHOW "NUMBER|COUNTER", BLINK seconds, CLEAR, BRIGHTNESS 0-15."""

    number: str | None = None
    counter: int | None = None
    blink_s: int = 0
    brightness: int = 15
    shown: list[str | None] = field(default_factory=list)  # each change of the number

    def act(self, request: Parsed) -> tuple[int, bytes]:
        if request.cmd == SHOW:
            try:
                number, counter = request.payload.decode("ascii").split("|")
            except (UnicodeDecodeError, ValueError):
                return self.nak(NAK_BAD_PAYLOAD)
            if not number.isalnum() or not counter.isdigit():
                return self.nak(NAK_BAD_PAYLOAD)
            self.number, self.counter, self.blink_s = number, int(counter), 0
            self.shown.append(number)
        elif request.cmd == BLINK and len(request.payload) == 1:
            self.blink_s = request.payload[0]
        elif request.cmd == CLEAR and not request.payload:
            self.number, self.counter, self.blink_s = None, None, 0
            self.shown.append(None)
        elif request.cmd == BRIGHTNESS and len(request.payload) == 1 and request.payload[0] <= 15:
            self.brightness = request.payload[0]
        elif request.cmd in (BLINK, CLEAR, BRIGHTNESS):
            return self.nak(NAK_BAD_PAYLOAD)
        else:
            return super().act(request)
        return ACK, b""


@dataclass
class Keypad(Device):
    """A wired keypad: presses queue up until a POLL takes them (KEYS), else ACK."""

    queued: list[tuple[int, int]] = field(default_factory=list)
    press_seq: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)

    def press(self, key: str) -> int:
        """A staff key; returns its PRESS_SEQ."""
        return self.push(KEY_CODES[key])

    def rate(self, score: int) -> int:
        """A rating key 1..5; returns its PRESS_SEQ."""
        if not 1 <= score <= 5:
            raise ValueError("rating keys are 1..5")
        return self.push(RATING_BASE + score)

    def push(self, code: int) -> int:
        """Any key code, documented or not; returns its PRESS_SEQ."""
        with self.lock:
            self.press_seq = (self.press_seq + 1) & 0xFF
            self.queued.append((code, self.press_seq))
            return self.press_seq

    def act(self, request: Parsed) -> tuple[int, bytes]:
        if request.cmd != POLL:
            return super().act(request)
        with self.lock:
            taken, self.queued = self.queued[: MAX_LEN // 2], self.queued[MAX_LEN // 2:]
        if not taken:
            return ACK, b""
        return KEYS, b"".join(bytes(pair) for pair in taken)


class Bus:
    """The device end of a line: reads frames, lets the addressed device answer.

    Runs on a thread of its own with pyserial, so it shares nothing with motcua's asyncio
    line. `heard` keeps every frame read, in order, whoever it was for.
    """

    def __init__(self, port: str, devices: Iterable[Device], baud: int = 9600) -> None:
        self.devices = {d.addr: d for d in devices}
        self.decoder = Decoder()
        self.heard: list[Parsed] = []
        self._port = serial.Serial(port, baud, timeout=0.005)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="serial-peer", daemon=True)

    def __enter__(self) -> Bus:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._port.close()

    def write(self, data: bytes) -> None:
        """Put raw bytes on the line (noise, or a frame nobody asked for)."""
        with self._lock:
            self._port.write(data)
            self._port.flush()

    def _run(self) -> None:
        while not self._stop.is_set():
            data = self._port.read(256)
            if not data:
                continue
            for request in self.decoder.feed(data, time.monotonic()):
                self.heard.append(request)
                device = self.devices.get(request.addr)
                targets = list(self.devices.values()) if request.addr == BROADCAST else [device]
                for target in targets:
                    if target is None or target.silent:
                        continue
                    answer = target.answer(request)
                    if answer is None:
                        continue
                    writes = [(0.0, answer)] if target.misbehave is None else target.misbehave(request, answer)
                    if any(delay for delay, _ in writes):
                        # a slow device holds only its own answer back, not the reading of the line
                        threading.Thread(target=self._deliver, args=(writes,), daemon=True).start()
                    else:
                        self._deliver(writes)

    def _deliver(self, writes: list[tuple[float, bytes]]) -> None:
        for delay, chunk in writes:
            if delay:
                time.sleep(delay)
            if self._stop.is_set():
                return
            self.write(chunk)


def split(pieces: int, gap_s: float) -> Misbehave:
    """Send each answer in that many writes, gap_s apart (within the inter-byte timeout)."""
    def apply(request: Parsed, answer: bytes) -> list[tuple[float, bytes]]:
        size = max(1, -(-len(answer) // pieces))
        chunks = [answer[i:i + size] for i in range(0, len(answer), size)]
        return [(gap_s if i else 0.0, chunk) for i, chunk in enumerate(chunks)]
    return apply


def once(fault: Misbehave, times: int = 1) -> Misbehave:
    """A fault on the next `times` answers only, then the plain answer."""
    left = [times]

    def apply(request: Parsed, answer: bytes) -> list[tuple[float, bytes]]:
        if left[0] > 0:
            left[0] -= 1
            return fault(request, answer)
        return [(0.0, answer)]
    return apply


def rewrite(addr: int | None = None, cmd: int | None = None, seq_delta: int = 0) -> Misbehave:
    """Answer with another address, command or SEQ (a valid CRC over the changed frame)."""
    def apply(request: Parsed, answer: bytes) -> list[tuple[float, bytes]]:
        a, c, s, payload = answer[1], answer[2], answer[3], answer[5:-2]
        return [(0.0, frame(a if addr is None else addr, c if cmd is None else cmd, s + seq_delta, payload))]
    return apply


def bad_crc(request: Parsed, answer: bytes) -> list[tuple[float, bytes]]:
    """The answer with its CRC high byte flipped."""
    return [(0.0, answer[:-1] + bytes([answer[-1] ^ 0xFF]))]


def late(delay_s: float) -> Misbehave:
    """The answer after delay_s (past the host's 300 ms timeout if larger)."""
    return lambda request, answer: [(delay_s, answer)]


def noisy(noise: bytes) -> Misbehave:
    """Line noise before the answer."""
    return lambda request, answer: [(0.0, noise), (0.0, answer)]

