"""Small public read-only JSON for the screens: the hall board and a ticket's QR code.

The hall display and the ticket page need nothing secret: the monitor snapshot is
for managers, so the hall gets its own narrow view (numbers called, people waiting).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from controller.core.clock import iso
from controller.core.site import Site
from controller.core.state import SiteState
from controller.core.tickets import CounterStatus
from controller.core.views import predicted_new_wait
from controller.runtime.controller import Controller
from devices.printer.ticket import ticket_status_url
from kiosk.qr import qr_svg

__all__ = ["called_board", "counter_tiles", "hall_notice", "router"]

router = APIRouter(prefix="/api/v1")

CALL_KINDS = ("ticket.called", "ticket.recalled")


def hall_notice(site: Site) -> str:
    """The scrolling line under the board: hours, the wait promise, priority, rating."""
    hours = ", ".join(f"{a // 60:02d}:{a % 60:02d}–{b // 60:02d}:{b % 60:02d}" for a, b in site.hours)
    minutes = round(site.targets.transaction_wait_s / 60)
    return (
        f"{site.name} kính chào quý khách. Giờ làm việc: {hours}. "
        f"Thời gian chờ mỗi giao dịch không quá {minutes} phút. "
        "Ưu tiên người cao tuổi, phụ nữ mang thai, người khuyết tật, trẻ em và người có công với cách mạng. "
        "Khi số của quý khách hiện trên bảng, xin mời đến đúng quầy. "
        "Sau khi được phục vụ, xin vui lòng đánh giá mức độ hài lòng tại quầy."
    )


def called_board(history: dict[str, list[tuple[str, float, int | None]]], numbers: dict[str, str],
                 limit: int, utc_offset_s: int) -> list[dict[str, Any]]:
    """The latest calls, newest first, one line per ticket (a recall moves it back to the top)."""
    latest: dict[str, tuple[float, int | None, bool]] = {}
    for ticket_id, entries in history.items():
        for kind, at, counter in entries:
            if kind in CALL_KINDS and (ticket_id not in latest or at >= latest[ticket_id][0]):
                latest[ticket_id] = (at, counter, kind == "ticket.recalled")
    ordered = sorted(latest.items(), key=lambda item: item[1][0], reverse=True)[:limit]
    return [
        {"ticket": tid, "number": numbers[tid], "counter": counter, "recall": recall,
         "ts": at, "at": iso(at, utc_offset_s)}
        for tid, (at, counter, recall) in ordered
    ]


def counter_tiles(state: SiteState) -> list[dict[str, Any]]:
    """A tile per counter in use (open, paused, or still with a citizen), in counter order, with its number now."""
    tiles = []
    for cid, cs in state.counters.items():
        if cs.status is CounterStatus.CLOSED and cs.current is None:
            continue
        current = state.tickets.get(cs.current) if cs.current else None
        tiles.append({"id": cid, "status": str(cs.status), "ticket": current.id if current else None,
                      "number": current.number if current else None})
    return sorted(tiles, key=lambda tile: tile["id"])


@router.get("/sites/{site}/hall")
async def hall(request: Request, site: str, limit: int = Query(default=8, ge=1, le=30)) -> dict[str, Any]:
    """What the hall display shows, with the stream position to resume from (public)."""
    controller: Controller = request.app.state.controller
    runtime = controller.runtime(site)
    state = runtime.floor.state
    in_line = state.waiting_by_agency()
    now = runtime.clock()
    fc = runtime.floor.forecast(now)
    # No await between reading the state and last_seq: they describe the same moment.
    return {
        "site": site,
        "name": runtime.site.name,
        "name_en": runtime.site.name_en,
        "timezone": runtime.site.timezone,
        "seq": runtime.last_seq,
        "called": called_board(
            state.history, {t.id: t.number for t in state.tickets.values()}, limit, runtime.site.utc_offset_s
        ),
        "agencies": [
            {"id": a.id, "name": a.name, "name_en": a.name_en, "role": a.role, "waiting": len(in_line[a.id]),
             "open_counters": len(state.open_counters(a.id)),
             "predicted_wait_s": None if (wait := predicted_new_wait(fc, a.id, in_line[a.id], now)) is None
             else round(wait)}
            for a in runtime.site.agencies.values()
        ],
        "counters": counter_tiles(state),
        "notice": hall_notice(runtime.site),
    }


@router.get("/sites/{site}/tickets/{ticket_id}/qr.svg", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}}})
async def ticket_qr(request: Request, site: str, ticket_id: str) -> Response:
    """The QR of a ticket's status page on the public address (--public-url), whatever address the kiosk used."""
    controller: Controller = request.app.state.controller
    runtime = controller.runtime(site)
    state = runtime.floor.state
    ticket = runtime.floor.ticket(state.by_number.get(ticket_id, ticket_id) if ticket_id not in state.tickets
                                  else ticket_id)
    url = ticket_status_url(request.app.state.settings.base_url, site, ticket.id)
    svg = qr_svg(url, title=f"{ticket.number}: {url}")
    # A ticket id names one ticket of one day for good: the image never changes.
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})
