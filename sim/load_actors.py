"""The emulated people of `motcua load`: kiosks, counter staff and live-stream subscribers.

Every request goes to the next controller URL in turn, as behind a plain load
balancer; the controllers forward a site's commands to its writer. A 503
(site moving, store unavailable: nothing was executed) is retried on another
URL; a ticket issue is also retried after a lost reply, with the same
Idempotency-Key, so a retry never makes a second ticket. A call-next whose
reply was lost is not retried (it has no idempotency key): it counts as an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.typing import Subprotocol

from controller.core.site import Site
from sim.arrivals import Arrival
from sim.load_stats import LiveCheck, LoadStats

__all__ = ["Api", "Phones", "SiteWork", "Timeline", "kiosk", "open_counter", "staff", "subscriber"]

# CONTRACT.md section 3: a client offers both subprotocols for the full stream and is answered the first
LIVE_SUBPROTOCOL = "motcua.live.v1"
BEARER_PREFIX = "motcua.bearer."
RETRIES = 20
RETRY_PAUSE_S = 0.1
FAILED_PAUSE_S = 1.0      # a staff member whose request found no server asks again after this long
IDLE_WAIT_S = 30.0         # an idle counter asks again at least this often (wall seconds), woken or not
DEFAULT_SERVICE_S = 300.0  # a ticket this run did not issue


class Timeline:
    """Simulated local time of day -> wall clock, at `speed` times real speed, for `duration_s`."""

    def __init__(self, sim_start_s: float, speed: float, duration_s: float) -> None:
        self.sim_start_s = sim_start_s
        self.speed = speed
        self.started = time.monotonic()
        self.ends = self.started + duration_s

    def over(self) -> bool:
        return time.monotonic() >= self.ends

    async def until(self, sim_s: float) -> bool:
        """Sleep until simulated time `sim_s`; False when that is past the run's end."""
        due = self.started + (sim_s - self.sim_start_s) / self.speed
        if due >= self.ends:
            return False
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        return True

    async def spend(self, sim_seconds: float) -> None:
        await asyncio.sleep(min(sim_seconds / self.speed, max(0.0, self.ends - time.monotonic())))


class Api:
    """HTTP calls through one client, round-robin over the controllers, timed and counted."""

    def __init__(self, client: httpx.AsyncClient, urls: Sequence[str], stats: LoadStats) -> None:
        self.client = client
        self.urls = list(urls)
        self.stats = stats
        self._next = itertools.cycle(range(len(self.urls)))

    async def call(
        self, op: str, method: str, path: str, *, headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None, retry_lost_reply: bool = False,
    ) -> httpx.Response | None:
        """One operation, retried on 503 (and on a lost reply when safe); None when it failed."""
        started = time.perf_counter()
        for attempt in range(RETRIES):
            url = self.urls[next(self._next)]
            try:
                reply = await self.client.request(method, url + path, headers=headers, json=body)
            except httpx.TransportError as exc:
                if retry_lost_reply and attempt + 1 < RETRIES:
                    self.stats.retries[op] += 1
                    await asyncio.sleep(RETRY_PAUSE_S)
                    continue
                self.stats.error(op, type(exc).__name__)
                return None
            if reply.status_code == 503 and attempt + 1 < RETRIES:
                self.stats.retries[op] += 1
                await asyncio.sleep(RETRY_PAUSE_S)
                continue
            if reply.status_code == 429:
                self.stats.refused(op, _code(reply))  # a limit of the server said no: not a failure
                return reply
            if reply.status_code >= 400:
                self.stats.error(op, _code(reply))
                return reply
            self.stats.ok(op, time.perf_counter() - started)
            return reply
        return None


def _code(reply: httpx.Response) -> str:
    with contextlib.suppress(ValueError, KeyError, TypeError):
        return f"{reply.status_code}:{reply.json()['error']['code']}"
    return str(reply.status_code)


@dataclass
class SiteWork:
    """What one site's emulated people share: the tickets issued here and wake-ups for idle counters."""

    site: Site
    arrivals: list[Arrival]
    tickets: dict[str, Arrival] = field(default_factory=dict)
    numbers: dict[str, Arrival] = field(default_factory=dict)  # by ticket number (what a display shows)
    wake: dict[int, asyncio.Event] = field(default_factory=dict)

    def ready(self, ticket: dict[str, Any]) -> None:
        """A ticket waits for one of its counters: wake those that are idle (not every counter of the site)."""
        for counter in ticket.get("counters") or ():
            event = self.wake.get(int(counter))
            if event is not None:
                event.set()

    def service_for_number(self, number: str) -> float:
        """Service time of the ticket a display shows (its first step: a display tells no more)."""
        arrival = self.numbers.get(number)
        return arrival.services_s[0] if arrival is not None and arrival.services_s else DEFAULT_SERVICE_S

    def service_s(self, ticket: dict[str, Any]) -> float:
        arrival = self.tickets.get(str(ticket.get("id")))
        step = int(ticket.get("step") or 0)
        if arrival is None or step >= len(arrival.services_s):
            return DEFAULT_SERVICE_S
        return arrival.services_s[step]


