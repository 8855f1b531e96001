"""The floor manager's monitor in headless Chromium against a real server with a test clock: a queue goes at
risk as the clock advances, the standby recommendation appears, the manager opens counters and the risk and
the alert clear; after tickets pass 15 minutes the first screen counts them, says what to do and where, at a
desktop and a laptop size with nothing cut off; the charts have time axes, a labelled target and shared
scales; a technician sees every device, an offline display and a printer out of paper in words."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from paho.mqtt import publish
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from devices.topics import SiteTopics
from tests.server import KIOSK, ServerProcess, login, serve_process
from tests.services import Mosquitto

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
    page, errors, _ = monitor_page(browser, server, {"width": 1400, "height": 1000},
                                   ready=("#counters [data-counter='49']",))
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
        # Every counter that serves the line opens: nobody is predicted late any more, and the monitor says so
        # at the next tick (at risk used to stay raised for the rest of the day).
        assert int(page.inner_text("#fig-risk-value")) > 0
        manager = login(server.url, "quanly", "demo")
        for counter in (8, 9, 10, 48, 50, 51, 52, 53):
            assert c.post(f"/api/v1/sites/tinh/counters/{counter}/open", headers=manager).status_code == 200
        assert c.post("/api/v1/_test/clock", headers=admin, json={"advance_s": 6}).status_code == 200
    page.wait_for_function("() => document.getElementById('fig-risk-value').textContent === '0'", timeout=10000)
    assert page.locator("#risky tr[data-ticket]").count() == 0
    assert not errors, errors
    page.context.close()


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


# -- after tickets pass 15 minutes ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def late_floor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The issue's floor: three agencies with one counter each, their lines past 15 minutes, one standby
    counter recommended for all three."""
    site = ROOT / "controller" / "sites" / "province-centre.toml"
    with serve_process(site, tmp_path_factory.mktemp("late"), "--test-clock") as proc:
        admin = login(proc.url, "admin", "demo")
        with httpx.Client(base_url=proc.url, timeout=10) as c:
            for counter in (1, 7, 34):
                assert c.post(f"/api/v1/sites/tinh/counters/{counter}/open",
                              headers=login(proc.url, f"quay{counter}", "1234")).status_code == 200
            for procedure, tickets in (("tp-cong-chung", 8), ("thue-dang-ky", 7), ("gtvt-doi-gplx", 4)):
                for _ in range(tickets):
                    assert c.post("/api/v1/sites/tinh/tickets", headers=KIOSK, json={"procedure": procedure}).is_success
            staff = login(proc.url, "quay34", "1234")
            assert c.post("/api/v1/sites/tinh/counters/34/call-next", headers=staff).status_code == 200
            assert c.post("/api/v1/sites/tinh/counters/34/finish", headers=staff, json={"outcome": "done"}).is_success
            for step in (5, 130, 300, 300, 300):  # at risk, standby recommended, then past 15 minutes
                assert c.post("/api/v1/_test/clock", headers=admin, json={"advance_s": step}).status_code == 200
        yield proc


def monitor_page(
    browser: Browser, server: ServerProcess, viewport: ViewportSize, site: str = "tinh",
    ready: tuple[str, ...] = ("#agencies tr[data-agency]", "#multiples figure[data-agency]"),
) -> tuple[Page, list[str], list[str]]:
    """The monitor logged in as the floor manager, once `ready` shows; its script errors and every address it
    asked for."""
    page = browser.new_context(viewport=viewport).new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{server.url}/monitor/{site}" if site else f"{server.url}/monitor")
    page.fill("#user", "quanly")
    page.fill("#secret", "demo")
    page.click("#login-button")
    for selector in ready:
        page.wait_for_selector(selector, timeout=10000)
    return page, errors, requests


