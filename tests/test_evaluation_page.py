"""The monthly evaluation over HTTP and in headless Chromium, on a real `motcua serve --demo` whose event log
and feedback.db hold the month computed by hand in tests/test_evaluation.py."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import openpyxl
import pytest
from playwright.sync_api import Browser, sync_playwright

from controller.core.clock import local_day
from controller.store.feedback_sqlite import SqliteFeedbackBook
from controller.store.sqlite import SqliteEventStore
from tests.axe_support import allow_axe, severe_violations
from tests.server import ServerProcess, login, serve_process
from tests.test_evaluation import MONTH, feedback
from tests.test_pages_browser import CHROMIUM, CHROMIUM_ARGS, open_page

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
SITE_FILE = ROOT / "controller" / "sites" / "commune-centre.toml"
SHOTS = ROOT / "test-output" / "evaluation"
OFFSET = 7 * 3600


async def seed(data_dir: Path) -> None:
    """The hand-made month in the event log (by the site's day) and its complaints in feedback.db."""
    async with SqliteEventStore(data_dir / "events.db") as store:
        days: dict[str, list[dict[str, object]]] = {}
        day = ""
        for body in MONTH:
            if body["type"] == "day.started":
                day = local_day(float(body["at"]), OFFSET)  # type: ignore[arg-type]
            days.setdefault(day, []).append({**body, "day": day} if body["type"] == "day.started" else body)
        for label, events in days.items():
            await store.append("xa", label, events)
    async with SqliteFeedbackBook(data_dir / "feedback.db") as book:
        for item in (feedback("AAAAAAAA", "an", True), feedback("BBBBBBBB", "an", False),
                     feedback("CCCCCCCC", "binh", None)):
            await book.add(item, None)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data_dir = tmp_path_factory.mktemp("evaluation")
    asyncio.run(seed(data_dir))
    with serve_process(SITE_FILE, data_dir) as proc:
        yield proc


@pytest.fixture(scope="module")
def manager(server: ServerProcess) -> dict[str, str]:
    return login(server.url, "quanly", "demo")


def get(server: ServerProcess, headers: dict[str, str], query: str) -> httpx.Response:
    return httpx.get(f"{server.url}/api/v1/sites/xa/evaluation{query}", headers=headers, timeout=20)


def test_the_hand_made_month_over_http(server: ServerProcess, manager: dict[str, str]) -> None:
    body = get(server, manager, "?month=2026-10").json()
    assert body["days"] == ["2026-10-26", "2026-10-27"]
    assert [(r["staff"], r["rank"], r["adjusted"], r["ratings"]) for r in body["staff"]] == [
        ("binh", 1, 0.7619, 1), ("an", 2, 0.7391, 3)]
    assert body["total"] == {"served": 4, "ratings": 4, "satisfied": 3, "share_satisfied": 0.75,
                             "meets_target": False, "complaints": 3, "complaints_upheld": 1}
    an = body["staff"][1]
    assert (an["complaints"], an["complaints_upheld"], an["reasons"]) == (2, 1, {"waited_long": 1,
                                                                              "staff_attitude": 1})
    # another month has nothing
    empty = get(server, manager, "?month=2026-09").json()
    assert empty["staff"] == [] and empty["total"]["complaints"] == 0


def test_files(server: ServerProcess, manager: dict[str, str]) -> None:
    answer = get(server, manager, "?month=2026-10&format=csv")
    assert answer.headers["content-disposition"] == 'attachment; filename="motcua-xa-danh-gia-2026-10.csv"'
    assert answer.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    staff = [r for r in rows if r["Cấp / Level"] == "staff"]
    assert [r["Cán bộ / Staff member"] for r in staff] == ["binh", "an"]
    assert staff[1]["Tỷ lệ điều chỉnh (%) / Adjusted share (%)"] == "73.91"
    assert staff[1]["Phục vụ trung vị (phút) / Median service (min)"] == "7.0"
    assert "Chờ quá lâu / Waited too long: 1" in staff[1]["Lý do khi đánh giá thấp / Reasons at low ratings"]
    assert "Sau binh" in staff[1]["Vì sao ở hạng này / Why this rank"]
    province = [r for r in rows if r["Cấp / Level"] == "province"]
    assert [(r["Lĩnh vực / Agency"], r["Tỷ lệ hài lòng (%) / Share satisfied (%)"]) for r in province] == [
        ("Tư pháp - Hộ tịch", "75.0"), ("Toàn trung tâm / whole centre", "75.0")]

    answer = get(server, manager, "?month=2026-10&format=xlsx")
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["Cán bộ - Staff", "Lĩnh vực - Agencies", "Báo cáo tỉnh - Province"]
    sheet = book["Cán bộ - Staff"]
    header = [c.value for c in sheet[2]]
    adjusted = sheet.cell(row=3, column=header.index("Tỷ lệ điều chỉnh (%) / Adjusted share (%)") + 1)
    assert (sheet.cell(row=3, column=2).value, adjusted.value, adjusted.number_format) == ("binh", 0.7619, "0.0 %")
    province = book["Báo cáo tỉnh - Province"]
    assert [c.value for c in province[3]] == ["2026-10", "HT", "Tư pháp - Hộ tịch", 4, 3, 0.75]


@pytest.mark.parametrize("query", ["?month=2026-13", "?month=2026-1", "?month=oct", "?month=1999-12", "?month=2100-01",
                                   "?month=2026-10&format=pdf", "?month=2026-10%0A"])
def test_bad_input_is_refused(server: ServerProcess, manager: dict[str, str], query: str) -> None:
    answer = get(server, manager, query)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] in ("invalid_month", "invalid_request", "validation_error")


