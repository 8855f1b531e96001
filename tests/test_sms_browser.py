"""The phone number at the kiosk, in headless Chromium against `motcua serve --demo --sms log`: what it is
for (Vietnamese first, English toggle), the on-screen keypad, consent required, the number forgotten for
the next citizen, and the citizen deleting it from the ticket status page."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser

from tests.server import serve_process
from tests.test_pages_browser import KIOSK_VIEW, SITE_FILE, browser, check_screenshot, issued_today, open_page

pytestmark = [pytest.mark.browser, pytest.mark.integration]

__all__ = ["browser"]  # the shared Chromium fixture

PHONE = "0912345678"


def test_a_citizen_leaves_a_phone_with_consent_and_deletes_it_later(browser: Browser, tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serve_process(SITE_FILE, data, "--sms", "log", "--log-level", "info") as server:
        context = browser.new_context(viewport=KIOSK_VIEW)
        try:
            kiosk = open_page(context, f"{server.url}/kiosk/tinh?kiosk=k1&key=kiosk-demo")
            kiosk.wait_for_selector("body[data-phone=on]")
            kiosk.click("button.agency[data-agency=TP]")
            kiosk.click("button.procedure[data-procedure=tp-ly-lich-tu-phap]")
            purpose = kiosk.inner_text("#phone-purpose")
            assert "còn 3 người trước bạn" in purpose and "xóa" in purpose
            assert kiosk.inner_text("#phone-legend").startswith("Nhận tin nhắn")
            kiosk.click("#lang-button")
            assert kiosk.inner_text("#phone-legend").startswith("Get a text")
            assert kiosk.inner_text("#phone-consent-label") == "I agree to receive texts about this ticket"
            kiosk.click("#lang-button")
            assert kiosk.inner_text("#phone-consent-label") == "Tôi đồng ý nhận tin nhắn về số thứ tự này"
            for digit in PHONE + "9":
                kiosk.click(f"#phone-keypad [data-key='{digit}']")
            kiosk.click("#phone-keypad [data-key=erase]")  # the extra 9
            assert kiosk.input_value("#phone") == PHONE
            before = issued_today(server)
            kiosk.click("#issue")  # no consent yet: nothing is issued, the screen says why
            kiosk.wait_for_selector("#issue-error:not(.hidden)")
            assert "đồng ý" in kiosk.inner_text("#issue-error") and issued_today(server) == before
            kiosk.check("#phone-consent")
            check_screenshot(kiosk, "kiosk-phone", KIOSK_VIEW)
            kiosk.click("#issue")
            kiosk.wait_for_selector("#s-ticket:not(.hidden)")
            ticket_id = kiosk.evaluate("document.body.dataset.ticket")
            assert issued_today(server) == before + 1
            ticket = httpx.get(f"{server.url}/api/v1/sites/tinh/tickets/{ticket_id}", timeout=10).json()
            assert ticket["phone_on_file"] is True
            # the next citizen finds an empty field and an unticked box
            kiosk.click("#done")
            kiosk.click("button.agency[data-agency=TP]")
            kiosk.click("button.procedure[data-procedure=tp-ly-lich-tu-phap]")
            assert kiosk.input_value("#phone") == "" and not kiosk.is_checked("#phone-consent")

            status = open_page(context, f"{server.url}/t/tinh/{ticket_id}")
            status.wait_for_selector("#phone-on-file:not(.hidden)")
            status.click("#forget-phone")
            status.wait_for_selector("#phone-forgotten:not(.hidden)")
            status.wait_for_selector("#phone-on-file", state="hidden")
            ticket = httpx.get(f"{server.url}/api/v1/sites/tinh/tickets/{ticket_id}", timeout=10).json()
            assert ticket["phone_on_file"] is False
        finally:
            context.close()
    for path in (p for p in data.rglob("*") if p.is_file()):
        assert PHONE.encode() not in path.read_bytes(), f"{path.name} holds the phone number"


def test_without_a_notifier_the_kiosk_asks_for_no_phone(browser: Browser, tmp_path: Path) -> None:
    with serve_process(SITE_FILE, tmp_path / "data") as server:
        context = browser.new_context(viewport=KIOSK_VIEW)
        try:
            kiosk = open_page(context, f"{server.url}/kiosk/tinh?kiosk=k1&key=kiosk-demo")
            kiosk.wait_for_selector("body[data-phone=off]")
            kiosk.click("button.agency[data-agency=TP]")
            kiosk.click("button.procedure[data-procedure=tp-ly-lich-tu-phap]")
            assert kiosk.query_selector("#phone-box") is None
        finally:
            context.close()
