"""The staff counter page in headless Chromium against a real `motcua serve --demo --test-clock --public-url`,
and the pieces every page shares: the error texts, the QR's public address, /docs without internet.

A transfer sends exactly what the staff member chose and says where the ticket went; the waiting list
counts down to each ticket's target and turns red past it; a paused counter says so; disabled buttons
look disabled; every refusal a page can meet reads in Vietnamese (English on the toggle) from its code.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize

from kiosk.qr import qr_matrix
from tests.server import KIOSK, ServerProcess, login, serve_process
from tests.test_pages_browser import SITE_FILE, browser, check_screenshot, is_csp_violation, open_page

__all__ = ["browser"]  # the shared Chromium fixture, re-exported for this module

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ROOT = Path(__file__).resolve().parent.parent
DESK_VIEW: ViewportSize = {"width": 1366, "height": 768}  # the staff desk's laptop screen
PUBLIC_URL = "http://motcua.tinh.example.vn:8080"  # what phones reach; the pages are opened on 127.0.0.1
SITE = "tinh"
VIETNAMESE = re.compile("[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]", re.IGNORECASE)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with serve_process(SITE_FILE, tmp_path_factory.mktemp("counter"), "--test-clock",
                       "--public-url", PUBLIC_URL) as proc:
        yield proc


@pytest.fixture
def desk(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport=DESK_VIEW)
    yield ctx
    ctx.close()


def api(server: ServerProcess, method: str, path: str, headers: dict[str, str], body: Any = None) -> httpx.Response:
    return httpx.request(method, f"{server.url}/api/v1/sites/{SITE}{path}", headers=headers, json=body, timeout=10)


def issue(server: ServerProcess, procedure: str) -> dict[str, Any]:
    response = api(server, "POST", "/tickets", KIOSK, {"procedure": procedure})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def waiting_numbers(server: ServerProcess, counter: int) -> list[str]:
    manager = login(server.url, "quanly", "demo")  # the counter view names staff: not public
    return [w["number"] for w in api(server, "GET", f"/counters/{counter}", manager).json()["waiting"]]


def counter_page(ctx: BrowserContext, server: ServerProcess, counter: int) -> Page:
    page = open_page(ctx, f"{server.url}/counter/{SITE}/{counter}", ready="login")
    page.fill("#user", f"quay{counter}")
    page.fill("#pin", "1234")
    page.click("#login-button")
    page.wait_for_selector("body[data-ready=true]")
    if page.is_enabled("#b-open"):
        page.click("#b-open")
    page.wait_for_selector("#b-call:not([disabled])")
    return page


def call_next(page: Page) -> str:
    page.click("#b-call")
    page.wait_for_selector("#b-start:not([disabled])")
    return page.inner_text("#current-number")


def message(page: Page) -> str:
    page.wait_for_function("() => document.body.dataset.busy === 'false' && "
                           "document.getElementById('message').textContent !== ''")
    return page.inner_text("#message")


def test_a_transfer_sends_what_was_chosen_and_says_where(desk: BrowserContext, server: ServerProcess) -> None:
    """Issue 15: transfer one ticket by procedure, call the next, type counter 8, press Chuyển. The old page kept
    the procedure in the form and sent it: the ticket went to that procedure and stayed in counter 7's line."""
    api(server, "POST", "/counters/8/open", login(server.url, "quay8", "1234"))
    first = issue(server, "tp-ly-lich-tu-phap")
    second = issue(server, "tp-ly-lich-tu-phap")
    page = counter_page(desk, server, 7)
    number = call_next(page)
    assert number == first["number"]
    page.click("#b-transfer")
    page.select_option("#transfer-procedure", "khdt-thanh-lap-dn")  # business registration, another agency
    page.click("#transfer-panel button[type=submit]")
    said = message(page)
    assert first["number"] not in waiting_numbers(server, 7)

    number = call_next(page)
    assert number == second["number"]
    page.click("#b-transfer")
    page.fill("#transfer-counter", "8")
    check_screenshot(page, "counter-transfer-panel", DESK_VIEW)
    page.click("#transfer-panel button[type=submit]")
    said_second = message(page)
    ticket = api(server, "GET", f"/tickets/{second['id']}", {}).json()
    assert ticket["procedure"] == "tp-ly-lich-tu-phap" and ticket["state"] == "waiting"  # not công chứng, not KHDT
    assert number in waiting_numbers(server, 8)
    assert number not in waiting_numbers(server, 7)  # only counter 8 may call it now
    assert said.startswith(f"Đã chuyển số {first['number']} sang thủ tục Đăng ký thành lập doanh nghiệp")
    assert said_second == f"Đã chuyển số {number} đến quầy 8."
    page.wait_for_function("() => document.getElementById('current-number').textContent === '—'")
    assert number not in page.inner_text("#waiting")

    # the procedure chosen last time does not come back with the panel; a closed counter is named
    third = issue(server, "tp-ly-lich-tu-phap")
    number = call_next(page)
    assert number == third["number"]
    page.click("#b-transfer")
    assert page.input_value("#transfer-procedure") == "" and page.input_value("#transfer-counter") == ""
    page.select_option("#transfer-procedure", "tp-cong-chung")
    assert "công chứng" in page.inner_text("#transfer-preview")
    page.fill("#transfer-counter", "9")  # typing a counter clears the procedure: what is shown is what is sent
    assert page.input_value("#transfer-procedure") == ""
    assert page.inner_text("#transfer-preview") == f"Sẽ chuyển số {number} đến quầy 9."
    page.select_option("#transfer-procedure", "tp-cong-chung")  # and choosing a procedure clears the counter
    assert page.input_value("#transfer-counter") == ""
    page.fill("#transfer-counter", "9")  # counter 9 is closed
    page.click("#transfer-panel button[type=submit]")
    assert message(page) == f"Không chuyển được số {number}: Quầy 9 đang đóng."
    assert page.get_attribute("#message", "data-kind") == "error"
    page.click("#b-transfer")
    page.fill("#transfer-counter", "0")  # refused on the page, in Vietnamese, before any request
    page.click("#transfer-panel button[type=submit]")
    assert "Số quầy" in page.inner_text("#transfer-error") and "Input should" not in page.inner_text("#message")
    page.click("#transfer-panel .cancel")
    page.click("#b-done")
    assert message(page).startswith(f"Đã xong số {number}")


