"""Device emulators: the DEVICE side of the serial framing and of Modbus, over a pty.

    LedDisplayEmulator      shows SHOW/BLINK/CLEAR, records what it showed
    KeypadEmulator          queue of presses, answers POLL with KEYS or ACK
    SerialBusEmulator       several framed devices sharing one line, as on RS-485
    ModbusLedEmulator       an LED-485 display: register 0x0000 is the number
    ModbusBusEmulator       Modbus slaves sharing one line

Each emulated device can lose frames (`drop_frames(n)`: the next n requests are
not received), lose answers (`lose_replies(n)`), garble a share of its answers
(`corrupt_replies(rate)`: one bit flipped, so the CRC fails, as noise on a long
line does), and go silent or come back (`silent`). Run `python -m firmware_bridge.emulators --serial PORT --site-file F
--bus ID` to emulate every device of a bus. MQTT emulators: firmware_bridge.mqtt_emulators.
"""

from __future__ import annotations

import abc
import argparse
import asyncio
import contextlib
import json
import logging
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

from counter_display.framing import (
    ACK,
    BLINK,
    BRIGHTNESS,
    BROADCAST,
    CLEAR,
    KEY_CODES,
    KEYS,
    MAX_PAYLOAD,
    NAK,
    PING,
    POLL,
    SHOW,
    STATUS,
    Frame,
    KeyEvent,
    StreamDecoder,
    encode,
    keys_payload,
    parse_show_payload,
    rating_key,
)
from counter_display.modbus import (
    READ_HOLDING,
    WRITE_SINGLE,
    WriteSingle,
    decode_request,
    encode_exception,
    encode_read_response,
    encode_request,
)
from devices.errors import DeviceUnavailable, ProtocolError
from firmware_bridge.line import ByteLine, SerialLine

__all__ = [
    "NAK_BAD_PAYLOAD",
    "NAK_UNKNOWN_COMMAND",
    "EmulatedDevice",
    "KeypadEmulator",
    "LedDisplayEmulator",
    "ModbusBusEmulator",
    "ModbusLedEmulator",
    "SerialBusEmulator",
    "Shown",
    "main",
]

log = logging.getLogger(__name__)

NAK_UNKNOWN_COMMAND = 0x01
NAK_BAD_PAYLOAD = 0x02
INTER_BYTE_TIMEOUT_S = 0.05


@dataclass(frozen=True, slots=True)
class Shown:
    """One change of what a display shows, with the monotonic time it happened."""

    at: float
    number: str | None
    counter: int | None = None


