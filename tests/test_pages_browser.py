"""The screens in headless Chromium against a real `motcua serve --demo`.

Kiosk -> ticket with QR -> staff page calls it -> hall shows it; diacritic-free
search; priority; double taps and lost responses never make two tickets; the
ticket status page follows the call live; labels and contrast.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import numpy
import pytest
from PIL import Image, ImageStat
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Route, ViewportSize, sync_playwright

from controller.devices.printers import JOB_DEADLINE_S
from tests.server import KIOSK, ServerProcess, login, serve_process
from tests.services import free_port

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ROOT = Path(__file__).resolve().parent.parent
SITE_FILE = ROOT / "controller" / "sites" / "province-centre.toml"
SHOTS = ROOT / "test-output" / "pages"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
KIOSK_VIEW: ViewportSize = {"width": 1280, "height": 1024}
HALL_VIEW: ViewportSize = {"width": 1920, "height": 1080}
RECT = "i => { const r = i.getBoundingClientRect(); return [r.x, r.y, r.width]; }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with serve_process(SITE_FILE, tmp_path_factory.mktemp("pages")) as proc:
        yield proc


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (make system-deps)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport=KIOSK_VIEW)
    yield ctx
    ctx.close()


def is_csp_violation(message: ConsoleMessage) -> bool:
    """Chromium reports what the Content-Security-Policy blocked on the console."""
    return "Content Security Policy" in message.text


def open_page(context: BrowserContext, url: str, ready: str = "true") -> Page:
    """Open a page and fail on any script error, or anything the Content-Security-Policy blocked."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if is_csp_violation(message) else None)
    page.goto(url)
    page.wait_for_selector(f"body[data-ready={ready}]", timeout=10000)
    assert not errors, errors
    return page


def open_kiosk(context: BrowserContext, server: ServerProcess) -> Page:
    # The way a technician sets a kiosk up: key once in the address, kept in localStorage.
    return open_page(context, f"{server.url}/kiosk/tinh?kiosk=k1&key=kiosk-demo")


def take_ticket(kiosk: Page, agency: str, procedure: str, priority: str | None = None) -> dict[str, str]:
    kiosk.click(f"button.agency[data-agency={agency}]")
    kiosk.click(f"button.procedure[data-procedure={procedure}]")
    if priority:
        kiosk.click(f"[data-priority={priority}]")
    kiosk.click("#issue")
    kiosk.wait_for_selector("#s-ticket:not(.hidden)")
    return {"id": kiosk.evaluate("document.body.dataset.ticket"), "number": kiosk.inner_text("#ticket-number")}


def staff_login(context: BrowserContext, server: ServerProcess, counter: int) -> Page:
    page = open_page(context, f"{server.url}/counter/tinh/{counter}", ready="login")
    page.fill("#user", f"quay{counter}")
    page.fill("#pin", "1234")
    page.click("#login-button")
    page.wait_for_selector("body[data-ready=true]")
    if page.is_enabled("#b-open"):
        page.click("#b-open")
    page.wait_for_selector("#b-call:not([disabled])")
    return page


def issued_today(server: ServerProcess) -> int:
    manager = login(server.url, "quanly", "demo")
    return int(httpx.get(f"{server.url}/api/v1/sites/tinh/monitor", headers=manager, timeout=10).json()["issued_today"])


