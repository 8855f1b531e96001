"""The screens of CONTRACT.md section 2: kiosk, counter app, hall display, ticket status, monitor, reports.

Each page is one static HTML file plus small scripts and styles (no build step);
the page reads its site, counter or ticket from its own address. Assets are served
from the packages' static folders under /ui/, by name only, so no path escapes them.
"""

from __future__ import annotations

import gzip
import html
import re
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

import counter_display
import kiosk
from controller.runtime.controller import Controller

__all__ = ["STATIC_DIRS", "router"]

STATIC_DIRS = (Path(kiosk.__file__).parent / "static", Path(counter_display.__file__).parent / "static")
ASSET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.(js|css|svg|html|json)$")
# Libraries we ship as their authors publish them (kiosk/static/vendor/NAME/, each with its licence):
# served from here, never from a CDN, by package and file name only.
VENDOR_DIR = Path(kiosk.__file__).parent / "static" / "vendor"
VENDOR_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
VENDOR_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*\.(js|css)$")
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
}
# Screens run all day: revalidate on every load so an update reaches them at their next reset.
NO_CACHE = {"Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


def _asset(name: str) -> Path | None:
    if not ASSET_NAME.match(name):
        return None
    for folder in STATIC_DIRS:
        path = folder / name
        if path.is_file():
            return path
    return None


@lru_cache(maxsize=256)
def _gzipped(path: Path, version: int) -> bytes:
    """The file compressed, once per version (its mtime): screens load it all day, it seldom changes."""
    return gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)


def _takes_gzip(request: Request) -> bool:
    """Whether the client accepts gzip (not refused with q=0)."""
    for part in request.headers.get("accept-encoding", "").lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() == "gzip":
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


async def _static(request: Request, path: Path) -> Response:
    """A script, style or image, gzip-compressed for a browser that takes it: a kiosk page's scripts and styles
    travel in a third of their size (the pages have no build step, so nothing is minified)."""
    headers = {**NO_CACHE, "Vary": "Accept-Encoding"}
    if not _takes_gzip(request):
        return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=headers)
    body = await run_in_threadpool(lambda: _gzipped(path, path.stat().st_mtime_ns))
    return Response(body, media_type=MEDIA_TYPES[path.suffix], headers={**headers, "Content-Encoding": "gzip"})


def _not_found(message: str) -> HTMLResponse:
    """The 404 page; the message often echoes the address, so it is escaped (never markup)."""
    body = (
        '<!doctype html><html lang="vi"><meta charset="utf-8"><title>Không tìm thấy / Not found</title>'
        '<link rel="stylesheet" href="/ui/common.css"><link rel="icon" href="data:,">'
        f'<body class="not-found"><h1>Không tìm thấy / Not found</h1><p>{html.escape(message)}</p></body></html>'
    )
    return HTMLResponse(body, status_code=404)


def _html(name: str) -> Response:
    path = _asset(name)
    assert path is not None, f"page {name} is missing from the package"
    return FileResponse(path, media_type=MEDIA_TYPES[".html"], headers=NO_CACHE)


def _page(request: Request, site: str, name: str) -> Response:
    controller: Controller = request.app.state.controller
    if site not in controller.runtimes:
        return _not_found(f"Điểm phục vụ “{site}” không có ở đây. (Unknown site.)")
    return _html(name)


def _counter_page(request: Request, site: str, counter: int, name: str) -> Response:
    """A page of one counter of a site: 404 in words for a counter the site does not have."""
    controller: Controller = request.app.state.controller
    if site in controller.runtimes and counter not in controller.runtimes[site].site.counters:
        return _not_found(f"Không có quầy số {counter}. (No such counter.)")
    return _page(request, site, name)


@router.get("/kiosk/{site}")
async def kiosk_page(request: Request, site: str) -> Response:
    """Touch kiosk: agency, procedure, papers, priority, ticket with QR."""
    return _page(request, site, "kiosk.html")