class _Faults:
    """Fault injection and change notification shared by every emulated device."""

    def __init__(self, address: int) -> None:
        self.address = address
        self.silent = False
        self.received: list[Frame | bytes] = []  # every request addressed to it, even dropped
        self.duplicates = 0
        self.corrupted = 0  # answers sent with a bit flipped
        self._drop = 0
        self._lose = 0
        self._corrupt_rate = 0.0
        self._rng = random.Random(address)
        self._changed = asyncio.Event()

    def drop_frames(self, count: int) -> None:
        """Do not receive the next count requests (as if corrupted on the line)."""
        self._drop = count

    def lose_replies(self, count: int) -> None:
        """Act on the next count requests but lose the answers."""
        self._lose = count

    def corrupt_replies(self, rate: float, seed: int | None = None) -> None:
        """Flip one bit of this share (0..1) of the answers from now on."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate {rate} is not within 0..1")
        self._corrupt_rate = rate
        if seed is not None:
            self._rng = random.Random(seed)

    def garble(self, data: bytes) -> bytes:
        """The answer as it reaches the host: sometimes with one bit of its CRC flipped."""
        if not data or self._rng.random() >= self._corrupt_rate:
            return data
        self.corrupted += 1
        return data[:-1] + bytes((data[-1] ^ 0x01,))

    def _receives(self) -> bool:
        if self.silent:
            return False
        if self._drop:
            self._drop -= 1
            return False
        return True

    def _answers(self) -> bool:
        if self._lose:
            self._lose -= 1
            return False
        return True

    def _notify(self) -> None:
        self._changed.set()

    async def wait_until(self, predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
        """Wait until predicate() holds after some frame; TimeoutError after timeout_s."""
        async with asyncio.timeout(timeout_s):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()


class EmulatedDevice(Protocol):
    """A device on an emulated framed bus."""

    address: int

    def handle(self, frame: Frame) -> Frame | None:
        """Act on a frame addressed to this device (or broadcast); the answer, if any."""


class _FramedDevice(_Faults):
    """Sequence handling of SERIAL.md: a repeated SEQ is acknowledged, not applied twice."""

    def __init__(self, address: int) -> None:
        super().__init__(address)
        self.started = time.monotonic()
        self.errors = 0
        self._last: tuple[int, int] | None = None
        self._last_reply: Frame | None = None

    def handle(self, frame: Frame) -> Frame | None:
        """Act on a frame addressed to this device; the answer, if one goes back."""
        self.received.append(frame)
        if not self._receives():
            return None
        if frame.addr == BROADCAST:
            self._apply(frame)
            self._notify()
            return None
        key = (frame.seq, frame.cmd)
        if key == self._last and self._last_reply is not None:
            self.duplicates += 1
            reply: Frame | None = self._last_reply
        else:
            reply = self._apply(frame)
            self._last, self._last_reply = key, reply
        self._notify()
        return reply if self._answers() else None

    def _apply(self, frame: Frame) -> Frame:
        if frame.cmd == PING:
            health = {
                "fw": "emu-1.0",
                "uptime": round(time.monotonic() - self.started, 1),
                "errors": self.errors,
            }
            return self._reply(frame, STATUS, json.dumps(health).encode())
        return self._nak(frame, NAK_UNKNOWN_COMMAND)

    def _reply(self, frame: Frame, cmd: int, payload: bytes = b"") -> Frame:
        return Frame(self.address, cmd, frame.seq, payload)

    def _nak(self, frame: Frame, reason: int) -> Frame:
        self.errors += 1
        return self._reply(frame, NAK, bytes((reason,)))


class LedDisplayEmulator(_FramedDevice):
    """An LED counter display: SHOW sets the number (and stops blinking), BLINK, CLEAR."""

    def __init__(self, address: int) -> None:
        super().__init__(address)
        self.number: str | None = None
        self.counter: int | None = None
        self.blink_s = 0
        self.brightness = 15
        self.history: list[Shown] = []

    def _apply(self, frame: Frame) -> Frame:
        if frame.cmd == SHOW:
            try:
                self.number, self.counter = parse_show_payload(frame.payload)
            except ProtocolError:
                return self._nak(frame, NAK_BAD_PAYLOAD)
            self.blink_s = 0
            self.history.append(Shown(time.monotonic(), self.number, self.counter))
        elif frame.cmd == BLINK and len(frame.payload) == 1:
            self.blink_s = frame.payload[0]
        elif frame.cmd == CLEAR:
            self.number = self.counter = None
            self.blink_s = 0
            self.history.append(Shown(time.monotonic(), None))
        elif frame.cmd == BRIGHTNESS and len(frame.payload) == 1 and frame.payload[0] <= 15:
            self.brightness = frame.payload[0]
        else:
            return super()._apply(frame)
        return self._reply(frame, ACK)


class KeypadEmulator(_FramedDevice):
    """A wired keypad: presses queue up until a POLL collects them."""

    def __init__(self, address: int) -> None:
        super().__init__(address)
        self.queued: list[KeyEvent] = []
        self.delivered: list[KeyEvent] = []
        self._press_seq = 0

    def press(self, key: str) -> KeyEvent:
        """Push a staff key (next, recall, no_show, start, finish, pause, transfer)."""
        return self._queue(KEY_CODES[key])

    def rate(self, score: int) -> KeyEvent:
        """Push rating key score (1..5)."""
        return self._queue(rating_key(score))

    def _queue(self, code: int) -> KeyEvent:
        event = KeyEvent(code, self._press_seq)
        self._press_seq = (self._press_seq + 1) & 0xFF
        self.queued.append(event)
        return event

    def _apply(self, frame: Frame) -> Frame:
        if frame.cmd != POLL:
            return super()._apply(frame)
        if not self.queued:
            return self._reply(frame, ACK)
        # a new POLL SEQ means the host got the last answer: these presses are delivered
        batch = self.queued[: MAX_PAYLOAD // 2]
        del self.queued[: len(batch)]
        self.delivered += batch
        return self._reply(frame, KEYS, keys_payload(batch))


class _LineEmulator(abc.ABC):
    """Runs a read-answer loop on a line as an async context manager."""

    def __init__(self, line: ByteLine) -> None:
        self.line = line
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self.run(), name=type(self).__name__)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            # a line that went away ends the emulation; that is not an error of the caller
            with contextlib.suppress(asyncio.CancelledError, DeviceUnavailable):
                await self._task

    @abc.abstractmethod
    async def run(self) -> None:
        """Serve the line until cancelled."""


class SerialBusEmulator(_LineEmulator):
    """Framed devices sharing one line: each answers only its own address."""

    def __init__(self, line: ByteLine, devices: Sequence[EmulatedDevice]) -> None:
        super().__init__(line)
        self.devices = {device.address: device for device in devices}
        self.decoder = StreamDecoder(inter_byte_timeout_s=INTER_BYTE_TIMEOUT_S)
        self.log: list[Frame] = []  # every frame seen on the line, in order

    async def run(self) -> None:
        """Read frames and answer them until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            data = await self.line.read(INTER_BYTE_TIMEOUT_S)
            for frame in self.decoder.feed(data, now=loop.time()):
                self.log.append(frame)
                targets = (
                    list(self.devices.values())
                    if frame.addr == BROADCAST
                    else [self.devices[frame.addr]] if frame.addr in self.devices else []
                )
                for device in targets:
                    reply = device.handle(frame)
                    if reply is not None:
                        data = encode(reply)
                        if isinstance(device, _Faults):
                            data = device.garble(data)
                        await self.line.write(data)


