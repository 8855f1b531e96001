"""Reports over a known log, against figures worked out by hand; the forecast of a known history; the reports
page in headless Chromium: log-in, period, breakdowns, charts, forecast, downloads read back, screenshots.

The floor (commune centre `xa`, a test clock): six days of history, each with two tickets "Nhận kết quả" (TKQ) at
08:00, one of them served at counter 6 after i x 5 minutes on day i; then today, from 08:00:

    t=0     A, B: vhxh-chinh-sach (VHXH, counter 5);  C, D: tkq-nhan-ket-qua (TKQ, counter 6)
    t=120   counter 5 calls A (waited 2 min), starts
    t=420   counter 5 finishes A (served 5 min), rated 4 of 4; counter 6 calls C (7 min), starts
    t=1020  counter 5 calls B (17 min: past 15), starts; counter 6 finishes C (10 min), rated 2 of 4
    t=1260  counter 5 finishes B (4 min); counter 6 calls D (21 min: past 15), starts
    t=1440  counter 6 finishes D (3 min)

By hand: 4 visits, 4 transactions, waits 2, 7, 17, 21 min (median by nearest rank 7, p90 21, longest 21),
2 of 4 called within 15 min (50 %), services 3, 4, 5, 10 min (median 4, mean 5.5), 1 of 2 ratings in the top
two levels (50 %), 2 breaches, every visit done within 30 min. VHXH: waits 2 and 17 (median 2, p90 17),
services 5 and 4 (median 4, mean 4.5), satisfied 100 %; TKQ: waits 7 and 21, services 10 and 3 (median 3,
mean 6.5), satisfied 0 %.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from playwright.sync_api import Browser, Page, ViewportSize

from tests.server import KIOSK, ServerProcess, advance_to, login, serve_process, server_now
from tests.test_appointments_api import TZ
from tests.test_pages_browser import browser, check_screenshot, is_csp_violation

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
SITE_FILE = ROOT / "controller" / "sites" / "commune-centre.toml"
SHOTS = ROOT / "test-output" / "reports"
HISTORY_DAYS = 6
__all__ = ["browser"]  # the Chromium fixture, shared with the other page tests


class Floor:
    """The server, and the days of the known floor."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.admin = login(server.url, "admin", "demo")
        self.manager = login(server.url, "quanly", "demo")
        self.staff: dict[int, dict[str, str]] = {}
        self.history: list[str] = []
        self.today = ""
        self.booked_day = ""

    def advance(self, client: httpx.Client, seconds: float) -> None:
        assert client.post("/api/v1/_test/clock", headers=self.admin, json={"advance_s": seconds}).status_code == 200

    def act(self, client: httpx.Client, counter: int, action: str, **body: Any) -> dict[str, Any]:
        if counter not in self.staff:
            self.staff[counter] = login(self.server.url, f"quay{counter}", "1234")
        answer = client.post(f"/api/v1/sites/xa/counters/{counter}/{action}", headers=self.staff[counter],
                             json=body or None)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def issue(self, client: httpx.Client, procedure: str) -> str:
        answer = client.post("/api/v1/sites/xa/tickets", headers=KIOSK, json={"procedure": procedure})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    def rate(self, client: httpx.Client, counter: int, score: int) -> None:
        answer = client.post("/api/v1/sites/xa/ratings", headers=KIOSK, json={"counter": counter, "score": score})
        assert answer.status_code == 201, answer.text


