"""Issue 17 in headless Chromium: the counter's rating screen, the ticket page (reasons, feedback, its
answer), the kiosk's feedback form and the manager's inbox, against a real `motcua serve --demo`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright

from tests.server import KIOSK, ServerProcess, login, serve_process
from tests.test_pages_browser import CHROMIUM, CHROMIUM_ARGS, open_page

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ROOT = Path(__file__).resolve().parent.parent
SITE_FILE = ROOT / "controller" / "sites" / "commune-centre.toml"
SHOTS = ROOT / "test-output" / "feedback"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with serve_process(SITE_FILE, tmp_path_factory.mktemp("feedback-pages")) as proc:
        yield proc


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    yield ctx
    ctx.close()


def served(server: ServerProcess, counter: int = 1) -> str:
    """A ticket issued, called and finished at the counter; its id."""
    staff = login(server.url, f"quay{counter}", "1234")
    with httpx.Client(base_url=server.url, timeout=10) as c:
        ticket = c.post("/api/v1/sites/xa/tickets", headers=KIOSK, json={"procedure": "ht-khai-sinh"}).json()
        c.post(f"/api/v1/sites/xa/counters/{counter}/open", headers=staff).raise_for_status()
        while (called := c.post(f"/api/v1/sites/xa/counters/{counter}/call-next", headers=staff)).status_code == 200:
            c.post(f"/api/v1/sites/xa/counters/{counter}/finish", headers=staff).raise_for_status()
            if called.json()["id"] == ticket["id"]:
                break
    return str(ticket["id"])


def last_rating_reasons(server: ServerProcess, ticket: str) -> list[str] | None:
    """The reasons recorded for a ticket, read from the full live stream as a manager."""
    import asyncio
    import concurrent.futures
    import json

    import websockets

    headers = login(server.url, "quanly", "demo")
    url = server.url.replace("http://", "ws://") + "/api/v1/sites/xa/live?after=0&snapshots=false"

    async def read() -> list[str] | None:
        found = None
        async with websockets.connect(url, additional_headers=headers, proxy=None) as ws:
            try:
                while True:
                    event = json.loads(await asyncio.wait_for(ws.recv(), 1))
                    if event["type"] == "rating.reasons" and event["ticket"] == ticket:
                        found = event["reasons"]
            except TimeoutError:
                return found

    # Playwright's sync API holds this thread's event loop: read on a thread of its own
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, read()).result()


def test_rating_screen_asks_reasons_after_a_low_rating(context: BrowserContext, server: ServerProcess) -> None:
    ticket = served(server)
    page: Page = open_page(context, f"{server.url}/rate/xa/1?key=kiosk-demo")
    assert "key=" not in page.url  # the key is kept, never left in the address
    labels = page.locator(".scores button").all_inner_texts()
    assert [label.split("\n")[0] for label in labels] == ["4", "3", "2", "1"]
    assert "Rất hài lòng" in labels[0] and "Không hài lòng" in labels[3]
    page.click("button[data-score='2']")
    page.wait_for_selector("#s-reasons:not(.hidden)")
    assert page.locator("#send-reasons").is_disabled()  # optional, but a send needs a choice
    page.click("button[data-reason='waited_long']")
    page.click("button[data-reason='extra_papers']")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "rate-reasons.png"))
    page.click("#send-reasons")
    page.wait_for_selector("#s-thanks:not(.hidden)")
    assert last_rating_reasons(server, ticket) == ["waited_long", "extra_papers"]
    page.wait_for_selector("#s-scale:not(.hidden)", timeout=10000)  # back for the next citizen


def test_rating_screen_good_rating_and_english(context: BrowserContext, server: ServerProcess) -> None:
    served(server)
    page = open_page(context, f"{server.url}/rate/xa/1?key=kiosk-demo")
    page.click("#lang-button")
    assert "Very satisfied" in page.locator(".scores button").first.inner_text()
    page.click("button[data-score='4']")
    page.wait_for_selector("#s-thanks:not(.hidden)")
    assert page.locator("#s-reasons").is_hidden()
    page.wait_for_selector("#s-scale:not(.hidden)", timeout=10000)
    page.click("button[data-score='3']")  # the same service again
    page.wait_for_selector("#scale-error:not(.hidden)")
    assert "already been rated" in page.locator("#scale-error").inner_text()


def test_ticket_page_asks_reasons_when_the_counter_did_not(context: BrowserContext, server: ServerProcess) -> None:
    ticket = served(server)
    with httpx.Client(base_url=server.url, timeout=10) as c:
        c.post("/api/v1/sites/xa/ratings", headers=KIOSK, json={"counter": 1, "score": 1}).raise_for_status()
    page = open_page(context, f"{server.url}/t/xa/{ticket}")
    page.wait_for_selector("#ticket-reasons:not(.hidden)")
    assert page.locator("#reasons-title").inner_text() == "Bạn chưa hài lòng vì điều gì?"
    page.click("#reasons-list button[data-reason='staff_attitude']")
    page.screenshot(path=str(SHOTS / "ticket-reasons.png"), full_page=True)
    page.click("#send-reasons")
    page.wait_for_selector("#reasons-thanks:not(.hidden)")
    assert last_rating_reasons(server, ticket) == ["staff_attitude"]


def test_feedback_from_the_ticket_page_answered_in_the_inbox(context: BrowserContext, server: ServerProcess) -> None:
    """HTML in a comment stays text on both pages; the manager's answer reaches the ticket page."""
    ticket = served(server)
    page = open_page(context, f"{server.url}/t/xa/{ticket}")
    page.wait_for_function("() => document.querySelectorAll('#feedback-category option').length > 0")
    assert page.locator("#feedback-phone-box").is_hidden()  # this server sends no texts: no number asked
    page.select_option("#feedback-category", "staff")
    markup = '<img src=x id="injected"> Cán bộ không hướng dẫn'
    page.fill("#feedback-text", markup)
    lost: list[str] = []

    def lose_the_first_answer(route: Route) -> None:
        if lost:
            route.continue_()
            return
        lost.append(route.request.headers.get("idempotency-key", ""))
        route.fetch()  # the server files it...
        route.abort("connectionreset")  # ...and its answer never reaches the phone

    page.route("**/api/v1/sites/xa/feedback", lose_the_first_answer)
    page.click("#feedback-send")
    page.wait_for_selector("#feedback-error:not(.hidden)")
    with page.expect_request("**/api/v1/sites/xa/feedback") as again:
        page.click("#feedback-send")  # the citizen taps again: the same item, not a second one
    assert lost[0] and again.value.headers.get("idempotency-key") == lost[0]
    page.wait_for_selector("#feedback-sent li")
    manager = login(server.url, "quanly", "demo")
    filed = httpx.get(f"{server.url}/api/v1/sites/xa/feedback", headers=manager, timeout=10).json()
    assert [i["text"] for i in filed["items"]].count(markup) == 1
    assert page.locator("#feedback-sent .text").inner_text() == markup
    assert page.locator("#injected").count() == 0
    code = page.locator("#feedback-sent li").get_attribute("data-code")

    inbox = open_page(context, f"{server.url}/feedback/xa")
    inbox.fill("#user", "quanly")
    inbox.fill("#secret", "demo")
    inbox.click("#login button[type=submit]")
    item = inbox.locator(f"li.item[data-code='{code}']")
    item.wait_for()
    assert item.locator(".text").inner_text() == markup and inbox.locator("#injected").count() == 0
    assert f"{ticket}" in item.inner_text() and "quay1" in item.inner_text()  # the visit and who served it
    # the topic: the model's guess, said to be one; a manager corrects it and it stays
    assert "(tự động, có thể sai)" in item.locator(".topic").inner_text()
    item.locator("select.topic-choice").select_option("procedure")
    item.locator("button.set-topic").click()
    inbox.wait_for_function("code => document.querySelector(`li.item[data-code='${code}'] .topic span`)"
                            ".textContent === 'Chủ đề: Thủ tục, giấy tờ'", arg=code)
    assert "tự động" not in item.locator(".topic").inner_text()
    inbox.select_option("#topic", "procedure")
    inbox.wait_for_function("() => document.querySelectorAll('li.item').length === 1")
    assert "Thủ tục, giấy tờ 1" in inbox.inner_text("#topics")
    inbox.select_option("#topic", "")
    item.wait_for()
    item.locator("select.agency-choice").select_option(index=0)
    item.locator("button.assign").click()
    inbox.wait_for_function("code => document.querySelector(`li.item[data-code='${code}'] .badge`)"
                            ".textContent === 'Đã giao'", arg=code)
    item.locator("textarea").fill("Chúng tôi xin lỗi; cán bộ đã được nhắc nhở.")
    item.locator("input[type=checkbox]").check()
    SHOTS.mkdir(parents=True, exist_ok=True)
    inbox.screenshot(path=str(SHOTS / "inbox.png"), full_page=True)
    item.locator("button[type=submit]").click()
    inbox.wait_for_function("code => !document.querySelector(`li.item[data-code='${code}']`)", arg=code)

    page.reload()
    page.wait_for_selector("#feedback-sent .answer")
    assert page.locator("#feedback-sent .answer").inner_text() == "Chúng tôi xin lỗi; cán bộ đã được nhắc nhở."
    page.screenshot(path=str(SHOTS / "ticket-answer.png"), full_page=True)
