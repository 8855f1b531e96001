"""Where announcements go: one small contract, an MQTT driver and the local announcer.

    MqttSpeaker   motcua/{site}/voice/{zone}/say, QoS 1, not retained (a call is
                  news: a player that connects later must not replay it)
    LocalSpeaker  the controller host's own sound output through devices.voice.Announcer:
                  one Announcer per site (its template, its floor for staleness), all
                  sharing one Player, so no two announcements ever overlap in the room

`VoiceService` is the commit listener: ticket.called / ticket.recalled ->
VoiceSay (voice.py) -> each zone's speaker. It runs inside the writer's
commit, so `say()` never blocks: MQTT hands the message to paho's queue and
the announcer only enqueues.

    --devices sim    every zone is played by the local announcer with a FakePlayer
                     (a tone renderer: no espeak-ng, no sound card), and published too
                     when MQTT is on
    --devices real   zones with a local speaker (transport = "local") through pygame
                     on this host; every other zone published for its audio player

The speakers played here report their status like any other device, through
the device router (health.py: debounced device.changed, the monitor's list):
online when their output opens and after each announcement heard, offline
when the sound output fails (a renderer that cannot word a call is not the
speaker's fault: logged, the status unchanged) or cannot be opened at all.
An MQTT audio player reports its own status on its status topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from controller.devices.voice import (
    VoiceZones,
    announcement_for,
    is_stale,
    site_template,
    speakers_by_zone,
    voice_calls,
)
from controller.runtime.controller import Controller
from controller.runtime.site_runtime import Committed, SiteRuntime
from devices.errors import DeviceError
from devices.payloads import DeviceStatus, VoiceSay, encode_voice_say
from devices.topics import SiteTopics
from devices.voice.announcer import Announcer, Outcome
from devices.voice.library import ClipLibrary
from devices.voice.player import Player
from devices.voice.template import AnnouncementTemplate, Clip
from firmware_bridge.mqtt_link import MqttLink

__all__ = ["LocalSpeaker", "MqttSpeaker", "Speaker", "StatusSink", "VoiceService", "voice_service"]

log = logging.getLogger(__name__)

# (site, device id, status): the device router's status(), in the controller
StatusSink = Callable[[str, str, DeviceStatus], None]


class Speaker(Protocol):
    """Says announcements in a zone of a site."""

    def say(self, site: str, call: VoiceSay) -> None:
        """Queue call for its zone; returns at once."""


class MqttSpeaker:
    """Publishes each call for the zone's audio player."""

    def __init__(self, link: MqttLink) -> None:
        self.link = link
        self.sent = 0

    def say(self, site: str, call: VoiceSay) -> None:
        self.link.publish(SiteTopics(site).voice_say(call.zone), encode_voice_say(call), retain=False)
        self.sent += 1


