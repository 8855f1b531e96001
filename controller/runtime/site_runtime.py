"""One writer per site: command -> events -> commit -> fold -> publish.

Commands for a site are serialised by an asyncio lock, so the core never sees
concurrency. Events are committed to the log before they are applied or
published, so anything acknowledged survives a crash, and anything published
is in the log.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from controller.core.clock import iso
from controller.core.commands import Command
from controller.core.events import Event
from controller.core.floor import Floor
from controller.core.public_events import public_data
from controller.core.site import Site
from controller.core.state import SiteState
from controller.core.views import monitor_snapshot
from controller.runtime.hub import Hub
from controller.runtime.latency import AppendLatency
from controller.store.base import EventStore, StoreError

__all__ = ["Committed", "SiteRuntime", "live_message", "public_message", "publish_event"]

Clock = Callable[[], float]

# The floor is watched live: risk is judged on a forecast at most this old (the simulator uses a minute).
ENFORCE_REFRESH_S = 5.0
Listener = Callable[[str, "Committed"], None]
# Every monitor page, feed reader and snapshot stream asks for the same snapshot: one is
# computed per state change and shared for at most this long (waits and ages move with the clock).
SNAPSHOT_MAX_AGE_S = 1.0


class Committed(list[tuple[int, Event]]):
    """Events committed by one command, with their sequence numbers."""

    @property
    def events(self) -> list[Event]:
        return [event for _, event in self]


class SiteRuntime:
    """The single writer of one site."""

    def __init__(
        self,
        site: Site,
        store: EventStore,
        hub: Hub,
        policy: str = "deadline",
        clock: Clock = time.time,
        check_hours: bool = True,
        timer: Clock = time.perf_counter,
    ) -> None:
        self.site = site
        self.store = store
        self.hub = hub
        self.clock = clock
        self.check_hours = check_hours
        # measures the store's appends (the clock above may be simulated or a test's)
        self.timer = timer
        self.append_latency = AppendLatency()
        self.floor = Floor(site, policy, enforce_refresh_s=ENFORCE_REFRESH_S)
        self.lock = asyncio.Lock()
        self.last_seq = 0
        self.listeners: list[Listener] = []
        # the site's devices and their availability for the monitor; the device router
        # replaces it while it runs (availability lives in its coordinators, not the core)
        self.device_view: Callable[[], list[dict[str, Any]]] = list
        self._unsure = False
        self._snapshot: tuple[SiteState, int, float, dict[str, Any]] | None = None

    def monitor_snapshot(self) -> dict[str, Any]:
        """The monitor snapshot now, shared by every reader while the floor is unchanged (for up to a second)."""
        now = self.clock()
        state = self.floor.state
        cached = self._snapshot
        if (cached is not None and cached[0] is state and cached[1] == state.version
                and 0.0 <= now - cached[2] < SNAPSHOT_MAX_AGE_S):
            return cached[3]
        snapshot = monitor_snapshot(self.floor, now, self.device_view())
        self._snapshot = (state, state.version, now, snapshot)
        return snapshot

    async def recover(self) -> int:
        """Replay today's events from the log; returns how many were applied."""
        day_event = self.floor.day_event(self.clock())
        today = str(day_event.data["day"]) if day_event is not None else self.floor.state.day
        stored = await self.store.read_day(self.site.id, today)
        self.floor.apply(Event.from_dict(s.body) for s in stored)
        if stored:
            self.last_seq = stored[-1].seq
        else:
            latest = await self.store.latest_day(self.site.id)
            earlier = await self.store.read_day(self.site.id, latest) if latest else []
            self.last_seq = earlier[-1].seq if earlier else 0
        return len(stored)

    async def execute(self, command: Command) -> Committed:
        """Decide, commit, apply and publish one command; DomainError leaves everything as it was."""
        async with self.lock:
            await self._resync_if_unsure()
            now = self.clock()
            events = self.floor.decide(command, now)
            return await self._commit(events)

    async def record(self, events: Sequence[Event]) -> Committed:
        """Commit facts observed outside the core (device.changed): nothing to decide, no DomainError."""
        async with self.lock:
            return await self._commit(list(events))

    async def tick(self) -> Committed:
        """Run target enforcement now."""
        async with self.lock:
            await self._resync_if_unsure()
            now = self.clock()
            return await self._commit(self.floor.tick(now))

    async def _resync_if_unsure(self) -> None:
        # A failed append may have been committed all the same (a networked log can lose the
        # reply, not the write): rebuild the floor from the log before deciding anything else,
        # so a ticket number is never handed out twice. Events found that way are published late.
        if not self._unsure:
            return
        before = self.last_seq
        self.floor = Floor(self.site, self.floor.policy, enforce_refresh_s=ENFORCE_REFRESH_S)
        await self.recover()
        if self.last_seq > before:
            for stored in await self.store.read_after(self.site.id, before):
                publish_event(self.hub, self.site, stored.seq, Event.from_dict(stored.body))
        self._unsure = False

    async def _commit(self, events: list[Event]) -> Committed:
        committed = Committed()
        if not events:
            return committed
        day = next((str(e.data["day"]) for e in events if e.type == "day.started"), self.floor.state.day)
        started = self.timer()
        try:
            seqs = await self.store.append(self.site.id, day, [e.to_dict() for e in events])
        except StoreError:
            self._unsure = True
            self.append_latency.failures += 1
            raise
        finally:
            self.append_latency.observe(self.timer() - started)
        self.floor.apply(events)
        for seq, event in zip(seqs, events, strict=True):
            committed.append((seq, event))
            self.last_seq = seq
            publish_event(self.hub, self.site, seq, event)
        for listener in self.listeners:
            listener(self.site.id, committed)
        return committed

    def snapshot_message(self, seq: int) -> dict[str, Any]:
        """The live stream's periodic monitor.snapshot, sent after the event with seq `seq` (it repeats that seq)."""
        now = self.clock()
        return {
            "seq": seq,
            "site": self.site.id,
            "type": "monitor.snapshot",
            "at": iso(now, self.site.utc_offset_s),
            "ts": now,
            "snapshot": self.monitor_snapshot(),
        }


def live_message(site: Site, seq: int, event: Event) -> dict[str, Any]:
    """The live-stream form of a site's event (CONTRACT.md section 3), also for sites followed from Redis."""
    return {
        "seq": seq,
        "site": site.id,
        "type": event.type,
        "at": iso(event.at, site.utc_offset_s),
        "ts": event.at,
        **event.data,
    }


def public_message(site: Site, seq: int, event: Event) -> dict[str, Any] | None:
    """The public stream's form of the event (what the hall shows), or None when it is not shown there."""
    data = public_data(event)
    if data is None:
        return None
    return {"seq": seq, "site": site.id, "type": event.type, "at": iso(event.at, site.utc_offset_s), "ts": event.at,
            **data}


def publish_event(hub: Hub, site: Site, seq: int, event: Event) -> None:
    """Hand a committed event to the live streams of the site, in both its forms."""
    hub.publish(site.id, live_message(site, seq, event), public_message(site, seq, event))