def test_the_waiting_list_counts_down_to_the_target_and_a_pause_is_plain(
    desk: BrowserContext, server: ServerProcess
) -> None:
    admin = login(server.url, "admin", "demo")
    early = issue(server, "gtvt-doi-gplx")
    page = counter_page(desk, server, 3)
    row = f"#waiting tr[data-ticket='{early['id']}']"
    page.wait_for_selector(row)
    left = page.inner_text(f"{row} .target")
    assert re.fullmatch(r"còn 1[45]:\d\d", left), left  # 15 minutes to the target, counting down
    assert page.get_attribute(row, "data-late") == "false"
    httpx.post(f"{server.url}/api/v1/_test/clock", json={"advance_s": 16 * 60}, headers=admin, timeout=10)
    late = issue(server, "gtvt-doi-gplx")  # just issued: 15 minutes ahead of it
    page.wait_for_selector(f"#waiting tr[data-ticket='{late['id']}']")
    page.wait_for_function(f"() => document.querySelector(\"{row}\").dataset.late === 'true'")
    assert re.fullmatch(r"quá \d+:\d\d", page.inner_text(f"{row} .target"))
    colour = page.eval_on_selector(f"{row} .target", "e => getComputedStyle(e).color")
    assert colour == "rgb(161, 27, 27)", colour  # --bad
    assert page.get_attribute(f"#waiting tr[data-ticket='{late['id']}']", "data-late") == "false"

    # disabled buttons look disabled: grey and dashed, not a faded colour
    styles = page.eval_on_selector("#b-recall", "b => [b.disabled, getComputedStyle(b).borderStyle, "
                                   "getComputedStyle(b).backgroundColor]")
    assert styles == [True, "dashed", "rgb(233, 236, 239)"], styles
    check_screenshot(page, "counter-waiting-late", DESK_VIEW)

    page.click("#b-pause")
    page.select_option("#pause-reason", index=1)
    page.click("#pause-panel button[type=submit]")
    assert message(page) == "Quầy 3 đã tạm dừng: Họp."
    banner = page.inner_text("#state-banner")
    assert "TẠM DỪNG" in banner.upper() and "Họp" in banner and "Tiếp tục" in banner
    assert page.is_visible("#b-resume") and page.is_disabled("#b-call")
    assert page.evaluate("document.body.dataset.status") == "paused"
    check_screenshot(page, "counter-paused", DESK_VIEW)
    page.keyboard.press("p")
    assert message(page) == "Quầy 3 đã mở lại."
    assert page.is_hidden("#state-banner")

    # a recall says how many calls and how many recalls are left; at the limit it says what to do
    number = call_next(page)
    page.click("#b-recall")
    assert message(page) == f"Đã gọi lại số {number} (lần gọi thứ 2, còn 1 lần gọi lại)."
    page.click("#b-recall")
    assert message(page) == f"Đã gọi lại số {number} (lần gọi thứ 3, hết lượt gọi lại: nếu công dân không đến, " \
                            "bấm “Vắng mặt”)."
    assert page.is_disabled("#b-recall")
    page.click("#b-noshow")
    assert message(page).startswith(f"Số {number} vắng mặt")


