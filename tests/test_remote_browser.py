"""Numbers from a phone in headless Chromium: take one on /q at a phone's size (the code comes from a real
local SMS gateway), then check it in at the kiosk by "scanning" its QR (the scanner types the code as
keystrokes, then Enter), and see a wrong code refused in Vietnamese first; then take one for a later day,
held for that day's opening, beside the first in the page's list, and cancel it (asked twice)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ViewportSize

from tests.devices_support import COMMUNE
from tests.remote_support import codes_texted, texted_code
from tests.server import ServerProcess, serve_process
from tests.sms_gateway import Gateway, sms_gateway
from tests.test_pages_browser import KIOSK_VIEW, browser, check_screenshot, open_page

pytestmark = [pytest.mark.browser, pytest.mark.integration]

__all__ = ["browser"]  # the Chromium fixture, shared with the other page tests
PHONE_VIEW: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Gateway]]:
    with sms_gateway() as gateway, serve_process(COMMUNE, tmp_path_factory.mktemp("q"), "--sms",
                                                 f"webhook:{gateway.url}") as server:
        yield server, gateway


def test_take_a_number_on_a_phone_then_scan_it_at_the_kiosk(browser: Browser,
                                                             served: tuple[ServerProcess, Gateway]) -> None:
    server, gateway = served
    phone_context = browser.new_context(viewport=PHONE_VIEW, is_mobile=True, has_touch=True)
    kiosk_context = browser.new_context(viewport=KIOSK_VIEW)
    try:
        page = open_page(phone_context, f"{server.url}/q/xa")
        assert "Lấy số từ điện thoại" in page.inner_text("h1")
        page.fill("#search", "khai sinh")
        page.click("button.procedure[data-procedure=ht-khai-sinh]")
        page.wait_for_selector("#details:not(.hidden)")
        assert page.inner_text("#wait")  # the predicted wait (or why there is none)
        page.click("button.travel[data-travel='20']")
        page.fill("#phone", "0912 345 678")
        page.click("#send-code")
        page.wait_for_selector("#code-field:not(.hidden)")
        gateway.wait_for(1)
        match = re.search(r"\b(\d{6})\b", gateway.texts("0912345678")[-1])
        assert match
        page.fill("#code", match.group(1))
        page.fill("#id-number", "001090123456")  # optional: the card then checks it in at the kiosk
        page.click("#take")
        page.wait_for_selector("#s-ticket:not(.hidden)")
        number = page.inner_text("#number").strip()
        check_in = page.inner_text("#check-code").strip()
        assert check_in.startswith(f"{number}-") and page.is_visible("#qr svg")
        assert "Đang giữ chỗ" in page.inner_text("#status")
        assert page.input_value("#phone") == "" == page.input_value("#id-number")  # nothing of them stays
        check_screenshot(page, "remote-phone-ticket", PHONE_VIEW)
        page.click("#more-time")
        page.wait_for_selector("#more-time.hidden", state="attached")  # once only
        page.reload()
        page.wait_for_selector("#s-ticket:not(.hidden)")  # kept in this browser
        assert page.inner_text("#number").strip() == number

        kiosk = open_page(kiosk_context, f"{server.url}/kiosk/xa?kiosk=k1&key=kiosk-demo")
        wrong = "ABCDEF" if not check_in.endswith("ABCDEF") else "ABCDEG"
        kiosk.keyboard.type(f"{number}-{wrong}", delay=5)  # not this number's code: refused, nothing changes
        kiosk.keyboard.press("Enter")
        kiosk.wait_for_selector("#remote-error:not(.hidden)")
        assert kiosk.inner_text("#remote-error").startswith(f"Mã không khớp với số {number}")
        kiosk.click(".back-start >> visible=true")
        kiosk.wait_for_selector("#s-start:not(.hidden)")
        kiosk.keyboard.type(check_in, delay=5)  # the 2D scanner types the QR's text, then Enter
        kiosk.keyboard.press("Enter")
        kiosk.wait_for_selector("#s-ticket:not(.hidden)")
        assert kiosk.inner_text("#ticket-number").strip() == number
        assert "Đã xác nhận có mặt" in kiosk.inner_text("#remote-notice")
        check_screenshot(kiosk, "remote-kiosk-check-in", KIOSK_VIEW)

        page.reload()
        page.wait_for_selector("#s-ticket:not(.hidden)")
        assert "Đã xác nhận có mặt" in page.inner_text("#status")

        page.click("#another")  # a number for a later day
        page.wait_for_selector("#s-take:not(.hidden)")
        assert page.inner_text("#mine-list").strip() == number
        page.fill("#search", "ban sao")
        page.click("button.procedure[data-procedure=cth-ban-sao]")
        assert page.get_attribute("button.day >> nth=0", "aria-pressed") == "true"
        page.click("button.day >> nth=1")
        assert "vào hàng lúc mở cửa (07:30)" in page.inner_text("#day-note")
        page.locator("#days").scroll_into_view_if_needed()
        check_screenshot(page, "remote-phone-days", PHONE_VIEW)
        page.click("button.travel[data-travel='30']")
        page.fill("#phone", "0912345678")
        before = len(codes_texted(gateway, "0912345678"))
        page.click("#send-code")
        page.fill("#code", texted_code(gateway, "0912345678", before))
        page.click("#take")
        page.wait_for_function("() => document.querySelector('#ticket-title').textContent.includes('lấy trước')")
        assert "Đã giữ số cho ngày" in page.inner_text("#status") and not page.is_visible("#qr svg")
        assert "Sáng ngày đó" in page.inner_text("#how")
        check_screenshot(page, "remote-phone-held", PHONE_VIEW)
        assert not page.is_visible("#confirm-cancel")
        page.click("#cancel-held")  # the holder will not come: the number and the phone go, once confirmed
        page.wait_for_selector("#confirm-cancel:not(.hidden)")
        assert "Số điện thoại của bạn được xóa ngay" in page.inner_text("#confirm-question")
        page.click("#cancel-no")  # changed their mind: nothing happens
        page.wait_for_selector("#cancel-held:not(.hidden)")
        page.click("#cancel-held")
        page.locator("#confirm-cancel").scroll_into_view_if_needed()
        check_screenshot(page, "remote-phone-cancel", PHONE_VIEW)
        page.click("#cancel-yes")
        page.wait_for_selector("#s-take:not(.hidden)")
        assert page.inner_text("#closed").startswith("Đã hủy số cho ngày")
        assert page.inner_text("#mine-list").strip() == number  # today's ticket stays, the held number is gone
        page.reload()
        page.wait_for_selector("#s-ticket:not(.hidden)")
        page.click("#another")
        assert len(page.query_selector_all("#mine-list button")) == 1
    finally:
        phone_context.close()
        kiosk_context.close()