@pytest.fixture(scope="module")
def floor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Floor]:
    with serve_process(SITE_FILE, tmp_path_factory.mktemp("reports-page"), "--test-clock") as server:
        known = Floor(server)
        now = server_now(server)
        first = (now + dt.timedelta(days=1)).date()
        advance_to(server, dt.datetime(first.year, first.month, first.day, 8, 0, tzinfo=TZ))
        with httpx.Client(base_url=server.url, timeout=10) as c:
            for day in range(1, HISTORY_DAYS + 1):
                known.history.append(server_now(server).date().isoformat())
                known.act(c, 6, "open")
                known.issue(c, "tkq-nhan-ket-qua")
                known.issue(c, "tkq-nhan-ket-qua")
                known.advance(c, day * 300)
                known.act(c, 6, "call-next")
                known.act(c, 6, "finish", outcome="done")
                known.advance(c, 86_400 - day * 300)
            known.today = server_now(server).date().isoformat()
            known.act(c, 5, "open")
            known.act(c, 6, "open")
            for procedure in ("vhxh-chinh-sach", "vhxh-chinh-sach", "tkq-nhan-ket-qua", "tkq-nhan-ket-qua"):
                known.issue(c, procedure)
            known.advance(c, 120)
            known.act(c, 5, "call-next")
            known.act(c, 5, "start")
            known.advance(c, 300)
            known.act(c, 5, "finish", outcome="done")
            known.rate(c, 5, 4)
            known.act(c, 6, "call-next")
            known.act(c, 6, "start")
            known.advance(c, 600)
            known.act(c, 5, "call-next")
            known.act(c, 5, "start")
            known.act(c, 6, "finish", outcome="done")
            known.rate(c, 6, 2)
            known.advance(c, 240)
            known.act(c, 5, "finish", outcome="done")
            known.act(c, 6, "call-next")
            known.act(c, 6, "start")
            known.advance(c, 180)
            known.act(c, 6, "finish", outcome="done")
            # an appointment already booked for the first open day ahead: the forecast must count it
            days = c.get("/api/v1/sites/xa/appointments/days").json()["days"]
            known.booked_day = next(d for d in days if d > known.today)
            booked = c.post("/api/v1/sites/xa/appointments", json={"procedure": "vhxh-chinh-sach",
                                                                    "date": known.booked_day, "time": "08:00"})
            assert booked.status_code == 201, booked.text
        yield known


