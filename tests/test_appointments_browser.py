"""Appointments in headless Chromium: book on /book, get the code, check in with it on the kiosk, see the ticket."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser

from tests.axe_support import allow_axe, severe_violations
from tests.server import ServerProcess, advance_to, serve_process
from tests.test_appointments_api import TZ
from tests.test_pages_browser import KIOSK_VIEW, browser, check_screenshot, open_page

pytestmark = [pytest.mark.browser, pytest.mark.integration]

SITE_FILE = Path(__file__).resolve().parent.parent / "controller" / "sites" / "province-centre.toml"
__all__ = ["browser"]  # the Chromium fixture, shared with the other page tests


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with serve_process(SITE_FILE, tmp_path_factory.mktemp("book"), "--test-clock") as proc:
        yield proc


def test_book_on_the_page_then_check_in_at_the_kiosk(browser: Browser, server: ServerProcess) -> None:
    context = browser.new_context(viewport=KIOSK_VIEW)
    allow_axe(context)
    try:
        page = open_page(context, f"{server.url}/book/tinh")
        assert "Đặt lịch hẹn" in page.inner_text("h1")
        page.fill("#search", "ly lich tu phap")
        page.click("button.procedure[data-procedure=tp-ly-lich-tu-phap]")
        day = page.get_attribute("button.day >> nth=1", "data-date")
        assert day is not None
        page.click(f"button.day[data-date='{day}']")
        page.click("button.slot[data-time='08:00']:not([disabled])")
        page.click("#book")
        page.wait_for_selector("#s-booked:not(.hidden)")
        code = page.inner_text("#code").strip()
        assert len(code) == 6 and page.evaluate("document.body.dataset.code") == code
        assert "08:00" in page.inner_text("#booked-facts")
        check_screenshot(page, "book-code", KIOSK_VIEW)
        page.click("#lang-button")
        assert page.inner_text("#booked-title") == "Appointment booked"

        date = dt.date.fromisoformat(day)
        advance_to(server, dt.datetime(date.year, date.month, date.day, 7, 50, tzinfo=TZ))
        kiosk = open_page(context, f"{server.url}/kiosk/tinh?kiosk=k1&key=kiosk-demo")
        kiosk.click("#appointment-entry")
        kiosk.wait_for_selector("#s-appointment:not(.hidden)")
        for ch in code:
            kiosk.click(f".code-keys button[data-key='{ch}']")
        assert kiosk.input_value("#appointment-code") == code
        kiosk.click("#check-in")
        kiosk.wait_for_selector("#s-ticket:not(.hidden)")
        assert kiosk.evaluate("document.body.dataset.checkIn") == "kept"
        assert kiosk.inner_text("#ticket-number").strip().isdigit()
        assert "Đã xác nhận lịch hẹn lúc 08:00" in kiosk.inner_text("#appointment-notice")
        check_screenshot(kiosk, "kiosk-check-in", KIOSK_VIEW)
        kiosk.click("#done")
        kiosk.wait_for_selector("#s-start:not(.hidden)")
        assert kiosk.is_hidden("#appointment-notice")  # the next citizen's ticket carries no old notice

        # An unknown code says so, in Vietnamese first.
        kiosk.click("#appointment-entry")
        kiosk.fill("#appointment-code", "zzzzzz")
        kiosk.click("#check-in")
        kiosk.wait_for_selector("#appointment-error:not(.hidden)")
        assert "Không tìm thấy lịch hẹn" in kiosk.inner_text("#appointment-error")
        assert kiosk.is_hidden("#normal-number")

        # Too early for a 10:00 slot (check-in opens at 09:30): the kiosk says when, and offers a normal number now.
        later = httpx.post(f"{server.url}/api/v1/sites/tinh/appointments", timeout=10,
                           json={"procedure": "tp-chung-thuc", "date": day, "time": "10:00"})
        assert later.status_code == 201, later.text
        early_code = later.json()["code"]
        kiosk.fill("#appointment-code", early_code)
        kiosk.click("#check-in")
        kiosk.wait_for_selector("#normal-number:not(.hidden)")
        told = kiosk.inner_text("#appointment-error")
        assert told.startswith("Bạn đến sớm") and "10:00" in told and "09:30" in told and "/" not in told
        kiosk.click("#lang-button")
        assert kiosk.inner_text("#appointment-error").startswith("You are early: your 10:00 appointment")
        assert kiosk.inner_text("#normal-number") == "Take a normal number now"
        assert not severe_violations(kiosk, "kiosk: too early, a normal number offered")
        check_screenshot(kiosk, "kiosk-check-in-too-early", KIOSK_VIEW)
        kiosk.click("#normal-number")
        kiosk.wait_for_selector("#s-papers:not(.hidden)")
        assert kiosk.inner_text("#papers-title") == "Certified copy of an original document"  # still in English
        kiosk.click("#issue")
        kiosk.wait_for_selector("#s-ticket:not(.hidden)")
        ticket = httpx.get(f"{server.url}/api/v1/sites/tinh/tickets/{kiosk.evaluate('document.body.dataset.ticket')}",
                           timeout=10).json()
        assert ticket["procedure"] == "tp-chung-thuc" and ticket["channel"] == "kiosk"
        booking = httpx.get(f"{server.url}/api/v1/sites/tinh/appointments/{early_code}", timeout=10).json()
        assert booking["status"] == "booked"  # the appointment is still there for its time
    finally:
        context.close()
