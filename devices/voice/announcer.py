"""The public face of voice: `Announcer`, an async context manager the controller owns.

    async with Announcer(template, library, players=lambda zone: PygamePlayer(...),
                         is_stale=lambda ticket_id: ...) as announcer:
        await announcer.announce(Announcement("t-1", "1024", counter=5, zone="hall"))

One queue and one worker task per zone: announcements of a zone play one
after another in the order they were announced, never overlapping and never
cutting each other; zones play independently. `announce()` only enqueues,
so the caller (the controller's event publisher) never waits for audio.

Just before an announcement is played its ticket is checked with
`is_stale(ticket_id)` (sync or async, called on the event loop); a ticket
already served, cancelled or recalled elsewhere is skipped rather than
called for nobody. Composition and playback run in threads (to_thread), so
the event loop never blocks on audio. A failing player or renderer
(DeviceError) fails that one announcement and the queue goes on; the
outcome says whether the sound output itself failed (`output_failed`), and
`on_outcome` hears every outcome as it happens (the controller turns them
into the speaker's device status).

Leaving the block discards what is still queued, cuts the sound playing
now and waits for the workers; `join()` first to let everything play out.

Zones and outputs: pygame opens one audio output per process and mixes its
channels into it. Zones that share that output should share one player
(`players=lambda zone: speaker`): the player's lock then keeps them from
talking over each other as well, each zone still in its own order. Give a
zone its own player only when it has its own output (another process on
another sound card, or a networked speaker behind MQTT .../voice/{zone}/say).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

from devices.errors import DeviceError, DeviceUnavailable
from devices.voice.compose import compose
from devices.voice.library import ClipLibrary, WarmReport
from devices.voice.pcm import Pcm
from devices.voice.player import Player, PlayRecord
from devices.voice.template import Announcement, AnnouncementTemplate, plan

__all__ = ["Announcer", "Outcome", "OutcomeListener", "OutcomeStatus", "StalePredicate"]

log = logging.getLogger(__name__)

OutcomeStatus = Literal["played", "cut", "stale", "failed", "discarded"]
StalePredicate = Callable[[str], bool | Awaitable[bool]]
_CLOSE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Outcome:
    """What became of one announcement."""

    announcement: Announcement
    status: OutcomeStatus
    record: PlayRecord | None = None
    detail: str = ""
    output_failed: bool = False  # the player raised: the zone's sound output, not the words


OutcomeListener = Callable[[Outcome], None]


class _Zone:
    """One zone's queue, player and worker task."""

    def __init__(self, name: str, player: Player, max_pending: int) -> None:
        self.name = name
        self.player = player
        self.queue: asyncio.Queue[Announcement | None] = asyncio.Queue(max_pending)
        self.task: asyncio.Task[None] | None = None


