"""Numbers held for a day's opening become away tickets that day, in the order they were taken.

A citizen may take a number for today or one of the next `remote.days_ahead` days the
centre opens (README, "Numbers from a phone"); one taken before that day's opening is
held in remote.db (book.py). From the opening, each becomes an away ticket through the
site's writer (`TakeRemote(held=True)`): its place in line is the opening itself, the
k-th held number just behind the (k-1)-th, so they are ahead of everyone who comes that
day, whatever the hour this runs (a controller started at 09:00 gives the same places).
Its phone moves to the ticket's texts. The command's idempotency key is the held
number's ref: a crash between the ticket and the book's note is caught up on the next
pass, never issued twice.

It runs every PASS_S, and before any number is taken for today, so held numbers count
in the opening half hour's share before same-day numbers do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from controller.core import commands as cmd
from controller.core.appointments import day_start
from controller.core.clock import local_day
from controller.core.errors import DomainError
from controller.core.remote import PLACE_STEP_S
from controller.remote.book import Held, RemoteBook
from controller.runtime.controller import Controller
from controller.runtime.site_runtime import SiteRuntime
from controller.store.base import StoreError

if TYPE_CHECKING:
    from controller.notify.service import NotifyService

__all__ = ["PASS_S", "HeldNumbers", "held_key", "held_numbers"]

log = logging.getLogger(__name__)

PASS_S: Final = 30.0


def held_key(ref: str) -> str:
    """The idempotency key of a held number's ticket (the ref never appears elsewhere in the log)."""
    return f"held:{ref}"


@dataclass
class HeldNumbers:
    """Issues each site's held numbers on their day's opening."""

    controller: Controller
    book: RemoteBook
    notifier: NotifyService
    locks: defaultdict[str, asyncio.Lock]

    async def issue_due(self, runtime: SiteRuntime) -> int:
        """Issue today's held numbers once the site has opened; how many became tickets now.

        The caller holds the site's remote lock (a number taken meanwhile would count before them).
        """
        site = runtime.site
        now = runtime.clock()
        today = local_day(now, site.utc_offset_s)
        opening = day_start(site, today)
        if now < opening:
            return 0
        day = [h for h in await self.book.held_day(site.id, today) if h.status != "cancelled"]
        issued = 0
        for rank, held in enumerate(day):
            if held.status == "held":
                issued += await self._issue(runtime, held, opening + rank * PLACE_STEP_S)
        return issued

    async def _issue(self, runtime: SiteRuntime, held: Held, place_at: float) -> int:
        key = held_key(held.ref)
        command = cmd.TakeRemote(procedure=held.procedure, travel_s=held.travel_s, idempotency_key=key,
                                 place_at=place_at, held=True, by="remote")
        try:
            committed = await runtime.execute(command)
        except DomainError as exc:
            # The site file changed, or the agency's numbers ran out: said on the number's page.
            log.warning("site %s: a number held for today could not be issued: %s", runtime.site.id, exc.code)
            await self.notifier.release(runtime.site.id, held.ref, None)
            await self.book.settle_held(runtime.site.id, held.ref, None, exc.code)
            return 0
        ticket = runtime.floor.state.idempotency[key]
        await self.notifier.release(runtime.site.id, held.ref, ticket)
        await self.book.settle_held(runtime.site.id, held.ref, ticket)
        return 1 if committed.events else 0

    async def run(self) -> None:
        """Every PASS_S, each site's due held numbers (a failure is logged and tried again)."""
        while True:
            for site_id, runtime in list(self.controller.runtimes.items()):
                try:
                    async with self.locks[site_id]:
                        await self.issue_due(runtime)
                except StoreError as exc:
                    log.error("site %s: held numbers: %s", site_id, exc)
                except Exception:  # the next pass tries again; the loop must outlive one bad pass
                    log.exception("site %s: held numbers could not be issued", site_id)
            await asyncio.sleep(PASS_S)


@contextlib.asynccontextmanager
async def held_numbers(controller: Controller, book: RemoteBook | None, notifier: NotifyService | None,
                       locks: defaultdict[str, asyncio.Lock] | None) -> AsyncIterator[HeldNumbers | None]:
    """Issue held numbers for the life of the context (None without the book or texts: nothing is held)."""
    if book is None or notifier is None or locks is None:
        yield None
        return
    numbers = HeldNumbers(controller, book, notifier, locks)
    task = asyncio.get_running_loop().create_task(numbers.run(), name="motcua-held-numbers")
    try:
        yield numbers
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