class PrintWatch(Protocol):
    """Told of every ticket a kiosk was given, with what became of its print (sim/load_printers.py)."""

    def issued(self, site: str, ticket: dict[str, Any]) -> None: ...


async def kiosk(
    api: Api, work: SiteWork, timeline: Timeline, keys: Sequence[str], budget: list[int],
    phones: Phones | None = None, prints: PrintWatch | None = None,
) -> None:
    """Issue the site's arrivals at their (compressed) times, each at the next of the hall's kiosks in turn.

    Each kiosk key has its own rate limit at the server, as each kiosk of a hall has; a refusal by it
    (429) is counted apart and the citizen does not get a ticket (as at a kiosk, nothing is retried).
    With `phones`, a share of the citizens follow their ticket on the ticket page's live stream.
    """
    site = work.site.id
    turn = itertools.cycle(keys)
    for arrival in work.arrivals:
        if arrival.at_s < timeline.sim_start_s:
            continue
        if budget[0] <= 0 or not await timeline.until(arrival.at_s):
            return
        budget[0] -= 1
        headers = {"X-Kiosk-Key": next(turn), "Idempotency-Key": uuid.uuid4().hex}
        body = {"procedure": arrival.procedure, "priority": arrival.priority}
        reply = await api.call("issue", "POST", f"/api/v1/sites/{site}/tickets", headers=headers, body=body,
                               retry_lost_reply=True)
        if reply is not None and reply.status_code == 201:
            ticket = reply.json()
            work.tickets[str(ticket["id"])] = arrival
            work.numbers[str(ticket["number"])] = arrival
            api.stats.issued(site, str(ticket["id"]), str(ticket["number"]))
            work.ready(ticket)
            if phones is not None:
                phones.follow(site, str(ticket["id"]))
            if prints is not None:
                prints.issued(site, ticket)


async def open_counter(api: Api, work: SiteWork, counter: int, auth: dict[str, str]) -> None:
    """Staff log in at the counter (before the timed run; already open from an earlier run is fine)."""
    work.wake.setdefault(counter, asyncio.Event())
    await api.call("open", "POST", f"/api/v1/sites/{work.site.id}/counters/{counter}/open", headers=auth)


async def staff(api: Api, work: SiteWork, counter: int, auth: dict[str, str], timeline: Timeline) -> None:
    """Call, serve (for the drawn service time) and finish until the run ends; idle until a ticket is issued."""
    base = f"/api/v1/sites/{work.site.id}/counters/{counter}"
    wake = work.wake.setdefault(counter, asyncio.Event())
    # Start idle, each counter at its own moment: not every counter of the province at once.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(wake.wait(), random.uniform(0, IDLE_WAIT_S))
    while not timeline.over():
        wake.clear()  # before asking: a ticket issued while the call is in flight still wakes us
        reply = await api.call("call_next", "POST", f"{base}/call-next", headers=auth)
        if reply is not None and reply.status_code == 200:
            ticket = reply.json()
            await timeline.spend(work.service_s(ticket))
            if timeline.over():
                return
            done = await api.call("finish", "POST", f"{base}/finish", headers=auth, body={"outcome": "done"})
            if done is not None and done.status_code == 200 and done.json().get("state") == "waiting":
                work.ready(done.json())  # a done intake's next step (fee, result) waits for another counter
        elif reply is not None and reply.status_code == 204:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), IDLE_WAIT_S)
        elif reply is not None and _code(reply) == "409:counter_busy":
            # a ticket left at the counter (by an earlier run, or a call whose reply was lost): finish it first
            await api.call("finish", "POST", f"{base}/finish", headers=auth, body={"outcome": "done"})
        elif reply is None:
            await asyncio.sleep(FAILED_PAUSE_S)  # no server answered (restarting?): ask again soon
        else:
            await asyncio.sleep(IDLE_WAIT_S)


