"""The notifier: a commit listener that sends texts through an SmsSender, and forgets numbers in time.

    register()     POST tickets with a phone and consent: the number is saved to contacts.db
                   before the ticket is answered, so it survives a SIGKILL restart
    commit         every commit of a site re-plans that site's contacts (planner.py); a due text is
                   marked at once (never queued twice) and queued; workers send it off the event
                   loop's critical path and record it in contacts.db when the gateway took it
    forget()       DELETE .../tickets/{id}/contact: the citizen asks to be forgotten
    day end        every PURGE_EVERY_S, numbers not of the site's local day are deleted

A text that fails after the driver's retries is counted (motcua_sms_failed_total) and
logged with the ticket number only, never the phone number; it is not tried again
by this process (a restart tries a text that was never recorded as sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from controller.core.clock import local_day
from controller.core.tickets import TicketState
from controller.notify.contacts import Contact, ContactBook
from controller.notify.planner import Due, armed_at_issue, plan
from controller.notify.stats import NotifyStats
from controller.runtime.controller import Controller
from controller.runtime.site_runtime import Committed
from controller.store.base import StoreError
from devices.errors import DeviceError
from devices.sms.address import SmsChannels, parse_sms_channels
from devices.sms.contract import SmsSender, TextMessage
from devices.sms.fallback import FallbackSender
from devices.sms.senders import describe, open_sender
from devices.sms.wording import Wording

__all__ = ["NotifyService", "notify_service"]

log = logging.getLogger(__name__)

WORKERS: Final = 4          # a slow gateway delays at most this many texts at once
PURGE_EVERY_S: Final = 30.0
AWAY_REVIEW_S: Final = 10.0  # how often numbers away from the hall are looked at for "come now"
QUEUE_SIZE: Final = 10_000


@dataclass
class NotifyService:
    """Contacts in memory (mirrored in contacts.db), the send queue and its workers."""

    controller: Controller
    sender: SmsSender
    book: ContactBook
    clock: Callable[[], float]
    stats: NotifyStats = field(default_factory=NotifyStats)
    contacts: dict[str, dict[str, Contact]] = field(default_factory=dict)  # site -> ticket -> contact
    _queue: asyncio.Queue[Due] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.stats.contacts = lambda: {site: len(held) for site, held in self.contacts.items()}
        if isinstance(self.sender, FallbackSender):
            self.stats.fallbacks = self.sender.fell_back

    async def start(self) -> None:
        """Reload today's numbers, catch up on texts a killed process owed, then listen and send."""
        for contact in await self.book.load(self.controller.runtimes):
            self.contacts.setdefault(contact.site, {})[contact.ticket] = contact
        await self.purge_past_days()
        for _ in range(WORKERS):
            self._spawn(self._work())
        self._spawn(self._purge_loop())
        self._spawn(self._away_loop())
        for site_id, runtime in self.controller.runtimes.items():
            runtime.listeners.append(self._on_committed)
            self.review(site_id)

    async def stop(self) -> None:
        """Stop listening; texts still queued are dropped (those not recorded go out after a restart)."""
        for runtime in self.controller.runtimes.values():
            with contextlib.suppress(ValueError):
                runtime.listeners.remove(self._on_committed)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def has_contact(self, site: str, ticket: str) -> bool:
        """Whether a number is held for this ticket (the number itself is never shown)."""
        return ticket in self.contacts.get(site, {})

    async def register(self, site: str, ticket_id: str, phone: str) -> None:
        """Keep a ticket's number for its texts; durable when this returns (StoreError if not)."""
        runtime = self.controller.runtime(site)
        ticket = runtime.floor.ticket(ticket_id)
        held = self.contacts.setdefault(site, {})
        if ticket_id in held:
            return  # a retried request (same Idempotency-Key): the first one is kept
        # read before any await: the place at issue, not after later events
        contact = Contact(site, ticket_id, phone, runtime.floor.state.day, armed_at_issue(runtime.floor, ticket))
        await self.book.save(contact)
        held[ticket_id] = contact
        self.review(site)

    async def hold(self, site: str, ref: str, day: str, phone: str) -> None:
        """Keep the phone of a number held for a later day (its texts come on that day); durable when this returns."""
        await self.book.hold(site, ref, day, phone)

    async def release(self, site: str, ref: str, ticket_id: str | None) -> None:
        """A held number became `ticket_id` (its phone now serves the ticket's texts), or was refused (None)."""
        phone = await self.book.take_held(site, ref)
        if phone is not None and ticket_id is not None:
            await self.register(site, ticket_id, phone)
        await self.book.delete_held(site, ref)

    async def forget(self, site: str, ticket_id: str) -> bool:
        """Delete a ticket's number at the citizen's request; whether one was held."""
        contact = self.contacts.get(site, {}).pop(ticket_id, None)
        await self.book.delete(site, ticket_id)
        return contact is not None

    async def purge_past_days(self) -> int:
        """Delete every number not of its site's local day; how many."""
        removed = 0
        for site_id, runtime in self.controller.runtimes.items():
            today = local_day(self.clock(), runtime.site.utc_offset_s)
            held = self.contacts.get(site_id, {})
            for ticket_id in [t for t, c in held.items() if c.day != today]:
                del held[ticket_id]
            removed += await self.book.delete_days_except(site_id, today)
        return removed

    def _on_committed(self, site_id: str, committed: Committed) -> None:
        # inside the writer's commit: only plan and enqueue, never raise into it
        if not self.contacts.get(site_id):
            return
        if not any(e.type.startswith(("ticket.", "counter.", "day.")) for e in committed.events):
            return
        try:
            self.review(site_id)
        except Exception:
            log.exception("site %s: could not plan texts", site_id)

    def review(self, site_id: str) -> None:
        """Queue the texts due at a site now and forget finished visits."""
        held = self.contacts.get(site_id)
        runtime = self.controller.runtimes.get(site_id)
        if not held or runtime is None:
            return
        result = plan(runtime.floor, list(held.values()), runtime.clock())
        for contact in result.finished:
            held.pop(contact.ticket, None)
            self._spawn(self._delete(contact))
        for due in result.due:
            # marked before sending: a commit arriving meanwhile must not queue it again
            if due.kind == "called" and due.counter is not None:
                due.contact.called.add(due.counter)
                due.contact.ahead_sent = True  # a "3 ahead" after the call is moot
            elif due.kind == "come":
                due.contact.come_sent = True
            else:
                due.contact.ahead_sent = True
            try:
                self._queue.put_nowait(due)
            except asyncio.QueueFull:
                self.stats.failed[(site_id, due.kind)] += 1
                log.error("site %s: SMS queue full, %s text for ticket %s dropped", site_id, due.kind,
                          due.contact.ticket)

    async def _work(self) -> None:
        while True:
            due = await self._queue.get()
            contact = due.contact
            try:
                await self.sender.send(TextMessage.of(contact.phone, due.wording))
            except (DeviceError, ValueError) as exc:
                self.stats.failed[(contact.site, due.kind)] += 1
                log.warning("site %s: %s text for ticket %s not sent: %s", contact.site, due.kind, contact.ticket,
                            exc)
                continue
            self.stats.sent[(contact.site, due.kind)] += 1
            if self.contacts.get(contact.site, {}).get(contact.ticket) is contact:
                try:
                    await self.book.save(contact)  # sent: a restart must not send it again
                except StoreError as exc:
                    log.error("site %s: could not record a sent text: %s", contact.site, exc)

    async def _delete(self, contact: Contact) -> None:
        try:
            await self.book.delete(contact.site, contact.ticket)
        except StoreError as exc:
            log.error("site %s: could not delete a finished ticket's number: %s", contact.site, exc)

    async def _purge_loop(self) -> None:
        while True:
            await asyncio.sleep(PURGE_EVERY_S)
            try:
                removed = await self.purge_past_days()
            except StoreError as exc:
                log.error("could not delete past days' phone numbers: %s", exc)
                continue
            if removed:
                log.info("deleted %d phone numbers of past days", removed)

    async def _away_loop(self) -> None:
        # "come now" follows the clock, not only the events: look again at sites with numbers away
        while True:
            await asyncio.sleep(AWAY_REVIEW_S)
            for site_id, held in list(self.contacts.items()):
                runtime = self.controller.runtimes.get(site_id)
                if runtime is None or not any(t in runtime.floor.state.tickets
                                              and runtime.floor.state.tickets[t].state is TicketState.AWAY
                                              for t in held):
                    continue
                try:
                    self.review(site_id)
                except Exception:
                    log.exception("site %s: could not plan texts", site_id)

    async def send_now(self, phone: str, wording: Wording) -> None:
        """Send one text at once, outside the queue (a one-time code); DeviceError/ValueError when it fails."""
        await self.sender.send(TextMessage.of(phone, wording))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro, name="motcua-notify")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


@contextlib.asynccontextmanager
async def notify_service(
    channels: SmsChannels | str, controller: Controller, data_dir: Path, *, sender: SmsSender | None = None
) -> AsyncIterator[NotifyService | None]:
    """Run the notifier the text channels ask for (None with `--sms none`), for the life of the context.

    `sender` replaces the drivers (tests); a plain string is an --sms value alone.
    """
    if isinstance(channels, str):
        channels = parse_sms_channels(channels)
    async with contextlib.AsyncExitStack() as stack:
        if sender is None:
            sender = await stack.enter_async_context(open_sender(channels))
        if sender is None:
            yield None
            return
        book = await stack.enter_async_context(ContactBook(data_dir / "contacts.db"))
        service = NotifyService(controller, sender, book, controller.clock)
        await service.start()
        stack.push_async_callback(service.stop)
        log.info("SMS notifier: %s", describe(channels))
        yield service