class LocalSpeaker:
    """Plays calls on this host through one Announcer per site; `async with` owns them."""

    def __init__(
        self, controller: Controller, library: ClipLibrary, player: Player, *, warm: bool = True,
        speakers: Mapping[str, Mapping[str, tuple[str, ...]]] | None = None, on_status: StatusSink | None = None,
    ) -> None:
        """speakers: site -> zone -> ids of the registry speakers played here, told to on_status."""
        self.controller = controller
        self.library = library
        self.player = player
        self.warm = warm
        self.speakers = speakers or {}
        self.on_status = on_status
        self._reported: dict[tuple[str, str], bool] = {}
        self.announcers: dict[str, Announcer] = {}
        self._stack = contextlib.AsyncExitStack()
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> LocalSpeaker:
        templates: dict[AnnouncementTemplate, None] = {}
        # every site of the file: with sites partitioned over processes, those written here change
        for site_id, site in self.controller.sites.items():
            template = site_template(site)
            templates[template] = None
            announcer = Announcer(template, self.library, lambda zone: self.player,
                                  is_stale=_stale_check(self.controller, site_id), warm=False,
                                  on_outcome=self._heard(site_id))
            self.announcers[site_id] = await self._stack.enter_async_context(announcer)
            for zone in self.speakers.get(site_id, {}):
                self.report(site_id, zone, online=True)  # the output is open: they can be heard
        if self.warm:
            # in the background: a clip still missing when a call comes is rendered on the spot
            inventory = [clip for t in templates for clip in t.clip_inventory()]
            self._spawn(self._warm(inventory))
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._stack.aclose()

    def report(self, site: str, zone: str, *, online: bool) -> None:
        """Tell the router whether the speakers of a zone are heard, when that changed."""
        if self.on_status is None:
            return
        for device in self.speakers.get(site, {}).get(zone, ()):
            if self._reported.get((site, device)) != online:
                self._reported[(site, device)] = online
                self.on_status(site, device, DeviceStatus(online=online))

    def _heard(self, site: str) -> Callable[[Outcome], None]:
        def outcome(result: Outcome) -> None:
            zone = result.announcement.zone
            if result.status in ("played", "cut"):
                self.report(site, zone, online=True)
            elif result.status == "failed" and result.output_failed:
                log.warning("voice: speaker(s) of zone %s offline: %s", zone, result.detail)
                self.report(site, zone, online=False)

        return outcome

    async def _warm(self, inventory: list[Clip]) -> None:
        report = await asyncio.to_thread(self.library.warm, inventory)
        log.info("voice: %d clips ready, %d failed", report.ready, len(report.failed))

    def say(self, site: str, call: VoiceSay) -> None:
        announcer = self.announcers.get(site)
        if announcer is None:
            return
        # announce() only enqueues; a task keeps the commit listener synchronous, in call order
        self._spawn(self._announce(announcer, call))

    async def _announce(self, announcer: Announcer, call: VoiceSay) -> None:
        try:
            await announcer.announce(announcement_for(call))
        except (DeviceError, RuntimeError) as exc:  # a full zone queue, or shutting down
            log.warning("voice: %s not announced: %s", call.number, exc)

    async def join(self) -> None:
        """Wait until everything announced so far has been played or skipped."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for announcer in self.announcers.values():
            await announcer.join()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _stale_check(controller: Controller, site_id: str) -> Callable[[str], bool]:
    # reads the floor at play time, not at call time: that is the point of the check
    # (a site no longer written here: its calls are another process's to play)
    def stale(key: str) -> bool:
        runtime = controller.runtimes.get(site_id)
        return runtime is None or is_stale(runtime.floor.state, key)

    return stale


@dataclass
class VoiceService:
    """The voice side of the controller: which speakers play which zones, and what went out."""

    controller: Controller
    mqtt: MqttSpeaker | None = None
    local: LocalSpeaker | None = None
    local_zones: Callable[[str, str], bool] = lambda site, zone: False
    publish_local: bool = False  # sim: the emulated speaker plays it and MQTT gets it too
    zones: dict[str, VoiceZones] = field(default_factory=dict)
    templates: dict[str, AnnouncementTemplate] = field(default_factory=dict)
    said: int = 0

    def attach(self) -> None:
        """Listen to the commits of every site written here, now and later."""
        self.controller.watch(self)

    def detach(self) -> None:
        """Stop listening."""
        self.controller.unwatch(self)

    def site_added(self, runtime: SiteRuntime) -> None:
        """Announce the site's calls (SiteWatcher)."""
        self.zones[runtime.site.id] = VoiceZones.of(runtime.site.devices)
        self.templates[runtime.site.id] = site_template(runtime.site)
        runtime.listeners.append(self._on_committed)

    def site_removed(self, runtime: SiteRuntime) -> None:
        """Another process announces the site's calls now (SiteWatcher)."""
        with contextlib.suppress(ValueError):
            runtime.listeners.remove(self._on_committed)

    def _on_committed(self, site_id: str, committed: Committed) -> None:
        # inside the writer's commit: never raise into it (the call is already durable)
        try:
            events = committed.events
            if not any(e.type in ("ticket.called", "ticket.recalled") for e in events):
                return
            state = self.controller.runtimes[site_id].floor.state
            for call in voice_calls(events, state, self.zones[site_id], self.templates[site_id]):
                self.route(site_id, call)
        except Exception:
            log.exception("site %s: could not announce committed calls", site_id)

    def route(self, site: str, call: VoiceSay) -> None:
        """Send one call to the speaker(s) of its zone."""
        local = self.local is not None and self.local_zones(site, call.zone)
        if local and self.local is not None:
            self.local.say(site, call)
        # a zone played here is not also published: its audio player would say it twice
        if self.mqtt is not None and (not local or self.publish_local):
            self.mqtt.say(site, call)
        self.said += 1


@contextlib.asynccontextmanager
async def voice_service(
    controller: Controller, mode: str, link: MqttLink | None, *, player: Player | None = None,
    library: ClipLibrary | None = None, on_status: StatusSink | None = None,
) -> AsyncIterator[VoiceService]:
    """Announce calls for the life of the context: mode "sim" or "real" (see the module docstring).

    on_status hears the status of the registry's speakers played on this host (the router's status()).
    """
    service = VoiceService(controller, mqtt=MqttSpeaker(link) if link is not None else None)
    # sim plays every speaker of the registry here; real only those wired to this host
    here = {
        site_id: speakers_by_zone(site.devices, local_only=mode != "sim") for site_id, site in controller.sites.items()
    }
    async with contextlib.AsyncExitStack() as stack:
        if mode == "sim":
            from devices.voice.fake_renderer import ToneRenderer
            from devices.voice.player import FakePlayer

            local = LocalSpeaker(controller, library or ClipLibrary(ToneRenderer()), player or FakePlayer(),
                                 speakers=here, on_status=on_status)
            service.local = await stack.enter_async_context(local)
            service.local_zones = lambda site, zone: True
            service.publish_local = True
        else:
            wanted = {site_id: VoiceZones.of(site.devices).local for site_id, site in controller.sites.items()}
            if any(wanted.values()):
                try:
                    service.local = await stack.enter_async_context(
                        _pygame_speaker(controller, library, player, here, on_status)
                    )
                except DeviceError as exc:
                    # no sound card: the floor goes on, and those zones go to MQTT like the others
                    log.error("voice: local speaker unavailable (%s); zones published instead", exc)
                    for site, zones in here.items():
                        for device in (d for ids in zones.values() for d in ids):
                            if on_status is not None:  # the monitor shows them down, not unknown
                                on_status(site, device, DeviceStatus(online=False))
                else:
                    service.local_zones = lambda site, zone: zone in wanted.get(site, frozenset())
        service.attach()
        stack.callback(service.detach)
        yield service


@contextlib.asynccontextmanager
async def _pygame_speaker(
    controller: Controller, library: ClipLibrary | None, player: Player | None,
    speakers: Mapping[str, Mapping[str, tuple[str, ...]]], on_status: StatusSink | None,
) -> AsyncIterator[LocalSpeaker]:
    # pygame and the renderer chain only on a host that has a speaker to drive
    from devices.voice.pygame_player import PygamePlayer, mixer_session
    from devices.voice.wiring import runtime_renderer, voice_dir

    with mixer_session():
        local = LocalSpeaker(controller, library or ClipLibrary(runtime_renderer(voice_dir())),
                             player or PygamePlayer(), speakers=speakers, on_status=on_status)
        async with local:
            yield local
