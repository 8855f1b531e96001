"""The floor manager's monitor in headless Chromium: a queue goes at risk as the clock advances,
the standby recommendation appears, the manager opens the standby counter and the alert clears."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.server import KIOSK, ServerProcess, login, serve_process

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SHOTS = ROOT / "test-output" / "monitor"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    site = ROOT / "controller" / "sites" / "province-centre.toml"
    with serve_process(site, tmp_path_factory.mktemp("monitor"), "--test-clock") as proc:
        yield proc


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (make system-deps)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_at_risk_alert_standby_opened_alert_clears(server: ServerProcess, browser: Browser) -> None:
    admin = login(server.url, "admin", "demo")
    staff = login(server.url, "quay7", "1234")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.url}/monitor/tinh")
    page.fill("#user", "quanly")
    page.fill("#secret", "demo")
    page.click("#login-button")
    page.wait_for_selector("#counters [data-counter='49']")
    assert page.locator("#alerts [data-alert]").count() == 0
    # the clock is the site's (Vietnam), whatever zone this machine is in
    page.wait_for_timeout(1100)
    now = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert page.inner_text("#clock")[:5] in {f"{t:%H:%M}" for t in (now - timedelta(minutes=1), now)}

    with httpx.Client(base_url=server.url, timeout=10) as c:
        assert c.post("/api/v1/sites/tinh/counters/7/open", headers=staff).status_code == 200
        for _ in range(10):  # fifteen-minute procedures, one counter: far more than it can serve in time
            assert c.post("/api/v1/sites/tinh/tickets", headers=KIOSK, json={"procedure": "tp-cong-chung"}).is_success
        # The clock moves on: the tick flags the queue at risk, and two minutes later recommends standby.
        assert c.post("/api/v1/_test/clock", headers=admin, json={"advance_s": 5}).status_code == 200
        assert c.post("/api/v1/_test/clock", headers=admin, json={"advance_s": 130}).status_code == 200

    page.wait_for_selector("#risky tr[data-ticket]", timeout=10000)
    alert = page.locator("#alerts li[data-alert='standby-49']")
    alert.wait_for(timeout=10000)
    assert "quầy dự phòng" in alert.inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "at-risk.png"), full_page=True)

    alert.locator("button.ok").click()  # "Mở quầy 49": the manager opens the standby counter
    page.wait_for_selector("#alerts li[data-alert='standby-49']", state="detached", timeout=10000)
    page.wait_for_selector("#counters [data-counter='49'][data-status='open']", timeout=10000)
    with httpx.Client(base_url=server.url, timeout=10) as c:
        snapshot = c.get("/api/v1/sites/tinh/monitor", headers=admin).json()
    assert not [a for a in snapshot["alerts"] if a["alert"] == "standby-49"]
    assert next(c for c in snapshot["counters"] if c["id"] == 49)["staff"] == "quanly"
    assert not errors, errors
    context.close()


def test_province_monitor_lists_sites_and_test_clock_is_admin_only(server: ServerProcess, browser: Browser) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        manager = login(server.url, "quanly", "demo")
        assert c.post("/api/v1/_test/clock", headers=manager, json={"advance_s": 5}).status_code == 403
        assert c.post("/api/v1/_test/clock", headers=login(server.url, "admin", "demo"),
                      json={"advance_s": -5}).status_code == 422
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server.url}/monitor")
    page.fill("#user", "quanly")
    page.fill("#secret", "demo")
    page.click("#login-button")
    row = page.locator("#sites tr[data-site='tinh']")
    row.wait_for(timeout=10000)
    assert row.locator("a").get_attribute("href") == "/monitor/tinh"
    context.close()