class Announcer:
    """Queues announcements per zone and plays them, skipping stale tickets."""

    def __init__(
        self,
        template: AnnouncementTemplate,
        library: ClipLibrary,
        players: Callable[[str], Player],
        *,
        is_stale: StalePredicate | None = None,
        warm: bool = True,
        max_pending: int = 100,
        history: int = 1000,
        on_outcome: OutcomeListener | None = None,
    ) -> None:
        self.template = template
        self.library = library
        self.players = players
        self.is_stale = is_stale
        self.warm_on_enter = warm
        self.max_pending = max_pending
        self.outcomes: deque[Outcome] = deque(maxlen=history)
        self.on_outcome = on_outcome
        self.warm_report: WarmReport | None = None
        self._zones: dict[str, _Zone] = {}
        self._open = False
        self._closing = False

    async def __aenter__(self) -> Announcer:
        if self.warm_on_enter:
            self.warm_report = await asyncio.to_thread(self.library.warm, self.template.clip_inventory())
            if self.warm_report.failed:
                log.warning("voice: %d clips could not be rendered", len(self.warm_report.failed))
        self._open = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def announce(self, announcement: Announcement) -> None:
        """Queue `announcement` in its zone; returns at once."""
        if not self._open:
            raise RuntimeError("the announcer is not open (use `async with`)")
        zone = self._zone(announcement.zone)
        try:
            zone.queue.put_nowait(announcement)
        except asyncio.QueueFull as exc:
            raise DeviceUnavailable(f"zone {zone.name!r} already has {self.max_pending} announcements waiting") from exc

    async def join(self) -> None:
        """Wait until every zone has played (or skipped) everything queued so far."""
        for zone in list(self._zones.values()):
            await zone.queue.join()

    async def close(self) -> None:
        """Discard what is queued, cut what is playing, and stop the workers."""
        self._open = False
        self._closing = True
        for zone in self._zones.values():
            while not zone.queue.empty():
                pending = zone.queue.get_nowait()
                if pending is not None:
                    self.outcomes.append(Outcome(pending, "discarded"))
                zone.queue.task_done()
            zone.queue.put_nowait(None)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _CLOSE_TIMEOUT_S
        for zone in self._zones.values():
            task = zone.task
            if task is None:
                continue
            # Stop repeatedly: the worker may only now be starting a sound it composed.
            while not task.done() and loop.time() < deadline:
                zone.player.stop()
                await asyncio.wait({task}, timeout=0.05)
            if not task.done():
                task.cancel()
                log.error("voice: zone %s did not stop in time", zone.name)
            await asyncio.gather(task, return_exceptions=True)
        self._zones.clear()
        self._closing = False

    def _zone(self, name: str) -> _Zone:
        zone = self._zones.get(name)
        if zone is None:
            zone = _Zone(name, self.players(name), self.max_pending)
            zone.task = asyncio.create_task(self._run(zone), name=f"voice-zone-{name}")
            self._zones[name] = zone
        return zone

    async def _run(self, zone: _Zone) -> None:
        while True:
            announcement = await zone.queue.get()
            try:
                if announcement is None:
                    return
                try:
                    outcome = await self._play(zone, announcement)
                except Exception as exc:
                    # A bug in one announcement must not silence the zone for the day.
                    log.exception("voice: zone %s failed on %s", zone.name, announcement.ticket_id)
                    outcome = Outcome(announcement, "failed", detail=repr(exc))
                self.outcomes.append(outcome)
                self._tell(outcome)
            finally:
                zone.queue.task_done()

    def _tell(self, outcome: Outcome) -> None:
        if self.on_outcome is None:
            return
        try:
            self.on_outcome(outcome)
        except Exception:
            # a listener's bug must not stop the zone's queue
            log.exception("voice: outcome listener failed on %s", outcome.announcement.ticket_id)

    async def _stale(self, announcement: Announcement) -> bool:
        if self.is_stale is None:
            return False
        try:
            answer = self.is_stale(announcement.ticket_id)
            if inspect.isawaitable(answer):
                answer = await answer
        except Exception:
            # Better to call a ticket once too often than to skip a citizen on a bug.
            log.exception("voice: is_stale failed for %s", announcement.ticket_id)
            return False
        return bool(answer)

    def _compose(self, announcement: Announcement) -> Pcm:
        return compose(plan(announcement, self.template), self.library)

    async def _play(self, zone: _Zone, announcement: Announcement) -> Outcome:
        if await self._stale(announcement):
            return Outcome(announcement, "stale")
        try:
            audio = await asyncio.to_thread(self._compose, announcement)
        except DeviceError as exc:
            log.warning("voice: cannot compose %s: %s", announcement.ticket_id, exc)
            return Outcome(announcement, "failed", detail=str(exc))
        # Checked again right before playing: composing may have taken a moment.
        if self._closing:
            return Outcome(announcement, "discarded")
        if await self._stale(announcement):
            return Outcome(announcement, "stale")
        label = f"{announcement.kind}:{announcement.ticket_id}:{announcement.number}"
        label += f"@{announcement.counter}"
        try:
            record = await asyncio.to_thread(zone.player.play, audio, label)
        except DeviceError as exc:
            log.warning("voice: zone %s cannot play: %s", zone.name, exc)
            return Outcome(announcement, "failed", detail=str(exc), output_failed=True)
        return Outcome(announcement, "played" if record.completed else "cut", record)
