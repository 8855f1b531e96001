"""The monthly evaluation of staff members and agencies, for managers (controller/core/evaluation.py).

    GET /api/v1/sites/{site}/evaluation?month=YYYY-MM&format=json|csv|xlsx   manager, admin

Figures come from the month's event log (the period report, plus reasons and breaches) and
from the feedback book (complaints upheld, by the month an item was received).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from controller.api.errors import ApiError
from controller.api.evaluation_files import XLSX_MEDIA_TYPE, to_csv, to_xlsx
from controller.api.security import require_role
from controller.core.evaluation import build_evaluation, counter_blame
from controller.core.reports import build_report
from controller.runtime.controller import Controller
from controller.store.feedback import FeedbackBook

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")
MONTH = re.compile(r"^(20\d\d)-(0[1-9]|1[0-2])$")  # this century: what the document says, nothing more


def month_bounds(text: str) -> tuple[dt.date, dt.date]:
    """The first day of the month and of the next one; 422 for anything but YYYY-MM."""
    match = MONTH.match(text)
    if match is None:
        raise ApiError(422, "invalid_month", f"Tháng phải có dạng YYYY-MM / month must be YYYY-MM, got {text[:20]!r}")
    first = dt.date(int(match.group(1)), int(match.group(2)), 1)
    following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following


async def evaluation_body(request: Request, site: str, month: str | None) -> dict[str, Any]:
    """The month's evaluation of a site (default: the site's current month)."""
    controller: Controller = request.app.state.controller
    runtime = controller.runtime(site)
    today = runtime.floor.state.day or dt.date.today().isoformat()
    first, following = month_bounds(month if month is not None else today[:7])
    label = first.isoformat()[:7]
    days = [d for d in await controller.store.days(site) if d.startswith(label)]
    events: list[Any] = []
    for day in days:
        events.extend(stored.body for stored in await controller.store.read_day(site, day))
    the_site = runtime.site
    targets = the_site.targets
    report = build_report(site, days, events, targets.transaction_wait_s, targets.visit_wait_s, targets.satisfaction)
    book: FeedbackBook = request.app.state.feedback
    offset = the_site.utc_offset_s

    def epoch(day: dt.date) -> float:
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() - offset

    items = await book.since(site, epoch(first), epoch(following))
    return build_evaluation(the_site, label, report, counter_blame(the_site, events), items)


@router.get("/sites/{site}/evaluation", response_model=None, responses={200: {"content": {
    "text/csv": {"schema": {"type": "string"}}, XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}})
async def evaluation(
    request: Request,
    site: str,
    month: str | None = Query(default=None, pattern=MONTH.pattern, description="YYYY-MM; default this month"),
    format: Literal["json", "csv", "xlsx"] = "json",
) -> dict[str, Any] | Response:
    """The month's evaluation per staff member and agency: ranked, explained, and the province's table."""
    controller: Controller = request.app.state.controller
    controller.runtime(site)
    require_role(request, site, "manager", "admin")
    body = await evaluation_body(request, site, month)
    name = f"motcua-{site}-danh-gia-{body['month']}"
    if format == "csv":
        return Response(to_csv(body), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if format == "xlsx":
        return Response(to_xlsx(body), media_type=XLSX_MEDIA_TYPE,
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    return body