def row(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return next(r for r in rows if r["key"] == key)


def test_the_report_of_the_known_day_matches_the_figures_worked_out_by_hand(floor: Floor) -> None:
    body = httpx.get(f"{floor.server.url}/api/v1/sites/xa/reports", headers=floor.manager, timeout=10).json()
    assert (body["from"], body["to"], body["days"]) == (floor.today, floor.today, [floor.today])
    total = body["total"]
    assert (body["visits"], body["abandoned"], total["transactions"]) == (4, 0, 4)
    minutes = {name: round(total[name] / 60, 1) for name in ("wait_p50_s", "wait_p90_s", "wait_max_s",
                                                             "service_p50_s", "service_mean_s")}
    assert minutes == {"wait_p50_s": 7.0, "wait_p90_s": 21.0, "wait_max_s": 21.0, "service_p50_s": 4.0,
                       "service_mean_s": 5.5}
    assert (total["within_transaction_target"], total["satisfaction"], total["ratings"]) == (0.5, 0.5, 2)
    assert body["visits_within_visit_target"] == 1.0 and body["satisfaction_meets_target"] is False
    assert sum(c["count"] for c in body["breaches_by_cause"]) == 2
    vhxh, tkq = row(body["agencies"], "VHXH"), row(body["agencies"], "TKQ")
    assert vhxh["name"] == "Văn hóa - Xã hội (chính sách, người có công, bảo trợ)"
    assert [round(vhxh[f] / 60, 1) for f in ("wait_p50_s", "wait_p90_s", "service_p50_s", "service_mean_s")] == [
        2.0, 17.0, 4.0, 4.5]
    assert [round(tkq[f] / 60, 1) for f in ("wait_p50_s", "wait_p90_s", "service_p50_s", "service_mean_s")] == [
        7.0, 21.0, 3.0, 6.5]
    assert (vhxh["satisfaction"], tkq["satisfaction"]) == (1.0, 0.0)
    assert row(body["procedures"], "tkq-nhan-ket-qua")["name"] == "Nhận kết quả (hẹn trả ngày khác)"
    assert row(body["counters"], "5")["name"] == "Quầy 5" and row(body["staff"], "quay6")["transactions"] == 2
    assert [d["day"] for d in body["by_day"]] == [floor.today] and body["by_day"][0]["breaches"] == 2
    week = httpx.get(f"{floor.server.url}/api/v1/sites/xa/reports", params={"from": floor.history[0],
                     "to": floor.today}, headers=floor.manager, timeout=10).json()
    assert [d["day"] for d in week["by_day"]] == [*floor.history, floor.today]
    assert [d["visits"] for d in week["by_day"]] == [2] * HISTORY_DAYS + [4]
    # day i served one ticket after i x 5 minutes: p90 of that day is its one wait
    assert [round(d["wait_p90_s"] / 60) for d in week["by_day"][:HISTORY_DAYS]] == [5, 10, 15, 20, 25, 30]


def test_csv_has_a_bom_vietnamese_headers_minutes_and_names(floor: Floor) -> None:
    answer = httpx.get(f"{floor.server.url}/api/v1/sites/xa/reports?format=csv", headers=floor.manager, timeout=10)
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="motcua-xa-{floor.today}.csv"' in answer.headers["content-disposition"]
    assert answer.content.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with its byte-order mark
    check_csv(answer.content)


def check_csv(data: bytes) -> None:
    """The known day's CSV, read back: bilingual headers, times in minutes, shares in per cent, names."""
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    header = list(rows[0].keys())
    assert header[:4] == ["Nhóm / Level", "Mã / Code", "Tên / Name", "Giao dịch / Transactions"]
    assert "Chờ trung vị (phút) / Median wait (min)" in header
    by = {(r["Nhóm / Level"], r["Mã / Code"]): r for r in rows}
    total = by[("Tổng", "")]
    assert total["Tên / Name"] == "Trung tâm Phục vụ hành chính công xã"
    assert total["Giao dịch / Transactions"] == "4"
    assert total["Chờ trung vị (phút) / Median wait (min)"] == "7.0"
    assert total["Chờ p90 (phút) / 90th percentile wait (min)"] == "21.0"
    assert total["Được gọi trong 15 phút (%) / Called within 15 min (%)"] == "50.0"
    assert total["Phục vụ trung bình (phút) / Mean service (min)"] == "5.5"
    assert total["Hài lòng (%) / Satisfied (%)"] == "50.0"
    procedure = by[("Thủ tục", "vhxh-chinh-sach")]
    assert procedure["Tên / Name"] == "Trợ cấp xã hội, người có công, bảo trợ xã hội"
    assert procedure["Chờ p90 (phút) / 90th percentile wait (min)"] == "17.0"
    assert by[("Lĩnh vực", "TKQ")]["Phục vụ trung vị (phút) / Median service (min)"] == "3.0"
    assert by[("Quầy", "6")]["Tên / Name"] == "Quầy 6"
    assert by[("Cán bộ", "quay5")]["Hài lòng (%) / Satisfied (%)"] == "100.0"


def test_xlsx_read_back_has_typed_figures_per_sheet(floor: Floor) -> None:
    answer = httpx.get(f"{floor.server.url}/api/v1/sites/xa/reports?format=xlsx", headers=floor.manager, timeout=10)
    assert answer.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert f'filename="motcua-xa-{floor.today}.xlsx"' in answer.headers["content-disposition"]
    check_xlsx(answer.content, floor.today)


def check_xlsx(data: bytes, today: str) -> None:
    """The known day's workbook, read back with openpyxl: numbers as numbers with their formats."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Tổng hợp", "Theo ngày", "Lĩnh vực", "Thủ tục", "Quầy", "Cán bộ"]
    summary = {r[0]: r[1] for r in book["Tổng hợp"].iter_rows(values_only=True) if r and r[0]}
    assert summary["Lượt đến / Visits"] == 4 and summary["Giao dịch / Transactions"] == 4
    assert summary["Giao dịch được gọi trong 15 phút / Transactions called within 15 min"] == 0.5
    assert summary["Chờ p90 (phút) / 90th percentile wait (min)"] == pytest.approx(21.0, abs=0.01)
    assert summary["Vi phạm / Breaches"] == 2
    agencies = book["Lĩnh vực"]
    head = [c.value for c in agencies[1]]
    assert head[:3] == ["Mã\nCode", "Lĩnh vực\nAgency", "Giao dịch\nTransactions"]
    rows = {r[0]: dict(zip(head, r, strict=True)) for r in agencies.iter_rows(min_row=2, values_only=True)}
    vhxh = rows["VHXH"]
    assert vhxh["Lĩnh vực\nAgency"] == "Văn hóa - Xã hội (chính sách, người có công, bảo trợ)"
    assert vhxh["Chờ p90 (phút)\n90th percentile wait (min)"] == pytest.approx(17.0, abs=0.01)
    assert vhxh["Phục vụ trung bình (phút)\nMean service (min)"] == pytest.approx(4.5, abs=0.01)
    assert vhxh["Được gọi trong 15 phút (%)\nCalled within 15 min (%)"] == 0.5
    assert rows["TKQ"]["Hài lòng (%)\nSatisfied (%)"] == 0.0
    p90 = head.index("Chờ p90 (phút)\n90th percentile wait (min)") + 1
    assert agencies.cell(2, p90).number_format == "0.0"
    assert agencies.cell(2, head.index("Hài lòng (%)\nSatisfied (%)") + 1).number_format == "0.0%"
    assert agencies._charts, "the agencies' sheet carries its bar chart of p90 waits"
    procedures = {r[0]: r[1] for r in book["Thủ tục"].iter_rows(min_row=2, values_only=True)}
    assert procedures["tkq-nhan-ket-qua"] == "Nhận kết quả (hẹn trả ngày khác)"
    days = list(book["Theo ngày"].iter_rows(min_row=2, values_only=True))
    assert [d[0] for d in days] == [today] and days[0][1:3] == (4, 4)
    staff = {r[0]: r for r in book["Cán bộ"].iter_rows(min_row=2, values_only=True)}
    assert set(staff) == {"quay5", "quay6"}


def test_the_forecast_says_what_it_rests_on_its_error_and_counts_bookings(floor: Floor) -> None:
    body = httpx.get(f"{floor.server.url}/api/v1/sites/xa/forecast", headers=floor.manager, timeout=10).json()
    # complete days with arrivals only: today's log is not history yet, nor the day the server started idle
    assert body["history_days"] == HISTORY_DAYS and body["message"] is None
    assert body["history"] == {"from": floor.history[0], "to": floor.history[-1]}
    # each history day had exactly two TKQ tickets at 08:00, so the held-out days were predicted exactly
    assert body["error"] == {"holdout_days": floor.history[1:], "slot_mae": 0.0, "slot_wape": 0.0,
                             "agency_day_wape": 0.0}
    day = next(d for d in body["days"] if d["date"] == floor.booked_day)
    assert day["open"] and day["booked"] == 1
    tkq = next(a for a in day["agencies"] if a["agency"] == "TKQ")
    vhxh = next(a for a in day["agencies"] if a["agency"] == "VHXH")
    eight = next(i for i, s in enumerate(tkq["slots"]) if s["start"] == "08:00")
    assert tkq["slots"][eight]["arrivals"] == 2.0 and tkq["slots"][eight]["counters_needed"] >= 1
    # the booking is counted at its slot: it used to be forecast as nobody
    assert vhxh["slots"][eight] == {"start": "08:00", "arrivals": 1.0, "booked": 1,
                                    "counters_needed": vhxh["slots"][eight]["counters_needed"]}
    assert vhxh["slots"][eight]["counters_needed"] >= 1
    weekday = dt.date.fromisoformat(floor.booked_day).weekday()
    same = [d for d in floor.history if dt.date.fromisoformat(d).weekday() == weekday]
    assert day["basis"] == ({"kind": "same_weekday", "days": same} if same
                            else {"kind": "all_weekdays", "days": floor.history})
    for ahead in body["days"]:
        if dt.date.fromisoformat(ahead["date"]).weekday() == 6:  # the commune centre is closed on Sundays
            assert ahead["basis"]["kind"] == "closed" and ahead["arrivals"] == 0 and not ahead["open"]


# -- the page ---------------------------------------------------------------------------------------------------


def reports_page(browser: Browser, floor: Floor, viewport: ViewportSize) -> tuple[Page, list[str]]:
    """The reports page logged in as the floor manager, once the report and the forecast show."""
    page = browser.new_context(viewport=viewport, accept_downloads=True).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" or is_csp_violation(m) else None)
    page.goto(f"{floor.server.url}/reports/xa")
    page.wait_for_selector("body[data-ready=login]")
    page.fill("#user", "quanly")
    page.fill("#secret", "demo")
    page.click("#login-button")
    page.wait_for_selector("body[data-ready=true][data-forecast=true]", timeout=10000)
    return page, errors


def text(page: Page, selector: str) -> str:
    return page.inner_text(selector)


def people(day: str) -> str:
    """A date as the page writes it: dd/mm/yyyy."""
    return dt.date.fromisoformat(day).strftime("%d/%m/%Y")


def figures(page: Page) -> dict[str, str]:
    """The summary's figures: label -> value as shown."""
    found: list[list[str]] = page.eval_on_selector_all(
        "#figures .figure", "els => els.map(e => [...e.querySelectorAll('p')].map(p => p.textContent))")
    return {label: value for label, value, _note in found}


def figure_notes(page: Page) -> dict[str, str]:
    found: list[list[str]] = page.eval_on_selector_all(
        "#figures .figure", "els => els.map(e => [...e.querySelectorAll('p')].map(p => p.textContent))")
    return {label: note for label, _value, note in found}


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 768}, {"width": 1920, "height": 1080}],
                         ids=["laptop", "desktop"])
