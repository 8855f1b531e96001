"""Reports for managers, directors and the province: JSON, CSV, Excel, and a printable HTML page.

    GET /api/v1/sites/{site}/reports?from=YYYY-MM-DD&to=YYYY-MM-DD&format=json|csv|xlsx|html
    GET /api/v1/sites/{site}/forecast?weeks=4&holdout=5   demand and counters needed, next 7 days

Figures come from the event log alone (controller/core/reports.py), so a report
for a past day is the same whatever the controller's state is today. People read
them on the reports page (/reports/{site}, kiosk/static/reports.js) and in the
files of controller/api/report_files.py.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from controller.api.errors import ApiError
from controller.api.headers import csp_with_style
from controller.api.report_files import XLSX_MEDIA_TYPE, to_csv, to_xlsx
from controller.api.security import require_role
from controller.core.appointments import slot_times
from controller.core.away import away_from_events, away_note, away_rows
from controller.core.forecast import (
    booked_demand,
    counters_needed,
    demand_from_events,
    forecast_days,
    forecast_error,
    history_from_events,
    mean_service,
)
from controller.core.reports import BREACH_CAUSES, build_report, daily_summaries
from controller.core.series import day_series
from controller.core.site import Site
from controller.runtime.controller import Controller
from controller.store.appointments import AppointmentBook

__all__ = ["router"]

router = APIRouter()

MAX_DAYS = 366
# The report's one inline style, allowed by its hash (headers.py): a saved or mailed report keeps its look.
REPORT_STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #111; margin: 2em; }
table { border-collapse: collapse; margin: 1em 0; } td, th { border: 1px solid #888; padding: 4px 8px; }
th { background: #e8eef7; } small { color: #444; font-weight: normal; }
@media print { body { margin: 0; } }
"""


