"""A controller of site "xa" with the SMS notifier, in this process, on a clock the test moves."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from controller.core.commands import IssueTicket
from controller.notify.service import NotifyService, notify_service
from controller.runtime.controller import Controller
from controller.runtime.site_runtime import SiteRuntime
from controller.sitefile import load_sites
from controller.store import open_store
from devices.sms.log import LogSender
from tests.devices_support import COMMUNE

__all__ = ["NotifyFloor", "notify_floor"]

# Monday 2026-01-05 09:00 in Hanoi (UTC+7)
MORNING = 1_767_578_400.0


@dataclass
class NotifyFloor:
    """Site xa, its notifier, the LogSender that records the texts, and the clock."""

    controller: Controller
    runtime: SiteRuntime
    notifier: NotifyService
    sender: LogSender
    now: list[float]

    async def issue(self, phone: str | None = None, procedure: str = "ht-khai-sinh") -> str:
        """Issue a ticket as the API does: commit, then keep the phone (if any); its id."""
        committed = await self.runtime.execute(IssueTicket(procedure, check_hours=False))
        ticket_id = str(committed.events[-1].data["ticket"])
        if phone is not None:
            await self.notifier.register("xa", ticket_id, phone)
        return ticket_id

    def texts(self, phone: str) -> list[str]:
        return [m.text for m in self.sender.sent if m.to == phone]


@contextlib.asynccontextmanager
async def notify_floor(tmp_path: Path, start: float = MORNING) -> AsyncIterator[NotifyFloor]:
    now = [start]
    store = await open_store("sqlite", str(tmp_path))
    controller = Controller(load_sites(COMMUNE), store, check_hours=False, clock=lambda: now[0])
    await controller.start(tick=False)
    sender = LogSender()
    try:
        async with notify_service("log", controller, tmp_path, sender=sender) as notifier:
            assert notifier is not None
            yield NotifyFloor(controller, controller.runtime("xa"), notifier, sender, now)
    finally:
        await controller.stop()
        await store.close()