def test_who_may_read_it(server: ServerProcess) -> None:
    assert get(server, {}, "?month=2026-10").status_code == 401
    assert get(server, login(server.url, "quay1", "1234"), "?month=2026-10").status_code == 403
    assert get(server, login(server.url, "ops", "demo"), "?month=2026-10").status_code == 403
    assert httpx.get(f"{server.url}/api/v1/sites/nowhere/evaluation", headers=login(server.url, "admin", "demo"),
                     timeout=10).status_code == 404


@pytest.mark.browser
def test_the_page_as_a_manager_reads_it(server: ServerProcess) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser: Browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
        allow_axe(context)
        page = open_page(context, f"{server.url}/evaluation/xa?month=2026-10")
        page.fill("#user", "quanly")
        page.fill("#secret", "demo")
        page.click("#login button[type=submit]")
        page.wait_for_selector("#staff tbody tr[data-staff=an]")
        rows = page.locator("#staff tbody tr[data-staff]")
        assert rows.nth(0).get_attribute("data-staff") == "binh"
        assert "76,2 %" in rows.nth(0).inner_text()
        assert "Hài lòng 75,0 % (3/4 đánh giá), mục tiêu 95,0 %: chưa đạt" in page.inner_text("#total")
        assert "Phản ánh có cơ sở: 1/3." in page.inner_text("#total")
        an = page.locator("#staff tbody tr[data-why-for=an]")  # the row under an's figures
        an.locator("summary").click()
        why = an.locator("details li").all_inner_texts()
        assert why[0].startswith("2/3 đánh giá hài lòng (66,7 %)") and why[1].startswith("Sau binh")
        assert any("Chờ quá lâu (1)" in line for line in why)
        assert "Tư pháp - Hộ tịch" in page.inner_text("#province")
        # the charts: the centre and HT against the 95 % line, the two days, the two reasons; each said in words
        agencies = page.locator("figure[data-chart=agencies]")
        assert agencies.locator("rect.bar.missed").count() == 2 and agencies.locator("line.target").count() == 1
        assert "Mục tiêu 95,0 %" in agencies.locator("svg").text_content()
        assert "0/1 lĩnh vực có đánh giá đạt mục tiêu. Thấp nhất: Tư pháp - Hộ tịch 75,0 % (3/4 đánh giá)" in (
            agencies.locator("figcaption").inner_text())
        svg_name = page.evaluate("""() => { const svg = document.querySelector('figure[data-chart=agencies] svg');
            const named = document.getElementById(svg.getAttribute('aria-labelledby'));
            return [svg.getAttribute('role'), named.textContent]; }""")
        assert svg_name == ["img", "Tỷ lệ hài lòng theo lĩnh vực, so với mục tiêu"]
        trend = page.locator("figure[data-chart=trend]")
        points = [trend.locator(f"circle.day-point.{kind}").count() for kind in ("missed", "met")]
        assert points == [1, 2]  # the 26th under the target, the 27th over it, and the legend's dot
        assert "2 ngày có đánh giá, 1 ngày dưới mục tiêu; thấp nhất ngày 26: 66,7 %. Lũy kế đến ngày 27: 75,0 %." in (
            trend.locator("figcaption").inner_text())
        trend.locator("summary").click()
        first = trend.locator("tbody tr").all_inner_texts()[0].split("\t")
        assert first == ["2026-10-26", "3", "2", "66,7 %", "66,7 %"]
        reasons = page.locator("figure[data-chart=reasons]")
        assert reasons.locator("rect.bar").count() == 2
        assert "2 lần chọn lý do" in reasons.locator("figcaption").inner_text()
        page.screenshot(path=str(SHOTS / "evaluation-vi.png"), full_page=True)
        assert not severe_violations(page, "monthly evaluation with its charts")
        page.emulate_media(media="print")
        assert page.is_hidden(".controls") and page.is_visible("figure[data-chart=trend] svg")
        page.screenshot(path=str(SHOTS / "evaluation-print.png"), full_page=True)
        page.emulate_media(media="screen")
        # English, complete
        page.click("#lang-button")
        assert "Satisfied 75.0 % (3/4 ratings), target 95.0 %: not met" in page.inner_text("#total")
        assert an.locator("details li").first.inner_text().startswith("2/3 ratings satisfied (66.7 %)")
        caption = page.locator("figure[data-chart=agencies] figcaption").inner_text()
        assert "Lowest: Justice – Civil status 75.0 %" in caption
        page.screenshot(path=str(SHOTS / "evaluation-en.png"), full_page=True)
        # the workbook, downloaded with the token
        with page.expect_download() as download:
            page.click("#xlsx")
        assert download.value.suggested_filename == "motcua-xa-danh-gia-2026-10.xlsx"
        # another month: nothing yet, said so
        page.fill("#month", "2026-09")
        page.dispatch_event("#month", "change")
        page.wait_for_function("() => !document.querySelector('#staff-empty').classList.contains('hidden')")
        context.close()
        browser.close()