def test_the_reports_page_shows_the_known_day_and_the_week(
    browser: Browser, floor: Floor, viewport: ViewportSize
) -> None:
    page, errors = reports_page(browser, floor, viewport)
    assert page.input_value("#from") == floor.today and page.input_value("#to") == floor.today
    shown = figures(page)
    assert shown["Lượt đến"] == "4" and shown["Được gọi trong 15 phút"] == "50,0 %"
    assert shown["Thời gian chờ"] == "7,0 / 21,0" and shown["Hài lòng"] == "50,0 %"
    assert shown["Vi phạm"] == "2" and shown["Lượt đến xong trong 30 phút"] == "100,0 %"
    assert figure_notes(page)["Hài lòng"] == "chưa đạt mục tiêu 95,0 % · 2 lượt đánh giá"
    vhxh = page.locator("#group-rows tr[data-key='VHXH']")
    assert vhxh.locator("th").inner_text() == "Văn hóa - Xã hội (chính sách, người có công, bảo trợ)"
    assert vhxh.locator("td").nth(1).inner_text() == "2,0 / 17,0 / 17,0"
    assert page.locator("#bars-list li").count() == 2 and page.locator("#bars-list .bar.over").count() == 2
    assert "Chọn một khoảng nhiều ngày" in text(page, "#day-charts")
    # the forecast: what it rests on, its error, the booking
    basis = text(page, "#forecast-basis")
    assert f"6 ngày có người đến trong nhật ký, từ {people(floor.history[0])} đến {people(floor.history[-1])}" in basis
    assert "lệch 0 %" in basis
    assert page.locator("#forecast-message").is_hidden()
    page.click(f"#forecast-days button[data-day='{floor.booked_day}']")
    slot = page.locator("#forecast-rows tr[data-agency='VHXH'] td[data-start='08:00']")
    assert slot.locator("small").inner_text() == "1 · 1"
    SHOTS.mkdir(parents=True, exist_ok=True)
    check_screenshot(page, f"reports-{viewport['width']}-first", viewport)
    page.screenshot(path=str(SHOTS / f"reports-{viewport['width']}-full.png"), full_page=True)
    # the week: seven days, the charts with dates on their axes
    page.click("[data-preset=week]")
    page.wait_for_function("() => document.querySelectorAll('#day-charts figure').length === 2")
    assert page.input_value("#from") == (dt.date.fromisoformat(floor.today) - dt.timedelta(days=6)).isoformat()
    assert page.get_attribute("#day-charts figure[data-chart=transactions]", "data-x-ticks")
    # over 15 min: days 4, 5, 6 (20, 25, 30 min) and today (21 min); day 3's 15 min is not over
    assert "4 trong 7 ngày có p90 quá mục tiêu" in text(page, "#day-charts figure[data-chart=p90] figcaption")
    page.click("[data-group=staff]")
    assert page.locator("#group-rows tr").count() == 2  # quay5, quay6 (who also served the history)
    page.locator("#day-charts").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"reports-{viewport['width']}-week.png"), full_page=True)
    page.click("#lang-button")
    assert re.fullmatch(r"\d+\.\d %", figures(page)["Called within 15 min"])  # English numbers
    assert "By staff member" in text(page, "#group-caption")
    assert "days with arrivals in the log: 6" in text(page, "#forecast-basis")
    nothing_cut = page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert nothing_cut
    assert not errors, errors
    page.context.close()


