"""Appointments (hẹn giờ): bookable slots, booking codes and the check-in rule. Pure.

A slot is a half hour of the site's opening hours on an open day (a day whose
weekday factor in the site file is above 0). Each agency takes at most
`appointment_slot_capacity` bookings per slot; the persistent book
(controller/store/appointments.py) enforces the count atomically, this module
decides everything else: which slots exist, whether a date and time can be
booked now, what a code looks like, and what a check-in at the kiosk becomes.

Check-in (`check_in_outcome`): on the slot's day, from `appointment_early_s`
before the slot until `appointment_grace_s` after it, the appointment is kept
(a ticket with its slot, called within the grace window); later that day, or on
another day, the citizen gets a normal ticket; earlier than the window is refused
with the time the window opens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from controller.core.clock import hhmm, iso, local_day
from controller.core.errors import DomainError
from controller.core.site import Procedure, Site

__all__ = [
    "BOOKING_STATUSES",
    "CHECK_IN_OUTCOMES",
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "SLOT_S",
    "Booking",
    "booking_days",
    "check_day",
    "check_in_outcome",
    "choose_slot",
    "day_slots",
    "day_start",
    "idempotency_key",
    "new_code",
    "normalise_code",
    "open_days",
    "slot_minutes",
    "slot_times",
]

# No I, L, O, 0 or 1: a code read aloud or typed from a phone screen has one reading.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
SLOT_S = 1800
BOOKING_STATUSES = ("booked", "cancelled")
CHECK_IN_OUTCOMES = ("kept", "late", "other_day")


def _bad(code: str, message: str, status: int = 422) -> DomainError:
    return DomainError(code, message, status)


def normalise_code(text: str) -> str:
    """A code as typed (any case, spaces or dashes) in its stored form; DomainError when it cannot be one."""
    code = "".join(ch for ch in text.upper() if ch not in " -")
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        raise _bad("invalid_code", f"Mã hẹn gồm {CODE_LENGTH} ký tự (chữ và số) / "
                                   f"an appointment code is {CODE_LENGTH} letters and digits")
    return code


def new_code(randbelow: Callable[[int], int]) -> str:
    """A fresh code from a random source (the caller passes secrets.randbelow; tests a seeded one)."""
    return "".join(CODE_ALPHABET[randbelow(len(CODE_ALPHABET))] for _ in range(CODE_LENGTH))


def idempotency_key(booking_id: str) -> str:
    """The ticket idempotency key of a booking's check-in: by booking id, never by code.

    Ticket events are published on the live stream; the code is what lets someone
    cancel, so it must not appear there.
    """
    return f"appointment:{booking_id}"


@dataclass(frozen=True, slots=True)
class Booking:
    """One appointment in the book."""

    site: str
    code: str
    id: str                 # internal id: names the booking in events (the code does not)
    procedure: str
    agency: str
    slot_at: float          # epoch seconds of the slot's start
    booked_at: float
    status: str = "booked"
    cancelled_at: float | None = None

    def __post_init__(self) -> None:
        normalise_code(self.code)
        if self.status not in BOOKING_STATUSES:
            raise ValueError(f"booking status must be one of {BOOKING_STATUSES}, got {self.status!r}")
        if not self.id or not self.site:
            raise ValueError("a booking needs a site and an id")

    def to_dict(self) -> dict[str, Any]:
        """The stored form."""
        return {"site": self.site, "code": self.code, "id": self.id, "procedure": self.procedure,
                "agency": self.agency, "slot_at": self.slot_at, "booked_at": self.booked_at,
                "status": self.status, "cancelled_at": self.cancelled_at}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Booking:
        cancelled = data.get("cancelled_at")
        return cls(site=str(data["site"]), code=str(data["code"]), id=str(data["id"]),
                   procedure=str(data["procedure"]), agency=str(data["agency"]),
                   slot_at=float(data["slot_at"]), booked_at=float(data["booked_at"]),
                   status=str(data.get("status", "booked")),
                   cancelled_at=None if cancelled in (None, "") else float(cancelled))


def slot_minutes(site: Site) -> tuple[int, ...]:
    """Start of every bookable half hour of a day, in minutes from local midnight.

    A slot lies wholly inside an opening period and starts before the last
    ticket of the day can be issued (closing minus the issue cut-off).
    """
    last_issue_s = site.closing_s - site.issue_cutoff_s
    out: list[int] = []
    for start, end in site.hours:
        minute = start
        while minute + SLOT_S // 60 <= end and minute * 60 < last_issue_s:
            out.append(minute)
            minute += SLOT_S // 60
    return tuple(out)


def slot_times(site: Site, day: dt.date) -> tuple[float, ...]:
    """Start (epoch) of every bookable slot of a day, whether passed or not."""
    midnight = _midnight(day, site)
    return tuple(midnight + m * 60 for m in slot_minutes(site))


def _midnight(day: dt.date, site: Site) -> float:
    tz = dt.timezone(dt.timedelta(seconds=site.utc_offset_s))
    return dt.datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()


def _today(site: Site, now: float) -> dt.date:
    return dt.date.fromisoformat(local_day(now, site.utc_offset_s))


def _open_on(site: Site, day: dt.date) -> bool:
    return site.arrivals.weekday_factor[day.weekday()] > 0


def day_start(site: Site, day: str) -> float:
    """When a day's first opening period starts (epoch seconds)."""
    return _midnight(dt.date.fromisoformat(day), site) + 60 * site.hours[0][0]