def cut_off(page: Page) -> list[str]:
    """Elements of the page that stick out of the window sideways or are clipped in their own box."""
    found: list[str] = page.evaluate("""() => {
        const out = [];
        const root = document.documentElement;
        const width = root.clientWidth;
        if (root.scrollWidth > width) out.push(`page ${root.scrollWidth} > ${width}`);
        for (const el of document.querySelectorAll("#app *")) {
            const r = el.getBoundingClientRect();
            if (!r.width || getComputedStyle(el).display === "none" || el.closest(".sr-only")) continue;
            if (r.right > width + 0.5) out.push(`${el.tagName}#${el.id}.${el.className} right ${r.right} > ${width}`);
            const clips = ["hidden", "clip"].includes(getComputedStyle(el).overflowX);
            if (clips && el.scrollWidth > el.clientWidth + 1 && !el.classList.contains("u-over"))
                out.push(`${el.tagName}.${el.className} clipped ${el.scrollWidth} > ${el.clientWidth}`);
        }
        return out;
    }""")
    return found


def in_first_screen(page: Page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    viewport = page.viewport_size
    assert box is not None and viewport is not None
    return box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]


@pytest.mark.parametrize("viewport", [{"width": 1920, "height": 1080}, {"width": 1366, "height": 768}],
                         ids=["desktop", "laptop"])
def test_the_first_screen_counts_everyone_past_15_minutes_and_says_what_to_do(
    late_floor: ServerProcess, browser: Browser, viewport: ViewportSize
) -> None:
    page, errors, requests = monitor_page(browser, late_floor, viewport)
    snapshot = httpx.get(f"{late_floor.url}/api/v1/sites/tinh/monitor", headers=login(late_floor.url, "quanly", "demo"),
                         timeout=10).json()
    tx = snapshot["performance"]["transaction"]
    assert tx["waiting_over"] == 18 and tx["within"] == 1 and tx["share"] < 0.1
    # "Đạt 15 phút" showed 100.0 %: now one in nineteen, and the eighteen past the target are said.
    assert page.inner_text("#fig-transaction-value") == "5,3 %"
    assert "18 người đang chờ quá 15 phút" in page.inner_text("#fig-transaction-note")
    assert page.get_attribute("#fig-transaction", "data-level") == "bad"
    thue = page.locator("#agencies tr[data-agency='THUE']")
    assert thue.locator("td").nth(1).inner_text() == "6"  # over 15 min
    assert "14,3 %" in thue.locator("td").nth(6).inner_text()
    # What to do: one alert to open counter 49, naming the three agencies that need it, with its button.
    alert = page.locator("#alerts li[data-alert]")
    assert alert.count() == 1
    words = alert.inner_text()
    assert "Mở quầy dự phòng 49 cho" in words and "Sở Tư pháp" in words and "Giao thông vận tải" in words
    assert alert.locator("button.ok").inner_text() == "Mở quầy 49"
    # Where: overdue tickets with how far over, breaches in words (no raw codes), the worst agency first.
    assert page.locator("#overdue tr[data-ticket]").count() == 5
    assert "và 13 số khác" in page.inner_text("#overdue")
    assert page.locator("#overdue tr[data-ticket] td").nth(2).inner_text().startswith("quá ")
    assert page.locator("#risky tr[data-ticket]").count() == 0  # past their deadline: breaches, not risks
    body = page.inner_text("body")
    for code in ("counters_closed", "no_open_counter", "capacity", "transaction ·", "standby_recommended"):
        assert code not in body
    assert "quá mục tiêu giao dịch 15 phút" in page.inner_text("#breaches")
    assert page.locator("#agencies tr[data-agency]").first.get_attribute("data-agency") == "TP"
    # The first screen answers it all, nothing is cut off.
    for selector in ("#fig-transaction", "#fig-visit", "#fig-devices", "#alerts li[data-alert] button.ok",
                     "#agencies tr[data-agency]", "#overdue-table caption"):
        assert in_first_screen(page, selector), selector
    assert cut_off(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"late-{viewport['width']}-first.png"))
    page.screenshot(path=str(SHOTS / f"late-{viewport['width']}-full.png"), full_page=True)
    # English second, complete.
    page.click("#lang-button")
    assert page.inner_text("#fig-transaction-value") == "5.3 %"
    assert "18 waiting over 15 min" in page.inner_text("#fig-transaction-note")
    assert "Open standby counter 49 for" in page.inner_text("#alerts")
    assert cut_off(page) == []
    assert not errors, errors
    assert [r for r in requests if not r.startswith((late_floor.url, late_floor.url.replace("http", "ws")))] == []
    page.context.close()