@pytest.mark.browser
def test_downloads_from_the_page_read_back_and_the_monitor_links_here(
    browser: Browser, floor: Floor, tmp_path: Path
) -> None:
    page, errors = reports_page(browser, floor, {"width": 1366, "height": 768})
    with page.expect_download() as xlsx:
        page.click("[data-download=xlsx]")
    assert xlsx.value.suggested_filename == f"motcua-xa-{floor.today}.xlsx"
    xlsx.value.save_as(tmp_path / "report.xlsx")
    check_xlsx((tmp_path / "report.xlsx").read_bytes(), floor.today)
    with page.expect_download() as sheet:
        page.click("[data-download=csv]")
    sheet.value.save_as(tmp_path / "report.csv")
    check_csv((tmp_path / "report.csv").read_bytes())
    with page.expect_download() as printable:
        page.click("[data-download=html]")
    printable.value.save_as(tmp_path / "report.html")
    assert "Báo cáo chất lượng phục vụ" in (tmp_path / "report.html").read_text(encoding="utf-8")
    # the monitor links to the reports, and the manager stays logged in on the way
    page.goto(f"{floor.server.url}/monitor/xa")
    page.wait_for_selector("#counters [data-counter='5']", timeout=10000)
    page.click("#reports-link")
    page.wait_for_selector("body[data-ready=true]", timeout=10000)
    assert page.url == f"{floor.server.url}/reports/xa"
    assert page.get_attribute("#pages a[aria-current=page]", "href") == "/reports/xa"
    assert not errors, errors
    page.context.close()