def test_errors_read_in_vietnamese_from_their_code(desk: BrowserContext, server: ServerProcess) -> None:
    """Every code the controller can send has its Vietnamese and English text in the one table of common.js;
    the counter's log-in and the monitor's say what went wrong, and how long to wait after a 429."""
    page = open_page(desk, f"{server.url}/counter/{SITE}/5", ready="login")
    table = page.evaluate("() => Motcua.ERROR_TEXTS")
    codes = server_error_codes()
    assert len(codes) > 60
    for code in sorted(codes):
        vi, en = table["vi"].get(code, "missing"), table["en"].get(code, "missing")
        if vi is None and en is None:  # the server's own words, Vietnamese first, carry what only it knows
            assert code in SERVER_WORDED, code
            continue
        assert vi != "missing" and en != "missing", f"{code} has no text"
        assert VIETNAMESE.search(vi), f"{code}: {vi!r} is not Vietnamese"
        assert not VIETNAMESE.search(en) and en != vi, f"{code}: {en!r} is not English"

    page.fill("#user", "quay5")
    page.fill("#pin", "9999")
    page.click("#login-button")
    page.wait_for_selector("#login-error:not(.hidden)")
    assert page.inner_text("#login-error") == "Sai tên đăng nhập hoặc mật khẩu (mã PIN)."
    page.click("#lang-button")
    page.click("#login-button")
    page.wait_for_function("() => document.getElementById('login-error').textContent.startsWith('Wrong')")
    assert page.inner_text("#login-error") == "Wrong user name or password (PIN)."

    # the monitor's log-in, refused by the log-in guard (429): it says to wait, and how long
    monitor = desk.new_page()
    monitor.goto(f"{server.url}/monitor/{SITE}")
    monitor.route("**/api/v1/auth/login", lambda route: route.fulfill(
        status=429, headers={"Retry-After": "180", "Content-Type": "application/json"},
        body='{"error": {"code": "too_many_failures", "message": "too many failed log-ins"}}'))
    monitor.fill("#user", "quanly")
    monitor.fill("#secret", "demo")
    monitor.click("#login-button")
    monitor.wait_for_selector("#login-error:not(.hidden)")
    assert monitor.inner_text("#login-error") == \
        "Đăng nhập sai quá nhiều lần từ thiết bị này: vui lòng chờ 3 phút rồi thử lại."

    # the kiosk too: a kiosk set up with a mistyped key says so, to whoever reads it, in words
    kiosk = open_page(desk, f"{server.url}/kiosk/{SITE}?kiosk=k9&key=kiosk-demo-typo")
    kiosk.click("button.agency[data-agency=TP]")
    kiosk.click("button.procedure[data-procedure=tp-ly-lich-tu-phap]")
    kiosk.click("#issue")
    kiosk.wait_for_selector("#issue-error:not(.hidden)")
    assert kiosk.inner_text("#issue-error") == "Khóa ki-ốt không đúng: nhờ kỹ thuật viên cài đặt lại ki-ốt."

    # a counter action refused by the core reads in Vietnamese, naming the counter
    staff = login(server.url, "quay5", "1234")
    api(server, "POST", "/counters/5/close", staff)
    page = counter_page(desk, server, 5)
    api(server, "POST", "/counters/5/close", staff)  # closed behind the page's back: its next press is refused
    page.click("#b-call")
    assert message(page) == "Không gọi được số tiếp: Quầy 5 đang đóng."


