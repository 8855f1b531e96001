"""Printed tickets from the floor, what became of each print, and printer alerts. Pure.

    ticket_print()         a kiosk ticket as devices.printer.TicketPrint (what the paper says)
    PrintBook              per ticket: pending / printed / failed (reason) / sent; "none" otherwise
    printer_alert_events() alert.raised (code printer_problem) for a printer whose logged
                           device.changed says it cannot print; the floor resolves that alert
                           itself when a later device.changed says the printer is healthy
                           (controller/core/state.py), as opening a counter resolves a
                           standby recommendation

The ticket is committed before anything is printed, so a print failure never
loses it: the kiosk shows it on screen with its QR, and the status says why.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final, Literal

from controller.core.events import Event
from controller.core.floor import Floor
from devices.printer.ticket import TicketPrint, ticket_status_url

__all__ = [
    "PRINTER_ALERT_CODE",
    "PROBLEM_WORDS",
    "PrintBook",
    "PrintRecord",
    "PrintState",
    "printer_alert_events",
    "printer_alert_id",
    "printer_findings",
    "printer_healthy",
    "printer_problem",
    "printer_problems",
    "printer_refusal",
    "ticket_print",
]

PrintState = Literal["none", "pending", "printed", "failed", "sent"]
PRINTER_ALERT_CODE: Final = "printer_problem"
BOOK_SIZE: Final = 20_000  # a big centre issues a few thousand tickets a day


def ticket_print(floor: Floor, ticket_id: str, base_url: str, now: float,
                 check_code: Callable[[str, str], str] | None = None) -> TicketPrint:
    """What the printer puts on paper for a ticket just issued (ValueError if it cannot).

    A number that returns later prints when to come back and its check-in code (`check_code`:
    (site, ticket) -> the code; its QR then reads as the code at the kiosk's scanner); a result
    ticket prints its dossier code.
    """
    site = floor.site
    ticket = floor.ticket(ticket_id)
    position = floor.position(ticket)
    estimate = floor.estimated_wait(ticket, now)
    zone = timezone(timedelta(seconds=site.utc_offset_s))
    check_in = None
    if ticket.return_at is not None and check_code is not None:
        check_in = f"{ticket.number}-{check_code(site.id, ticket.id)}"
    dossier = ticket.dossier or {}
    return TicketPrint(
        site_name=site.name,
        number=ticket.number,
        agency_name=site.agencies[ticket.agency].name,
        procedure_name=site.procedures[ticket.procedure].name,
        counters=tuple(c.id for c in site.counters_for(ticket.agency)),
        people_ahead=max(0, (position or 1) - 1),
        estimated_wait_s=0 if estimate is None else round(estimate),
        issued_at=datetime.fromtimestamp(ticket.issued_at, UTC).astimezone(zone),
        status_url=ticket_status_url(base_url, site.id, ticket.id),
        priority=ticket.priority,
        return_at=None if ticket.return_at is None else datetime.fromtimestamp(ticket.return_at, UTC).astimezone(zone),
        check_in=check_in,
        dossier=dossier.get("code"),
        dossier_early=bool(dossier.get("early")),
    )


@dataclass(frozen=True, slots=True)
class PrintRecord:
    """What became of the print of one ticket."""

    status: PrintState
    reason: str | None = None
    device: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The "print" object of GET /api/v1/sites/{site}/tickets/{id}."""
        return {"status": self.status, "reason": self.reason, "device": self.device}


class PrintBook:
    """Print outcomes by (site, ticket), the oldest forgotten past `size`."""

    def __init__(self, size: int = BOOK_SIZE) -> None:
        self.size = size
        self._records: OrderedDict[tuple[str, str], PrintRecord] = OrderedDict()

    def set(self, site: str, ticket: str, record: PrintRecord) -> None:
        """Record (or update) the print of a ticket."""
        self._records[(site, ticket)] = record
        self._records.move_to_end((site, ticket))
        while len(self._records) > self.size:
            self._records.popitem(last=False)

    def get(self, site: str, ticket: str) -> PrintRecord:
        """The print of a ticket; status "none" when nothing was sent to a printer."""
        return self._records.get((site, ticket), PrintRecord("none"))

    def counts(self) -> dict[str, int]:
        """How many prints are in each state."""
        out: dict[str, int] = {}
        for record in self._records.values():
            out[record.status] = out.get(record.status, 0) + 1
        return out


def printer_alert_id(device: str) -> str:
    """The id of the alert about one printer."""
    return f"printer-{device}"


def printer_problem(data: Mapping[str, Any]) -> bool:
    """Whether device.changed data says a printer cannot print (offline, no paper, cover open...)."""
    if data.get("status") == "offline":
        return True
    health = data.get("health")
    return data.get("status") == "online" and isinstance(health, Mapping) and health.get("can_print") is False


def printer_healthy(data: Mapping[str, Any]) -> bool:
    """Whether device.changed data says a printer is back: online and not unable to print."""
    health = data.get("health")
    can_print = health.get("can_print") if isinstance(health, Mapping) else None
    return data.get("status") == "online" and can_print is not False


# what a printer's health can say is wrong, in words (Vietnamese first); the monitor words it by code
PROBLEM_WORDS: Final[dict[str, tuple[str, str]]] = {
    "offline": ("mất kết nối", "offline"),
    "paper_out": ("hết giấy", "paper out"),
    "paper_low": ("sắp hết giấy", "paper low"),
    "cover_open": ("nắp mở", "cover open"),
    "error": ("lỗi", "error"),
    "cannot_print": ("không in được", "cannot print"),
}


def printer_problems(data: Mapping[str, Any]) -> list[str]:
    """What device.changed data says is wrong with a printer, as codes of PROBLEM_WORDS."""
    health = data.get("health")
    health = health if isinstance(health, Mapping) else {}
    if data.get("status") == "offline":
        return ["offline"]
    problems = []
    if health.get("paper") == "out":
        problems.append("paper_out")
    elif health.get("paper") == "near_end":
        problems.append("paper_low")
    if health.get("cover_open"):
        problems.append("cover_open")
    if health.get("error"):
        problems.append("error")
    if health.get("online") is False and not problems:
        problems.append("offline")
    return problems or ["cannot_print"]


def printer_findings(data: Mapping[str, Any]) -> list[str]:
    """What an online printer's health says is wrong or running low (codes of PROBLEM_WORDS); [] when all is well.

    Availability (offline, never heard from) is the device's status, not a finding here."""
    if data.get("status") != "online":
        return []
    found = [p for p in printer_problems(data) if p != "cannot_print"]
    return found or (["cannot_print"] if printer_problem(data) else [])


def printer_refusal(data: Mapping[str, Any]) -> str | None:
    """Why a printer cannot take a job now, in words (Vietnamese first); None when it can, as far as is known."""
    return _reason(data) if printer_problem(data) else None


def _reason(data: Mapping[str, Any]) -> str:
    health = data.get("health")
    health = health if isinstance(health, Mapping) else {}
    if data.get("status") == "offline":
        return str(health.get("reason") or health.get("error") or "offline")
    words = {"paper_out": "hết giấy / paper out", "cover_open": "nắp mở / cover open", "offline": "offline",
             "error": str(health.get("error"))}
    return ", ".join(words[p] for p in printer_problems(data) if p in words) or "cannot print"


def _message(device: str, problems: list[str], data: Mapping[str, Any]) -> str:
    health = data.get("health")
    detail = health.get("error") or health.get("reason") if isinstance(health, Mapping) else None
    vi = ", ".join(PROBLEM_WORDS[p][0] for p in problems)
    en = ", ".join(PROBLEM_WORDS[p][1] for p in problems)
    if detail:
        vi, en = f"{vi} ({detail})", f"{en} ({detail})"
    return f"Máy in {device}: {vi} / Printer {device}: {en}"


def printer_alert_events(
    changes: Iterable[Mapping[str, Any]], alerts: Mapping[str, Mapping[str, Any]], now: float
) -> list[Event]:
    """alert.raised for printers whose change says they cannot print, unless already alerted."""
    out: list[Event] = []
    for data in changes:
        if data.get("kind") != "printer" or not printer_problem(data):
            continue
        device = str(data.get("device"))
        alert_id = printer_alert_id(device)
        existing = alerts.get(alert_id)
        # an alert still open (or acknowledged by a manager) is not raised again
        if existing is not None and not existing.get("resolved"):
            continue
        problems = printer_problems(data)
        out.append(Event("alert.raised", now, {
            "alert": alert_id, "code": PRINTER_ALERT_CODE, "device": device, "reason": _reason(data),
            "problems": problems, "message": _message(device, problems, data),
        }))
    return out
