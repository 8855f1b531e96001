"""The bus master: the only master on a half-duplex RS-485/RS-232 line (SERIAL.md).

One task owns the line and runs one exchange at a time: it writes a request, waits
`timeout_s` for the answer and retries up to `retries` times with the same SEQ; then
the device is marked unavailable and the bus moves on. A display's state is kept as
desired state: newer states replace older unsent ones, and a device that comes back
(or reboots) gets it again.

Scheduling rule (every keypad polled at least every `poll_interval_s`, display
updates ahead of polls):

- Each keypad k has a poll deadline  d_k = last poll of k + poll_interval_s - guard_s
  (the guard absorbs the event loop's wake-up jitter). Polls start by their deadline.
- Every exchange has an estimated cost: its bytes on the wire at the line's baud
  rate (10 bits a byte) plus an overhead: the average time recent exchanges took
  beyond their bytes (turn-around, latency), at least two byte times.
- The slack at time t is how long the line may be given to something else with
  every keypad still polled in time if the polls then follow in deadline order:
      slack(t) = min over keypads sorted by deadline of  d_i - (t + sum of poll costs of those before i).
- The next non-poll job, in this order: a display's pending state (FIFO of displays; each
  op a job of its own, and the first op of a new state, its number, before the rest of
  another, its blink), a one-off request, a due probe. A probe is a PING (a Modbus read) of
  an unknown or unavailable device, and of a device just heard or back (its health). A
  keypad's answer to each poll says it is there: it gets no other probe. A display gets
  a check every `health_interval_s`, once any blink it was sent is over: the health PING
  if its STATUS answer fits the slack a round of polls frees, else an exchange with a
  short answer that proves as much: the first op of its state again (idempotent, ~22 ms
  for a SHOW; it also restores the number on a display that rebooted), or CLEAR when it
  has none (the bridge shows nothing on it); a Modbus display's check is its short read.
  Its last health stays reported; no answer makes it unavailable like any exchange.
  A display update goes first when its cost <= slack(t); a request or probe when its
  cost plus that of the costliest display update <= slack(t) (so an update arriving
  meanwhile still jumps ahead), or, when there can never be room for both, its cost
  alone <= slack(t). If not, the keypad with the earliest deadline is polled and the choice is made again.
  Nothing starves: a job longer than any slack polling can free (free = interval -
  guard - one round of polls) goes as soon as the slack is within guard_s of free,
  and misses a deadline by about its excess; any other job goes after at most two
  rounds (when exchanges take longer than estimated, e.g. on a loaded host).
- A poll that brings presses holds back requests and probes until as many display
  updates have started as such polls came, or `press_hold_s` passed; and the first op
  of a new display state that comes meanwhile (the number the press called, through
  MQTT and the controller some tens of ms later) goes right after the exchange in
  progress, whatever the slack: staff see the number they asked for, not after another
  round of polls, at the price of polls one SHOW (~22 ms) later when the slack was
  short (once per press: presses come at the pace of people).
- With nothing else to do, a keypad is polled when slack(t) <= reserve (twice the
  cost of one poll plus the costliest display update), but not before half its
  interval: an update that arrives then fits at once, even a little late.
- A retry follows a timeout (`timeout_s`, 300 ms at 9600 baud, longer than the poll
  interval itself), so before each retry every other keypad whose deadline would
  pass during the next attempt is polled first. A probe of an unavailable device
  (one attempt each `probe_interval_s`) listens only as long as its answer would
  take plus `probe_margin_s` (the full timeout once bytes arrive), not `timeout_s`.

So the guarantee holds while the devices answer and every exchange fits the
slack one round of polls frees. At 9600 baud 8 keypads at ~17.5 ms a poll (POLL +
ACK, 14 bytes, plus turn-around) leave ~50 ms of every 200 ms: two SHOW updates
(~22 ms each). Polls in deadline order are round-robin. No job need miss a deadline
then: a 46-byte STATUS (PING + STATUS ~65 ms) cannot fit even with the polls placed
best (8 x 17.5 + 65 > 200), so with 8 keypads a display's periodic check is the short
one, and its health (firmware, errors, uptime) is read when it is first heard and when
it comes back; with fewer keypads (7 at 9600 baud with a 46-byte STATUS) the PING fits
and the health is refreshed each interval. One or two checks fit a round, so a display
is checked within `health_interval_s` plus one round per display ahead of it (8
displays: +1.6 s; display updates go ahead of checks, and each proves its display there
too), and a silent one is unavailable about 4 x `timeout_s` (with polls between) later.

What breaks the guarantee, and by how much: a timed-out attempt (up to `timeout_s` once
per retry; polls run between retries), and a job longer than that slack, by its excess:
the first-contact PING of each device, a PING of a device that comes back, and the probe
of an unavailable device, once per `probe_interval_s`; the polls that catch up after it
then fill a round, and an update that arrives meanwhile waits for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections import deque
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from types import TracebackType
from typing import Any, Literal

from counter_display.framing import (
    ACK,
    BLINK,
    CLEAR,
    KEYS,
    NAK,
    OVERHEAD,
    PING,
    POLL,
    STATUS,
    Frame,
    KeyEvent,
    StreamDecoder,
    crc16_modbus,
    encode,
    read_keys,
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
from firmware_bridge.line import BITS_PER_BYTE, ByteLine

__all__ = [
    "Availability",
    "BusMaster",
    "BusStats",
    "Dialect",
    "FramedCommand",
    "LinkStats",
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

_POLL = FramedCommand(POLL)
# a device's turn-around before it answers, in byte times, in the cost estimate of an exchange
TURNAROUND_BYTES = 2
# bytes of a STATUS payload assumed before a device sent one
DEFAULT_STATUS_LEN = 48
# at most one bad-CRC warning per device this often (the counts are in the bridge's status)
CRC_LOG_EVERY_S = 10.0


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
    # longest time between two polls of one keypad that stayed available in between
    max_poll_gap_s: float = 0.0


@dataclass(slots=True)
class LinkStats:
    """Counters of one device on the line (the bridge publishes them with its status).

    frames: requests sent to it, retries included; retries: attempts after the first;
    timeouts: exchanges it never answered (after every retry); bad_crc: frames dropped
    for a bad CRC while it was being answered (on a half-duplex bus, its answers or
    noise in their place); naks: requests it refused; heard_at: the loop time of its
    last answer (None before one).
    """

    frames: int = 0
    retries: int = 0
    timeouts: int = 0
    bad_crc: int = 0
    naks: int = 0
    heard_at: float | None = None

    def counts(self) -> dict[str, int]:
        """The counters by name (what a status payload carries)."""
        return {"frames": self.frames, "retries": self.retries, "timeouts": self.timeouts,
                "bad_crc": self.bad_crc, "naks": self.naks}


@dataclass(eq=False, slots=True)
class _Link:
    address: int
    dialect: Dialect
    polled: bool
    availability: Availability = "unknown"
    seq: int = 0
    desired: tuple[Op, ...] | None = None
    dirty: bool = False
    next_op: int = 0  # the op of desired to send next (each op is a job of its own)
    waiters: list[asyncio.Future[None]] = field(default_factory=list)
    last_poll: float = float("-inf")
    next_probe: float = 0.0
    uptime: float | None = None
    health: Mapping[str, object] = field(default_factory=dict)
    presses: asyncio.Queue[KeyEvent] = field(default_factory=asyncio.Queue)
    status_len: int = DEFAULT_STATUS_LEN
    health_read: bool = False  # answered a health PING since it was first heard or came back
    blink_until: float = float("-inf")  # a check that re-sends the number waits for the blink
    stats: LinkStats = field(default_factory=LinkStats)
    crc_logged: tuple[float, int] = (float("-inf"), 0)  # when the last bad-CRC warning went out, at what count


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
            # not an answer SERIAL.md knows: as if none came (the request is retried), but said
            log.warning(
                "device %d answered command 0x%02x (SEQ %d) with unknown command 0x%02x: ignored",
                reply.addr, self.frame.cmd, reply.seq, reply.cmd,
            )
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


_JobStart = Callable[[], Coroutine[Any, Any, None]]


class BusMaster:
    """Serves the devices of one line; use `async with BusMaster(line) as bus`.

    guard_s: how much before the interval a poll is due (timer jitter).
    probe_margin_s: how much longer than its answer takes a probe of an unavailable device waits.
    press_hold_s: how long, at most, a poll that brought presses keeps requests and probes
        back for the display update the presses cause.
    byte_time_s: time of one byte on the wire; the line's own when it has one, else 9600 baud.
    """

    def __init__(
        self,
        line: ByteLine,
        *,
        timeout_s: float = 0.3,
        retries: int = 3,
        poll_interval_s: float = 0.2,
        probe_interval_s: float = 1.0,
        health_interval_s: float = 10.0,
        guard_s: float = 0.01,
        probe_margin_s: float = 0.01,
        press_hold_s: float = 0.5,
        byte_time_s: float | None = None,
    ) -> None:
        self.line = line
        if byte_time_s is None:
            byte_time_s = float(getattr(line, "byte_time_s", BITS_PER_BYTE / 9600))
        self.byte_time_s = byte_time_s
        self.guard_s = guard_s
        self.probe_margin_s = probe_margin_s
        self.timeout_s = timeout_s
        self.retries = retries
        self.poll_interval_s = poll_interval_s
        self.probe_interval_s = probe_interval_s
        self.health_interval_s = health_interval_s
        self.press_hold_s = press_hold_s
        self.stats = BusStats()
        self._links: dict[int, _Link] = {}
        self._dirty: deque[int] = deque()
        self._requests: deque[tuple[_Link, Op, asyncio.Future[Reply]]] = deque()
        self._callbacks: list[StatusCallback] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._deferred = 0  # polls run in a row while another job waited
        # time an exchange takes beyond its bytes on the wire (turn-around, the loop's own
        # latency): a moving average over the answered first attempts
        self._overhead_s = TURNAROUND_BYTES * byte_time_s
        self._interleaving = False  # polls between the attempts of an exchange are running
        # polls that brought presses whose display update has not started yet, and until when
        # requests and probes wait for those updates
        self._presses_awaiting_update = 0
        self._hold_until = float("-inf")

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

    def link_stats(self, address: int) -> LinkStats:
        """The counters of the device at address."""
        return self._link(address).stats

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
        link.next_op = 0
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

    # scheduling (the rule is in the module docstring)

    def _keypads(self) -> list[_Link]:
        return [link for link in self._links.values() if link.polled and link.availability != "offline"]

    def _deadline(self, link: _Link) -> float:
        return link.last_poll + self.poll_interval_s - self.guard_s

    def _cost(self, link: _Link, op: Op) -> float:
        """Estimated duration of one attempt of op that the device answers."""
        if isinstance(op, FramedCommand):
            out = OVERHEAD + len(op.payload)
            # a POLL is mostly answered by an ACK; a KEYS answer is 2 bytes a press longer (guard_s)
            back = OVERHEAD + (link.status_len if op.cmd == PING else 0)
        elif isinstance(op, WriteSingle):
            out, back = 8, 8  # the answer echoes the request
        else:
            out, back = 8, 5 + 2 * op.count
        return (out + back) * self.byte_time_s + max(self._overhead_s, TURNAROUND_BYTES * self.byte_time_s)

    def _observe(self, took: float, wire_bytes: int) -> None:
        """Track the overhead beyond the wire as a moving average (one stall is jitter, for guard_s)."""
        overhead = max(0.0, took - wire_bytes * self.byte_time_s)
        self._overhead_s = 0.9 * self._overhead_s + 0.1 * overhead

    def _apply_cost(self, link: _Link) -> float:
        """Cost of the next op of the device's state: its ops go one by one."""
        ops = link.desired or ()
        return self._cost(link, ops[link.next_op]) if link.next_op < len(ops) else 0.0

    def _probe_op(self, link: _Link) -> Op:
        """What a probe sends: a health read, or the short check of an answering display.

        A PING (a Modbus read) asks for health. The periodic check of a display that answers
        sends the PING only if its STATUS answer can fit the slack one round of polls frees;
        otherwise the first op of the display's state again (idempotent, acknowledged by a
        short ACK), or CLEAR when it has none: the bridge shows nothing on a display without
        a state.
        """
        if link.dialect == "modbus":
            return ReadHolding(link.address, 0, 1)  # 15 bytes with its answer: fits like a SHOW
        ping = FramedCommand(PING)
        keypads = self._keypads()
        if link.availability != "online" or link.polled or not link.health_read or not keypads:
            return ping
        if self._cost(link, ping) <= self._free(keypads):
            return ping
        ops = link.desired or ()
        return ops[0] if ops else FramedCommand(CLEAR)

    def _probe_due(self, link: _Link) -> float:
        """When the device's next probe is due.

        The check of an answering display may re-send its number, which stops a blink: it
        waits until the last blink sent is over (a PING waiting too is harmless).
        """
        if link.availability == "online":
            return max(link.next_probe, link.blink_until)
        return link.next_probe

    def _probe_cost(self, link: _Link) -> float:
        """A probe's estimate; an unavailable device's also bounds how long the probe listens."""
        margin = self.probe_margin_s if link.availability == "offline" else 0.0
        return self._cost(link, self._probe_op(link)) + margin

    def _slack(self, now: float, keypads: Sequence[_Link]) -> float:
        """How long the line may do something else with every keypad still polled in time."""
        slack, start = math.inf, now
        for link in sorted(keypads, key=self._deadline):
            slack = min(slack, self._deadline(link) - start)
            start += self._cost(link, _POLL)
        return slack

    def _update_reserve(self) -> float:
        """Cost of the costliest op of a display update (a SHOW of "1234|05" before any)."""
        show = (2 * OVERHEAD + 7 + TURNAROUND_BYTES) * self.byte_time_s
        costs = (self._cost(link, op) for link in self._links.values() for op in link.desired or ())
        return max(costs, default=show)

    def _reserve(self, keypads: Sequence[_Link]) -> float:
        """Slack kept free on an idle bus: twice a poll on the line plus the costliest update."""
        return 2 * (max(self._cost(link, _POLL) for link in keypads) + self._update_reserve())

    def _pending(self, now: float) -> tuple[float, _JobStart, bool] | None:
        """The non-poll job to run next: its cost, its start, whether it is a display update.

        Nothing is taken off a queue until the job starts.
        """
        for address in [a for a in self._dirty if not self._sendable(self._links[a])]:
            self._dirty.remove(address)
        # a new state (its number) goes before the rest of another (its blink)
        first = next((a for a in self._dirty if self._links[a].next_op == 0), None)
        if first is None and self._dirty:
            first = self._dirty[0]
        if first is not None:
            link = self._links[first]
            return self._apply_cost(link), partial(self._start_apply, link), True
        if self._holding(now):
            return None
        if self._requests:
            link, op, _ = self._requests[0]
            return self._cost(link, op), self._start_request, False
        probes = [link for link in self._links.values() if now >= self._probe_due(link)]
        if probes:
            link = min(probes, key=self._probe_due)
            return self._probe_cost(link), partial(self._probe, link), False
        return None

    def _next_update_is_new(self) -> bool:
        """Whether the display update _pending chose is a new state (its first op)."""
        return any(self._links[a].next_op == 0 for a in self._dirty)

    @staticmethod
    def _sendable(link: _Link) -> bool:
        return link.dirty and link.availability != "offline"

    def _start_apply(self, link: _Link) -> Coroutine[Any, Any, None]:
        self._dirty.remove(link.address)
        if link.next_op == 0:  # a new state, not the rest of one
            self._presses_awaiting_update = max(0, self._presses_awaiting_update - 1)
        return self._apply_state(link)

    def _holding(self, now: float) -> bool:
        """Whether requests and probes wait for the display update of a press just polled."""
        if self._presses_awaiting_update and now >= self._hold_until:
            self._presses_awaiting_update = 0  # the presses changed no display (e.g. a rating)
        return self._presses_awaiting_update > 0

    def _start_request(self) -> Coroutine[Any, Any, None]:
        link, op, future = self._requests.popleft()
        return self._one_off(link, op, future)

    def _goes(self, cost: float, is_update: bool, slack: float, keypads: Sequence[_Link]) -> bool:
        """Whether a non-poll job of this cost goes now rather than the next poll."""
        if self._deferred >= 2 * len(keypads):
            return True  # two rounds of polls did not make room (estimates short of the line)
        if is_update and self._presses_awaiting_update and self._next_update_is_new():
            # the number a press asked for: right after the poll that brought the press,
            # even if the keypads' next polls then come up to this update's cost later
            return True
        free = self._free(keypads)
        if cost > free:
            # it can never fit: it goes once the slack is about as large as polling makes it
            return slack >= free - self.guard_s
        if is_update:
            return cost <= slack
        # a request or probe leaves room for an update that may arrive meanwhile, if it can
        reserve = self._update_reserve()
        return cost + reserve <= slack or (cost + reserve > free and cost <= slack)

    def _free(self, keypads: Sequence[_Link]) -> float:
        """The most slack polling can make: every keypad just polled, back to back."""
        return self.poll_interval_s - self.guard_s - sum(self._cost(link, _POLL) for link in keypads)

    def _next_job(self, now: float) -> Coroutine[Any, Any, None] | None:
        keypads = self._keypads()
        slack = self._slack(now, keypads)
        pending = self._pending(now)
        if pending is not None:
            cost, start, is_update = pending
            if not keypads or self._goes(cost, is_update, slack, keypads):
                self._deferred = 0
                return start()
            self._deferred += 1
            return self._poll(min(keypads, key=self._deadline))
        self._deferred = 0
        if keypads:
            first = min(keypads, key=self._deadline)
            early_ok = now >= first.last_poll + self.poll_interval_s / 2
            if slack <= 0 or (early_ok and slack <= self._reserve(keypads)):
                return self._poll(first)
        return None

    def _next_due(self, now: float) -> float:
        # a held probe is due when the hold ends (an update that ends it sets _wake)
        not_before = self._hold_until if self._holding(now) else float("-inf")
        times = [max(self._probe_due(link), not_before) for link in self._links.values()]
        keypads = self._keypads()
        if keypads:
            slack = self._slack(now, keypads)
            first = min(keypads, key=self._deadline)
            early = max(now + slack - self._reserve(keypads), first.last_poll + self.poll_interval_s / 2)
            times.append(min(now + slack, early))
        return min(times, default=now + 1.0)

    async def _poll_before_retry(self, retried: _Link, attempt_s: float) -> None:
        """Poll, in deadline order, the keypads whose deadline would pass during the next attempt."""
        if self._interleaving:
            return  # a poll between attempts does not interleave polls of its own
        self._interleaving = True
        loop = asyncio.get_running_loop()
        try:
            for link in sorted(self._keypads(), key=self._deadline):
                if link is retried or link.availability == "offline":
                    continue
                if self._deadline(link) >= loop.time() + attempt_s:
                    break
                await self._poll(link)
        finally:
            self._interleaving = False

    # jobs

    async def _apply_state(self, link: _Link) -> None:
        """Send the next op of the device's state; the rest go as jobs of their own.

        The first op (SHOW: the number) goes as soon as it fits; the next (BLINK) when the
        slack allows again, so the number is not held back for the sake of the blink.
        """
        ops = link.desired or ()
        # taken off the link during the exchange, so a timeout reaches them as a timeout
        waiters, link.waiters = link.waiters, []
        error: DeviceError | None = None
        try:
            if link.next_op < len(ops):
                op = ops[link.next_op]
                await self._exchange_or_offline(link, op)
                if isinstance(op, FramedCommand) and op.cmd == BLINK and len(op.payload) == 1:
                    link.blink_until = asyncio.get_running_loop().time() + op.payload[0]
        except DeviceTimeout as exc:
            link.next_op = 0  # not applied: send it all again when the device is back
            error = exc
        except ProtocolError as exc:
            if link.desired is ops:
                link.dirty = False  # refused: the rest of this state would not help
            error = exc
        else:
            if link.desired is ops:
                link.next_op += 1
                if link.next_op < len(ops):
                    link.waiters = waiters + link.waiters
                    self._mark_dirty(link)
                    return
                link.dirty = False
            # else a newer state replaced this one while it was sent: it is queued, and
            # whoever waited for this one is done (as with an unsent state replaced)
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
            if isinstance(exc, DeviceUnavailable):
                raise  # the line went away: the bus stops, not just this request
        else:
            if not future.done():
                future.set_result(reply)

    async def _poll(self, link: _Link) -> None:
        now = asyncio.get_running_loop().time()
        if link.availability == "online" and math.isfinite(link.last_poll):
            self.stats.max_poll_gap_s = max(self.stats.max_poll_gap_s, now - link.last_poll)
        link.last_poll = now
        self.stats.polls += 1
        try:
            reply = await self._exchange_or_offline(link, FramedCommand(POLL))
        except (DeviceTimeout, ProtocolError) as exc:
            # the keypad did not answer (it is marked unavailable) or refused: the bus goes on.
            # A DeviceUnavailable is the line itself going away: it ends the bus at once.
            log.debug("poll of device %d failed: %s", link.address, exc)
            return
        if isinstance(reply, Frame) and reply.cmd == KEYS:
            try:
                events, unknown = read_keys(reply.payload)
            except ProtocolError as exc:
                log.warning("device %d: %s", link.address, exc)
                return
            for code, press_seq in unknown:
                log.warning("device %d: dropped a press of unknown key code 0x%02x (press seq %d)",
                            link.address, code, press_seq)
            if events:
                self._presses_awaiting_update += 1
                self._hold_until = asyncio.get_running_loop().time() + self.press_hold_s
            for event in events:
                self.stats.presses += 1
                link.presses.put_nowait(event)

    async def _probe(self, link: _Link) -> None:
        now = asyncio.get_running_loop().time()
        op = self._probe_op(link)
        # an unavailable device gets one short try per probe: retries would only hold the bus
        offline = link.availability == "offline"
        attempts = 1 if offline else self.retries + 1
        try:
            reply = await self._exchange(
                link, op, attempts, listen_s=min(self._probe_cost(link), self.timeout_s) if offline else None
            )
        except DeviceTimeout:
            link.next_probe = now + self.probe_interval_s
            self._set_availability(link, "offline")
            return
        except ProtocolError as exc:
            reply = None  # it answered, so it is there, even if it refused the probe
            log.warning("device %d answered the probe with an error: %s", link.address, exc)
        # a polled keypad's answers to its polls tell it is there: no periodic health PING
        link.next_probe = math.inf if link.polled else now + self.health_interval_s
        if isinstance(op, FramedCommand) and op.cmd != PING:
            # the short check (only of a display that was answering): it is still there and
            # shows its state again, even after a reboot; its health stays the last reported
            self._set_availability(link, "online")
            return
        link.health_read = True
        if isinstance(reply, Frame) and reply.cmd == STATUS:
            link.status_len = len(reply.payload)
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
            link.next_op = 0
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

    async def _exchange(
        self, link: _Link, op: Op, attempts: int, *, listen_s: float | None = None
    ) -> Reply:
        """Up to attempts tries of op.

        listen_s: wait that long for the first byte of an answer, then timeout_s.
        """
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
            if attempt:
                # the last attempt timed out: keypads due meanwhile go before the retry
                await self._poll_before_retry(link, len(request) * self.byte_time_s + self.timeout_s)
                self.stats.retries += 1
                link.stats.retries += 1
            self.stats.exchanges += 1
            link.stats.frames += 1
            # a fresh parser per attempt; the retry repeats the same bytes (same SEQ)
            reader = make_reader()
            self.stats.stale_bytes += self.line.discard_input()
            began = loop.time()
            await self.line.write(request)
            sent = loop.time()
            deadline = sent + (self.timeout_s if listen_s is None else listen_s)
            heard = False
            try:
                while (remaining := deadline - loop.time()) > 0:
                    data = await self.line.read(remaining)
                    if data and not heard:
                        heard = True  # it is answering: give it the whole timeout
                        deadline = max(deadline, sent + self.timeout_s)
                    reply = reader.feed(data)
                    if reply is not None:
                        link.stats.heard_at = loop.time()
                        if attempt == 0:
                            self._observe(loop.time() - began, len(request) + _answer_bytes(reply))
                        return reply
            except ProtocolError:
                self.stats.naks += 1
                link.stats.naks += 1
                link.stats.heard_at = loop.time()
                raise
            finally:
                bad = reader.decoder.bad_crc if isinstance(reader, _FramedReader) else reader.bad_crc
                if bad:
                    self.stats.bad_crc += bad
                    link.stats.bad_crc += bad
                    self._log_bad_crc(link, loop.time())
        self.stats.timeouts += 1
        link.stats.timeouts += 1
        raise DeviceTimeout(f"device {link.address} did not answer {attempts} attempts")

    def _log_bad_crc(self, link: _Link, now: float) -> None:
        """A warning for frames dropped on a bad CRC: at most one per device per CRC_LOG_EVERY_S."""
        last, count = link.crc_logged
        if now - last < CRC_LOG_EVERY_S:
            return
        log.warning(
            "device %d: %d frames with a bad CRC dropped (%d in all): noise, wiring or termination on the line",
            link.address, link.stats.bad_crc - count, link.stats.bad_crc,
        )
        link.crc_logged = (now, link.stats.bad_crc)

    def _set_availability(
        self, link: _Link, availability: Availability, health: Mapping[str, object] | None = None
    ) -> None:
        changed = link.availability != availability
        if health is not None and health != link.health:
            link.health = health
            changed = True
        link.availability = availability
        if availability == "offline":
            link.last_poll = float("-inf")  # polled at once when it is back
            link.health_read = False  # PINGed for its health when it is back
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


def _answer_bytes(reply: Reply) -> int:
    """Length on the wire of an answer: a frame, a Modbus write echo or a read response."""
    if isinstance(reply, Frame):
        return OVERHEAD + len(reply.payload)
    if reply is None or reply == ():
        return 8
    return 5 + 2 * len(reply)


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
