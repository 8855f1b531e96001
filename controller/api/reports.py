"""Reports for managers, directors and the province: JSON, CSV, and a printable HTML page.

    GET /api/v1/sites/{site}/reports?from=YYYY-MM-DD&to=YYYY-MM-DD&format=json|csv|html
    GET /api/v1/sites/{site}/forecast?weeks=4&holdout=5   demand and counters needed, next 7 days

Figures come from the event log alone (controller/core/reports.py), so a report
for a past day is the same whatever the controller's state is today.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from controller.api.errors import ApiError
from controller.api.headers import csp_with_style
from controller.api.security import require_role
from controller.core.forecast import (
    counters_needed,
    demand_from_events,
    forecast_error,
    mean_service,
    seasonal_mean,
)
from controller.core.reports import build_report
from controller.core.series import day_series
from controller.runtime.controller import Controller

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
CSV_COLUMNS = (
    "level", "key", "transactions", "wait_p50_s", "wait_p90_s", "wait_max_s", "within_transaction_target",
    "service_p50_s", "service_mean_s", "no_shows", "transfers", "ratings", "satisfaction",
)


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
    events: list[Any] = []
    for day in days:
        events.extend(stored.body for stored in await controller.store.read_day(site, day))
    targets = runtime.site.targets
    report = build_report(site, days, events, targets.transaction_wait_s, targets.visit_wait_s, targets.satisfaction)
    body = report.to_dict()
    body["from"], body["to"], body["site_name"] = first.isoformat(), last.isoformat(), runtime.site.name
    names = {a.id: a.name for a in runtime.site.agencies.values()}
    for row in body["agencies"]:
        row["name"] = names.get(row["key"], row["key"])
    return body


@router.get("/api/v1/sites/{site}/reports", response_model=None, responses={200: {"content": {
    "text/csv": {"schema": {"type": "string"}}, "text/html": {"schema": {"type": "string"}}}}})
async def report(
    request: Request,
    site: str,
    start: str | None = Query(default=None, alias="from", json_schema_extra={"format": "date"}),
    end: str | None = Query(default=None, alias="to", json_schema_extra={"format": "date"}),
    format: Literal["json", "csv", "html"] = "json",
) -> dict[str, Any] | Response:
    """Daily or period report per site, agency, procedure, counter and staff member."""
    controller: Controller = request.app.state.controller
    controller.runtime(site)
    require_role(request, site, "manager", "admin", "ops")
    body = await report_body(request, site, start, end)
    if format == "csv":
        return Response(to_csv(body), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="motcua-{site}-{body["from"]}.csv"'})
    if format == "html":
        return HTMLResponse(to_html(body), headers={"Content-Security-Policy": csp_with_style(REPORT_STYLE)})
    return body


def to_csv(body: dict[str, Any]) -> str:
    """One row per group (total, agency, procedure, counter, staff)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    sections = [("total", [body["total"]]), ("agency", body["agencies"]), ("procedure", body["procedures"]),
                ("counter", body["counters"]), ("staff", body["staff"])]
    for level, rows in sections:
        for row in rows:
            writer.writerow([level, *(("" if row.get(c) is None else row.get(c)) for c in CSV_COLUMNS[1:])])
    return out.getvalue()


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

    causes = "".join(f"<li>{esc(c['kind'])}: {esc(c['cause'])} — {c['count']}</li>" for c in body["breaches_by_cause"])
    sat_ok = body["satisfaction_meets_target"]
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
<h2>Theo thủ tục / By procedure</h2>{table(body['procedures'], 'Thủ tục<br><small>Procedure</small>')}
<h2>Theo quầy / By counter</h2>{table(body['counters'], 'Quầy<br><small>Counter</small>')}
<h2>Theo cán bộ / By staff member</h2>{table(body['staff'], 'Cán bộ<br><small>Staff</small>')}
</body></html>"""


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
    history_days = (await controller.store.days(site))[-7 * weeks - holdout:]
    events: list[Any] = []
    for day in history_days:
        events.extend(stored.body for stored in await controller.store.read_day(site, day))
    demand = demand_from_events(the_site, events)
    seen = sorted({d for d, _, _ in demand})
    error = forecast_error(the_site, demand, holdout, weeks) if len(seen) > holdout else None
    start = dt.date.fromisoformat(runtime.floor.state.day or dt.date.today().isoformat()) + dt.timedelta(days=1)
    coming = [(start + dt.timedelta(days=i)).isoformat() for i in range(7)]
    predicted = seasonal_mean(the_site, demand, coming, weeks)
    target = the_site.targets.transaction_wait_s
    starts = the_site.half_hour_starts
    days_out = []
    for day in coming:
        agencies = []
        for agency in the_site.agencies:
            service = mean_service(the_site, agency)
            rows = []
            for slot, begin in enumerate(starts):
                arrivals = predicted[(day, agency, slot)]
                rows.append({
                    "start": f"{begin // 60:02d}:{begin % 60:02d}",
                    "arrivals": round(arrivals, 2),
                    "counters_needed": counters_needed(arrivals, service, target, service_level),
                })
            agencies.append({"agency": agency, "mean_service_s": round(service, 1), "slots": rows})
        days_out.append({"date": day, "weekday": dt.date.fromisoformat(day).weekday(), "agencies": agencies})
    return {
        "site": site,
        "method": f"seasonal mean of the same weekday and half hour over the last {weeks} weeks "
                  "(all weekdays when a weekday has no history); counters by Erlang C",
        "service_level": service_level,
        "history_days": len(seen),
        "error": None if error is None else {
            "holdout_days": list(error.holdout_days),
            "slot_mae": round(error.slot_mae, 3),
            "slot_wape": None if error.slot_wape is None else round(error.slot_wape, 4),
            "agency_day_wape": None if error.agency_day_wape is None else round(error.agency_day_wape, 4),
        },
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
