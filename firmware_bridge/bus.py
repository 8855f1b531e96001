"""The bus master: the only master on a half-duplex RS-485/RS-232 line (SERIAL.md).

One task owns the line. Each turn it picks the most urgent job:

1. a keypad not polled for two poll intervals (so updates cannot starve polls),
2. a display's pending state (display updates jump ahead of polls),
3. one-off requests,
4. due keypad polls, round-robin (least recently polled first),
5. probes: PING (or a Modbus read) of unknown and unavailable devices, and a
   slow health PING of the others.

Every exchange writes a request, waits `timeout_s` for the answer and retries up
to `retries` times with the same SEQ; then the device is marked unavailable and
the bus moves on. A display's state is kept as desired state: newer states
replace older unsent ones, and a device that comes back gets it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

from counter_display.framing import (
    ACK,
    KEYS,
    NAK,
    PING,
    POLL,
    STATUS,
    Frame,
    KeyEvent,
    StreamDecoder,
    crc16_modbus,
    encode,
    parse_keys,
)
from counter_display.modbus import (
    ReadHolding,
    WriteSingle,
    encode_request,
    parse_read_response,
    parse_write_response,
    response_length,
)
from devices.errors import DeviceError, DeviceTimeout, DeviceUnavailable, ProtocolError
from firmware_bridge.line import ByteLine

__all__ = [
    "Availability",
    "BusMaster",
    "BusStats",
    "Dialect",
    "FramedCommand",
    "LinkStatus",
    "Op",
    "Reply",
]

log = logging.getLogger(__name__)

Dialect = Literal["framed", "modbus"]
Availability = Literal["unknown", "online", "offline"]


@dataclass(frozen=True, slots=True)
class FramedCommand:
    """A host command of the motcua framing; the bus adds address and SEQ."""

    cmd: int
    payload: bytes = b""


Op = FramedCommand | WriteSingle | ReadHolding
Reply = Frame | tuple[int, ...] | None


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """Availability of one device address, with the health it last reported."""

    address: int
    online: bool
    health: Mapping[str, object]


@dataclass(slots=True)
class BusStats:
    """Counters of the line, for health pages and benchmarks."""

    exchanges: int = 0
    retries: int = 0
    timeouts: int = 0
    bad_crc: int = 0
    naks: int = 0
    stale_bytes: int = 0
    polls: int = 0
    presses: int = 0


@dataclass(eq=False, slots=True)
class _Link:
    address: int
    dialect: Dialect
    polled: bool
    availability: Availability = "unknown"
    seq: int = 0
    desired: tuple[Op, ...] | None = None
    dirty: bool = False
    waiters: list[asyncio.Future[None]] = field(default_factory=list)
    last_poll: float = float("-inf")
    next_probe: float = 0.0
    uptime: float | None = None
    health: Mapping[str, object] = field(default_factory=dict)
    presses: asyncio.Queue[KeyEvent] = field(default_factory=asyncio.Queue)


class _FramedReader:
    """Collects the answer to one framed request: same address, same SEQ."""

    def __init__(self, frame: Frame) -> None:
        self.frame = frame
        self.decoder = StreamDecoder()

    def feed(self, data: bytes) -> Frame | None:
        for reply in self.decoder.feed(data):
            if reply.addr != self.frame.addr or reply.seq != self.frame.seq:
                continue  # another device's late answer, or an older SEQ
            if reply.cmd == NAK:
                reason = reply.payload[0] if reply.payload else 0
                raise ProtocolError(
                    f"device {reply.addr} refused command 0x{self.frame.cmd:02x} "
                    f"(NAK reason {reason})"
                )
            if reply.cmd in (ACK, STATUS, KEYS):
                return reply
        return None


class _ModbusReader:
    """Collects the answer to one Modbus request; a bad CRC means keep waiting."""

    def __init__(self, request: WriteSingle | ReadHolding) -> None:
        self.request = request
        self.buf = bytearray()
        self.bad_crc = 0

    def feed(self, data: bytes) -> tuple[int, ...] | None:
        self.buf += data
        while self.buf:
            if self.buf[0] != self.request.addr:
                del self.buf[:1]
                continue
            try:
                length = response_length(bytes(self.buf[:3]))
            except ProtocolError:
                del self.buf[:1]
                continue
            if length is None or len(self.buf) < length:
                return None
            frame = bytes(self.buf[:length])
            del self.buf[:length]
            if crc16_modbus(frame[:-2]) != frame[-2] | (frame[-1] << 8):
                self.bad_crc += 1
                continue
            if isinstance(self.request, WriteSingle):
                parse_write_response(self.request, frame)
                return ()
            return parse_read_response(self.request, frame)
        return None


StatusCallback = Callable[[LinkStatus], None]


class BusMaster:
    """Serves the devices of one line; use `async with BusMaster(line) as bus`."""

    def __init__(
        self,
        line: ByteLine,
        *,
        timeout_s: float = 0.3,
        retries: int = 3,
        poll_interval_s: float = 0.2,
        probe_interval_s: float = 1.0,
        health_interval_s: float = 10.0,
    ) -> None:
        self.line = line
        self.timeout_s = timeout_s
        self.retries = retries
        self.poll_interval_s = poll_interval_s
        self.probe_interval_s = probe_interval_s
        self.health_interval_s = health_interval_s
        self.stats = BusStats()
        self._links: dict[int, _Link] = {}
        self._dirty: deque[int] = deque()
        self._requests: deque[tuple[_Link, Op, asyncio.Future[Reply]]] = deque()
        self._callbacks: list[StatusCallback] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # set-up

    def attach(self, address: int, dialect: Dialect, *, polled: bool = False) -> None:
        """Serve the device at address; polled devices are keypads asked for presses."""
        if not 1 <= address <= 254:
            raise ValueError(f"bus address {address} outside 1..254")
        link = self._links.get(address)
        if link is not None:
            if link.dialect != dialect:
                raise ValueError(f"address {address} is already a {link.dialect} device")
            link.polled = link.polled or polled
            return
        self._links[address] = _Link(address, dialect, polled)
        self._wake.set()

    def on_status(self, callback: StatusCallback) -> None:
        """Call callback (synchronously) when a device goes online or offline."""
        self._callbacks.append(callback)

    def availability(self, address: int) -> Availability:
        """What the bus knows of the device at address."""
        return self._link(address).availability

    def presses(self, address: int) -> asyncio.Queue[KeyEvent]:
        """Queue of key presses polled from the keypad at address."""
        return self._link(address).presses

    def _link(self, address: int) -> _Link:
        try:
            return self._links[address]
        except KeyError:
            raise ValueError(f"no device attached at address {address}") from None

    # lifetime

    async def __aenter__(self) -> BusMaster:
        self._task = asyncio.create_task(self._run(), name="bus-master")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, DeviceError):
                await self._task
            self._task = None
        self._fail_all(DeviceUnavailable("bus master stopped"))

    async def wait_closed(self) -> None:
        """Return when the bus task ends (the line failed); raise its error."""
        if self._task is not None:
            await asyncio.shield(self._task)

    def _fail_all(self, error: DeviceError) -> None:
        for link in self._links.values():
            for waiter in link.waiters:
                if not waiter.done():
                    waiter.set_exception(error)
            link.waiters.clear()
        while self._requests:
            _, _, future = self._requests.popleft()
            if not future.done():
                future.set_exception(error)

    # what drivers call

    async def apply(self, address: int, ops: Sequence[Op]) -> None:
        """Make ops the device's state and wait until it took them.

        A newer apply replaces an unsent older one (which then returns at once).
        On an unavailable device raises DeviceUnavailable at once, keeping the
        state to send when the device comes back.
        """
        link = self._link(address)
        link.desired = tuple(ops)
        link.dirty = True
        for superseded in link.waiters:
            if not superseded.done():
                superseded.set_result(None)
        link.waiters = []
        if link.availability == "offline":
            raise DeviceUnavailable(f"device {address} is unavailable; state kept for its return")
        self._mark_dirty(link)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        link.waiters.append(waiter)
        await waiter

    async def request(self, address: int, op: Op) -> Reply:
        """Run one exchange (e.g. PING, BRIGHTNESS) and return the device's answer."""
        link = self._link(address)
        if link.availability == "offline":
            raise DeviceUnavailable(f"device {address} is unavailable")
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._requests.append((link, op, future))
        self._wake.set()
        return await future

    def _mark_dirty(self, link: _Link) -> None:
        if link.address not in self._dirty:
            self._dirty.append(link.address)
        self._wake.set()

    # the loop

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                now = loop.time()
                job = self._next_job(now)
                if job is not None:
                    await job
                    continue
                self._wake.clear()
                delay = max(self._next_due(now) - now, 0.001)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
        except DeviceUnavailable as exc:
            log.error("bus stopped: %s", exc)
            self._fail_all(exc)
            raise

    def _next_job(self, now: float) -> Coroutine[Any, Any, None] | None:
        serving = [link for link in self._links.values() if link.availability != "offline"]
        polled = [link for link in serving if link.polled]
        starving = [link for link in polled if now - link.last_poll >= 2 * self.poll_interval_s]
        if starving:
            return self._poll(min(starving, key=lambda k: k.last_poll))
        while self._dirty:
            link = self._links[self._dirty.popleft()]
            if link.dirty and link.availability != "offline":
                return self._apply_state(link)
        if self._requests:
            link, op, future = self._requests.popleft()
            return self._one_off(link, op, future)
        due = [link for link in polled if now - link.last_poll >= self.poll_interval_s]
        if due:
            return self._poll(min(due, key=lambda k: k.last_poll))
        probes = [link for link in self._links.values() if now >= link.next_probe]
        if probes:
            return self._probe(min(probes, key=lambda k: k.next_probe))
        return None

    def _next_due(self, now: float) -> float:
        times = [link.next_probe for link in self._links.values()]
        times += [
            link.last_poll + self.poll_interval_s
            for link in self._links.values()
            if link.polled and link.availability != "offline"
        ]
        return min(times, default=now + 1.0)

    # jobs

    async def _apply_state(self, link: _Link) -> None:
        ops = link.desired or ()
        waiters, link.waiters = link.waiters, []
        link.dirty = False
        error: DeviceError | None = None
        try:
            for op in ops:
                await self._exchange_or_offline(link, op)
        except DeviceTimeout as exc:
            link.dirty = True  # not applied: send again when the device is back
            error = exc
        except ProtocolError as exc:
            error = exc
        for waiter in waiters:
            if not waiter.done():
                if error is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(error)

    async def _one_off(self, link: _Link, op: Op, future: asyncio.Future[Reply]) -> None:
        try:
            reply = await self._exchange_or_offline(link, op)
        except DeviceError as exc:
            if not future.done():
                future.set_exception(exc)
        else:
            if not future.done():
                future.set_result(reply)

    async def _poll(self, link: _Link) -> None:
        link.last_poll = asyncio.get_running_loop().time()
        self.stats.polls += 1
        try:
            reply = await self._exchange_or_offline(link, FramedCommand(POLL))
        except DeviceError as exc:
            log.debug("poll of device %d failed: %s", link.address, exc)
            return
        if isinstance(reply, Frame) and reply.cmd == KEYS:
            try:
                events = parse_keys(reply.payload)
            except ProtocolError as exc:
                log.warning("device %d: %s", link.address, exc)
                return
            for event in events:
                self.stats.presses += 1
                link.presses.put_nowait(event)

    async def _probe(self, link: _Link) -> None:
        now = asyncio.get_running_loop().time()
        op: Op = (
            FramedCommand(PING) if link.dialect == "framed" else ReadHolding(link.address, 0, 1)
        )
        # an unavailable device gets one try per probe: retries would only hold the bus
        attempts = 1 if link.availability == "offline" else self.retries + 1
        try:
            reply = await self._exchange(link, op, attempts)
        except DeviceTimeout:
            link.next_probe = now + self.probe_interval_s
            self._set_availability(link, "offline")
            return
        except ProtocolError as exc:
            reply = None  # it answered, so it is there, even if it refused the probe
            log.warning("device %d answered the probe with an error: %s", link.address, exc)
        link.next_probe = now + self.health_interval_s
        health = _health(reply)
        uptime = health.get("uptime")
        rebooted = (
            isinstance(uptime, int | float) and link.uptime is not None and uptime < link.uptime
        )
        link.uptime = float(uptime) if isinstance(uptime, int | float) else None
        came_back = link.availability == "offline"
        self._set_availability(link, "online", health)
        if (came_back or rebooted) and link.desired is not None:
            link.dirty = True
            self._mark_dirty(link)

    async def _exchange_or_offline(self, link: _Link, op: Op) -> Reply:
        try:
            reply = await self._exchange(link, op, self.retries + 1)
        except DeviceTimeout:
            link.next_probe = asyncio.get_running_loop().time() + self.probe_interval_s
            self._set_availability(link, "offline")
            raise
        except ProtocolError:
            self._answered(link)  # a refusal is still an answer: the device is there
            raise
        self._answered(link)
        return reply

    def _answered(self, link: _Link) -> None:
        if link.availability == "unknown":
            link.next_probe = 0.0  # fetch its health soon
        self._set_availability(link, "online")

    async def _exchange(self, link: _Link, op: Op, attempts: int) -> Reply:
        make_reader: Callable[[], _FramedReader | _ModbusReader]
        if isinstance(op, FramedCommand):
            if link.dialect != "framed":
                raise ValueError(f"device {link.address} speaks {link.dialect}, not the framing")
            link.seq = (link.seq + 1) & 0xFF
            frame = Frame(link.address, op.cmd, link.seq, op.payload)
            request = encode(frame)
            make_reader = lambda: _FramedReader(frame)  # noqa: E731
        else:
            if link.dialect != "modbus" or op.addr != link.address:
                raise ValueError(f"modbus request {op} does not fit device {link.address}")
            request = encode_request(op)
            modbus_op = op
            make_reader = lambda: _ModbusReader(modbus_op)  # noqa: E731
        loop = asyncio.get_running_loop()
        for attempt in range(attempts):
            self.stats.exchanges += 1
            if attempt:
                self.stats.retries += 1
            # a fresh parser per attempt; the retry repeats the same bytes (same SEQ)
            reader = make_reader()
            self.stats.stale_bytes += self.line.discard_input()
            await self.line.write(request)
            deadline = loop.time() + self.timeout_s
            try:
                while (remaining := deadline - loop.time()) > 0:
                    reply = reader.feed(await self.line.read(remaining))
                    if reply is not None:
                        return reply
            except ProtocolError:
                self.stats.naks += 1
                raise
            finally:
                if isinstance(reader, _FramedReader):
                    self.stats.bad_crc += reader.decoder.bad_crc
                else:
                    self.stats.bad_crc += reader.bad_crc
        self.stats.timeouts += 1
        raise DeviceTimeout(f"device {link.address} did not answer {attempts} attempts")

    def _set_availability(
        self, link: _Link, availability: Availability, health: Mapping[str, object] | None = None
    ) -> None:
        changed = link.availability != availability
        if health is not None and health != link.health:
            link.health = health
            changed = True
        link.availability = availability
        if availability == "offline":
            # pending state stays desired (sent on return), but nobody waits for it now
            for waiter in link.waiters:
                if not waiter.done():
                    waiter.set_exception(
                        DeviceUnavailable(f"device {link.address} became unavailable")
                    )
            link.waiters = []
        if not changed:
            return
        if availability == "offline":
            log.warning("device %d is unavailable", link.address)
        online = availability == "online"
        # the health of a device that does not answer is stale: report it only when online
        status = LinkStatus(link.address, online, link.health if online else {})
        for callback in self._callbacks:
            try:
                callback(status)
            except Exception:
                log.exception("status callback failed for device %d", link.address)


def _health(reply: Reply) -> Mapping[str, object]:
    """Health fields of a STATUS payload (JSON object); anything else kept raw."""
    if not isinstance(reply, Frame) or reply.cmd != STATUS or not reply.payload:
        return {}
    try:
        value = json.loads(reply.payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {"raw": reply.payload.hex()}
    if isinstance(value, dict):
        value.pop("status", None)
        return value
    return {"raw": value}