def _day(text: str | None, name: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ApiError(422, "invalid_date", f"{name} must be a date YYYY-MM-DD, got {text!r}") from None


async def report_body(request: Request, site: str, start: str | None, end: str | None) -> dict[str, Any]:
    """The report of a site over [from, to] (default: today), read from the event log."""
    controller: Controller = request.app.state.controller
    runtime = controller.runtime(site)
    today = runtime.floor.state.day or dt.date.today().isoformat()
    first = _day(start, "from") or dt.date.fromisoformat(today)
    last = _day(end, "to") or first
    if last < first:
        raise ApiError(422, "invalid_range", "'to' is before 'from'")
    if (last - first).days >= MAX_DAYS:
        raise ApiError(422, "range_too_long", f"a report covers at most {MAX_DAYS} days")
    days = [d for d in await controller.store.days(site) if first.isoformat() <= d <= last.isoformat()]
    per_day: list[tuple[str, list[Any]]] = []
    for day in days:
        per_day.append((day, [stored.body for stored in await controller.store.read_day(site, day)]))
    targets = runtime.site.targets
    figures = (targets.transaction_wait_s, targets.visit_wait_s, targets.satisfaction)
    report = build_report(site, days, (body for _, events in per_day for body in events), *figures)
    body = report.to_dict()
    body["from"], body["to"], body["site_name"] = first.isoformat(), last.isoformat(), runtime.site.name
    body["site_name_en"] = runtime.site.name_en
    body["by_day"] = daily_summaries(per_day, *figures)
    # numbers that held a place away: both waits, and what the target counts (controller/core/away.py)
    away = away_from_events(body for _, events in per_day for body in events)
    body["away"] = away_rows(away, targets.transaction_wait_s)
    body["away_note"] = away_note(targets.transaction_wait_s / 60)
    name_rows(runtime.site, body)
    return body


def name_rows(site: Site, body: dict[str, Any]) -> None:
    """Each group's row named for people (Vietnamese, English) beside its code; in place."""
    for row in body["agencies"]:
        agency = site.agencies.get(row["key"])
        row["name"], row["name_en"] = (agency.name, agency.name_en) if agency else (row["key"], "")
    for row in body["procedures"]:
        procedure = site.procedures.get(row["key"])
        row["name"], row["name_en"] = (procedure.name, procedure.name_en) if procedure else (row["key"], "")
        row["agency"] = procedure.agency if procedure else None
    for row in body["counters"]:
        row["name"], row["name_en"] = f"Quầy {row['key']}", f"Counter {row['key']}"
    for row in body["staff"]:
        row["name"] = row["key"]
        agency = site.agencies.get(row["agency"] or "")
        row["agency_name"] = agency.name if agency else row["agency"]


@router.get("/api/v1/sites/{site}/reports", response_model=None, responses={200: {"content": {
    "text/csv": {"schema": {"type": "string"}}, XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
    "text/html": {"schema": {"type": "string"}}}}})
async def report(
    request: Request,
    site: str,
    start: str | None = Query(default=None, alias="from", json_schema_extra={"format": "date"}),
    end: str | None = Query(default=None, alias="to", json_schema_extra={"format": "date"}),
    format: Literal["json", "csv", "xlsx", "html"] = "json",
) -> dict[str, Any] | Response:
    """Daily or period report per site, agency, procedure, counter and staff member."""
    controller: Controller = request.app.state.controller
    controller.runtime(site)
    require_role(request, site, "manager", "admin", "ops")
    body = await report_body(request, site, start, end)
    name = f"motcua-{site}-{body['from']}" + ("" if body["from"] == body["to"] else f"-{body['to']}")
    if format == "csv":
        return Response(to_csv(body), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if format == "xlsx":
        return Response(to_xlsx(body), media_type=XLSX_MEDIA_TYPE,
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    if format == "html":
        return HTMLResponse(to_html(body), headers={"Content-Security-Policy": csp_with_style(REPORT_STYLE)})
    return body


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def _min(value: float | None) -> str:
    return "—" if value is None else f"{value / 60:.1f}"


def _bars(rows: list[dict[str, Any]], value_key: str, limit: float, label: str) -> str:
    """A horizontal SVG bar chart (server-rendered: prints without JavaScript)."""
    rows = [r for r in rows if r.get(value_key) is not None]
    if not rows:
        return ""
    width, bar_h = 640, 20
    top = max(max(float(r[value_key]) for r in rows), limit) or 1.0
    parts = [f'<svg role="img" aria-label="{html.escape(label)}" width="{width}" '
             f'height="{bar_h * len(rows) + 10}" xmlns="http://www.w3.org/2000/svg">']
    for i, row in enumerate(rows):
        length = 460 * float(row[value_key]) / top
        over = float(row[value_key]) > limit
        parts.append(
            f'<text x="0" y="{i * bar_h + 14}" font-size="12">{html.escape(str(row["key"]))}</text>'
            f'<rect x="120" y="{i * bar_h + 3}" width="{length:.1f}" height="{bar_h - 6}" '
            f'fill="{"#b3261e" if over else "#1b6e3a"}"/>'
        )
    x = 120 + 460 * limit / top
    parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{bar_h * len(rows)}" stroke="#000" '
                 'stroke-dasharray="4 3"/></svg>')
    return "".join(parts)


def to_html(body: dict[str, Any]) -> str:
    """A printable report, Vietnamese first, English second."""
    targets = body["targets"]
    total = body["total"]
    esc = html.escape

    def table(rows: list[dict[str, Any]], first: str) -> str:
        head = (f"<tr><th>{first}</th><th>Giao dịch<br><small>Transactions</small></th>"
                "<th>Chờ p50 / p90 / tối đa (phút)<br><small>Wait p50/p90/max (min)</small></th>"
                f"<th>Trong {targets['transaction_wait_s'] / 60:.0f} phút<br><small>Within target</small></th>"
                "<th>Phục vụ p50 (phút)<br><small>Service p50</small></th>"
                "<th>Vắng mặt<br><small>No-shows</small></th><th>Chuyển<br><small>Transfers</small></th>"
                "<th>Hài lòng<br><small>Satisfaction</small></th></tr>")
        lines = [
            f"<tr><td>{esc(str(r.get('name', r['key'])))}</td><td>{r['transactions']}</td>"
            f"<td>{_min(r['wait_p50_s'])} / {_min(r['wait_p90_s'])} / {_min(r['wait_max_s'])}</td>"
            f"<td>{_pct(r['within_transaction_target'])}</td><td>{_min(r['service_p50_s'])}</td>"
            f"<td>{r['no_shows']}</td><td>{r['transfers']}</td><td>{_pct(r['satisfaction'])}</td></tr>"
            for r in rows
        ]
        return f"<table>{head}{''.join(lines)}</table>"

    def cause(c: dict[str, Any]) -> str:
        vi, en = BREACH_CAUSES.get(c["cause"], (c["cause"], c["cause"]))
        kind = "giao dịch / transaction" if c["kind"] == "transaction" else "cả lượt / visit"
        return f"<li>{esc(vi)} / {esc(en)} ({kind}): {c['count']}</li>"

    causes = "".join(cause(c) for c in body["breaches_by_cause"])
    sat_ok = body["satisfaction_meets_target"]
    away = "".join(
        f"<tr><td>{esc(r['name'])}<br><small>{esc(r['name_en'])}</small></td><td>{r['numbers']}</td>"
        f"<td>{r['checked_in']}</td><td>{r['expired']}</td>"
        f"<td>{_min(r['hall_wait_p50_s'])} / {_min(r['hall_wait_p90_s'])}</td><td>{_pct(r['hall_within_target'])}</td>"
        f"<td>{_min(r['lived_wait_p50_s'])} / {_min(r['lived_wait_p90_s'])}</td></tr>" for r in body["away"])
    away_section = "" if not away else (
        "<h2>Số giữ chỗ khi vắng mặt: hai cách tính thời gian chờ / Numbers held away: two waits</h2>"
        f"<p>{esc(body['away_note']['vi'])}<br><small>{esc(body['away_note']['en'])}</small></p>"
        "<table><tr><th>Loại<br><small>Kind</small></th><th>Số<br><small>Numbers</small></th>"
        "<th>Đã đến<br><small>Checked in</small></th><th>Hết hạn<br><small>Expired</small></th>"
        "<th>Chờ trong sảnh p50 / p90 (phút)<br><small>Hall wait p50/p90 (min)</small></th>"
        f"<th>Trong {targets['transaction_wait_s'] / 60:.0f} phút<br><small>Within target</small></th>"
        "<th>Từ lúc lấy số p50 / p90 (phút)<br><small>Since taking the number p50/p90 (min)</small></th></tr>"
        f"{away}</table>")
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Báo cáo {esc(body['site_name'])} {body['from']}</title>
<style>{REPORT_STYLE}</style></head><body>
<h1>Báo cáo chất lượng phục vụ — {esc(body['site_name'])}</h1>
<p>Service quality report, {body['from']} → {body['to']} ({len(body['days'])} ngày có dữ liệu / days with data)</p>
<ul>
<li>Lượt đến / visits: {body['visits']}; bỏ về / abandoned: {body['abandoned']}</li>
<li>Giao dịch chờ ≤ {targets['transaction_wait_s'] / 60:.0f} phút / within the transaction target:
 {_pct(total['within_transaction_target'])}</li>
<li>Lượt đến chờ ≤ {targets['visit_wait_s'] / 60:.0f} phút / visits within the visit target:
 {_pct(body['visits_within_visit_target'])}</li>
<li>Mức độ hài lòng / satisfaction: {_pct(total['satisfaction'])} (mục tiêu / target {_pct(targets['satisfaction'])}:
 {'đạt / met' if sat_ok else ('chưa đạt / not met' if sat_ok is False else '—')})</li>
</ul>
<h2>Theo lĩnh vực / By agency</h2>
{table(body['agencies'], 'Lĩnh vực<br><small>Agency</small>')}
<p>Thời gian chờ p90 theo lĩnh vực (giây; vạch: mục tiêu) / p90 wait by agency (s; line: target)</p>
{_bars(body['agencies'], 'wait_p90_s', targets['transaction_wait_s'], 'p90 wait by agency')}
<h2>Vi phạm theo nguyên nhân / Breaches by cause</h2><ul>{causes or '<li>Không có / none</li>'}</ul>
{away_section}
<h2>Theo thủ tục / By procedure</h2>{table(body['procedures'], 'Thủ tục<br><small>Procedure</small>')}
<h2>Theo quầy / By counter</h2>{table(body['counters'], 'Quầy<br><small>Counter</small>')}
<h2>Theo cán bộ / By staff member</h2>{table(body['staff'], 'Cán bộ<br><small>Staff</small>')}
</body></html>"""


NO_HISTORY = ("Chưa có ngày nào trọn vẹn có người đến trong nhật ký để dự báo: chỉ có các lịch hẹn đã đặt. / "
              "No complete day with arrivals in the log to forecast from yet: only the appointments already booked.")
FORECAST_DAYS = 7


async def _booked(book: AppointmentBook, site: Site, days: list[str]) -> list[tuple[str, float, int]]:
    """Bookings already made for the coming days: (agency, slot start, how many)."""
    if site.appointment_slot_capacity <= 0:
        return []
    out: list[tuple[str, float, int]] = []
    for day in days:
        times = slot_times(site, dt.date.fromisoformat(day))
        for agency in site.agencies:
            out.extend((agency, at, n) for at, n in (await book.counts(site.id, agency, times)).items())
    return out


@router.get("/api/v1/sites/{site}/forecast")
async def forecast(
    request: Request,
    site: str,
    weeks: int = Query(default=4, ge=1, le=12),
    holdout: int = Query(default=5, ge=1, le=30),
    service_level: float = Query(default=0.9, gt=0, lt=1),
) -> dict[str, Any]:
    """Demand per agency and half hour for the coming 7 days, counters needed, and the method's error."""
    controller: Controller = request.app.state.controller
    runtime = controller.runtime(site)
    require_role(request, site, "manager", "admin", "ops")
    the_site = runtime.site
    today = runtime.floor.state.day or dt.date.today().isoformat()
    # complete days only: today's log so far would pull the mean of its weekday down
    log_days = [d for d in await controller.store.days(site) if d < today][-7 * weeks - holdout:]
    events: list[Any] = []
    for day in log_days:
        events.extend(stored.body for stored in await controller.store.read_day(site, day))
    history = history_from_events(the_site, events)
    history_days = history.days
    enough = len(history_days) > holdout
    error = forecast_error(the_site, demand_from_events(the_site, events), holdout, weeks) if enough else None
    start = dt.date.fromisoformat(today) + dt.timedelta(days=1)
    coming = [(start + dt.timedelta(days=i)).isoformat() for i in range(FORECAST_DAYS)]
    book: AppointmentBook = request.app.state.appointments
    booked = booked_demand(the_site, await _booked(book, the_site, coming))
    target = the_site.targets.transaction_wait_s
    starts = the_site.half_hour_starts
    days_out = []
    for ahead in forecast_days(the_site, history, booked, coming, weeks):
        agencies = []
        for agency in the_site.agencies.values():
            service = mean_service(the_site, agency.id)
            rows = []
            for slot, begin in enumerate(starts):
                arrivals = ahead.arrivals[(agency.id, slot)]
                rows.append({
                    "start": f"{begin // 60:02d}:{begin % 60:02d}",
                    "arrivals": None if arrivals is None else round(arrivals, 2),
                    "booked": ahead.booked[(agency.id, slot)],
                    "counters_needed": None if arrivals is None else counters_needed(arrivals, service, target,
                                                                                     service_level),
                })
            agencies.append({"agency": agency.id, "name": agency.name, "name_en": agency.name_en,
                             "counters": len(the_site.counters_for(agency.id)), "mean_service_s": round(service, 1),
                             "slots": rows})
        expected = list(ahead.arrivals.values())
        days_out.append({
            "date": ahead.day,
            "weekday": dt.date.fromisoformat(ahead.day).weekday(),
            "open": ahead.basis.kind != "closed",
            "basis": {"kind": ahead.basis.kind, "days": list(ahead.basis.days)},
            "arrivals": None if None in expected else round(sum(a or 0.0 for a in expected), 1),
            "booked": sum(ahead.booked.values()),
            "agencies": agencies,
        })
    return {
        "site": site,
        "method": f"seasonal mean of the same weekday and half hour over the last {weeks} weeks of complete days "
                  "(all weekdays when a weekday has no history), walk-ins and appointments apart; appointments "
                  "count as the larger of the bookings already made and their own mean; counters by Erlang C",
        "service_level": service_level,
        "history_days": len(history_days),
        "history": {"from": history_days[0], "to": history_days[-1]} if history_days else None,
        "message": None if history_days else NO_HISTORY,
        "error": None if error is None else {
            "holdout_days": list(error.holdout_days),
            "slot_mae": round(error.slot_mae, 3),
            "slot_wape": None if error.slot_wape is None else round(error.slot_wape, 4),
            "agency_day_wape": None if error.agency_day_wape is None else round(error.agency_day_wape, 4),
        },
        "error_reason": None if error is not None else (
            f"Cần hơn {holdout} ngày có người đến để đo sai số (có {len(history_days)}). / "
            f"The error needs more than {holdout} days with arrivals (have {len(history_days)})."),
        "days": days_out,
    }


@router.get("/api/v1/sites/{site}/monitor/series")
async def monitor_series(
    request: Request, site: str, bin_s: int = Query(default=300, ge=60, le=3600)
) -> dict[str, Any]:
    """Today so far per agency: queue length and wait over the day, share within target in the last hour."""
    controller: Controller = request.app.state.controller
    runtime = controller.runtime(site)
    require_role(request, site, "manager", "admin", "ops")
    day = runtime.floor.state.day
    events = [stored.body for stored in await controller.store.read_day(site, day)] if day else []
    return day_series(runtime.site, events, runtime.clock(), float(bin_s))
