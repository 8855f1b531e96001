"""The pages on the two live streams, in headless Chromium: the hall and ticket pages follow the public
stream, the counter page the full one with its staff token offered as a subprotocol (never in the
address), and a staff account of another site is told so at the counter's login."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, WebSocket

from controller.settings import Settings
from tests.app_support import serving_in_thread
from tests.server import KIOSK, ServerProcess, serve_process
from tests.services import free_port
from tests.test_pages_browser import KIOSK_VIEW, browser, check_screenshot, open_page

pytestmark = [pytest.mark.browser, pytest.mark.integration]

__all__ = ["browser"]  # the shared Chromium fixture

SITE_FILE = Path(__file__).resolve().parent.parent / "controller" / "sites" / "commune-centre.toml"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("live-pages")
    subprocess.run([sys.executable, "-m", "controller.cli", "users", "--data-dir", str(data), "add", "--user",
                    "quay1-tinh", "--role", "staff", "--site", "tinh", "--counter", "1", "--secret", "4321"],
                   check=True, capture_output=True, timeout=60)
    with serve_process(SITE_FILE, data) as proc:
        yield proc


def counter_login(context: BrowserContext, base: str, counter: int, user: str, pin: str) -> Page:
    """Open counter `counter` of xa and submit its login form (without waiting for the outcome)."""
    page = open_page(context, f"{base}/counter/xa/{counter}", ready="login")
    page.fill("#user", user)
    page.fill("#pin", pin)
    page.click("#login-button")
    return page


def sockets_of(page: Page) -> list[WebSocket]:
    opened: list[WebSocket] = []
    page.on("websocket", lambda ws: opened.append(ws))
    return opened


def test_the_counter_page_follows_the_full_stream_with_its_token_out_of_the_address(
    browser: Browser, server: ServerProcess
) -> None:
    context = browser.new_context(viewport=KIOSK_VIEW)
    try:
        page = open_page(context, f"{server.url}/counter/xa/3", ready="login")
        opened = sockets_of(page)
        page.fill("#user", "quay3")
        page.fill("#pin", "1234")
        page.click("#login-button")
        page.wait_for_selector("body[data-ready=true]")
        page.click("#b-open")
        page.wait_for_selector("#live-state[data-state=on]")
        token = page.evaluate("JSON.parse(sessionStorage.getItem('motcua.counter.xa.3')).token")
        assert opened and all(token not in ws.url for ws in opened)  # the address stays clean for the logs
        ticket = httpx.post(f"{server.url}/api/v1/sites/xa/tickets", headers=KIOSK,
                            json={"procedure": "cth-ban-sao"}, timeout=10).json()
        page.wait_for_selector("#b-call:not([disabled])")
        page.click("#b-call")
        page.wait_for_function("n => document.getElementById('current-number').textContent === n",
                               arg=ticket["number"])
        page.click("#b-start")
        page.wait_for_selector("#b-done:not([disabled])")
        page.click("#b-done")
        page.wait_for_function("() => document.getElementById('current-number').textContent === '—'")
        assert page.inner_text("#satisfaction") == "—"
        # a rating is only on the full stream: the page hears of it there and shows it without a press
        rated = httpx.post(f"{server.url}/api/v1/sites/xa/ratings", headers=KIOSK, json={"counter": 3, "score": 4},
                           timeout=10)
        assert rated.status_code == 201, rated.text
        page.wait_for_function("() => document.getElementById('satisfaction').textContent.startsWith('100%')",
                               timeout=5000)
        check_screenshot(page, "counter-rated-live", KIOSK_VIEW)
    finally:
        context.close()


def test_the_hall_and_ticket_pages_follow_the_public_stream(browser: Browser, server: ServerProcess) -> None:
    context = browser.new_context(viewport=KIOSK_VIEW)
    try:
        ticket = httpx.post(f"{server.url}/api/v1/sites/xa/tickets", headers=KIOSK,
                            json={"procedure": "ht-khai-sinh", "priority": "elderly"}, timeout=10).json()
        frames: list[str] = []
        hall = context.new_page()
        hall.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
        hall.goto(f"{server.url}/hall/xa")
        hall.wait_for_selector("body[data-ready=true]")
        status = open_page(context, f"{server.url}/t/xa/{ticket['id']}")
        manager = httpx.post(f"{server.url}/api/v1/auth/login", json={"user": "quanly", "secret": "demo"},
                             timeout=10).json()["token"]
        auth = {"Authorization": f"Bearer {manager}"}
        httpx.post(f"{server.url}/api/v1/sites/xa/counters/5/open", headers=auth, timeout=10).raise_for_status()
        while True:  # counter 5 may have others' tickets to call first
            called = httpx.post(f"{server.url}/api/v1/sites/xa/counters/5/call-next", headers=auth, timeout=10)
            assert called.status_code == 200, called.text
            if called.json()["id"] == ticket["id"]:
                break
            httpx.post(f"{server.url}/api/v1/sites/xa/counters/5/no-show", headers=auth, timeout=10)
        hall.wait_for_function("n => document.getElementById('newest-number').textContent === n",
                               arg=ticket["number"], timeout=5000)
        assert hall.inner_text("#newest-counter") == "5"
        status.wait_for_function("() => document.body.dataset.state === 'called'", timeout=5000)
        assert "5" in status.inner_text("#call")
        assert frames and not any("quanly" in f or "elderly" in f for f in frames)  # nobody's name, no priority
    finally:
        context.close()


def test_a_staff_account_of_another_site_is_told_at_the_counter_login(browser: Browser, server: ServerProcess) -> None:
    context = browser.new_context(viewport=KIOSK_VIEW)
    try:
        page = counter_login(context, server.url, 1, "quay1-tinh", "4321")
        page.wait_for_selector("#login-error:not(.hidden)")
        assert page.inner_text("#login-error") == "Tài khoản này dành cho điểm phục vụ tinh."
        assert page.is_visible("#login") and not page.is_visible("#app")
        check_screenshot(page, "counter-login-other-site", KIOSK_VIEW)
    finally:
        context.close()


def test_the_monitor_page_follows_the_full_stream_with_its_token_out_of_the_address(
    browser: Browser, server: ServerProcess
) -> None:
    context = browser.new_context(viewport=KIOSK_VIEW)
    try:
        page = context.new_page()
        opened = sockets_of(page)
        page.goto(f"{server.url}/monitor/xa")
        page.fill("#user", "quanly")
        page.fill("#secret", "demo")
        page.click("#login-button")
        page.wait_for_selector("#live-state[data-state=on]", timeout=10000)
        token = page.evaluate("sessionStorage.getItem('motcua.monitor.token')")
        assert token and opened and all(token not in ws.url for ws in opened)
    finally:
        context.close()


def test_the_counter_page_asks_to_log_in_again_when_its_token_is_logged_out(
    browser: Browser, tmp_path: Path
) -> None:
    """The server ends a full stream whose token stands for nobody (4401): the page returns to its login."""
    settings = Settings(site_file=SITE_FILE, data_dir=tmp_path, port=free_port(), demo=True, live_recheck_s=0.3)
    with serving_in_thread(settings):
        url = f"http://{settings.host}:{settings.port}"
        context = browser.new_context(viewport=KIOSK_VIEW)
        try:
            page = counter_login(context, url, 2, "quay2", "1234")
            page.wait_for_selector("#live-state[data-state=on]", timeout=10000)
            token = page.evaluate("JSON.parse(sessionStorage.getItem('motcua.counter.xa.2')).token")
            # logged out elsewhere (another tab, an admin revoking the session)
            revoked = httpx.post(f"{url}/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert revoked.status_code == 204
            page.wait_for_selector("body[data-ready=login]", timeout=10000)
            assert page.is_visible("#login") and page.evaluate("sessionStorage.getItem('motcua.counter.xa.2')") is None
        finally:
            context.close()
