"""A ticket as the API answers it, and what became of its print: shared by every endpoint that issues one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Request

from controller.core.clock import iso
from controller.devices.printing import PrintRecord
from controller.runtime.site_runtime import SiteRuntime

if TYPE_CHECKING:
    from controller.devices.printers import PrintService  # escpos and Pillow only where printing runs

__all__ = ["issued_body", "print_status"]


def issued_body(runtime: SiteRuntime, ticket_id: str) -> dict[str, Any]:
    """A ticket as the API returns it once issued, called or looked up."""
    now = runtime.clock()
    ticket = runtime.floor.ticket(ticket_id)
    view = runtime.floor.ticket_view(ticket, now)
    offset = runtime.site.utc_offset_s
    return {
        **view,
        "issued_at": iso(ticket.issued_at, offset),
        "slot_at": None if ticket.slot_at is None else iso(ticket.slot_at, offset),
        "return_at": None if ticket.return_at is None else iso(ticket.return_at, offset),
        "status_url": f"/t/{runtime.site.id}/{ticket.id}",
    }


def print_status(request: Request, site: str, ticket_id: str) -> dict[str, Any]:
    """What became of the ticket's print (the kiosk tells the citizen to photograph a failed one)."""
    devices = getattr(request.app.state, "devices", None)
    printing: PrintService | None = getattr(devices, "printing", None)
    record = PrintRecord("none") if printing is None else printing.book.get(site, ticket_id)
    return record.as_json()
