"""What a printed ticket says: the validated value the controller builds for the printer."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlsplit

__all__ = [
    "PRIORITY_LABELS",
    "TicketPrint",
    "sample_ticket",
    "ticket_status_url",
]

# Legal priority groups of CONTRACT.md (issue ticket "priority"), Vietnamese first.
PRIORITY_LABELS: dict[str, tuple[str, str]] = {
    "elderly": ("người cao tuổi", "elderly"),
    "pregnant": ("phụ nữ mang thai", "pregnant woman"),
    "disabled": ("người khuyết tật", "person with disability"),
    "child": ("trẻ em", "child"),
    "merit": ("người có công với cách mạng", "person of national merit"),
}

# Ticket numbers are short codes ("2015", "A015"); anything longer would not fit
# the large type and is a bug upstream, not something to print.
_NUMBER = re.compile(r"[A-Z0-9][A-Z0-9-]{0,7}")
_MAX_TEXT = 200
_CHECK_IN = re.compile(r"[0-9]{1,6}-[2-9A-HJKMNP-Z]{6}")
_DOSSIER = re.compile(r"[0-9A-Z][0-9A-Z.-]{4,63}")


def _nfc(value: str, field: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{field} must be a string, not {type(value).__name__}")
    # Kiosk and site-file text may come decomposed (NFD); the font has
    # precomposed Vietnamese glyphs, so normalise once here.
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if not text:
        raise ValueError(f"{field} must not be empty")
    if len(text) > _MAX_TEXT:
        raise ValueError(f"{field} is longer than {_MAX_TEXT} characters")
    return text


@dataclass(frozen=True)
class TicketPrint:
    """Everything printed on one queue ticket; checked when made."""

    site_name: str
    number: str
    agency_name: str
    procedure_name: str
    counters: tuple[int, ...]
    people_ahead: int
    estimated_wait_s: int
    issued_at: datetime
    status_url: str
    priority: str | None = None
    return_at: datetime | None = None  # a number that returns later: when to come back
    check_in: str | None = None        # ... and its check-in code "NUMBER-CODE" (its QR then ends in #CODE)
    dossier: str | None = None         # a result to collect: the dossier code on the intake receipt
    dossier_early: bool = False        # ... asked for before its return date

    def __post_init__(self) -> None:
        for field in ("site_name", "agency_name", "procedure_name"):
            object.__setattr__(self, field, _nfc(getattr(self, field), field))
        if not isinstance(self.number, str) or not _NUMBER.fullmatch(self.number):
            raise ValueError(f"number {self.number!r} is not a ticket number like '2015'")
        if not isinstance(self.counters, tuple):
            raise TypeError("counters must be a tuple of counter numbers")
        for counter in self.counters:
            if isinstance(counter, bool) or not isinstance(counter, int) or counter < 1:
                raise ValueError(f"counter {counter!r} is not a positive counter number")
        if len(set(self.counters)) != len(self.counters):
            raise ValueError(f"counters {self.counters!r} repeat a counter")
        for field in ("people_ahead", "estimated_wait_s"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{field} must be a non-negative integer, not {value!r}")
        if not isinstance(self.issued_at, datetime) or self.issued_at.utcoffset() is None:
            # A naive time would print whatever zone the kiosk host happens to use.
            raise ValueError("issued_at must be a timezone-aware datetime")
        parts = urlsplit(self.status_url) if isinstance(self.status_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"status_url {self.status_url!r} is not an http(s) URL")
        if "/t/" not in parts.path:
            raise ValueError(f"status_url {self.status_url!r} is not a /t/{{site}}/{{id}} page")
        if self.priority is not None and self.priority not in PRIORITY_LABELS:
            known = ", ".join(PRIORITY_LABELS)
            raise ValueError(f"priority {self.priority!r} is not one of {known}")
        if self.return_at is not None and (not isinstance(self.return_at, datetime)
                                           or self.return_at.utcoffset() is None):
            raise ValueError("return_at must be a timezone-aware datetime")
        if self.check_in is not None and not _CHECK_IN.fullmatch(str(self.check_in)):
            raise ValueError(f"check_in {self.check_in!r} is not a code like '1005-K7QX9M'")
        if (self.check_in is None) != (self.return_at is None):
            raise ValueError("a ticket that returns later prints both when to come back and its check-in code")
        if self.dossier is not None and not _DOSSIER.fullmatch(str(self.dossier)):
            raise ValueError(f"dossier {self.dossier!r} is not a dossier code")

    @property
    def qr_text(self) -> str:
        """What the QR says: the status page; with the check-in code after "#" when the ticket returns later."""
        return self.status_url if self.check_in is None else f"{self.status_url}#{self.check_in}"


    def as_payload(self) -> dict[str, object]:
        """JSON-ready form, e.g. for the printer gateway's MQTT job topic."""
        return {
            "site_name": self.site_name,
            "number": self.number,
            "agency_name": self.agency_name,
            "procedure_name": self.procedure_name,
            "counters": list(self.counters),
            "people_ahead": self.people_ahead,
            "estimated_wait_s": self.estimated_wait_s,
            "issued_at": self.issued_at.isoformat(),
            "status_url": self.status_url,
            "priority": self.priority,
            "return_at": None if self.return_at is None else self.return_at.isoformat(),
            "check_in": self.check_in,
            "dossier": self.dossier,
            "dossier_early": self.dossier_early,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> TicketPrint:
        """Build a ticket from as_payload() output; ValueError names the bad field."""
        expected = {field.name for field in fields(cls)}
        missing = expected - set(payload) - {"priority", "return_at", "check_in", "dossier", "dossier_early"}
        unknown = set(payload) - expected
        if missing or unknown:
            raise ValueError(f"ticket payload: missing {sorted(missing)}, unknown {sorted(unknown)}")
        counters = payload["counters"]
        if not isinstance(counters, list | tuple):
            raise ValueError("ticket payload: counters must be a list")
        issued = payload["issued_at"]
        try:
            issued_at = datetime.fromisoformat(issued) if isinstance(issued, str) else issued
        except ValueError:
            raise ValueError(f"ticket payload: issued_at {issued!r} is not ISO-8601") from None
        back = payload.get("return_at")
        try:
            return_at = datetime.fromisoformat(back) if isinstance(back, str) else back
        except ValueError:
            raise ValueError(f"ticket payload: return_at {back!r} is not ISO-8601") from None
        values = {**payload, "counters": tuple(counters), "issued_at": issued_at, "return_at": return_at}
        try:
            return cls(**values)
        except TypeError as exc:
            raise ValueError(f"ticket payload: {exc}") from None


def ticket_status_url(public_base_url: str, site: str, ticket_id: str) -> str:
    """Build the ticket status page URL /t/{site}/{ticket_id} on the controller's public base."""
    parts = urlsplit(public_base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"public base URL {public_base_url!r} is not an http(s) URL")
    if not site or not ticket_id:
        raise ValueError("site and ticket_id must not be empty")
    base = public_base_url.rstrip("/")
    return f"{base}/t/{quote(site, safe='')}/{quote(ticket_id, safe='')}"


def sample_ticket(now: datetime | None = None) -> TicketPrint:
    """Return a realistic ticket for test prints, benchmarks and the simulator."""
    issued = now or datetime.now(timezone(timedelta(hours=7)))
    return TicketPrint(
        site_name="Trung tâm Phục vụ hành chính công tỉnh Bắc Ninh",
        number="2015",
        agency_name="Sở Tư pháp",
        procedure_name="Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam",
        counters=(3, 4, 5, 7),
        people_ahead=4,
        estimated_wait_s=540,
        issued_at=issued,
        status_url="http://127.0.0.1:8000/t/bac-ninh/01HZX3Q9K2",
        priority="elderly",
    )
