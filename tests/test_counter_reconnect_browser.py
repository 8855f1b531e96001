"""The staff counter app survives its server being killed: in headless Chromium, the page logged in at
counter 7 loses its WebSocket when `motcua serve` is SIGKILLed, a ticket is issued while it reconnects,
and once it is back the page lists that ticket and one press of call-next calls exactly that one ticket."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser

from controller.core.events import Event
from tests.server import KIOSK, ServerProcess, login, serve_process
from tests.test_pages_browser import KIOSK_VIEW, SITE_FILE, browser, staff_login

pytestmark = [pytest.mark.browser, pytest.mark.integration]

__all__ = ["browser"]  # the shared Chromium fixture


def called_events(server: ServerProcess) -> list[Event]:
    """Every ticket.called of the site, read from the stopped server's event log."""
    with contextlib.closing(sqlite3.connect(server.data_dir / "events.db")) as db:
        rows = db.execute("SELECT body FROM events WHERE site = 'tinh' AND type = 'ticket.called' ORDER BY seq")
        return [Event.from_dict(json.loads(body)) for (body,) in rows]


def test_the_counter_page_reconnects_without_losing_or_doubling_a_call(browser: Browser, tmp_path: Path) -> None:
    with serve_process(SITE_FILE, tmp_path / "data") as server:
        context = browser.new_context(viewport=KIOSK_VIEW)
        try:
            page = staff_login(context, server, 7)
            assert page.inner_text("#current-number") == "—"
            server.kill()
            page.wait_for_selector("#live-state[data-state=off]", timeout=5000)
            # the page's network stays down until the ticket is in: it is surely issued while disconnected
            context.set_offline(True)
            server.start()  # same port, same data dir
            issued = httpx.post(f"{server.url}/api/v1/sites/tinh/tickets", headers=KIOSK,
                                json={"procedure": "tp-ly-lich-tu-phap"}, timeout=10).json()
            time.sleep(0.5)
            assert page.get_attribute("#live-state", "data-state") == "off"
            assert issued["number"] not in page.inner_text("#waiting")
            context.set_offline(False)
            page.wait_for_selector("#live-state[data-state=on]", timeout=10000)
            page.wait_for_function(
                "n => [...document.querySelectorAll('#waiting td:first-child')].some(td => td.textContent === n)",
                arg=issued["number"], timeout=5000,
            )
            assert page.inner_text("#waiting-count") == "1"
            page.wait_for_selector("#b-call:not([disabled])", timeout=5000)
            page.click("#b-call")
            page.wait_for_selector("#b-start:not([disabled])", timeout=5000)
            assert page.inner_text("#current-number") == issued["number"]
            time.sleep(0.5)  # anything a second request would have done is done by now
            counter = httpx.get(f"{server.url}/api/v1/sites/tinh/counters/7", timeout=10,
                                headers=login(server.url, "quanly", "demo")).json()
            assert counter["current"]["number"] == issued["number"] and counter["waiting_count"] == 0
        finally:
            context.close()
    calls = called_events(server)
    assert [(e.data["number"], e.data["counter"]) for e in calls] == [(issued["number"], 7)]