def check_screenshot(page: Page, name: str, size: ViewportSize) -> Image.Image:
    """Save a screenshot under test-output/ and check it has real, correctly sized content."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    image = Image.open(path).convert("RGB")
    assert image.size == (size["width"], size["height"])
    grey = numpy.asarray(image.convert("L"), dtype=numpy.int16)
    assert int(grey.max()) - int(grey.min()) > 100, f"{name} is nearly uniform"
    assert max(ImageStat.Stat(image).stddev) > 20, f"{name} has too little content"
    return image


def test_kiosk_ticket_called_at_counter_shows_on_hall(browser: Browser, server: ServerProcess) -> None:
    kiosk_ctx = browser.new_context(viewport=KIOSK_VIEW)
    hall_ctx = browser.new_context(viewport=HALL_VIEW)
    try:
        hall = open_page(hall_ctx, f"{server.url}/hall/tinh")
        kiosk = open_kiosk(kiosk_ctx, server)
        check_screenshot(kiosk, "kiosk-start", KIOSK_VIEW)
        ticket = take_ticket(kiosk, "TP", "tp-ly-lich-tu-phap")
        # The QR is on screen whatever the printer does: the image loaded and is square.
        kiosk.wait_for_function("() => document.getElementById('ticket-qr').complete")
        qr = kiosk.eval_on_selector("#ticket-qr", "i => [i.naturalWidth, i.naturalHeight, i.alt]")
        assert qr[0] > 0 and qr[0] == qr[1] and ticket["number"] in qr[2]
        assert kiosk.inner_text("#ticket-ahead") and kiosk.inner_text("#ticket-wait")
        shot = check_screenshot(kiosk, "kiosk-ticket", KIOSK_VIEW)
        box = kiosk.eval_on_selector("#ticket-qr", RECT)
        qr_area = shot.crop((int(box[0]), int(box[1]), int(box[0] + box[2]), int(box[1] + box[2]))).convert("L")
        dark = sum(qr_area.histogram()[:80]) / (qr_area.width * qr_area.height)
        assert 0.2 < dark < 0.7, f"QR area is {dark:.0%} dark"

        staff = staff_login(kiosk_ctx, server, 7)
        staff.keyboard.press("n")  # the keyboard shortcut for call-next
        pressed = time.monotonic()
        hall.wait_for_function(f"() => document.getElementById('newest-number').textContent === '{ticket['number']}'",
                               timeout=1000)
        assert time.monotonic() - pressed < 1.0
        assert hall.inner_text("#newest-counter") == "7"
        staff.wait_for_selector("#b-start:not([disabled])")
        assert staff.inner_text("#current-number") == ticket["number"]
        assert "lý lịch" in staff.inner_text("#current-procedure")
        check_screenshot(staff, "counter-called", KIOSK_VIEW)
        hall_shot = check_screenshot(hall, "hall-called", HALL_VIEW)
        # The newest panel carries the gold of the board (border or blink) on the dark hall.
        pixels = numpy.asarray(hall_shot.crop((0, 60, 1100, 600)), dtype=numpy.int16)
        gold = int(((pixels[..., 0] > 230) & (pixels[..., 1] > 190) & (pixels[..., 2] < 110)).sum())
        assert gold > 2000

        staff.click("#b-start")
        staff.wait_for_selector("#b-done:not([disabled])")
        staff.keyboard.press("f")
        staff.wait_for_function("() => document.getElementById('current-number').textContent === '—'")
        assert staff.inner_text("#served") == "1"
    finally:
        kiosk_ctx.close()
        hall_ctx.close()


def test_search_without_diacritics(context: BrowserContext, server: ServerProcess) -> None:
    kiosk = open_kiosk(context, server)
    kiosk.fill("#search", "ly lich")
    found = kiosk.eval_on_selector_all("#results button.procedure", "bs => bs.map(b => b.dataset.procedure)")
    assert "tp-ly-lich-tu-phap" in found
    kiosk.fill("#search", "HO CHIEU")
    assert kiosk.eval_on_selector_all("#results button.procedure", "bs => bs.map(b => b.dataset.procedure)")
    kiosk.fill("#search", "dang ky doanh nghiep")  # đ folds to d
    texts = kiosk.eval_on_selector_all("#results button", "bs => bs.map(b => b.textContent)")
    assert any("doanh nghiệp" in text for text in texts)
    kiosk.fill("#search", "zzzz khong co")
    assert kiosk.eval_on_selector_all("#results button", "bs => bs.length") == 0
    # Papers are shown before the ticket, all at once.
    kiosk.fill("#search", "ly lich")
    kiosk.click("button.procedure[data-procedure=tp-ly-lich-tu-phap]")
    papers = kiosk.eval_on_selector_all("#papers li", "ls => ls.map(l => l.textContent)")
    assert len(papers) >= 2 and any("Căn cước" in p for p in papers)
    assert kiosk.is_visible("#issue")


def test_priority_ticket(context: BrowserContext, server: ServerProcess) -> None:
    kiosk = open_kiosk(context, server)
    ticket = take_ticket(kiosk, "GTVT", "gtvt-doi-gplx", priority="elderly")
    assert "Người cao tuổi" in kiosk.inner_text("#ticket-priority")
    body = httpx.get(f"{server.url}/api/v1/sites/tinh/tickets/{ticket['id']}", timeout=10).json()
    assert body["priority"] == "elderly" and body["number"] == ticket["number"]


def test_double_tap_and_lost_response_make_one_ticket(context: BrowserContext, server: ServerProcess) -> None:
    kiosk = open_kiosk(context, server)
    before = issued_today(server)
    double_taps = (
        lambda: kiosk.dblclick("#issue"),  # a real double tap: two clicks and a dblclick
        lambda: kiosk.eval_on_selector("#issue", "b => { b.click(); b.click(); }"),  # two taps in one frame
    )
    for double_tap in double_taps:
        kiosk.click("button.agency[data-agency=KHDT]")
        kiosk.click("button.procedure[data-procedure]")
        double_tap()
        kiosk.wait_for_selector("#s-ticket:not(.hidden)")
        kiosk.click("#done")
    assert issued_today(server) == before + 2

    # A lost response: the server issues, the kiosk sees a network error, the citizen taps again.
    kiosk.click("button.agency[data-agency=KHDT]")
    kiosk.click("button.procedure[data-procedure]")
    seen: list[Any] = []

    def lose_first_answer(route: Route) -> None:
        if not seen:
            seen.append(route.fetch())  # reaches the server, the answer is dropped
            route.abort("connectionreset")
        else:
            route.continue_()

    kiosk.route("**/api/v1/sites/tinh/tickets", lose_first_answer)
    kiosk.click("#issue")
    kiosk.wait_for_selector("#issue-error:not(.hidden)")
    assert seen and seen[0].status == 201
    kiosk.click("#issue")
    kiosk.wait_for_selector("#s-ticket:not(.hidden)")
    assert kiosk.inner_text("#ticket-number") == seen[0].json()["number"]
    assert issued_today(server) == before + 3


def test_ticket_status_page_follows_the_call(context: BrowserContext, server: ServerProcess) -> None:
    procedures = httpx.get(f"{server.url}/api/v1/sites/tinh/catalogue", timeout=10).json()["procedures"]
    procedure = next(p["id"] for p in procedures if p["agency"] == "LDTBXH" and p["kiosk"])
    issued = httpx.post(f"{server.url}/api/v1/sites/tinh/tickets", json={"procedure": procedure}, headers=KIOSK,
                        timeout=10)
    ticket = issued.json()
    page = open_page(context, f"{server.url}/t/tinh/{ticket['id']}")
    assert page.inner_text("#number") == ticket["number"]
    assert page.is_hidden("#call")
    staff = login(server.url, "quay16", "1234")
    httpx.post(f"{server.url}/api/v1/sites/tinh/counters/16/open", headers=staff, timeout=10)
    called = httpx.post(f"{server.url}/api/v1/sites/tinh/counters/16/call-next", headers=staff, timeout=10).json()
    assert called["number"] == ticket["number"]
    page.wait_for_function("() => document.body.dataset.state === 'called'", timeout=3000)
    assert "quầy 16" in page.inner_text("#call")
    # Lookup by the printed number lands on the same ticket.
    lookup = open_page(context, f"{server.url}/t/tinh")
    lookup.fill("#lookup-number", ticket["number"])
    lookup.click("#lookup button[type=submit]")
    lookup.wait_for_function(f"() => document.getElementById('number').textContent === '{ticket['number']}'")


CONTROLS_WITHOUT_NAME = """() => {
  const visible = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
  return [...document.querySelectorAll('button, input, select, textarea, a[href], [role=radio]')]
    .filter(visible)
    .filter((e) => {
      const aria = (e.getAttribute('aria-label') || '').trim();
      const labelledby = e.getAttribute('aria-labelledby');
      const labels = e.labels ? [...e.labels].map((l) => l.textContent.trim()).join('') : '';
      const text = ['BUTTON', 'A'].includes(e.tagName) ? e.textContent.trim() : '';
      return !(aria || labelledby || labels || text);
    })
    .map((e) => e.outerHTML.slice(0, 120));
}"""

LOW_CONTRAST = """(selectors) => {
  const rgba = (s) => {
    const m = s.match(/[\\d.]+/g).map(Number);
    return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1];
  };
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = (e) => {
    for (let n = e; n; n = n.parentElement) {
      const c = rgba(getComputedStyle(n).backgroundColor);
      if (c[3] > 0.5) return c;
    }
    return [255, 255, 255, 1];
  };
  const out = [];
  for (const selector of selectors) {
    for (const e of document.querySelectorAll(selector)) {
      if (!(e.offsetWidth || e.offsetHeight) || !e.textContent.trim()) continue;
      const style = getComputedStyle(e);
      const fg = lum(rgba(style.color)), bg = lum(background(e));
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      out.push([selector, Math.round(ratio * 100) / 100]);
    }
  }
  return out;
}"""

MAIN_TEXT = ["h1", "h2", "h3", "button:not([disabled])", "label", "legend", "dt", "dd", "li", "p", "td", "th",
             ".ticket-number", "#newest-number", "#newest-counter", ".marquee span", "figcaption"]


def check_accessible(page: Page, where: str) -> None:
    missing = page.evaluate(CONTROLS_WITHOUT_NAME)
    assert not missing, f"{where}: controls without a label: {missing}"
    ratios = page.evaluate(LOW_CONTRAST, MAIN_TEXT)
    assert ratios, f"{where}: nothing measured"
    low = [r for r in ratios if r[1] < 4.5]
    assert not low, f"{where}: contrast below 4.5:1: {low}"


def test_labels_and_contrast(browser: Browser, server: ServerProcess) -> None:
    ctx = browser.new_context(viewport=KIOSK_VIEW)
    hall_ctx = browser.new_context(viewport=HALL_VIEW)
    try:
        kiosk = open_kiosk(ctx, server)
        check_accessible(kiosk, "kiosk start")
        kiosk.click("button.agency[data-agency=YT]")
        check_accessible(kiosk, "kiosk procedures")
        kiosk.click("button.procedure[data-procedure]")
        check_accessible(kiosk, "kiosk papers")
        kiosk.click("#lang-button")
        assert kiosk.inner_text("#issue") == "Take a number" and kiosk.evaluate("document.documentElement.lang") == "en"
        kiosk.click("#issue")
        kiosk.wait_for_selector("#s-ticket:not(.hidden)")
        check_accessible(kiosk, "kiosk ticket")
        ticket = kiosk.evaluate("document.body.dataset.ticket")
        status = open_page(ctx, f"{server.url}/t/tinh/{ticket}")
        check_accessible(status, "ticket status")
        counter = open_page(ctx, f"{server.url}/counter/tinh/30", ready="login")
        check_accessible(counter, "counter login")
        counter = staff_login(ctx, server, 30)
        check_accessible(counter, "counter app")
        hall = open_page(hall_ctx, f"{server.url}/hall/tinh")
        check_accessible(hall, "hall")
        assert hall.evaluate("document.documentElement.lang") == "vi"
    finally:
        ctx.close()
        hall_ctx.close()


DEAD_PRINTER = """
[[device]]
id = "printer-k1"
kind = "printer"
kiosk = "k1"
transport = "network"
host = "127.0.0.1"
port = {port}
"""


def test_a_failed_print_is_told_in_the_language_the_citizen_chose(browser: Browser, tmp_path: Path) -> None:
    # kiosk k1's printer is on the LAN (transport = "network") and switched off: nothing listens
    site_file = tmp_path / "xa.toml"
    commune = ROOT / "controller" / "sites" / "commune-centre.toml"
    site_file.write_text(commune.read_text(encoding="utf-8") + DEAD_PRINTER.format(port=free_port()),
                         encoding="utf-8")
    ctx = browser.new_context(viewport=KIOSK_VIEW)
    try:
        with serve_process(site_file, tmp_path / "data", "--mqtt", f"embedded://127.0.0.1:{free_port()}",
                           "--devices", "real") as dead:
            kiosk = open_page(ctx, f"{dead.url}/kiosk/xa?kiosk=k1&key=kiosk-demo")
            ticket = take_ticket(kiosk, "HT", "ht-khai-sinh")
            kiosk.wait_for_selector("body[data-print=failed]", timeout=20000)
            notice = "#print-error"
            assert kiosk.is_visible(notice) and kiosk.get_attribute(notice, "role") == "alert"
            assert kiosk.inner_text(notice).startswith("Máy in lỗi") and "chụp màn hình" in kiosk.inner_text(notice)
            # the citizen switches to English on the ticket screen: the notice follows, and back again
            kiosk.click("#lang-button")
            kiosk.wait_for_function("() => document.documentElement.lang === 'en'")
            assert kiosk.inner_text(notice).startswith("The printer failed")
            assert "take a photo of this screen" in kiosk.inner_text(notice)
            # and so do the ticket's other words; the number stays
            assert kiosk.inner_text("#ticket-ahead").endswith("people")
            assert kiosk.inner_text("#ticket-number") == ticket["number"]
            kiosk.click("#lang-button")
            kiosk.wait_for_function("() => document.documentElement.lang === 'vi'")
            assert kiosk.inner_text(notice).startswith("Máy in lỗi")
            assert kiosk.evaluate("document.body.dataset.print") == "failed"
    finally:
        ctx.close()


def test_a_hung_printer_fails_the_print_within_its_deadline_and_the_kiosk_says_so(
    browser: Browser, tmp_path: Path
) -> None:
    # issue 20 item 2: the printer takes the connection and never answers a status byte
    hung = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    hung.bind(("127.0.0.1", 0))
    hung.listen(16)  # the kernel completes each connection; nobody ever reads or answers
    site_file = tmp_path / "xa.toml"
    commune = ROOT / "controller" / "sites" / "commune-centre.toml"
    site_file.write_text(commune.read_text(encoding="utf-8") + DEAD_PRINTER.format(port=hung.getsockname()[1]),
                         encoding="utf-8")
    ctx = browser.new_context(viewport=KIOSK_VIEW)
    ctx.clock.install()  # time flows as usual; the second part jumps it forward
    try:
        with serve_process(site_file, tmp_path / "data", "--mqtt", f"embedded://127.0.0.1:{free_port()}",
                           "--devices", "real") as server:
            kiosk = open_page(ctx, f"{server.url}/kiosk/xa?kiosk=k1&key=kiosk-demo")
            ticket = take_ticket(kiosk, "HT", "ht-khai-sinh")
            shown = time.monotonic()
            # the job deadline is 15 s: failed by then, and the kiosk's next look (1 s) tells the citizen
            kiosk.wait_for_selector("body[data-print=failed]", timeout=18000)
            told_s = time.monotonic() - shown
            assert told_s < JOB_DEADLINE_S + 2, told_s
            assert kiosk.is_visible("#print-error") and "chụp màn hình" in kiosk.inner_text("#print-error")
            check_screenshot(kiosk, "kiosk-print-hung", KIOSK_VIEW)
            body = httpx.get(f"{server.url}/api/v1/sites/xa/tickets/{ticket['id']}", timeout=10).json()
            assert body["print"]["status"] == "failed" and "expired" in body["print"]["reason"]
            assert body["state"] == "waiting"  # the ticket itself is in line, its number on the screen

            # the kiosk cannot reach the controller after issuing: the print stays "pending" for it,
            # and when it stops asking it still tells the citizen to keep the number
            kiosk.click("#done")
            kiosk.route("**/api/v1/sites/xa/tickets/*",
                        lambda route: route.abort("connectionreset") if route.request.method == "GET"
                        else route.continue_())
            take_ticket(kiosk, "HT", "ht-khai-sinh")
            assert not kiosk.is_visible("#print-error")
            for _ in range(25):  # past the kiosk's last look, a second at a time
                if kiosk.evaluate("document.body.dataset.print") == "unknown":
                    break
                kiosk.clock.fast_forward(1000)
                kiosk.wait_for_timeout(50)
            assert kiosk.evaluate("document.body.dataset.print") == "unknown"
            notice = kiosk.inner_text("#print-error")
            assert kiosk.is_visible("#print-error") and "chụp màn hình" in notice and "mã QR" in notice
            check_screenshot(kiosk, "kiosk-print-unknown", KIOSK_VIEW)
    finally:
        ctx.close()
        hung.close()


def _many_agencies(tmp_path: Path, extra: int, timezone: str) -> Path:
    """The demo centre with `extra` more agencies (one procedure, one counter each), on another time zone."""
    text = SITE_FILE.read_text(encoding="utf-8").replace('timezone = "Asia/Ho_Chi_Minh"', f'timezone = "{timezone}"')
    assert f'timezone = "{timezone}"' in text
    for i in range(1, extra + 1):
        text += (f'\n[[agency]]\nid = "X{i:02d}"\nname = "Sở thử số {i} với một tên rất dài cho màn hình"\n'
                 f'number_block = {20000 + 1000 * i}\n'
                 f'\n[[procedure]]\nid = "x{i:02d}"\nagency = "X{i:02d}"\nname = "Thủ tục thử {i}"\n'
                 f'share = 0.01\nservice = 8.0\n'
                 f'\n[[counter]]\nids = [{100 + i}]\nserves = ["X{i:02d}"]\n')
    path = tmp_path / "many.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_long_waiting_list_turns_pages_and_the_clock_keeps_the_site_time(browser: Browser, tmp_path: Path) -> None:
    site_file = _many_agencies(tmp_path, 24, "Asia/Tokyo")
    ctx = browser.new_context(viewport=HALL_VIEW)
    try:
        with serve_process(site_file, tmp_path / "data") as big:
            board = httpx.get(f"{big.url}/api/v1/sites/tinh/hall", timeout=10).json()
            expected = {a["id"] for a in board["agencies"] if a["role"] == "service" or a["waiting"] > 0}
            hall = open_page(ctx, f"{big.url}/hall/tinh?page=2")
            pages = int(hall.get_attribute("#agencies", "data-pages") or "0")
            assert pages >= 2, "44 agencies do not fit one screen"
            seen: set[str] = set()
            for turn in range(pages):
                hall.wait_for_function(f"() => document.getElementById('agencies').dataset.page === '{turn + 1}'",
                                       timeout=6000)
                assert hall.inner_text("#agencies-page") == f"{turn + 1}/{pages}"
                # every item of the page is whole and inside the list's box, above the notice line
                inside = hall.evaluate("""() => {
                    const box = document.getElementById('agencies').getBoundingClientRect();
                    return [...document.querySelectorAll('#agencies li')].map(li => {
                        const r = li.getBoundingClientRect(); return r.top >= box.top && r.bottom <= box.bottom + 1; });
                }""")
                assert inside and all(inside)
                seen |= set(hall.eval_on_selector_all("#agencies li", "items => items.map(i => i.dataset.agency)"))
            assert seen == expected
            # the clocks are the site's (Tokyo), not the screen's or Vietnam's
            kiosk = open_page(ctx, f"{big.url}/kiosk/tinh?kiosk=k1&key=kiosk-demo")
            for page in (hall, kiosk):
                clock = page.inner_text("#clock")
                now = datetime.now(ZoneInfo("Asia/Tokyo"))
                assert clock in {f"{t:%H:%M}" for t in (now - timedelta(minutes=1), now)}, clock
            assert "Now serving" in hall.inner_text(".newest") and "Waiting" in hall.inner_text("#agencies-title")
    finally:
        ctx.close()


def test_every_screen_works_under_the_content_security_policy(browser: Browser, server: ServerProcess) -> None:
    """Each screen driven as its person would, with nothing blocked by the policy (same origin only, no inline
    script or style): images, fetches and the live WebSocket all pass; an injected site name stays text."""
    ctx = browser.new_context(viewport=KIOSK_VIEW)
    blocked: list[str] = []
    ctx.on("console", lambda message: blocked.append(message.text) if is_csp_violation(message) else None)
    try:
        kiosk = open_kiosk(ctx, server)
        ticket = take_ticket(kiosk, "TNMT", "tnmt-cap-gcn")
        kiosk.wait_for_function("() => document.getElementById('ticket-qr').complete")
        assert kiosk.eval_on_selector("#ticket-qr", "i => i.naturalWidth") > 0  # the QR image: img-src 'self'
        status = open_page(ctx, f"{server.url}/t/tinh/{ticket['id']}")
        hall = open_page(ctx, f"{server.url}/hall/tinh")
        staff = staff_login(ctx, server, 21)
        staff.keyboard.press("n")
        # the call reaches the other screens over their live streams: connect-src 'self' covers ws:
        status.wait_for_function("() => document.body.dataset.state === 'called'", timeout=5000)
        hall.wait_for_function(f"() => document.getElementById('newest-number').textContent === '{ticket['number']}'")
        book = open_page(ctx, f"{server.url}/book/tinh")
        book.click("button.procedure[data-procedure=tnmt-cap-gcn]")
        book.wait_for_selector("button.day")
        monitor = ctx.new_page()
        monitor.goto(f"{server.url}/monitor/tinh")
        monitor.fill("#user", "quanly")
        monitor.fill("#secret", "demo")
        monitor.click("#login-button")
        monitor.wait_for_selector("#counters [data-counter='21']")
        docs = open_page(ctx, f"{server.url}/docs")  # Swagger UI, shipped (tests/test_counter_browser.py)
        docs.wait_for_selector(".swagger-ui .opblock")
        assert docs.locator(".swagger-ui .opblock").count() > 30
        check_screenshot(docs, "docs", KIOSK_VIEW)

        dialogs: list[str] = []
        injected = ctx.new_page()
        injected.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        injected.goto(f"{server.url}/kiosk/%3Cimg%20src=x%20onerror=alert(1)%3E")
        assert "<img src=x onerror=alert(1)>" in injected.inner_text("p")
        assert injected.locator("img").count() == 0
        check_screenshot(injected, "not-found", KIOSK_VIEW)
        assert not dialogs
    finally:
        ctx.close()
    assert not blocked, blocked