def test_every_site_view_the_feed_and_metrics_count_them_alike(late_floor: ServerProcess, browser: Browser) -> None:
    manager = login(late_floor.url, "quanly", "demo")
    with httpx.Client(base_url=late_floor.url, timeout=10) as c:
        feed = c.get("/api/v1/feed", headers=manager).json()["sites"][0]
        metrics = c.get("/metrics").text
    assert (feed["within_transaction_target"], feed["waiting_over_target"]) == (round(1 / 19, 4), 18)
    assert 'motcua_within_target_ratio{agency="THUE",site="tinh"} 0.14285714285714285' in metrics
    assert 'motcua_waiting_over_target{agency="TP",site="tinh"} 8.0' in metrics
    page, errors, _ = monitor_page(browser, late_floor, {"width": 1366, "height": 768}, "", ("#sites tr[data-site]",))
    row = page.locator("#sites tr[data-site='tinh'] td")
    assert (row.nth(1).inner_text(), row.nth(4).inner_text()) == ("18", "5,3 %")  # "/monitor" showed 100.0 % too
    assert cut_off(page) == []
    assert not errors, errors
    page.context.close()


def test_charts_have_time_axes_a_labelled_target_shared_scales_and_a_drill_down(
    late_floor: ServerProcess, browser: Browser
) -> None:
    page, errors, requests = monitor_page(browser, late_floor, {"width": 1920, "height": 1080})
    assert any(r.endswith("/ui/vendor/uplot/uPlot.iife.min.js") for r in requests)
    with httpx.Client(base_url=late_floor.url, timeout=10) as c:
        shipped = c.get("/ui/vendor/uplot/uPlot.min.css")
        assert shipped.status_code == 200 and shipped.headers["content-type"].startswith("text/css")
        for name in ("LICENSE", "..%2F..%2Fmonitor.js", "%2E%2E"):
            assert c.get(f"/ui/vendor/uplot/{name}").status_code == 404
        assert c.get("/ui/vendor/..%2Fstatic/monitor.js").status_code == 404
    people = page.locator("#chart-main figure[data-chart='people']")
    wait = page.locator("#chart-main figure[data-chart='wait']")
    # Axes with times of day and numbers, drawn by uPlot; captions say the same in words.
    for chart in (people, wait):
        assert re.fullmatch(r"(\d\d:\d\d ?)+", chart.get_attribute("data-x-ticks") or "")
        assert re.fullmatch(r"([\d,.]+ ?)+", chart.get_attribute("data-y-ticks") or "")
        assert "Trục ngang: giờ" in chart.locator("figcaption").inner_text()
    assert "Chờ quá 15 phút" in people.locator(".u-legend").inner_text()
    assert "Mục tiêu 15 phút" in wait.locator(".u-legend").inner_text()
    assert "đường đứt nét là mục tiêu 15 phút" in wait.locator("figcaption").inner_text()
    # One scale for the agencies compared: eight waiting in TP and four in GTVT are not drawn the same height.
    multiples = page.locator("#multiples figure[data-agency]")
    scales = {multiples.nth(i).get_attribute("data-agency"): multiples.nth(i).get_attribute("data-y-max")
              for i in range(multiples.count())}
    assert set(scales) == {"TP", "THUE", "GTVT"} and set(scales.values()) == {"10"}
    # Drill down into one agency: its pair of charts, on the same scale as the comparison.
    page.locator("#multiples figure[data-agency='GTVT'] button").click()
    page.wait_for_function(
        "() => document.querySelector('#chart-main h3').textContent.includes('Giao thông vận tải')")
    assert page.locator("#chart-main figure[data-chart='people']").get_attribute("data-y-max") == "10"
    assert page.input_value("#chart-scope") == "GTVT"
    assert "4 người chờ, 4 người quá 15 phút" in page.inner_text("#chart-main figure[data-chart='people'] figcaption")
    page.screenshot(path=str(SHOTS / "charts-drill-down.png"), full_page=True)
    assert not errors, errors
    page.context.close()


