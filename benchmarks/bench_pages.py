"""Screens: call-next press to the number drawn on the hall page; kiosk paint and ticket round trip.

Everything real: `motcua serve --demo` on loopback and Debian's headless Chromium.
The hall latency is measured on one clock: the request start is Date.now() in
Python's terms (time.time()), the drawing is performance.timeOrigin + now() in
the page at the first animation frame after the number changed in the DOM.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright

from tests.server import KIOSK, ServerProcess, login, serve_process
from tests.test_pages_browser import CHROMIUM, CHROMIUM_ARGS, HALL_VIEW, KIOSK_VIEW, SITE_FILE

CALLS = 200
GOAL_P99_MS = 300.0
THROTTLE_RATES = (1, 4, 6)
KIOSK_LOADS = 5
KIOSK_TICKETS = 10
COUNTER = 7
PROCEDURE = "tp-ly-lich-tu-phap"

# Timestamp the frame after each change of the newest number: that frame is what the TV shows.
OBSERVE = """() => {
  window.__drawn = [];
  const target = document.getElementById('newest-number');
  new MutationObserver(() => {
    const number = target.textContent;
    const changed = performance.timeOrigin + performance.now();
    requestAnimationFrame(() => window.__drawn.push([number, changed, performance.timeOrigin + performance.now()]));
  }).observe(target, {childList: true, characterData: true, subtree: true});
}"""


def _pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def _hall_latency(server: ServerProcess, hall: Page) -> dict[str, float]:
    staff = login(server.url, f"quay{COUNTER}", "1234")
    base = f"{server.url}/api/v1/sites/tinh"
    with httpx.Client(timeout=10) as http:
        for _ in range(CALLS):
            http.post(f"{base}/tickets", json={"procedure": PROCEDURE}, headers=KIOSK).raise_for_status()
        http.post(f"{base}/counters/{COUNTER}/open", headers=staff).raise_for_status()
        hall.evaluate(OBSERVE)
        drawn: list[float] = []
        in_dom: list[float] = []
        for index in range(CALLS):
            started = time.time() * 1000
            response = http.post(f"{base}/counters/{COUNTER}/call-next", headers=staff)
            response.raise_for_status()
            number = response.json()["number"]
            hall.wait_for_function("n => window.__drawn.some(d => d[0] === n)", arg=number, timeout=5000)
            record = hall.evaluate("n => window.__drawn.find(d => d[0] === n)", number)
            in_dom.append(record[1] - started)
            drawn.append(record[2] - started)
            # End this visit so the next press calls a new number (untimed).
            http.post(f"{base}/counters/{COUNTER}/finish", json={"outcome": "rejected"}, headers=staff)
            if index % 50 == 0:
                hall.evaluate("() => { window.__drawn = []; }")
    return {"p50": statistics.median(drawn), "p99": _pct(drawn, 0.99), "max": max(drawn),
            "dom_p50": statistics.median(in_dom), "dom_p99": _pct(in_dom, 0.99)}


def _kiosk_figures(server: ServerProcess, browser: Any) -> list[dict[str, float]]:
    rows = []
    for rate in THROTTLE_RATES:
        context = browser.new_context(viewport=KIOSK_VIEW)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
        page.goto(f"{server.url}/kiosk/tinh?kiosk=k1&key=kiosk-demo")
        page.wait_for_selector("body[data-ready=true]")
        paints: list[float] = []
        ready: list[float] = []
        for _ in range(KIOSK_LOADS):
            page.reload()
            page.wait_for_selector("body[data-ready=true]")
            paints.append(page.evaluate(
                "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN"))
            ready.append(page.evaluate("performance.getEntriesByName('motcua-ready')[0].startTime"))
        trips: list[float] = []
        for _ in range(KIOSK_TICKETS):
            page.click("button.agency[data-agency=GTVT]")
            page.click("button.procedure[data-procedure]")
            page.evaluate("performance.clearMarks()")
            page.click("#issue")
            page.wait_for_selector("#s-ticket:not(.hidden)")
            trips.append(page.evaluate(
                "performance.getEntriesByName('motcua-ticket-shown')[0].startTime"
                " - performance.getEntriesByName('motcua-issue-tap')[0].startTime"))
            page.click("#done")
        rows.append({"rate": rate, "fcp": statistics.median(paints), "ready": statistics.median(ready),
                     "trip_p50": statistics.median(trips), "trip_max": max(trips)})
        context.close()
    return rows


def run() -> str:
    """Measure with a fresh demo server and Chromium; return a markdown section."""
    with tempfile.TemporaryDirectory() as tmp, serve_process(SITE_FILE, Path(tmp) / "data") as server, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            hall_context = browser.new_context(viewport=HALL_VIEW)
            hall = hall_context.new_page()
            hall.goto(f"{server.url}/hall/tinh")
            hall.wait_for_selector("body[data-ready=true]")
            wall = time.perf_counter()
            hall_ms = _hall_latency(server, hall)
            hall_s = time.perf_counter() - wall
            hall_context.close()
            kiosk_rows = _kiosk_figures(server, browser)
        finally:
            browser.close()
    verdict = "met" if hall_ms["p99"] <= GOAL_P99_MS else "NOT met"
    lines = [
        "## Screens: hall display latency, kiosk on a throttled CPU",
        "",
        f"Call-next pressed over HTTP (loopback, `motcua serve --demo`, province site) to the called number drawn "
        f"on the hall page in headless Chromium 1920x1080: the page timestamps the first animation frame after "
        f"the number changes (MutationObserver + requestAnimationFrame, performance.timeOrigin clock) against the "
        f"request start on the same wall clock. {CALLS} calls in {hall_s:.1f} s.",
        "",
        "| figure | p50 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|",
        f"| press → number in the hall DOM | {hall_ms['dom_p50']:.1f} | {hall_ms['dom_p99']:.1f} | |",
        f"| press → number drawn (next frame) | {hall_ms['p50']:.1f} | {hall_ms['p99']:.1f} | {hall_ms['max']:.1f} |",
        "",
        f"Goal p99 ≤ {GOAL_P99_MS:.0f} ms: **{verdict}**.",
        "",
        "Kiosk page under CPU throttling (CDP Emulation.setCPUThrottlingRate; rate 4 ≈ a low-end kiosk PC): "
        f"first contentful paint and catalogue ready (medians of {KIOSK_LOADS} reloads), and the ticket round "
        f"trip from the tap on “Lấy số thứ tự” to the ticket screen shown, QR image requested "
        f"({KIOSK_TICKETS} tickets).",
        "",
        "| CPU slowdown | first paint ms | ready ms | ticket round trip p50 ms | max ms |",
        "|---:|---:|---:|---:|---:|",
    ]
    for row in kiosk_rows:
        lines.append(f"| {row['rate']}x | {row['fcp']:.0f} | {row['ready']:.0f} | {row['trip_p50']:.0f} | "
                     f"{row['trip_max']:.0f} |")
    lines += ["", "Reproduce: `python -m benchmarks.run bench_pages`."]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