# codes whose text is the server's message (Vietnamese first): the table says null for them
SERVER_WORDED = {"check_in_too_early"}
ERROR_MAKERS = {"DomainError", "ApiError", "_bad", "_refuse", "_reply_error", "error_body"}
CODE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def server_error_codes() -> set[str]:
    """Every error code the controller's source can send (read from the code that raises or writes them)."""
    codes = {"invalid_kiosk_key", "error"}  # f"invalid_{header}" for X-Kiosk-Key; the fallback of unknown statuses
    for path in (ROOT / "controller").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                if name in ERROR_MAKERS:
                    codes |= {a.value for a in node.args
                              if isinstance(a, ast.Constant) and isinstance(a.value, str) and CODE.match(a.value)}
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "error" and isinstance(value, ast.Dict):
                        codes |= {v.value for k, v in zip(value.keys, value.values, strict=True)
                                  if isinstance(k, ast.Constant) and k.value == "code" and isinstance(v, ast.Constant)}
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict) and any(
                    isinstance(t, ast.Name) and t.id in ("_HTTP_CODES", "_REFUSED") for t in node.targets):
                for value in node.value.values:
                    first = value.elts[0] if isinstance(value, ast.Tuple) else value
                    assert isinstance(first, ast.Constant)
                    codes.add(first.value)
    return codes


def qr_from_svg(svg: str) -> list[list[bool]]:
    """The modules of kiosk/qr.py's SVG, read back from its path of one-row runs."""
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))  # type: ignore[union-attr]
    matrix = [[False] * size for _ in range(size)]
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", svg):
        for i in range(int(width)):
            matrix[int(y)][int(x) + i] = True
    return matrix


def test_the_ticket_qr_points_at_the_public_url(desk: BrowserContext, server: ServerProcess) -> None:
    """The kiosk reached the controller on 127.0.0.1; the QR a phone scans names --public-url."""
    ticket = issue(server, "tp-ly-lich-tu-phap")
    svg = httpx.get(f"{server.url}/api/v1/sites/{SITE}/tickets/{ticket['id']}/qr.svg", timeout=10).text
    expected = f"{PUBLIC_URL}/t/{SITE}/{ticket['id']}"
    assert qr_from_svg(svg) == qr_matrix(expected)
    assert "127.0.0.1" not in svg
    kiosk = open_page(desk, f"{server.url}/kiosk/{SITE}?kiosk=k1&key=kiosk-demo")
    kiosk.click("button.agency[data-agency=TP]")
    kiosk.click("button.procedure[data-procedure=tp-ly-lich-tu-phap]")
    kiosk.click("#issue")
    kiosk.wait_for_selector("#s-ticket:not(.hidden)")
    shown = kiosk.evaluate("document.body.dataset.ticket")
    kiosk.wait_for_function("() => document.getElementById('ticket-qr').naturalWidth > 0")
    src = kiosk.eval_on_selector("#ticket-qr", "i => i.src")
    assert src.startswith(server.url) and shown in src  # the kiosk loads it where it reached us...
    svg = httpx.get(src, timeout=10).text
    assert qr_from_svg(svg) == qr_matrix(f"{PUBLIC_URL}/t/{SITE}/{shown}")  # ...and it names the public address


def test_docs_work_offline_with_the_vendored_swagger_ui(desk: BrowserContext, server: ServerProcess) -> None:
    """/docs with every request to another origin refused (no internet): Swagger UI from this controller lists
    the operations and runs one, under the pages' Content-Security-Policy as it is (nothing blocked)."""
    blocked: list[str] = []
    foreign: list[str] = []
    desk.on("console", lambda m: blocked.append(m.text) if is_csp_violation(m) else None)
    desk.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda route: (foreign.append(route.request.url),
                                                                          route.abort("internetdisconnected")))
    page = open_page(desk, f"{server.url}/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15000)
    assert page.locator(".swagger-ui .opblock").count() > 30
    assert page.locator("#operations details.op").count() == 0  # the fallback list is not drawn
    sites = page.locator(".opblock-get", has=page.locator(".opblock-summary-path[data-path='/api/v1/sites']"))
    sites.locator(".opblock-summary-control").click()
    sites.locator("button.try-out__btn").click()
    sites.locator("button.execute").click()
    answer = sites.locator(".live-responses-table tr.response")
    answer.locator(".response-col_status").wait_for()
    assert answer.locator(".response-col_status").inner_text().strip() == "200"
    assert '"id": "tinh"' in answer.locator(".response-col_description").inner_text()
    check_screenshot(page, "docs-swagger", DESK_VIEW)
    assert not foreign, foreign
    assert not blocked, blocked
