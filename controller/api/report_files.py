"""A report as files people open in a spreadsheet: CSV (UTF-8 with a BOM) and Excel (.xlsx, by openpyxl).

Both take the JSON body of the report endpoint (controller/api/reports.py). People read them, so
headers are in Vietnamese then English, times are in minutes, shares in per cent, and each row
names its agency, procedure, counter or staff member beside its code. The CSV starts with a
byte-order mark because Excel reads a CSV without one in the machine's legacy code page and
garbles every diacritic; its numbers keep a decimal point, for programs. The .xlsx keeps numbers
as numbers with formats (minutes 0.0, shares 0.0 %), one sheet per view, and needs no locale guess.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from controller.core.reports import BREACH_CAUSES

__all__ = ["LEVELS", "XLSX_MEDIA_TYPE", "Column", "columns", "to_csv", "to_xlsx"]

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"

# level -> (section of the body, its name in Vietnamese, in English)
LEVELS: dict[str, tuple[str, str, str]] = {
    "total": ("total", "Tổng", "Total"),
    "agency": ("agencies", "Lĩnh vực", "Agency"),
    "procedure": ("procedures", "Thủ tục", "Procedure"),
    "counter": ("counters", "Quầy", "Counter"),
    "staff": ("staff", "Cán bộ", "Staff member"),
}


@dataclass(frozen=True)
class Column:
    """One column of a group's row: the body's field, its headers, and what kind of figure it holds."""

    field: str
    vi: str
    en: str
    kind: str = "count"  # count | minutes (field in seconds) | share (field 0..1) | text

    def header(self, separator: str = " / ") -> str:
        return f"{self.vi}{separator}{self.en}"


def columns(body: dict[str, Any]) -> tuple[Column, ...]:
    """The figures of a group's row, with the site's own target in the headers."""
    target = f"{body['targets']['transaction_wait_s'] / 60:g}"
    return (
        Column("transactions", "Giao dịch", "Transactions"),
        Column("wait_p50_s", "Chờ trung vị (phút)", "Median wait (min)", "minutes"),
        Column("wait_p90_s", "Chờ p90 (phút)", "90th percentile wait (min)", "minutes"),
        Column("wait_max_s", "Chờ lâu nhất (phút)", "Longest wait (min)", "minutes"),
        Column("within_transaction_target", f"Được gọi trong {target} phút (%)", f"Called within {target} min (%)",
               "share"),
        Column("service_p50_s", "Phục vụ trung vị (phút)", "Median service (min)", "minutes"),
        Column("service_mean_s", "Phục vụ trung bình (phút)", "Mean service (min)", "minutes"),
        Column("no_shows", "Vắng mặt", "No-shows"),
        Column("transfers", "Chuyển đi", "Transfers"),
        Column("ratings", "Lượt đánh giá", "Ratings"),
        Column("satisfaction", "Hài lòng (%)", "Satisfied (%)", "share"),
    )


def away_columns(body: dict[str, Any]) -> tuple[Column, ...]:
    """The figures of a row of numbers held away: both waits, the target's one first."""
    target = f"{body['targets']['transaction_wait_s'] / 60:g}"
    return (
        Column("numbers", "Số giữ chỗ khi vắng mặt", "Numbers held away"),
        Column("checked_in", "Đã xác nhận có mặt", "Checked in"),
        Column("expired", "Hết hạn (không đến)", "Expired (never came)"),
        Column("hall_wait_p50_s", "Chờ trong sảnh trung vị (phút)", "Hall wait median (min)", "minutes"),
        Column("hall_wait_p90_s", "Chờ trong sảnh p90 (phút)", "Hall wait p90 (min)", "minutes"),
        Column("hall_within_target", f"Chờ trong sảnh ≤ {target} phút (%)", f"Hall wait within {target} min (%)",
               "share"),
        Column("lived_wait_p50_s", "Chờ từ lúc lấy số trung vị (phút)", "Wait since taking the number median (min)",
               "minutes"),
        Column("lived_wait_p90_s", "Chờ từ lúc lấy số p90 (phút)", "Wait since taking the number p90 (min)",
               "minutes"),
    )


STAFF_COLUMNS = (
    Column("agency_name", "Lĩnh vực chính", "Main agency", "text"),
    Column("agency_service_p50_s", "Phục vụ trung vị của lĩnh vực (phút)", "Agency's median service (min)", "minutes"),
    Column("agency_satisfaction", "Hài lòng của lĩnh vực (%)", "Agency satisfied (%)", "share"),
)