def test_every_managers_page_signs_in_alike_and_refuses_a_staff_account_in_words(
    browser: Browser, floor: Floor
) -> None:
    """Monitor, reports, evaluation and feedback inbox share one log-in (common.js managerSession): a staff
    account is told it may not read the page, and logging out on one page ends the session for the tab."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    for path, refused in (("/reports/xa", "không được xem báo cáo"), ("/evaluation/xa", "không được xem đánh giá"),
                          ("/feedback/xa", "không được xem hộp thư phản ánh"),
                          ("/monitor/xa", "không có quyền giám sát")):
        page.goto(f"{floor.server.url}{path}")
        page.wait_for_selector("#login:not(.hidden)", timeout=10000)
        page.fill("#user", "quay1")
        page.fill("#secret", "1234")
        page.click("#login [type=submit]")
        page.wait_for_selector("#login-error:not(.hidden)", timeout=10000)
        assert refused in page.inner_text("#login-error"), path
        assert page.is_hidden("#logout")
    page.fill("#user", "quanly")
    page.fill("#secret", "demo")
    page.click("#login [type=submit]")
    page.wait_for_selector("#logout:not(.hidden)", timeout=10000)
    page.goto(f"{floor.server.url}/feedback/xa")  # the same tab is signed in here too
    page.wait_for_selector("#logout:not(.hidden)", timeout=10000)
    page.click("#logout")
    page.wait_for_selector("#login:not(.hidden)", timeout=10000)
    page.goto(f"{floor.server.url}/reports/xa")
    page.wait_for_selector("body[data-ready=login]", timeout=10000)
    context.close()