def booking_days(site: Site, now: float) -> list[str]:
    """Open days (YYYY-MM-DD) from today to the booking horizon that still have a slot ahead."""
    today = _today(site, now)
    out = []
    for offset in range(site.appointment_days_ahead + 1):
        day = today + dt.timedelta(days=offset)
        if _open_on(site, day) and _future_slots(site, day, now):
            out.append(day.isoformat())
    return out


def open_days(site: Site, now: float, days_ahead: int) -> list[str]:
    """Days (YYYY-MM-DD) the site opens from today to `days_ahead` after it; today while tickets may be issued."""
    today = _today(site, now)
    last_issue = _midnight(today, site) + site.closing_s - site.issue_cutoff_s
    return [day.isoformat() for offset in range(days_ahead + 1)
            if _open_on(site, day := today + dt.timedelta(days=offset)) and (offset > 0 or now < last_issue)]


def _future_slots(site: Site, day: dt.date, now: float) -> list[tuple[str, float]]:
    midnight = _midnight(day, site)
    return [(hhmm(m), midnight + m * 60) for m in slot_minutes(site) if midnight + m * 60 > now]


def check_day(site: Site, date: str, now: float, days_ahead: int) -> dt.date:
    """A date from today to `days_ahead` days after it on which the site opens; DomainError says why not.

    The rule of appointments (`appointment_days_ahead`) and of numbers taken for a later day
    (`remote.days_ahead`).
    """
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        raise _bad("invalid_date", "Ngày phải có dạng YYYY-MM-DD / date must be YYYY-MM-DD") from None
    today = _today(site, now)
    if day < today:
        raise DomainError("date_passed", "Ngày này đã qua / this date has passed", 409)
    if day > today + dt.timedelta(days=days_ahead):
        raise DomainError("date_too_far", f"Chỉ nhận trước tối đa {days_ahead} ngày / "
                                          f"at most {days_ahead} days ahead", 409)
    if not _open_on(site, day):
        raise DomainError("site_closed_that_day", f"Trung tâm không làm việc ngày {day:%d/%m/%Y} (ngày nghỉ) / "
                                                  f"the centre is closed on {day.isoformat()}", 409)
    return day


def _parse_day(site: Site, date: str, now: float) -> dt.date:
    return check_day(site, date, now, site.appointment_days_ahead)


def day_slots(site: Site, date: str, now: float) -> list[tuple[str, float]]:
    """(HH:MM, epoch) of the slots of a date that have not started yet; DomainError for a date that cannot be booked."""
    if site.appointment_slot_capacity <= 0:
        raise DomainError("appointments_disabled", "Trung tâm chưa nhận đặt lịch hẹn / "
                                                   "this centre takes no appointments", 409)
    return _future_slots(site, _parse_day(site, date, now), now)


def choose_slot(site: Site, procedure_id: str, date: str, time: str, now: float) -> tuple[Procedure, float]:
    """The procedure and slot start a booking asks for, checked; DomainError says what is wrong."""
    procedure = site.procedures.get(procedure_id)
    if procedure is None:
        raise DomainError("unknown_procedure", f"no procedure {procedure_id!r} at site {site.id}", 404)
    if procedure.step_only:
        raise _bad("not_a_kiosk_procedure", f"{procedure.id} is a journey step, it cannot be booked")
    for label, at in day_slots(site, date, now):
        if label == time:
            return procedure, at
    if time not in {hhmm(m) for m in slot_minutes(site)}:
        raise _bad("invalid_slot", "Giờ hẹn phải là đầu một nửa giờ trong giờ làm việc (ví dụ 08:00, 08:30) / "
                                   "a slot starts on the half hour within opening hours")
    raise DomainError("slot_passed", "Khung giờ này đã qua / this slot has already started", 409)


def check_in_outcome(site: Site, slot_at: float, now: float) -> str:
    """What a check-in at `now` makes of an appointment: kept, late or other_day (DomainError: too early)."""
    if local_day(slot_at, site.utc_offset_s) != local_day(now, site.utc_offset_s):
        return "other_day"
    opens = slot_at - site.appointment_early_s
    if now < opens:
        at = iso(opens, site.utc_offset_s)[11:16]
        raise DomainError("check_in_too_early",
                          f"Bạn đến sớm: có thể xác nhận lịch hẹn từ {at}, hoặc lấy số thường ngay / "
                          f"too early: check in from {at}, or take a normal number now", 409)
    return "kept" if now <= slot_at + site.appointment_grace_s else "late"
