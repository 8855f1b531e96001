"""The monthly evaluation as files people open in a spreadsheet: CSV (UTF-8 with a BOM) and Excel (.xlsx).

Both take the JSON body of the evaluation endpoint (controller/api/evaluation.py). Headers are
Vietnamese then English, times in minutes, shares in per cent. The CSV has one row per staff
member, agency and province line with a `level` column (Excel reads a CSV without a BOM in
the machine's legacy code page and garbles every diacritic; numbers keep a decimal point, for
programs). The workbook has one sheet per view (staff, agencies, the province's table) with
numbers kept as numbers (formats 0.0 and 0.0 %).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from controller.api.report_files import BOM, XLSX_MEDIA_TYPE, Column

__all__ = ["XLSX_MEDIA_TYPE", "to_csv", "to_xlsx"]


STAFF = (
    Column("rank", "Hạng", "Rank"),
    Column("staff", "Cán bộ", "Staff member", "text"),
    Column("agency", "Lĩnh vực chính", "Main agency", "text"),
    Column("rank_in_agency", "Hạng trong lĩnh vực", "Rank in agency"),
    Column("served", "Lượt phục vụ", "Served"),
    Column("ratings", "Lượt đánh giá", "Ratings"),
    Column("satisfied", "Hài lòng", "Satisfied"),
    Column("share_satisfied", "Tỷ lệ hài lòng (%)", "Share satisfied (%)", "share"),
    Column("adjusted", "Tỷ lệ điều chỉnh (%)", "Adjusted share (%)", "share"),
    Column("agency_share_satisfied", "Hài lòng của lĩnh vực (%)", "Agency share satisfied (%)", "share"),
    Column("complaints", "Phản ánh", "Complaints"),
    Column("complaints_upheld", "Phản ánh có cơ sở", "Complaints upheld"),
    Column("service_p50_s", "Phục vụ trung vị (phút)", "Median service (min)", "minutes"),
    Column("agency_service_p50_s", "Phục vụ trung vị của lĩnh vực (phút)", "Agency median service (min)", "minutes"),
    Column("no_shows", "Vắng mặt", "No-shows"),
    Column("no_show_share", "Tỷ lệ vắng mặt (%)", "No-show share (%)", "share"),
    Column("agency_no_show_share", "Vắng mặt của lĩnh vực (%)", "Agency no-show share (%)", "share"),
    Column("breaches", "Trễ hạn do quầy tạm dừng", "Breaches while their counter paused"),
    Column("reasons_text", "Lý do khi đánh giá thấp", "Reasons at low ratings", "text"),
    Column("why_text", "Vì sao ở hạng này", "Why this rank", "text"),
)
AGENCIES = (
    Column("agency", "Mã lĩnh vực", "Agency code", "text"),
    Column("name", "Lĩnh vực", "Agency", "text"),
    Column("served", "Lượt phục vụ", "Served"),
    Column("ratings", "Lượt đánh giá", "Ratings"),
    Column("satisfied", "Hài lòng", "Satisfied"),
    Column("share_satisfied", "Tỷ lệ hài lòng (%)", "Share satisfied (%)", "share"),
    Column("complaints", "Phản ánh", "Complaints"),
    Column("complaints_upheld", "Phản ánh có cơ sở", "Complaints upheld"),
    Column("service_p50_s", "Phục vụ trung vị (phút)", "Median service (min)", "minutes"),
    Column("no_shows", "Vắng mặt", "No-shows"),
    Column("no_show_share", "Tỷ lệ vắng mặt (%)", "No-show share (%)", "share"),
    Column("breaches", "Trễ hạn", "Breaches"),
    Column("reasons_text", "Lý do khi đánh giá thấp", "Reasons at low ratings", "text"),
)
PROVINCE = (
    Column("month", "Tháng", "Month", "text"),
    Column("agency", "Mã lĩnh vực", "Agency code", "text"),
    Column("name", "Lĩnh vực", "Agency", "text"),
    Column("ratings", "Lượt đánh giá", "Ratings"),
    Column("satisfied", "Hài lòng", "Satisfied"),
    Column("share_satisfied", "Tỷ lệ hài lòng (%)", "Share satisfied (%)", "share"),
)
SHEETS = (("staff", "Cán bộ - Staff", STAFF), ("agencies", "Lĩnh vực - Agencies", AGENCIES),
          ("province", "Báo cáo tỉnh - Province", PROVINCE))


def _rows(body: dict[str, Any], section: str) -> list[dict[str, Any]]:
    """The section's rows with their reasons and explanation as text (Vietnamese, then English)."""
    names = body["reason_names"]
    out = []
    for row in body[section]:
        row = dict(row)
        if "reasons" in row:
            row["reasons_text"] = "; ".join(
                f"{names.get(code, {}).get('name', code)} / {names.get(code, {}).get('name_en', code)}: {n}"
                for code, n in row["reasons"].items())
        if "why" in row:
            row["why_text"] = " | ".join(f"{w['vi']} / {w['en']}" for w in row["why"])
        out.append(row)
    return out


def _value(row: dict[str, Any], column: Column, for_csv: bool) -> Any:
    value = row.get(column.field)
    if value is None:
        return "" if for_csv else None
    if column.kind == "minutes":
        return round(float(value) / 60, 2)
    if column.kind == "share" and for_csv:
        return round(100 * float(value), 2)
    return value


def to_csv(body: dict[str, Any]) -> bytes:
    """One table: a `level` column (staff, agency, province), then every section's columns."""
    out = io.StringIO()
    writer = csv.writer(out)
    fields: list[Column] = []
    for _section, _title, cols in SHEETS:
        fields.extend(c for c in cols if c.field not in {f.field for f in fields})
    writer.writerow(["Cấp / Level", *(c.header() for c in fields)])
    for (section, _title, _cols), level in zip(SHEETS, ("staff", "agency", "province"), strict=True):
        for row in _rows(body, section):
            writer.writerow([level, *(_value(row, c, True) for c in fields)])
    return (BOM + out.getvalue()).encode("utf-8")


def to_xlsx(body: dict[str, Any]) -> bytes:
    """A workbook: staff (ranked, with why), agencies, and the province's satisfaction table."""
    book = Workbook()
    book.remove(book.active)
    for section, title, cols in SHEETS:
        sheet = book.create_sheet(title)
        sheet.append([f"{body['site_name']} — {body['month']}"])
        sheet.append([c.header() for c in cols])
        for cell in sheet[2]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in _rows(body, section):
            sheet.append([_value(row, c, False) for c in cols])
        for index, column in enumerate(cols, start=1):
            letter = get_column_letter(index)
            sheet.column_dimensions[letter].width = 60 if column.field == "why_text" else 16
            number_format = {"share": "0.0 %", "minutes": "0.0"}.get(column.kind)
            if number_format:
                for (cell,) in sheet.iter_rows(min_row=3, min_col=index, max_col=index):
                    cell.number_format = number_format
        sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