@router.get("/book/{site}")
async def book_page(request: Request, site: str) -> Response:
    """Appointment booking (public): procedure, day, slot, and the code to check in with at the kiosk."""
    return _page(request, site, "book.html")


@router.get("/q/{site}")
async def remote_page(request: Request, site: str) -> Response:
    """Take a number from a phone (public): procedure, trip time, a texted code, the number and its QR."""
    return _page(request, site, "q.html")


@router.get("/counter/{site}/{counter}")
async def counter_page(request: Request, site: str, counter: int) -> Response:
    """Staff counter app."""
    return _counter_page(request, site, counter, "counter.html")


@router.get("/rate/{site}/{counter}")
async def rating_page(request: Request, site: str, counter: int) -> Response:
    """The counter's rating screen: a tablet facing the citizen (reasons asked at a low rating)."""
    return _counter_page(request, site, counter, "rate.html")


@router.get("/evaluation/{site}")
async def evaluation_page(request: Request, site: str) -> Response:
    """Managers' monthly evaluation: staff ranked with the reasons, agencies, the province's satisfaction table."""
    return _page(request, site, "evaluation.html")


@router.get("/feedback/{site}")
async def feedback_page(request: Request, site: str) -> Response:
    """The managers' feedback inbox: assign, answer, close; overdue items counted."""
    return _page(request, site, "feedback.html")


@router.get("/hall/{site}")
async def hall_page(request: Request, site: str) -> Response:
    """Hall display for the TV."""
    return _page(request, site, "hall.html")


@router.get("/t/{site}")
async def ticket_lookup_page(request: Request, site: str) -> Response:
    """Ticket status lookup by the printed number."""
    return _page(request, site, "ticket.html")


@router.get("/t/{site}/{ticket_id}")
async def ticket_page(request: Request, site: str, ticket_id: str) -> Response:
    """Ticket status: the page the QR opens on a phone."""
    return _page(request, site, "ticket.html")


@router.get("/f/{site}")
async def feedback_lookup_page(request: Request, site: str) -> Response:
    """A citizen's feedback by its code: the form to type it."""
    return _page(request, site, "follow.html")


@router.get("/f/{site}/{code}")
async def feedback_follow_page(request: Request, site: str, code: str) -> Response:
    """A citizen's feedback, its status and answer: the page the kiosk's QR opens."""
    return _page(request, site, "follow.html")


@router.get("/monitor/{site}")
async def monitor_page(request: Request, site: str) -> Response:
    """Floor manager's live monitor of one site."""
    return _page(request, site, "monitor.html")


@router.get("/reports/{site}")
async def reports_page(request: Request, site: str) -> Response:
    """Managers' reports: a period's figures, downloads (Excel, CSV, printable) and the week's forecast."""
    return _page(request, site, "reports.html")


@router.get("/monitor")
async def province_monitor_page() -> Response:
    """Every site served here, riskiest first, each drilling into its monitor."""
    return _html("monitor.html")


@router.get("/docs")
async def api_docs() -> Response:
    """The API reference, drawn from /openapi.json by a script of this origin (no CDN, no inline script)."""
    return _html("docs.html")


@router.get("/ui/vendor/{package}/{name}")
async def vendor_asset(request: Request, package: str, name: str) -> Response:
    """A shipped library's script or style (e.g. uPlot for the monitor's charts)."""
    path = VENDOR_DIR / package / name
    if not (VENDOR_PACKAGE.match(package) and VENDOR_NAME.match(name) and path.is_file()):
        return Response("not found", status_code=404, media_type="text/plain")
    return await _static(request, path)


@router.get("/ui/{name}")
async def asset(request: Request, name: str) -> Response:
    """A page's script, style or image."""
    path = _asset(name)
    if path is None:
        return Response("not found", status_code=404, media_type="text/plain")
    return await _static(request, path)