@pytest.mark.browser
def test_the_monitor_counts_overdue_feedback_and_links_the_inbox_and_the_evaluation(server: ServerProcess) -> None:
    with sync_playwright() as playwright:
        browser: Browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{server.url}/monitor/xa")
        page.fill("#user", "quanly")
        page.fill("#secret", "demo")
        page.click("#login-button")
        # the seeded month left one item unanswered past its 10 days
        page.wait_for_function("() => document.querySelector('#fig-feedback-value').textContent === '1'")
        assert page.get_attribute("#fig-feedback", "data-level") == "bad"
        assert page.get_attribute("#feedback-link", "href") == "/feedback/xa"
        assert page.get_attribute("#evaluation-link", "href") == "/evaluation/xa"
        page.screenshot(path=str(SHOTS / "monitor-feedback.png"))
        assert not errors, errors
        page.click("#lang-button")
        assert page.inner_text("#fig-feedback .figure-label") == "Feedback past its deadline"
        page.click("#evaluation-link")
        # the same log-in carries over; without ?month the site's own month (nothing there yet)
        page.wait_for_selector("#staff-empty:not(.hidden)")
        assert page.is_hidden("#login") and page.input_value("#month") == page.evaluate(
            "() => document.querySelector('#status').textContent").split(":")[0].split()[-1]
        # the reports page links here too, and back
        page.click("#reports-link")
        page.wait_for_selector("#pages a[href='/evaluation/xa']")
        page.click("#pages a[href='/evaluation/xa']")
        page.wait_for_selector("#staff-empty:not(.hidden)")
        assert not errors, errors
        context.close()
        browser.close()
