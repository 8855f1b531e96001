"""The kiosk in headless Chromium, portrait, on a clock set to a working morning: a number offered to come back
later and checked in by the QR on its ticket, the chip ID card (its QR typed as keystrokes, Vietnamese letters
too) greeting an elderly citizen with the priority chosen for her, an intake receipt's QR giving a result number
with its file, and a foreign code refused in Vietnamese while nothing changes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.axe_support import severe_violations
from tests.devices_support import COMMUNE
from tests.kiosk_scan_support import card_number, card_qr, to_morning
from tests.server import KIOSK, ServerProcess, login, serve_process
from tests.test_counter_browser import DESK_VIEW
from tests.test_pages_browser import KIOSK_PORTRAIT, browser, check_screenshot, no_overflow, open_page, touch_context

pytestmark = [pytest.mark.browser, pytest.mark.integration]

__all__ = ["browser"]  # the Chromium fixture, shared with the other page tests
BASE = "/api/v1/sites/xa"
ELDER = dt.date(1944, 6, 30)
NUMBER = card_number(ELDER, male=False, serial=303030)
CARD = card_qr(NUMBER, "Nguyễn Thị Hồng Đào", ELDER)
DOSSIER = "000.00.21.H29-241207-0001"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, dt.datetime]]:
    with serve_process(COMMUNE, tmp_path_factory.mktemp("kiosk-scan"), "--test-clock") as server:
        morning = to_morning(server)
        staff = login(server.url, "quay1", "1234")
        assert httpx.post(f"{server.url}{BASE}/counters/1/open", headers=staff).status_code == 200
        for _ in range(4):  # a busy morning at the civil status desk: over 15 minutes for the next one
            httpx.post(f"{server.url}{BASE}/tickets", headers=KIOSK, json={"procedure": "ht-khai-sinh"})
        yield server, morning


@pytest.fixture
def kiosk(browser: Browser, served: tuple[ServerProcess, dt.datetime]) -> Iterator[Page]:
    context: BrowserContext = touch_context(browser, KIOSK_PORTRAIT)
    try:
        yield open_page(context, f"{served[0].url}/kiosk/xa?kiosk=k1&key=kiosk-demo")
    finally:
        context.close()


def browser_of(page: Page) -> Browser:
    owner = page.context.browser
    assert owner is not None
    return owner


def scan(page: Page, text: str) -> None:
    """The 2D scanner in keyboard mode: a key for each character (Vietnamese letters too), then Enter."""
    cdp = page.context.new_cdp_session(page)
    for ch in text:
        cdp.send("Input.dispatchKeyEvent", {"type": "keyDown", "key": ch, "text": ch})
        cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": ch})
    page.keyboard.press("Enter")


def choose(page: Page, procedure: str, search: str) -> None:
    page.fill("#search", search)
    page.click(f"button.procedure[data-procedure={procedure}]")
    page.wait_for_selector("#s-papers:not(.hidden)")


def test_come_back_later_then_the_tickets_qr_checks_it_in(kiosk: Page) -> None:
    choose(kiosk, "ht-khai-sinh", "khai sinh")
    kiosk.wait_for_selector("#later-box:not(.hidden)")
    back = kiosk.evaluate("() => document.body.dataset.later")
    assert kiosk.inner_text("#later-title").startswith("Hôm nay phải chờ khoảng")
    assert kiosk.inner_text("#issue-later") == f"Lấy số, quay lại lúc {back}"
    assert kiosk.is_visible("#issue")  # waiting in the hall stays the first choice
    check_screenshot(kiosk, "kiosk-return-later-offer", KIOSK_PORTRAIT)
    no_overflow(kiosk, KIOSK_PORTRAIT)
    assert not severe_violations(kiosk, "kiosk: come back later")
    kiosk.click("[data-priority=elderly]")  # legal priority is called first: no offer
    kiosk.wait_for_selector("#later-box.hidden", state="attached")
    kiosk.click("[data-priority=none]")
    kiosk.wait_for_selector("#later-box:not(.hidden)")
    with kiosk.expect_response(f"**{BASE}/tickets") as answer:
        kiosk.click("#issue-later")
    ticket = answer.value.json()
    kiosk.wait_for_selector("#s-ticket:not(.hidden)")
    assert ticket["state"] == "away" and ticket["return_at"][11:16] == back
    assert kiosk.inner_text("#later-time") == f"Mời quay lại lúc {back}"  # by the number, in large type
    assert kiosk.inner_text("#later-notice").startswith(f"Mời quay lại lúc {back}. Khi quay lại, quét mã QR")
    assert kiosk.get_attribute("#ticket-qr", "src").startswith("data:image/svg+xml")
    assert "quét mã này ở ki-ốt" in kiosk.inner_text("#qr-caption")
    check_screenshot(kiosk, "kiosk-return-later-ticket", KIOSK_PORTRAIT)
    kiosk.click("#done")
    kiosk.wait_for_selector("#s-start:not(.hidden)")
    phone = kiosk.context.new_page()  # the same QR, read by a phone's camera, opens the ticket's page
    phone.goto(ticket["qr_text"])
    phone.wait_for_selector("#ticket:not(.hidden)")
    assert phone.inner_text("#advice").startswith(f"Mời quay lại lúc {back} và quét mã QR trên vé ở ki-ốt.")
    phone.close()

    scan(kiosk, ticket["qr_text"])  # back: the paper's QR at the scanner
    kiosk.wait_for_selector("#remote-notice:not(.hidden)")
    assert kiosk.inner_text("#ticket-number").strip() == ticket["number"]
    assert "Đã xác nhận có mặt" in kiosk.inner_text("#remote-notice")
    assert kiosk.is_hidden("#later-notice") and kiosk.is_hidden("#later-time")


def test_the_id_card_greets_checks_in_her_booking_and_chooses_the_elderly_priority(
    kiosk: Page, served: tuple[ServerProcess, dt.datetime],
) -> None:
    server, morning = served
    slot = f"{morning + dt.timedelta(minutes=30):%H:%M}"
    book = kiosk.context.new_page()  # booked earlier on /book, tied to her card
    book.goto(f"{server.url}/book/xa")
    book.wait_for_selector("body[data-ready=true]")
    book.fill("#search", "bien dong")
    book.click("button.procedure[data-procedure=dd-bien-dong]")
    book.click(f"button.day[data-date='{morning:%Y-%m-%d}']")
    book.click(f"button.slot[data-time='{slot}']:not([disabled])")
    assert book.is_visible("#id-number")
    book.fill("#id-number", "12345")
    book.click("#book")
    book.wait_for_selector("#error:not(.hidden)")
    assert book.inner_text("#error") == "Số căn cước gồm đúng 12 chữ số (hoặc để trống)."
    book.fill("#id-number", NUMBER)
    book.click("#book")
    book.wait_for_selector("#s-booked:not(.hidden)")
    assert book.input_value("#id-number") == ""
    book.close()
    scan(kiosk, "this is no code of ours")  # a foreign QR: said plainly, nothing changes
    kiosk.wait_for_selector("#scan-error:not(.hidden)")
    assert kiosk.inner_text("#scan-error").startswith("Ki-ốt không đọc được mã này.")
    assert kiosk.evaluate("() => document.body.dataset.screen") == "s-start"
    scan(kiosk, CARD.replace("30061944", "30061945"))  # misread: its number says 1944
    kiosk.wait_for_function("() => document.getElementById('scan-error').textContent.startsWith('Không đọc được thẻ')")
    assert kiosk.is_hidden("#greeting")

    scan(kiosk, CARD)  # her booking is checked in by the card alone
    kiosk.wait_for_selector("#s-card:not(.hidden)")
    assert kiosk.inner_text("#card-title") == "Xin chào, Nguyễn Thị Hồng Đào"
    assert kiosk.inner_text("#card-list").endswith(f"đã xác nhận lịch hẹn lúc {slot}.")
    check_screenshot(kiosk, "kiosk-card-checked-in", KIOSK_PORTRAIT)
    assert not severe_violations(kiosk, "kiosk: the card's check-in")
    kiosk.click("#card-take")
    kiosk.wait_for_selector("#s-start:not(.hidden)")
    assert kiosk.inner_text("#greeting") == ("Xin chào, Nguyễn Thị Hồng Đào. Ưu tiên người cao tuổi được chọn sẵn "
                                             "khi bạn lấy số.")
    assert kiosk.is_hidden("#scan-error")
    check_screenshot(kiosk, "kiosk-card-greeting", KIOSK_PORTRAIT)
    choose(kiosk, "cth-ban-sao", "ban sao")
    assert kiosk.get_attribute("[data-priority=elderly]", "aria-checked") == "true"
    with kiosk.expect_response(f"**{BASE}/tickets") as answer:
        kiosk.click("#issue")
    sent = json.loads(answer.value.request.post_data or "{}")
    assert sent["card"] == CARD and sent["priority"] == "elderly"
    kiosk.wait_for_selector("#s-ticket:not(.hidden)")
    assert kiosk.inner_text("#ticket-priority") == "Ưu tiên: Người cao tuổi"
    kiosk.click("#lang-button")
    assert kiosk.inner_text("#greeting").startswith("Hello, Nguyễn Thị Hồng Đào.")
    kiosk.click("#done")  # done: the card is forgotten with the citizen
    kiosk.wait_for_selector("#greeting.hidden", state="attached")


def test_an_intake_receipt_gives_a_result_number_with_its_file(kiosk: Page,
                                                               served: tuple[ServerProcess, dt.datetime]) -> None:
    server, morning = served
    later = morning + dt.timedelta(days=2)
    scan(kiosk, json.dumps({"ma_ho_so": DOSSIER, "ma_thu_tuc": "1.001234", "ngay_hen_tra": f"{later:%d/%m/%Y}"}))
    kiosk.wait_for_selector("#papers-dossier:not(.hidden)")
    assert kiosk.inner_text("#papers-title") == "Nhận kết quả (hẹn trả ngày khác)"
    box = kiosk.inner_text("#papers-dossier")
    assert f"Hồ sơ: {DOSSIER}" in box and f"Ngày hẹn trả kết quả: {later:%d/%m/%Y}" in box
    assert "Hôm nay chưa đến ngày hẹn trả" in box  # early: still a number, staff check
    check_screenshot(kiosk, "kiosk-receipt-papers", KIOSK_PORTRAIT)
    kiosk.click("#issue")
    kiosk.wait_for_selector("#s-ticket:not(.hidden)")
    number = kiosk.inner_text("#ticket-number").strip()
    assert kiosk.inner_text("#ticket-dossier") == f"Hồ sơ: {DOSSIER}"

    desk = browser_of(kiosk).new_context(viewport=DESK_VIEW)  # the result counter fetches the right file
    try:
        staff = open_page(desk, f"{server.url}/counter/xa/6", ready="login")
        staff.fill("#user", "quay6")
        staff.fill("#pin", "1234")
        staff.click("#login-button")
        staff.wait_for_selector("body[data-ready=true]")
        staff.click("#b-open")
        row = staff.wait_for_selector(f"#waiting tr:has(td:text-is('{number}'))")
        assert f"Hồ sơ {DOSSIER} · SỚM: chưa đến ngày hẹn trả {later:%d/%m/%Y}" in row.inner_text()
        for _ in range(3):  # legal priority first: whoever is ahead is served, then the result number
            staff.click("#b-call")
            staff.wait_for_selector("#b-done:not([disabled])")
            if staff.inner_text("#current-number") == number:
                break
            staff.click("#b-done")
            staff.wait_for_selector("#b-call:not([disabled])")
        assert staff.inner_text("#current-dossier").startswith(f"Hồ sơ {DOSSIER} · SỚM")
        check_screenshot(staff, "counter-result-dossier", DESK_VIEW)
    finally:
        desk.close()
