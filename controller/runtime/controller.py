"""The controller process: every site's writer, the shared log and hub, the tick loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence

from controller.core.errors import DomainError
from controller.core.site import Site
from controller.runtime.hub import Hub
from controller.runtime.site_runtime import SiteRuntime
from controller.store.base import EventStore

__all__ = ["Controller"]

log = logging.getLogger("motcua.controller")

TICK_S = 1.0


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
        self._tick_task: asyncio.Task[None] | None = None
        self.tick_errors = 0
        self.started_at = clock()

    def runtime(self, site_id: str) -> SiteRuntime:
        """The writer of a site; DomainError 404 for an unknown site."""
        runtime = self.runtimes.get(site_id)
        if runtime is None:
            raise DomainError("unknown_site", f"no site {site_id!r} is served here", 404)
        return runtime

    def new_runtime(self, site_id: str, store: EventStore) -> SiteRuntime:
        """A fresh writer for one of this controller's sites, on the given store (not yet replayed)."""
        return SiteRuntime(self.sites[site_id], store, self.hub, self.policy, self.clock, self.check_hours)

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
