"""The kiosk's feedback form (issue 17) in headless Chromium on a touch screen, typed as a person types it on the
kiosk's Vietnamese keyboard, then followed by its code on a phone, against a real `motcua serve --demo --sms log`."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from tests.server import ServerProcess, login, serve_process
from tests.test_pages_browser import CHROMIUM, CHROMIUM_ARGS, open_page

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
SITE_FILE = ROOT / "controller" / "sites" / "commune-centre.toml"
SHOTS = ROOT / "test-output" / "kiosk-feedback"
TONES = {"\u0301": "acute", "\u0300": "grave", "\u0309": "hook", "\u0303": "tilde", "\u0323": "dot"}
PORTRAIT: ViewportSize = {"width": 1080, "height": 1920}
LANDSCAPE: ViewportSize = {"width": 1366, "height": 768}
TOUCH_PX = 64  # the kiosk's smallest target


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with serve_process(SITE_FILE, tmp_path_factory.mktemp("kiosk-feedback"), "--sms", "log") as proc:
        yield proc


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def kiosk(browser: Browser, server: ServerProcess, size: ViewportSize, clock: bool = False) -> Page:
    context = browser.new_context(viewport=size, has_touch=True)
    if clock:
        context.clock.install()  # time flows as usual until the test moves it on
    page = open_page(context, f"{server.url}/kiosk/xa?kiosk=k1&key=kiosk-demo")
    page.wait_for_selector("body[data-feedback-phone]")
    return page


def tap(page: Page, key: str) -> None:
    page.tap(f".fb-keys [data-key='{key}']")


def type_vietnamese(page: Page, text: str) -> None:
    """Tap the text out as a person does: each word's letters (shaped ones have keys of their own), then the word's
    tone mark, then what follows the word (a comma); shift before a capital unless the keyboard already has it on
    (the start of a sentence)."""
    for word in text.split(" "):
        stem = word.rstrip(",.?")
        tone = None
        for ch in stem:
            parts = unicodedata.normalize("NFD", ch)
            tone = next((TONES[m] for m in parts if m in TONES), tone)
            letter = unicodedata.normalize("NFC", "".join(m for m in parts if m not in TONES))
            if letter != letter.lower() and page.get_attribute(".fb-keys [data-key=shift]", "aria-pressed") != "true":
                tap(page, "shift")
            tap(page, letter.lower())
        if tone:
            tap(page, tone)
        for mark in word[len(stem):]:
            tap(page, mark)
        tap(page, "space")
    tap(page, "erase")  # the space after the last word


def targets_are_touch_sized(page: Page, screen: str) -> None:
    small = page.evaluate("""([screen, least]) => [...document.querySelectorAll(`#${screen} button`)]
        .filter((b) => b.offsetParent !== null)
        .map((b) => [b.dataset.key || b.id || b.textContent, b.getBoundingClientRect()])
        .filter(([, r]) => r.width < least - 0.5 || r.height < least - 0.5)
        .map(([name, r]) => `${name} ${r.width}x${r.height}`)""", [screen, TOUCH_PX])
    assert not small, small


def fits(page: Page, size: ViewportSize) -> None:
    height = page.evaluate("() => document.documentElement.scrollHeight")
    assert height <= size["height"], f"{height} px tall on a {size['height']} px screen: the buttons would be off it"


def test_a_citizen_sends_feedback_at_the_portrait_kiosk_and_follows_it_on_a_phone(browser: Browser,
                                                                                  server: ServerProcess) -> None:
    page = kiosk(browser, server, PORTRAIT)
    page.tap("#feedback-entry")
    assert page.locator("button.fb-category").count() == 7  # the site's categories (the defaults)
    assert "trả lời trong vòng 10 ngày" in page.inner_text("#fb-intro")
    page.tap("button.fb-category[data-category=staff]")
    assert page.inner_text("#fb-chosen").lower() == "thái độ, tác phong cán bộ"
    targets_are_touch_sized(page, "s-feedback-text")
    # empty: said, and nothing is sent
    page.tap("#fb-next")
    assert page.inner_text("#fb-text-error") == "Hãy viết nội dung phản ánh trước khi gửi."
    said = "Chờ 2 tiếng chưa được gọi. Cán bộ nói chưa rõ."
    type_vietnamese(page, said)
    assert page.input_value("#fb-text") == said   # every mark where it belongs, capitals where a sentence starts
    assert page.is_hidden("#fb-text-error")
    page.screenshot(path=str(SHOTS / "portrait-text.png"))
    page.tap("#fb-next")
    # the phone for the answer: under the contact rules (consent first)
    page.wait_for_selector("#s-feedback-phone:not(.hidden)")
    targets_are_touch_sized(page, "s-feedback-phone")
    for digit in "0912345678":
        page.tap(f".fb-phone-keys [data-key='{digit}']")
    page.tap("#fb-send")
    assert page.inner_text("#fb-phone-error") == "Hãy đánh dấu ô đồng ý, hoặc xóa số điện thoại."
    page.tap("#fb-consent")
    page.screenshot(path=str(SHOTS / "portrait-phone.png"))
    page.tap("#fb-send")
    page.wait_for_selector("#s-feedback-done:not(.hidden)")
    code = page.evaluate("() => document.body.dataset.feedback")
    assert page.inner_text("#fb-code") == f"{code[:4]} {code[4:]}"
    assert "Bạn sẽ nhận tin nhắn khi có câu trả lời." in page.inner_text("#fb-notes")
    assert f"{server.url}/f/xa và nhập mã" in page.inner_text("#fb-qr-caption")
    assert (page.get_attribute("#fb-qr", "src") or "").startswith("data:image/svg+xml")
    assert page.evaluate("() => document.getElementById('fb-qr').naturalWidth") > 0  # the QR was drawn
    page.screenshot(path=str(SHOTS / "portrait-done.png"))
    # the manager sees it as typed, from the kiosk, with a number waiting for the answer
    manager = login(server.url, "quanly", "demo")
    items = httpx.get(f"{server.url}/api/v1/sites/xa/feedback", headers=manager, timeout=10).json()["items"]
    item = next(i for i in items if i["code"] == code)
    assert (item["text"], item["category"], item["channel"], item["has_phone"]) == (said, "staff", "kiosk", True)
    # Xong: the next citizen finds nothing of it
    page.tap("#fb-done")
    page.wait_for_selector("#s-start:not(.hidden)")
    assert page.input_value("#fb-text") == "" and page.input_value("#fb-phone") == ""
    assert not page.is_checked("#fb-consent")

    # on a phone: the QR's page, then the answer there once given
    phone = open_page(browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True),
                      f"{server.url}/f/xa/{code}")
    assert phone.inner_text("#item-text") == said
    assert "Đã nhận, đang chờ xử lý" in phone.inner_text("#item-status")
    assert phone.is_hidden("#answer-box")
    httpx.post(f"{server.url}/api/v1/sites/xa/feedback/{code}/answer", headers=manager, timeout=10,
               json={"answer": "Trung tâm xin lỗi ông/bà và đã nhắc nhở cán bộ.", "upheld": True}).raise_for_status()
    phone.reload()
    phone.wait_for_selector("#answer-box:not(.hidden)")
    assert phone.inner_text("#item-answer") == "Trung tâm xin lỗi ông/bà và đã nhắc nhở cán bộ."
    assert phone.inner_text("#item-status") == "Đã trả lời"
    phone.screenshot(path=str(SHOTS / "phone-answer.png"), full_page=True)
    phone.tap("#lang-button")
    assert phone.inner_text("#item-status") == "Answered" and phone.inner_text("#answer-title") == "The centre's answer"
    # a code typed by hand, loosely; a wrong one is said
    lookup = open_page(phone.context, f"{server.url}/f/xa")
    lookup.fill("#lookup-code", f"{code[:4].lower()}-{code[4:].lower()}")
    lookup.click("#lookup button[type=submit]")
    lookup.wait_for_selector("#item:not(.hidden)")
    assert lookup.url.endswith(f"/f/xa/{code}")
    wrong = open_page(phone.context, f"{server.url}/f/xa/22222222")
    assert wrong.inner_text("#error") == "Không tìm thấy phản ánh với mã này." and wrong.is_visible("#lookup")
    phone.context.close()
    page.context.close()


def test_the_landscape_kiosk_marks_english_no_texts_and_walking_away(browser: Browser, server: ServerProcess) -> None:
    page = kiosk(browser, server, LANDSCAPE, clock=True)
    page.tap("#feedback-entry")
    page.tap("button.fb-category[data-category=waiting]")
    fits(page, LANDSCAPE)  # the text, its keyboard and the buttons on one 768 px screen
    targets_are_touch_sized(page, "s-feedback-text")
    for key in "toan":
        tap(page, key)
    tap(page, "acute")
    assert page.input_value("#fb-text") == "Toán"            # a capital at the start, the mark on its vowel
    tap(page, "acute")
    assert page.input_value("#fb-text") == "Toan"            # a second tap takes it off
    tap(page, "grave")
    tap(page, "erase")
    assert page.input_value("#fb-text") == "Tòa"             # the mark moves as the word changes
    # where the mark goes: shaped vowels first, "qu"/"gi" are consonants, the first of two open vowels (hòa, thủy)
    words = [("hoa", "grave", "hòa"), ("hoan", "grave", "hoàn"), ("thuy", "hook", "thủy"), ("huynh", "grave", "huỳnh"),
             ("qua", "acute", "quá"), ("gi", "grave", "gì"), ("giư", "tilde", "giữ"), ("ngươi", "grave", "người"),
             ("đươc", "dot", "được"), ("ngoai", "grave", "ngoài"), ("khuyu", "hook", "khuỷu"), ("Viêt", "dot", "Việt"),
             ("mua", "acute", "múa"), ("cưa", "hook", "cửa"), ("trk", "acute", "trk")]
    placed = page.evaluate("(words) => words.map(([w, tone]) => Vietnamese.setTone(w, Vietnamese.TONES[tone]))",
                           [[w, tone] for w, tone, _ in words])
    assert placed == [want for _, _, want in words]
    page.screenshot(path=str(SHOTS / "landscape-text.png"))
    # English: every word of the flow, the keyboard still writing Vietnamese
    page.tap("#lang-button")
    assert page.inner_text("#fb-next") == "Next" and "Type the whole word, then tap a mark" in page.inner_text(
        "#fb-tone-hint")
    assert page.get_attribute(".fb-keys [data-key=acute]", "aria-label") == "á sắc: acute tone mark"
    page.screenshot(path=str(SHOTS / "landscape-text-en.png"))
    # a citizen who walks away: a minute later the kiosk is back at its start, in Vietnamese, the text gone
    page.clock.fast_forward(61_000)
    page.wait_for_selector("#s-start:not(.hidden)")
    assert page.input_value("#fb-text") == "" and page.evaluate("() => document.documentElement.lang") == "vi"
    page.context.close()

    # a centre that sends no texts: no phone step, "Gửi phản ánh" sends from the text screen
    context = browser.new_context(viewport=LANDSCAPE, has_touch=True)
    context.route("**/api/v1/sites/xa/sms", lambda route: route.fulfill(json={"enabled": False}))
    page = open_page(context, f"{server.url}/kiosk/xa?kiosk=k2&key=kiosk-demo")
    page.wait_for_selector("body[data-feedback-phone=off]")
    page.tap("#feedback-entry")
    page.tap("button.fb-category[data-category=facilities]")
    assert page.inner_text("#fb-next") == "Gửi phản ánh"
    type_vietnamese(page, "Phòng chờ nóng")
    # the connection drops as it is sent: said, and the text stays for another tap
    context.route("**/api/v1/sites/xa/feedback", lambda route: route.abort())
    page.tap("#fb-next")
    page.wait_for_selector("#fb-text-error:not(.hidden)")
    assert page.inner_text("#fb-text-error").startswith("Mất kết nối, phản ánh chưa được gửi.")
    assert page.input_value("#fb-text") == "Phòng chờ nóng"
    context.unroute("**/api/v1/sites/xa/feedback")
    page.tap("#fb-next")
    page.wait_for_selector("#s-feedback-done:not(.hidden)")
    assert "tin nhắn" not in page.inner_text("#fb-notes")
    page.screenshot(path=str(SHOTS / "landscape-done.png"))
    context.close()
