"""Today's plan on the floor manager's monitor (headless Chromium, a real server with a test clock).

A commune centre with a planned standby shift running now and a listed break due in a few minutes, the
site's time zone chosen so that "now" is mid-day there: the monitor lists both beside what happens, the
planned shift is one alert whose button opens the counter for the plan's agencies, and when the line the
break's counter serves is at risk the tick advises deferring the break, in words.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser

from controller.sitefile import read_toml
from tests.server import KIOSK, ServerProcess, login, serve_process
from tests.site_strategies import to_toml
from tests.test_monitor_browser import SHOTS, browser, cut_off, monitor_page  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ROOT = Path(__file__).resolve().parent.parent


def _zone_at_noon() -> tuple[str, int]:
    """A fixed-offset zone in which it is about noon now, and the local minute of the day there."""
    utc_minute = int(time.time() // 60) % 1440
    shift_h = round((720 - utc_minute) / 60)
    shift_h = max(-12, min(14, shift_h))
    zone = "Etc/UTC" if shift_h == 0 else f"Etc/GMT{'-' if shift_h > 0 else '+'}{abs(shift_h)}"
    return zone, (utc_minute + 60 * shift_h) % 1440


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, int]]:
    zone, now = _zone_at_noon()
    data = read_toml(ROOT / "controller" / "sites" / "commune-centre.toml")
    data["site"] = {**data["site"], "timezone": zone, "hours": [["06:00", "19:00"]], "auto_open_standby": False}
    data["arrivals"] = {**data["arrivals"], "half_hour_weights": [1.0] * 26}
    counters = [dict(c) for c in data["counter"]]
    counters[0] = {**counters[0], "ids": [1]}
    counters.insert(1, {"ids": [2], "serves": counters[0]["serves"]})
    counters[0]["breaks"] = [[_hhmm(now + 4), _hhmm(now + 19)]]
    counters.append({"ids": [9], "serves": ["HT", "CTH"], "standby": True,
                     "standby_plan": [{"from": _hhmm(now - 10), "to": _hhmm(now + 50), "serves": ["HT"]}]})
    data["counter"] = counters
    path = tmp_path_factory.mktemp("plan") / "planned.toml"
    path.write_text(to_toml(data), encoding="utf-8")
    with serve_process(path, tmp_path_factory.mktemp("plan-data"), "--test-clock") as proc:
        yield proc, now


def test_the_monitor_shows_todays_plan_and_the_advice_it_leads_to(
        planned: tuple[ServerProcess, int], browser: Browser) -> None:  # noqa: F811
    server, now = planned
    site = "xa"
    page, errors, _ = monitor_page(browser, server, {"width": 1366, "height": 768}, site=site,
                                   ready=("#plan tr[data-plan]",))
    rows = page.locator("#plan tr[data-plan]")
    assert rows.count() == 2
    shift = page.locator(f"#plan tr[data-plan='standby_shift-9-{_hhmm(now - 10)}']")
    assert shift.get_attribute("data-when") == "now" and "Mở cho" in shift.inner_text()
    assert "đang đóng" in shift.inner_text()
    brk = page.locator(f"#plan tr[data-plan='break-1-{_hhmm(now + 4)}']")
    assert brk.get_attribute("data-when") == "later" and "Nghỉ giải lao" in brk.inner_text()
    # The planned shift is one alert, in words, whose button opens counter 9 for the plan's agency only.
    alert = page.locator("#alerts li[data-code='standby_planned']")
    alert.wait_for(timeout=10000)
    assert "Theo kế hoạch: mở quầy 9" in alert.inner_text()
    alert.locator("button.ok").click()
    page.wait_for_selector("#alerts li[data-code='standby_planned']", state="detached", timeout=10000)
    manager = login(server.url, "quanly", "demo")
    with httpx.Client(base_url=server.url, timeout=10) as c:
        counter = c.get(f"/api/v1/sites/{site}/counters/9", headers=manager).json()
        assert counter["status"] == "open" and counter["open_for"] == ["HT"]
        # Counter 1 (its break due in minutes) is the only one open for its line; the line fills up.
        staff = login(server.url, "quay1", "1234")
        assert c.post(f"/api/v1/sites/{site}/counters/1/open", headers=staff).status_code == 200
        assert c.post(f"/api/v1/sites/{site}/counters/9/close", headers=manager).status_code == 200
        procedure = next(p["id"] for p in read_toml(ROOT / "controller" / "sites" / "commune-centre.toml")["procedure"]
                         if p["agency"] == "HT" and not p.get("step_only"))
        for _ in range(12):
            assert c.post(f"/api/v1/sites/{site}/tickets", headers=KIOSK, json={"procedure": procedure}).is_success
        admin = login(server.url, "admin", "demo")
        for step in (5, 130):  # at risk, then at risk long enough
            assert c.post("/api/v1/_test/clock", headers=admin, json={"advance_s": step}).status_code == 200
    advice = page.locator("#alerts li[data-code='break_defer_recommended']")
    advice.wait_for(timeout=15000)
    assert f"Nên lùi giờ nghỉ {_hhmm(now + 4)}-{_hhmm(now + 19)} của quầy 1" in advice.inner_text()
    page.wait_for_selector(f"#plan tr[data-plan='break-1-{_hhmm(now + 4)}'] td.warn-cell", timeout=10000)
    assert cut_off(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "plan.png"), full_page=True)
    assert errors == []