async def subscriber(
    urls: Sequence[str], site: str, token: str, check: LiveCheck, connected: asyncio.Event, first: int,
    on_event: Callable[[str, dict[str, Any]], None] | None = None, stats: LoadStats | None = None,
) -> None:
    """Follow the site's full live stream with a bearer token (reconnecting elsewhere with ?after=SEQ) and check it.

    on_event: also told of every event (the keypads time their rating presses by it).
    stats: given each event's lag, from its commit (`ts`, the server's clock: the same machine) to now.
    """
    offered = [Subprotocol(LIVE_SUBPROTOCOL), Subprotocol(BEARER_PREFIX + token)]
    index = first
    while True:
        base = urls[index % len(urls)].replace("http://", "ws://", 1)
        query = "snapshots=false" + (f"&after={check.last_seq}" if check.last_seq is not None else "")
        try:
            async with connect(f"{base}/api/v1/sites/{site}/live?{query}", proxy=None, open_timeout=10,
                               compression=None, subprotocols=offered) as ws:
                connected.set()
                async for raw in ws:
                    message = json.loads(raw)
                    if message.get("type") != "monitor.snapshot" and "seq" in message:
                        ticket = message.get("ticket")
                        check.see(int(message["seq"]), str(message["type"]), None if ticket is None else str(ticket))
                        if stats is not None and isinstance(message.get("ts"), (int, float)):
                            stats.lag("full", stats.server_now() - float(message["ts"]))
                        if on_event is not None:
                            on_event(site, message)
        except (OSError, TimeoutError, WebSocketException):
            pass
        check.reconnects += 1
        index += 1
        await asyncio.sleep(0.2)


@dataclass
class Phones:
    """Citizens who follow their ticket on the ticket page (/t/{site}/{id}) with their phone.

    A phone opens the public live stream (no credential, as the page does), reads its ticket, and
    waits for its call; the time from the call's commit to the phone receiving it is the lag
    `phone_called`. A refused handshake (429: the connections of one address) counts as a refusal.
    """

    urls: Sequence[str]
    stats: LoadStats
    share: float
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    opened: int = 0
    called: int = 0
    open_now: int = 0
    open_max: int = 0
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    def follow(self, site: str, ticket: str) -> None:
        """A citizen with a ticket: `share` of them follow it on their phone."""
        if self.rng.random() >= self.share:
            return
        task = asyncio.create_task(self._phone(site, ticket))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def report(self) -> dict[str, Any]:
        return {"share": self.share, "opened": self.opened, "saw_their_call": self.called, "open_max": self.open_max}

    async def _phone(self, site: str, ticket: str) -> None:
        base = self.urls[next(self._turn) % len(self.urls)]
        started = time.perf_counter()
        try:
            async with connect(f"{base.replace('http://', 'ws://', 1)}/api/v1/sites/{site}/live", proxy=None,
                               open_timeout=10, compression=None) as ws:
                self.opened += 1
                self.open_now += 1
                self.open_max = max(self.open_max, self.open_now)
                try:
                    await self._read(ws, base, site, ticket, started)
                finally:
                    self.open_now -= 1
        except InvalidStatus as exc:
            status = exc.response.status_code
            code = f"{status}:{_ws_code(exc.response.body)}"
            (self.stats.refused if status == 429 else self.stats.error)("phone", code)
        except (OSError, TimeoutError, WebSocketException) as exc:
            self.stats.error("phone", type(exc).__name__)

    async def _read(self, ws: Any, base: str, site: str, ticket: str, started: float) -> None:
        async with httpx.AsyncClient(trust_env=False, timeout=30.0) as client:
            reply = await client.get(f"{base}/api/v1/sites/{site}/tickets/{ticket}")
        if reply.status_code != 200:
            self.stats.error("phone", str(reply.status_code))
            return
        self.stats.ok("phone_open", time.perf_counter() - started)  # the page shows the ticket, live
        if reply.json().get("state") in ("called", "serving", "done", "no_show", "abandoned"):
            return  # called (or gone) already while the page opened
        async for raw in ws:
            message = json.loads(raw)
            if message.get("type") == "ticket.called" and str(message.get("ticket")) == ticket:
                self.called += 1
                if isinstance(message.get("ts"), (int, float)):
                    self.stats.lag("phone_called", self.stats.server_now() - float(message["ts"]))
                return


def _ws_code(body: bytes | None) -> str:
    with contextlib.suppress(ValueError, KeyError, TypeError):
        return str(json.loads(body or b"")["error"]["code"])
    return "refused"