def _csv_value(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "minutes":
        return f"{value / 60:.1f}"
    if kind == "share":
        return f"{100 * value:.1f}"
    return value


def _rows(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(level, row) for the total and every group, in the order the sections come."""
    total = {**body["total"], "key": "", "name": body.get("site_name", body["site"])}
    out: list[tuple[str, dict[str, Any]]] = [("total", total)]
    for level, (section, _vi, _en) in LEVELS.items():
        if level != "total":
            out.extend((level, row) for row in body[section])
    return out


AWAY_LEVEL = "Giữ chỗ khi vắng mặt"  # the CSV's level of the rows of numbers held away


def to_csv(body: dict[str, Any]) -> bytes:
    """One row per group (total, agency, procedure, counter, staff), then one per kind of number held away
    (its own columns, last: both waits), UTF-8 with a BOM."""
    figures = columns(body)
    away = away_columns(body) if body.get("away") else ()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180, and what Excel writes
    writer.writerow(["Nhóm / Level", "Mã / Code", "Tên / Name", *(c.header() for c in (*figures, *away))])
    for level, row in _rows(body):
        writer.writerow([LEVELS[level][1], row.get("key", ""), row.get("name", row.get("key", "")),
                         *(_csv_value(row.get(c.field), c.kind) for c in figures), *([""] * len(away))])
    for row in body.get("away", ()):
        writer.writerow([AWAY_LEVEL, row["key"], row["name"], *([""] * len(figures)),
                         *(_csv_value(row.get(c.field), c.kind) for c in away)])
    return (BOM + out.getvalue()).encode("utf-8")


# -- Excel -----------------------------------------------------------------------------------------------------

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E8EEF7")
WRAP = Alignment(wrap_text=True, vertical="top")
FORMATS = {"minutes": "0.0", "share": "0.0%", "count": "0", "text": "@"}


def _cell_value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "minutes":
        return round(value / 60, 2)
    return value


def _table(sheet: Worksheet, head: list[str], rows: list[list[Any]], kinds: list[str], widths: list[int]) -> None:
    """A header row (bold, wrapped, frozen, filtered) and typed rows with their number formats."""
    sheet.append(head)
    for cell in sheet[1]:
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, WRAP
    for row in rows:
        sheet.append(row)
    for col, (kind, width) in enumerate(zip(kinds, widths, strict=True), start=1):
        letter = get_column_letter(col)
        sheet.column_dimensions[letter].width = width
        for (cell,) in sheet.iter_rows(min_row=2, min_col=col, max_col=col):
            cell.number_format = FORMATS[kind]
    sheet.freeze_panes = "A2"
    if rows:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(head))}{len(rows) + 1}"


def _group_sheet(book: Workbook, title: str, first: str, rows: list[dict[str, Any]], figures: tuple[Column, ...],
                 name_of: Callable[[dict[str, Any]], str]) -> Worksheet:
    sheet = book.create_sheet(title)
    head = ["Mã\nCode", f"{first}", *(c.header("\n") for c in figures)]
    values = [[row["key"], name_of(row), *(_cell_value(row.get(c.field), c.kind) for c in figures)] for row in rows]
    _table(sheet, head, values, ["text", "text", *(c.kind for c in figures)],
           [12, 40, *(16 if c.kind != "text" else 24 for c in figures)])
    return sheet


def _summary_sheet(sheet: Worksheet, body: dict[str, Any]) -> None:
    targets = body["targets"]
    total = body["total"]
    sheet.title = "Tổng hợp"
    sheet.append([f"Báo cáo chất lượng phục vụ — {body.get('site_name', body['site'])}"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([f"Service quality report, {body['from']} → {body['to']}"])
    sheet.append([])
    rows: list[tuple[str, Any, str]] = [
        ("Từ ngày / From", body["from"], "text"),
        ("Đến ngày / To", body["to"], "text"),
        ("Số ngày có dữ liệu / Days with data", len(body["days"]), "count"),
        ("Lượt đến / Visits", body["visits"], "count"),
        ("Bỏ về / Left without being served", body["abandoned"], "count"),
        ("Giao dịch / Transactions", total["transactions"], "count"),
        (f"Giao dịch được gọi trong {targets['transaction_wait_s'] / 60:g} phút / "
         f"Transactions called within {targets['transaction_wait_s'] / 60:g} min",
         total["within_transaction_target"], "share"),
        (f"Lượt đến xong trong {targets['visit_wait_s'] / 60:g} phút / "
         f"Visits done within {targets['visit_wait_s'] / 60:g} min", body["visits_within_visit_target"], "share"),
        ("Chờ trung vị (phút) / Median wait (min)", _cell_value(total["wait_p50_s"], "minutes"), "minutes"),
        ("Chờ p90 (phút) / 90th percentile wait (min)", _cell_value(total["wait_p90_s"], "minutes"), "minutes"),
        ("Hài lòng / Satisfied", total["satisfaction"], "share"),
        ("Mục tiêu hài lòng / Satisfaction target", targets["satisfaction"], "share"),
        ("Vi phạm / Breaches", sum(c["count"] for c in body["breaches_by_cause"]), "count"),
    ]
    for label, value, kind in rows:
        sheet.append([label, value])
        sheet.cell(sheet.max_row, 2).number_format = FORMATS[kind]
    sheet.column_dimensions["A"].width = 62
    sheet.column_dimensions["B"].width = 16
    sheet.append([])
    sheet.append(["Vi phạm theo nguyên nhân / Breaches by cause"])
    sheet.cell(sheet.max_row, 1).font = HEADER_FONT
    for cause in body["breaches_by_cause"]:
        vi, en = BREACH_CAUSES.get(cause["cause"], (cause["cause"], cause["cause"]))
        kind = "giao dịch / transaction" if cause["kind"] == "transaction" else "cả lượt / visit"
        sheet.append([f"{vi} / {en} ({kind})", cause["count"]])


def _daily_sheet(book: Workbook, body: dict[str, Any]) -> None:
    target = f"{body['targets']['transaction_wait_s'] / 60:g}"
    figures = (
        Column("visits", "Lượt đến", "Visits"),
        Column("transactions", "Giao dịch", "Transactions"),
        Column("within_transaction_target", f"Được gọi trong {target} phút (%)", f"Called within {target} min (%)",
               "share"),
        Column("wait_p50_s", "Chờ trung vị (phút)", "Median wait (min)", "minutes"),
        Column("wait_p90_s", "Chờ p90 (phút)", "90th percentile wait (min)", "minutes"),
        Column("breaches", "Vi phạm", "Breaches"),
        Column("no_shows", "Vắng mặt", "No-shows"),
        Column("satisfaction", "Hài lòng (%)", "Satisfied (%)", "share"),
    )
    sheet = book.create_sheet("Theo ngày")
    rows = [[day["day"], *(_cell_value(day.get(c.field), c.kind) for c in figures)] for day in body["by_day"]]
    _table(sheet, ["Ngày\nDay", *(c.header("\n") for c in figures)], rows, ["text", *(c.kind for c in figures)],
           [12, *(16 for _ in figures)])


def _wait_chart(sheet: Worksheet, rows: int, column: int, target_min: float) -> None:
    """Excel's own bar chart of the agencies' 90th percentile wait, the target named in its title."""
    if not rows:
        return
    chart = BarChart()
    chart.type = "bar"
    chart.title = f"Chờ p90 theo lĩnh vực (phút; mục tiêu {target_min:g}) / 90th percentile wait by agency"
    chart.y_axis.title = "phút / min"
    chart.legend = None
    chart.add_data(Reference(sheet, min_col=column, min_row=1, max_row=rows + 1), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=2, min_row=2, max_row=rows + 1))
    chart.height, chart.width = max(7.5, 0.6 * rows + 3), 22
    sheet.add_chart(chart, f"A{rows + 4}")


def to_xlsx(body: dict[str, Any]) -> bytes:
    """The report as an Excel workbook: summary, by day, agency, procedure, counter, staff member, and the numbers
    held away with both their waits (when there were any)."""
    figures = columns(body)
    book = Workbook()
    _summary_sheet(book.active, body)
    _daily_sheet(book, body)
    agencies = _group_sheet(book, "Lĩnh vực", "Lĩnh vực\nAgency", body["agencies"], figures,
                            lambda r: str(r.get("name", r["key"])))
    _wait_chart(agencies, len(body["agencies"]), 3 + [c.field for c in figures].index("wait_p90_s"),
                body["targets"]["transaction_wait_s"] / 60)
    _group_sheet(book, "Thủ tục", "Thủ tục\nProcedure", body["procedures"], figures,
                 lambda r: str(r.get("name", r["key"])))
    _group_sheet(book, "Quầy", "Quầy\nCounter", body["counters"], figures, lambda r: str(r.get("name", r["key"])))
    _group_sheet(book, "Cán bộ", "Cán bộ\nStaff member", body["staff"], (*figures, *STAFF_COLUMNS),
                 lambda r: str(r.get("name", r["key"])))
    if body.get("away"):
        sheet = _group_sheet(book, "Giữ chỗ vắng mặt", "Loại\nKind", body["away"], away_columns(body),
                             lambda r: f"{r['name']} / {r['name_en']}")
        sheet.append([])
        sheet.append([body["away_note"]["vi"]])
        sheet.append([body["away_note"]["en"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
