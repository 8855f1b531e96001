"""The controller process: every site's writer, the shared log and hub, the tick loop.

What follows the sites this process writes (the device router, voice, printing)
watches the controller: told of every site it serves at once, and of every site
gained or lost later (sites partitioned over processes, controller/runtime/partition.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from controller.core.errors import DomainError
from controller.core.site import Site
from controller.runtime.hub import Hub
from controller.runtime.site_runtime import SiteRuntime
from controller.store.base import EventStore

__all__ = ["Controller", "SiteWatcher", "unknown_site"]

log = logging.getLogger("motcua.controller")

TICK_S = 1.0


class SiteWatcher(Protocol):
    """Follows the sites this process writes (synchronous: called where runtimes change)."""

    def site_added(self, runtime: SiteRuntime) -> None:
        """This process now writes the runtime's site (its day replayed)."""

    def site_removed(self, runtime: SiteRuntime) -> None:
        """This process no longer writes the runtime's site: drive nothing of it from now on."""


class Controller:
    """All sites served by this process."""

    def __init__(
        self,
        sites: Sequence[Site],
        store: EventStore,
        policy: str = "deadline",
        clock: Callable[[], float] = time.time,
        check_hours: bool = True,
        serve_all: bool = True,
    ) -> None:
        self.store = store
        self.hub = Hub()
        self.clock = clock
        self.policy = policy
        self.check_hours = check_hours
        self.sites = {site.id: site for site in sites}
        # Without serve_all (sites partitioned over processes) runtimes are added and removed
        # as this process gains and loses site leases (controller/runtime/partition.py).
        self.runtimes: dict[str, SiteRuntime] = {}
        if serve_all:
            self.runtimes = {site.id: self.new_runtime(site.id, store) for site in sites}
        self.watchers: list[SiteWatcher] = []
        self._tick_task: asyncio.Task[None] | None = None
        self.tick_errors = 0
        self.started_at = clock()

    def runtime(self, site_id: str) -> SiteRuntime:
        """The writer of a site; DomainError 404 for an unknown site."""
        runtime = self.runtimes.get(site_id)
        if runtime is None:
            raise unknown_site(site_id)
        return runtime

    def new_runtime(self, site_id: str, store: EventStore) -> SiteRuntime:
        """A fresh writer for one of this controller's sites, on the given store (not yet replayed)."""
        return SiteRuntime(self.sites[site_id], store, self.hub, self.policy, self.clock, self.check_hours)

    def add_runtime(self, runtime: SiteRuntime) -> None:
        """Serve a site from now on (a lease gained and its day replayed) and tell the watchers."""
        self.runtimes[runtime.site.id] = runtime
        for watcher in list(self.watchers):
            _tell(watcher.site_added, runtime)

    def remove_runtime(self, site_id: str) -> SiteRuntime | None:
        """Stop serving a site (its lease lost or handed over) and tell the watchers."""
        runtime = self.runtimes.pop(site_id, None)
        if runtime is not None:
            for watcher in list(self.watchers):
                _tell(watcher.site_removed, runtime)
        return runtime

    def watch(self, watcher: SiteWatcher) -> None:
        """Tell watcher of every site served now and of every change from now on."""
        self.watchers.append(watcher)
        for runtime in list(self.runtimes.values()):
            watcher.site_added(runtime)

    def unwatch(self, watcher: SiteWatcher) -> None:
        """Stop telling watcher, and tell it every site it followed is gone."""
        if watcher in self.watchers:
            self.watchers.remove(watcher)
            for runtime in list(self.runtimes.values()):
                _tell(watcher.site_removed, runtime)

    async def start(self, tick: bool = True) -> None:
        """Replay every site's day from the log, then start the enforcement tick."""
        for runtime in self.runtimes.values():
            replayed = await runtime.recover()
            if replayed:
                log.info("site %s: replayed %d events of %s", runtime.site.id, replayed, runtime.floor.state.day)
        if tick:
            self._tick_task = asyncio.create_task(self._tick_loop(), name="motcua-tick")

    async def stop(self) -> None:
        if self._tick_task is not None:
            self._tick_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick_task
            self._tick_task = None

    async def tick_all(self) -> int:
        """One enforcement pass over every site; how many events it committed."""
        total = 0
        # a copy: sites may be gained or lost (partitioning) while a tick awaits the store
        for runtime in list(self.runtimes.values()):
            try:
                total += len(await runtime.tick())
            except Exception:  # one site's failure must not stop enforcement elsewhere
                self.tick_errors += 1
                log.exception("tick failed for site %s", runtime.site.id)
        return total

    async def _tick_loop(self) -> None:
        while True:
            started = time.monotonic()
            await self.tick_all()
            await asyncio.sleep(max(0.05, TICK_S - (time.monotonic() - started)))


def _tell(notify: Callable[[SiteRuntime], None], runtime: SiteRuntime) -> None:
    # a watcher's failure must not stop a site from being served (or dropped) by the others
    try:
        notify(runtime)
    except Exception:
        log.exception("site %s: a site watcher failed", runtime.site.id)


def unknown_site(site_id: str) -> DomainError:
    """The refusal of a request for a site this process does not serve (HTTP and WebSocket alike)."""
    return DomainError("unknown_site", f"no site {site_id!r} is served here", 404)