# -- devices under faults -------------------------------------------------------------------------------------


def test_a_technician_sees_every_device_an_offline_display_and_a_printer_out_of_paper(
    tmp_path: Path, mosquitto: Mosquitto, browser: Browser
) -> None:
    site = ROOT / "controller" / "sites" / "commune-centre.toml"
    topics = SiteTopics("xa")
    with serve_process(site, tmp_path / "data", "--mqtt", mosquitto.url, "--devices", "real") as server:
        devices = [f"{kind}-{n}" for kind in ("display", "keypad", "rating") for n in range(1, 7)]
        publish.multiple([(topics.device_status(d), "online", 1, True) for d in [*devices, "printer-k1"]],
                         hostname="127.0.0.1", port=mosquitto.port)
        time.sleep(0.5)
        publish.multiple([
            (topics.device_status("display-3"), "offline", 1, True),  # what its last will says
            (topics.device_status("printer-k1"), json.dumps({"status": "online", "paper": "out", "can_print": False,
                                                                "cover_open": False, "error": None}), 1, True),
        ], hostname="127.0.0.1", port=mosquitto.port)
        page, errors, _ = monitor_page(browser, server, {"width": 1366, "height": 768}, "xa", ("#devices table",))
        # the printer's alert, in words with the printer's name and place (it showed the bare "printer_problem")
        alert = page.locator("#alerts li[data-code='printer_problem']")
        alert.wait_for(timeout=15000)
        assert "Máy in printer-k1 (Ki-ốt k1): hết giấy" in alert.inner_text()
        assert "printer_problem" not in page.inner_text("body")
        page.wait_for_function("() => document.getElementById('fig-devices-value').textContent === '2 cần xem'",
                               timeout=10000)
        assert page.inner_text("#fig-devices-note") == "1 mất kết nối trong 19 thiết bị"
        attention = page.locator("#devices table").first
        display = attention.locator("tr[data-device='display-3']")
        assert display.locator("th").inner_text() == "Bảng LED display-3"
        assert "Quầy 3" in display.inner_text() and "Mất kết nối" in display.inner_text()
        assert re.search(r"\d\d:\d\d:\d\d \(\d+ giây trước\)", display.locator("td").nth(2).inner_text())
        assert "hết giấy" in attention.locator("tr[data-device='printer-k1']").inner_text()
        # every device, grouped by counter and kiosk
        groups = page.locator("#devices details tr.group th").all_inner_texts()
        assert groups == [*(f"Quầy {n}" for n in range(1, 7)), "Ki-ốt k1"]
        assert page.locator("#devices details tr[data-device]").count() == 19
        assert page.inner_text("#counters tr[data-counter='3'] td:nth-child(7)") == "Bảng LED: Mất kết nối"
        # a keypad's press repeated with the same seq is refused, and the technician sees it counted in words
        press = json.dumps({"key": "next", "seq": 7})
        publish.multiple([(topics.keypad_press(2), press, 1, False), (topics.keypad_press(2), press, 1, False)],
                         hostname="127.0.0.1", port=mosquitto.port)
        page.wait_for_function("""() => [...document.querySelectorAll("#devices tr[data-device='keypad-2']")]
            .some((row) => row.textContent.includes("phím bị từ chối hôm nay: bấm lặp lại 1"))""", timeout=15000)
        assert cut_off(page) == []
        page.locator("#devices-summary").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "devices.png"), full_page=True)
        assert not errors, errors
        page.context.close()