class ModbusLedEmulator(_Faults):
    """An LED-485 display: function 06 to `register` shows the number written."""

    def __init__(self, address: int, register: int = 0x0000, blank_value: int = 0) -> None:
        super().__init__(address)
        self.register = register
        self.blank_value = blank_value
        self.value = blank_value
        self.history: list[Shown] = []

    @property
    def number(self) -> str | None:
        """What the display shows, None when blank."""
        return None if self.value == self.blank_value else str(self.value)

    def handle_request(self, raw: bytes) -> bytes | None:
        """Act on an 8-byte request addressed to this slave; the response, if any."""
        self.received.append(raw)
        if not self._receives():
            return None
        try:
            request = decode_request(raw)
        except ProtocolError:
            return encode_exception(self.address, raw[1], 0x01)
        if request.register != self.register:
            reply = encode_exception(self.address, raw[1], 0x02)
        elif isinstance(request, WriteSingle):
            if request.value != self.value:
                self.value = request.value
                self.history.append(Shown(time.monotonic(), self.number))
            reply = encode_request(request)  # the echo
        elif request.count != 1:
            reply = encode_exception(self.address, READ_HOLDING, 0x02)
        else:
            reply = encode_read_response(self.address, (self.value,))
        self._notify()
        return reply if self._answers() else None


class ModbusBusEmulator(_LineEmulator):
    """Modbus slaves sharing one line; requests are 8 bytes (functions 03 and 06)."""

    def __init__(self, line: ByteLine, devices: Sequence[ModbusLedEmulator]) -> None:
        super().__init__(line)
        self.devices = {device.address: device for device in devices}

    async def run(self) -> None:
        """Read requests and answer them until cancelled."""
        buf = bytearray()
        while True:
            data = await self.line.read(INTER_BYTE_TIMEOUT_S)
            if not data:
                buf.clear()  # a silent gap ends any partial frame (RTU t3.5 rule)
                continue
            buf += data
            while len(buf) >= 8:
                raw = bytes(buf[:8])
                if raw[1] not in (READ_HOLDING, WRITE_SINGLE):
                    del buf[:1]
                    continue
                del buf[:8]
                device = self.devices.get(raw[0])
                if device is None:
                    continue
                reply = device.handle_request(raw)
                if reply is not None:
                    await self.line.write(reply)


# command line: emulate every device of one bus of a site file


async def _serve(args: argparse.Namespace) -> int:
    from firmware_bridge.site import load_bus  # the site loader is only needed here

    bus = load_bus(args.site_file, args.bus, args.site)
    async with SerialLine(args.serial, args.baud, pace=not args.no_pace) as line:
        if bus.dialect == "modbus":
            leds = [ModbusLedEmulator(spec.address or 0) for spec in bus.devices]
            async with ModbusBusEmulator(line, leds):
                print(f"emulating {len(leds)} Modbus displays on {args.serial}", flush=True)
                await _report(leds, [], args.auto_press)
        else:
            devices: list[LedDisplayEmulator | KeypadEmulator] = [
                LedDisplayEmulator(spec.address or 0)
                if spec.kind == "display"
                else KeypadEmulator(spec.address or 0)
                for spec in bus.devices
            ]
            async with SerialBusEmulator(line, devices):
                print(f"emulating {len(devices)} devices on {args.serial}", flush=True)
                displays = [d for d in devices if isinstance(d, LedDisplayEmulator)]
                keypads = [d for d in devices if isinstance(d, KeypadEmulator)]
                await _report(displays, keypads, args.auto_press)
    return 0


async def _report(
    displays: Sequence[LedDisplayEmulator | ModbusLedEmulator],
    keypads: Sequence[KeypadEmulator],
    auto_press_s: float | None,
) -> None:
    """Print what the displays show; push random keys every auto_press_s seconds."""
    seen = {d.address: 0 for d in displays}
    rng = random.Random()
    next_press = time.monotonic() + (auto_press_s or 0)
    while True:
        await asyncio.sleep(0.1)
        for display in displays:
            for shown in display.history[seen[display.address] :]:
                print(f"display {display.address}: {shown.number or '(blank)'}", flush=True)
            seen[display.address] = len(display.history)
        if auto_press_s and keypads and time.monotonic() >= next_press:
            keypad = rng.choice(keypads)
            key = rng.choice(sorted(KEY_CODES))
            keypad.press(key)
            print(f"keypad {keypad.address}: {key}", flush=True)
            next_press = time.monotonic() + auto_press_s


def main(argv: Sequence[str] | None = None) -> int:
    """Emulate all devices of one bus of a site file on a serial port."""
    parser = argparse.ArgumentParser(prog="python -m firmware_bridge.emulators")
    parser.add_argument("--serial", required=True, help="device side of the line (pty path)")
    parser.add_argument("--site-file", required=True)
    parser.add_argument("--bus", required=True)
    parser.add_argument("--site", default=None)
    parser.add_argument("--baud", type=int, default=9600)
    parser.add_argument("--no-pace", action="store_true", help="answer at pty speed")
    parser.add_argument("--auto-press", type=float, default=None, metavar="SECONDS")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_serve(args))
    except KeyboardInterrupt:
        return 0
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
