"""The site model: agencies, procedures, counters, hours, targets, arrival profile.

`parse_site` turns the plain dict of a site TOML file into frozen, validated
values. It is pure: reading files and resolving time zones happen in
controller/sitefile.py. Every refusal names the source, the field and the reason.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from controller.core.errors import SiteError
from controller.core.feedback_settings import FeedbackSettings, parse_feedback

__all__ = [
    "AGENCY_ROLES",
    "Agency",
    "ArrivalProfile",
    "Counter",
    "PlannedShift",
    "Procedure",
    "RemoteRules",
    "Site",
    "Targets",
    "parse_site",
]

AGENCY_ROLES = ("service", "fee", "result", "guidance")
# The keys each table of a site file may have: anything else is a typo (a misspelt `standby` or
# `on_the_spot_min` would otherwise be dropped silently and the site run half-configured).
_KEYS: dict[str, frozenset[str]] = {
    "": frozenset({"site", "arrivals", "agency", "procedure", "counter", "device", "voice", "scenario",
                   "feedback", "remote"}),
    "site": frozenset({
        "id", "name", "name_en", "level", "timezone", "hours", "expected_daily_visits",
        "wait_target_transaction_min", "wait_target_visit_min", "satisfaction_target", "rating_levels",
        "recall_limit", "no_show_hold_min", "auto_open_standby", "appointment_grace_min",
        "appointment_slot_capacity", "appointment_early_min", "appointment_days_ahead", "issue_cutoff_min",
        "fee_procedure", "result_procedure", "result_return_procedure", "elderly_priority_age",
    }),
    "arrivals": frozenset({"half_hour_weights", "weekday_factor", "priority_share", "appointment_share",
                           "abandon_after_min"}),
    "agency": frozenset({"id", "name", "name_en", "number_block", "role", "daily_cap", "cross_train"}),
    "procedure": frozenset({"id", "agency", "name", "name_en", "share", "service", "service_cv",
                            "on_the_spot_min", "fee", "step_only", "papers", "papers_en"}),
    "counter": frozenset({"id", "ids", "serves", "priority", "standby", "fixed", "breaks", "standby_plan"}),
    "standby_plan": frozenset({"from", "to", "serves"}),
    "remote": frozenset({"share", "per_person_day", "per_person_agency", "code_ttl_min", "code_attempts",
                         "code_lock_min", "grace_min", "more_time_places", "days_ahead"}),
}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class Agency:
    """An agency with counters in the hall and its ticket number block."""

    id: str
    name: str
    number_block: int
    role: str = "service"
    name_en: str = ""
    daily_cap: int | None = None
    cross_train: bool = True  # False: its procedures need its own specialists (no counter is trained for it)

    @property
    def first_number(self) -> int:
        return self.number_block + 1

    @property
    def last_number(self) -> int:
        return self.number_block + 999


@dataclass(frozen=True, slots=True)
class Procedure:
    """An administrative procedure as chosen at the kiosk, or a journey step."""

    id: str
    agency: str
    name: str
    share: float
    service_s: float
    service_cv: float
    on_the_spot_s: float | None = None
    fee: bool = False
    step_only: bool = False
    papers: tuple[str, ...] = ()
    name_en: str = ""
    papers_en: tuple[str, ...] = ()  # the same papers in English, one for one (empty: not translated)


@dataclass(frozen=True, slots=True)
class PlannedShift:
    """A planned shift of a standby counter: staffed [start, end) (local minutes) for some of its agencies."""

    start_min: int
    end_min: int
    serves: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Counter:
    """A numbered counter and the agencies it serves, home agency first."""

    id: int
    serves: tuple[str, ...]
    priority: bool = False
    standby: bool = False
    fixed: bool = False                               # the layout advisor (motcua plan) leaves it as it is
    breaks: tuple[tuple[int, int], ...] | None = None  # staff breaks [start, end) in local minutes; None: staggered
    standby_plan: tuple[PlannedShift, ...] = ()        # standby counters: when they are staffed, for whom

    @property
    def home_agency(self) -> str:
        return self.serves[0]


@dataclass(frozen=True, slots=True)
class Targets:
    """The province's service targets, in seconds and as a share."""

    transaction_wait_s: float = 15 * 60
    visit_wait_s: float = 30 * 60
    satisfaction: float = 0.95


@dataclass(frozen=True, slots=True)
class ArrivalProfile:
    """Demand shape used by the simulator and the forecaster."""

    half_hour_weights: tuple[float, ...]
    weekday_factor: tuple[float, ...]
    priority_share: float
    appointment_share: float
    abandon_after_s: float


@dataclass(frozen=True, slots=True)
class RemoteRules:
    """Numbers taken from a phone (`[remote]` in the site file): limits, codes, the held-aside grace."""

    share: float = 0.5               # of each agency's half-hour capacity; 0: no numbers from phones
    per_person_day: int = 2          # numbers one phone may take a day, at this site
    per_person_agency: int = 1       # ... of them for one agency
    code_ttl_s: float = 5 * 60       # a texted one-time code is good this long
    code_attempts: int = 5           # wrong codes before the phone is locked
    code_lock_s: float = 15 * 60
    grace_s: float = 10 * 60         # held aside this long after its turn passed, then expired
    more_time_places: int = 3        # "I need more time" moves the place back this many places, once
    days_ahead: int = 6              # numbers may be taken for today or this many days after it


@dataclass(frozen=True)
class Site:
    """One service centre: everything the core needs to know about it."""

    id: str
    name: str
    level: str
    timezone: str
    utc_offset_s: int
    hours: tuple[tuple[int, int], ...]  # minutes from local midnight, [open, close)
    expected_daily_visits: float
    targets: Targets
    arrivals: ArrivalProfile
    agencies: Mapping[str, Agency]
    procedures: Mapping[str, Procedure]
    counters: Mapping[int, Counter]
    rating_levels: int = 4
    recall_limit: int = 2
    no_show_hold_s: float = 120.0
    auto_open_standby: bool = False
    appointment_grace_s: float = 10 * 60
    appointment_slot_capacity: int = 4
    appointment_early_s: float = 30 * 60    # how long before its slot an appointment may check in
    appointment_days_ahead: int = 14        # how far ahead slots can be booked (days after today)
    issue_cutoff_s: float = 15 * 60
    fee_procedure: str | None = None
    result_procedure: str | None = None
    # Collecting a result given a later date (a receipt's QR at the kiosk): named, or the only kiosk
    # procedure of a result agency (None: none, or several and none named)
    result_return_procedure: str | None = None
    elderly_priority_age: int = 75          # the ID card's date of birth offers the elderly priority from this age
    name_en: str = ""
    remote: RemoteRules = RemoteRules()
    devices: tuple[Any, ...] = ()
    # reasons at a low rating, feedback and complaints (the [feedback] table)
    feedback: FeedbackSettings = field(default_factory=FeedbackSettings)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def counters_for(self, agency: str) -> tuple[Counter, ...]:
        """Counters that serve an agency, in counter order."""
        return self._counters_by_agency.get(agency, ())

    @cached_property
    def _counters_by_agency(self) -> dict[str, tuple[Counter, ...]]:
        return {a: tuple(c for c in self.counters.values() if a in c.serves) for a in self.agencies}

    def kiosk_procedures(self) -> tuple[Procedure, ...]:
        """Procedures a citizen may choose at the kiosk (journey steps excluded)."""
        return tuple(p for p in self.procedures.values() if not p.step_only)

    def journey(self, procedure_id: str) -> tuple[str, ...]:
        """The steps of a visit for a procedure: intake, then fee, then on-the-spot result."""
        journey = self._journeys.get(procedure_id)
        return journey if journey is not None else self._journey(procedure_id)

    @cached_property
    def kiosk_share(self) -> dict[str, float]:
        """Each agency's share of the citizens choosing at the kiosk (shares normalised to 1)."""
        shares: dict[str, float] = {}
        for p in self.kiosk_procedures():
            shares[p.agency] = shares.get(p.agency, 0.0) + p.share
        total = sum(p.share for p in self.kiosk_procedures()) or 1.0
        return {agency: share / total for agency, share in shares.items()}

    @cached_property
    def break_agencies(self) -> frozenset[str]:
        """Agencies served by a counter whose breaks the site file lists (the tick may advise deferring them)."""
        return frozenset(a for c in self.counters.values() if c.breaks for a in c.serves)

    @cached_property
    def planned_counters(self) -> tuple[Counter, ...]:
        """Counters with listed breaks or planned standby shifts: the tick follows their plan."""
        return tuple(c for c in self.counters.values() if c.breaks or c.standby_plan)

    @cached_property
    def standby_agencies(self) -> frozenset[str]:
        """Agencies that some standby counter serves (enforcement can only open those)."""
        return frozenset(a for c in self.counters.values() if c.standby for a in c.serves)

    @cached_property
    def _journeys(self) -> dict[str, tuple[str, ...]]:
        # Asked at every ticket issue; the site never changes, so work each journey out once.
        return {p: self._journey(p) for p in self.procedures}

    def _journey(self, procedure_id: str) -> tuple[str, ...]:
        proc = self.procedures[procedure_id]
        steps = [proc.id]
        if proc.fee and self.fee_procedure is not None:
            steps.append(self.fee_procedure)
        if proc.on_the_spot_s is not None and self.result_procedure is not None:
            steps.append(self.result_procedure)
        return tuple(steps)

    @cached_property
    def half_hour_starts(self) -> tuple[int, ...]:
        """Local minute at which each entry of arrivals.half_hour_weights begins: the open half hours of
        each period in turn (a lunch break has none; a period's last one may be short)."""
        return tuple(start + 30 * j for start, end in self.hours for j in range((end - start + 29) // 30))

    def half_hour_index(self, local_s: float) -> int | None:
        """Index in arrivals.half_hour_weights of the open half hour at `local_s` (None while closed)."""
        minute = local_s / 60
        if not any(start <= minute < end for start, end in self.hours):
            return None
        return bisect.bisect_right(self.half_hour_starts, minute) - 1

    @property
    def opening_s(self) -> int:
        return self.hours[0][0] * 60

    @property
    def closing_s(self) -> int:
        return self.hours[-1][1] * 60


class _Reader:
    """Typed field access with errors that name the source and the field."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, reason: str) -> SiteError:
        return SiteError(self.source, where, reason)

    def known_keys(self, data: Mapping[str, Any], kind: str, where: str) -> None:
        """Refuse a key the format does not have in this kind of table (naming it)."""
        for key in sorted(set(data) - _KEYS[kind], key=str):
            raise self.fail(f"{where}.{key}" if where else str(key), "unknown field")

    def table(self, data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
        value = data.get(key)
        if not isinstance(value, Mapping):
            raise self.fail(where, "missing table" if value is None else "must be a table")
        return value

    def tables(self, data: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.fail(where, "must be an array of tables")
        return value

    def text(self, data: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
        value = data.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where}.{key}", "missing" if value is None else "must be a non-empty string")
        return value

    def optional_text(self, data: Mapping[str, Any], key: str, where: str) -> str:
        """A text a file may leave out (an English name): "" when absent, else a string."""
        value = data.get(key, "")
        if not isinstance(value, str):
            raise self.fail(f"{where}.{key}", f"must be a string, got {value!r}")
        return value.strip()

    def ident(self, data: Mapping[str, Any], key: str, where: str) -> str:
        value = self.text(data, key, where)
        if not _ID.match(value):
            raise self.fail(f"{where}.{key}", f"{value!r} is not a valid id (letters, digits, - _ .)")
        return value

    def number(
        self,
        data: Mapping[str, Any],
        key: str,
        where: str,
        *,
        default: float | None = None,
        low: float | None = None,
        high: float | None = None,
        strict_low: bool = False,
    ) -> float:
        value = data.get(key, default)
        if value is None:
            raise self.fail(f"{where}.{key}", "missing")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"{where}.{key}", f"must be a number, got {value!r}")
        if low is not None and (value <= low if strict_low else value < low):
            raise self.fail(f"{where}.{key}", f"must be {'>' if strict_low else '>='} {low}, got {value}")
        if high is not None and value > high:
            raise self.fail(f"{where}.{key}", f"must be <= {high}, got {value}")
        return float(value)

    def integer(self, data: Mapping[str, Any], key: str, where: str, *, default: int | None = None,
                low: int | None = None, high: int | None = None) -> int:
        value = data.get(key, default)
        if value is None:
            raise self.fail(f"{where}.{key}", "missing")
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"{where}.{key}", f"must be an integer, got {value!r}")
        if low is not None and value < low:
            raise self.fail(f"{where}.{key}", f"must be >= {low}, got {value}")
        if high is not None and value > high:
            raise self.fail(f"{where}.{key}", f"must be <= {high}, got {value}")
        return value

    def flag(self, data: Mapping[str, Any], key: str, where: str, default: bool = False) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(f"{where}.{key}", f"must be true or false, got {value!r}")
        return value

    def floats(self, data: Mapping[str, Any], key: str, where: str) -> tuple[float, ...]:
        value = data.get(key)
        if not isinstance(value, list) or not value:
            raise self.fail(f"{where}.{key}", "must be a non-empty array of numbers")
        out = []
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, int | float) or item < 0:
                raise self.fail(f"{where}.{key}[{i}]", f"must be a number >= 0, got {item!r}")
            out.append(float(item))
        return tuple(out)

    def strings(self, data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(f"{where}.{key}", "must be an array of non-empty strings")
        return tuple(value)

    def minutes(self, text: Any, where: str) -> int:
        if not isinstance(text, str) or not _HHMM.match(text):
            raise self.fail(where, f"must be a time HH:MM, got {text!r}")
        hh, mm = text.split(":")
        return int(hh) * 60 + int(mm)


def parse_site(data: Mapping[str, Any], source: str, utc_offset_s: int = 7 * 3600) -> Site:
    """Validate the dict of one site file and build the Site; raise SiteError naming the field."""
    r = _Reader(source)
    r.known_keys(data, "", "")
    site_t = r.table(data, "site", "site")
    r.known_keys(site_t, "site", "site")
    site_id = r.ident(site_t, "id", "site")
    hours_raw = site_t.get("hours")
    if not isinstance(hours_raw, list) or not hours_raw:
        raise r.fail("site.hours", "must be a non-empty array of [open, close] pairs")
    hours: list[tuple[int, int]] = []
    for i, pair in enumerate(hours_raw):
        if not isinstance(pair, list) or len(pair) != 2:
            raise r.fail(f"site.hours[{i}]", "must be a pair [\"HH:MM\", \"HH:MM\"]")
        start, end = r.minutes(pair[0], f"site.hours[{i}][0]"), r.minutes(pair[1], f"site.hours[{i}][1]")
        if end <= start:
            raise r.fail(f"site.hours[{i}]", "closes before it opens")
        if hours and start < hours[-1][1]:
            raise r.fail(f"site.hours[{i}]", "overlaps or precedes the previous period")
        hours.append((start, end))
    cutoff_min = r.number(site_t, "issue_cutoff_min", "site", default=15, low=0)
    if len(hours) == 1 and hours[0][1] - hours[0][0] <= cutoff_min:
        # Tickets stop the cut-off before the last closing: a site open for less could never issue one.
        raise r.fail("site.issue_cutoff_min", f"{cutoff_min:g} minutes before closing leaves no time to issue "
                                               f"tickets in a {hours[0][1] - hours[0][0]}-minute day")

    targets = Targets(
        transaction_wait_s=60
        * r.number(site_t, "wait_target_transaction_min", "site", default=15, low=0, strict_low=True),
        visit_wait_s=60 * r.number(site_t, "wait_target_visit_min", "site", default=30, low=0, strict_low=True),
        satisfaction=r.number(site_t, "satisfaction_target", "site", default=0.95, low=0, high=1),
    )
    if targets.visit_wait_s < targets.transaction_wait_s:
        raise r.fail("site.wait_target_visit_min", "must not be below the transaction target")

    rating_levels = r.integer(site_t, "rating_levels", "site", default=4, low=3, high=5)
    feedback = parse_feedback(data, source, rating_levels)
    agencies = _parse_agencies(r, data)
    procedures = _parse_procedures(r, data, agencies)
    counters = _parse_counters(r, data, agencies, hours)
    arrivals = _parse_arrivals(r, data, hours)

    fee_procedure = _journey_step(r, site_t, "fee_procedure", procedures, agencies, "fee")
    result_procedure = _journey_step(r, site_t, "result_procedure", procedures, agencies, "result",
                                     exclude=fee_procedure)
    for pid, proc in procedures.items():
        if proc.fee and fee_procedure is None:
            raise r.fail(f"procedure[{pid}].fee", "the site has no fee step (a step_only procedure of a fee agency)")
        if proc.on_the_spot_s is not None and result_procedure is None:
            raise r.fail(f"procedure[{pid}].on_the_spot_min", "the site has no on-the-spot result step")
    for agency in agencies.values():
        if not any(agency.id in c.serves for c in counters.values()):
            raise r.fail(f"agency[{agency.id}]", "no counter serves this agency")

    return Site(
        id=site_id,
        name=r.text(site_t, "name", "site"),
        name_en=r.optional_text(site_t, "name_en", "site"),
        level=str(site_t.get("level", "province")),
        timezone=str(site_t.get("timezone", "Asia/Ho_Chi_Minh")),
        utc_offset_s=utc_offset_s,
        hours=tuple(hours),
        expected_daily_visits=r.number(site_t, "expected_daily_visits", "site", default=100, low=0),
        targets=targets,
        arrivals=arrivals,
        agencies=agencies,
        procedures=procedures,
        counters=counters,
        rating_levels=rating_levels,
        recall_limit=r.integer(site_t, "recall_limit", "site", default=2, low=1, high=10),
        no_show_hold_s=60 * r.number(site_t, "no_show_hold_min", "site", default=2, low=0),
        auto_open_standby=r.flag(site_t, "auto_open_standby", "site", default=False),
        appointment_grace_s=60 * r.number(site_t, "appointment_grace_min", "site", default=10, low=0),
        appointment_slot_capacity=r.integer(site_t, "appointment_slot_capacity", "site", default=4, low=0),
        appointment_early_s=60 * r.number(site_t, "appointment_early_min", "site", default=30, low=0, high=240),
        appointment_days_ahead=r.integer(site_t, "appointment_days_ahead", "site", default=14, low=0, high=90),
        issue_cutoff_s=60 * cutoff_min,
        fee_procedure=fee_procedure,
        result_procedure=result_procedure,
        result_return_procedure=_result_return(r, site_t, procedures, agencies),
        elderly_priority_age=r.integer(site_t, "elderly_priority_age", "site", default=75, low=50, high=100),
        feedback=feedback,
        remote=_parse_remote(r, data),
        raw=data,
    )


def _parse_remote(r: _Reader, data: Mapping[str, Any]) -> RemoteRules:
    table = r.table(data, "remote", "remote") if "remote" in data else {}
    r.known_keys(table, "remote", "remote")
    return RemoteRules(
        share=r.number(table, "share", "remote", default=0.5, low=0, high=1),
        per_person_day=r.integer(table, "per_person_day", "remote", default=2, low=1, high=20),
        per_person_agency=r.integer(table, "per_person_agency", "remote", default=1, low=1, high=20),
        code_ttl_s=60 * r.number(table, "code_ttl_min", "remote", default=5, low=1, high=60),
        code_attempts=r.integer(table, "code_attempts", "remote", default=5, low=1, high=20),
        code_lock_s=60 * r.number(table, "code_lock_min", "remote", default=15, low=1, high=24 * 60),
        grace_s=60 * r.number(table, "grace_min", "remote", default=10, low=0, high=120),
        more_time_places=r.integer(table, "more_time_places", "remote", default=3, low=1, high=50),
        days_ahead=r.integer(table, "days_ahead", "remote", default=6, low=0, high=30),
    )


def _parse_agencies(r: _Reader, data: Mapping[str, Any]) -> dict[str, Agency]:
    agencies: dict[str, Agency] = {}
    blocks: dict[int, str] = {}
    for i, item in enumerate(r.tables(data, "agency", "agency")):
        where = f"agency[{i}]"
        r.known_keys(item, "agency", where)
        agency_id = r.ident(item, "id", where)
        if agency_id in agencies:
            raise r.fail(f"{where}.id", f"duplicate agency {agency_id!r}")
        block = r.integer(item, "number_block", where, low=1000)
        if block % 1000:
            raise r.fail(f"{where}.number_block", f"must be a multiple of 1000, got {block}")
        if block in blocks:
            raise r.fail(f"{where}.number_block", f"{block} is already used by {blocks[block]}")
        role = item.get("role", "service")
        if role not in AGENCY_ROLES:
            raise r.fail(f"{where}.role", f"must be one of {', '.join(AGENCY_ROLES)}, got {role!r}")
        cap = item.get("daily_cap")
        blocks[block] = agency_id
        agencies[agency_id] = Agency(
            id=agency_id,
            name=r.text(item, "name", where),
            number_block=block,
            role=role,
            name_en=r.optional_text(item, "name_en", where),
            daily_cap=None if cap is None else r.integer(item, "daily_cap", where, low=1),
            cross_train=r.flag(item, "cross_train", where, default=True),
        )
    if not agencies:
        raise r.fail("agency", "a site needs at least one [[agency]]")
    return agencies


def _parse_procedures(r: _Reader, data: Mapping[str, Any], agencies: Mapping[str, Agency]) -> dict[str, Procedure]:
    procedures: dict[str, Procedure] = {}
    for i, item in enumerate(r.tables(data, "procedure", "procedure")):
        where = f"procedure[{i}]"
        proc_id = r.ident(item, "id", where)
        where = f"procedure[{proc_id}]"
        r.known_keys(item, "procedure", where)
        if proc_id in procedures:
            raise r.fail(f"{where}.id", "duplicate procedure")
        agency = r.text(item, "agency", where)
        if agency not in agencies:
            raise r.fail(f"{where}.agency", f"unknown agency {agency!r}")
        on_spot = item.get("on_the_spot_min")
        papers = r.strings(item, "papers", where)
        papers_en = r.strings(item, "papers_en", where)
        if papers_en and len(papers_en) != len(papers):
            # One for one, in the same order: the kiosk shows the list in the citizen's language, never half of it.
            raise r.fail(f"{where}.papers_en", f"must translate each of the {len(papers)} papers in order, "
                                               f"got {len(papers_en)}")
        procedures[proc_id] = Procedure(
            id=proc_id,
            agency=agency,
            name=r.text(item, "name", where),
            name_en=r.optional_text(item, "name_en", where),
            share=r.number(item, "share", where, default=0.0, low=0),
            service_s=60 * r.number(item, "service", where, low=0, strict_low=True),
            service_cv=r.number(item, "service_cv", where, default=0.5, low=0, high=5),
            on_the_spot_s=(
                None if on_spot is None else 60 * r.number(item, "on_the_spot_min", where, low=0, strict_low=True)
            ),
            fee=r.flag(item, "fee", where),
            step_only=r.flag(item, "step_only", where),
            papers=papers,
            papers_en=papers_en,
        )
    if not any(not p.step_only for p in procedures.values()):
        raise r.fail("procedure", "a site needs at least one procedure citizens can choose")
    if sum(p.share for p in procedures.values() if not p.step_only) <= 0:
        raise r.fail("procedure", "the shares of kiosk procedures add up to 0")
    return procedures


def _parse_counters(r: _Reader, data: Mapping[str, Any], agencies: Mapping[str, Agency],
                    hours: Sequence[tuple[int, int]]) -> dict[int, Counter]:
    counters: dict[int, Counter] = {}
    for i, item in enumerate(r.tables(data, "counter", "counter")):
        where = f"counter[{i}]"
        r.known_keys(item, "counter", where)
        ids = item.get("ids", [item["id"]] if "id" in item else None)
        if not isinstance(ids, list) or not ids:
            raise r.fail(f"{where}.ids", "must be a non-empty array of counter numbers")
        serves = r.strings(item, "serves", where)
        if not serves:
            raise r.fail(f"{where}.serves", "must name at least one agency")
        for agency in serves:
            if agency not in agencies:
                raise r.fail(f"{where}.serves", f"unknown agency {agency!r}")
        if len(set(serves)) != len(serves):
            raise r.fail(f"{where}.serves", "names an agency twice")
        priority = r.flag(item, "priority", where)
        standby = r.flag(item, "standby", where)
        fixed = r.flag(item, "fixed", where)
        breaks = None if "breaks" not in item else _breaks(r, item["breaks"], f"{where}.breaks", hours)
        plan = () if "standby_plan" not in item else _standby_plan(
            r, item["standby_plan"], f"{where}.standby_plan", serves, standby, hours)
        for number in ids:
            if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 999:
                raise r.fail(f"{where}.ids", f"counter numbers are integers 1..999, got {number!r}")
            if number in counters:
                raise r.fail(f"{where}.ids", f"counter {number} is defined twice")
            counters[number] = Counter(id=number, serves=serves, priority=priority, standby=standby, fixed=fixed,
                                       breaks=breaks, standby_plan=plan)
    if not counters:
        raise r.fail("counter", "a site needs at least one [[counter]]")
    return dict(sorted(counters.items()))


def _span(r: _Reader, pair: Any, where: str) -> tuple[int, int]:
    """A ["HH:MM", "HH:MM"] pair as local minutes, the end after the start."""
    if not isinstance(pair, list) or len(pair) != 2:
        raise r.fail(where, 'must be a pair ["HH:MM", "HH:MM"]')
    start, end = r.minutes(pair[0], f"{where}[0]"), r.minutes(pair[1], f"{where}[1]")
    if end <= start:
        raise r.fail(where, "ends before it starts")
    return start, end


def _no_overlap(r: _Reader, spans: Sequence[tuple[int, int]], where: str) -> None:
    ordered = sorted(range(len(spans)), key=lambda i: spans[i])
    for before, after in itertools.pairwise(ordered):
        if spans[after][0] < spans[before][1]:
            raise r.fail(f"{where}[{after}]", f"overlaps {where}[{before}]")


def _breaks(r: _Reader, value: Any, where: str, hours: Sequence[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """A counter's staff breaks: windows inside one opening period each, not overlapping."""
    if not isinstance(value, list):
        raise r.fail(where, 'must be an array of ["HH:MM", "HH:MM"] windows (empty: no breaks)')
    spans = [_span(r, pair, f"{where}[{i}]") for i, pair in enumerate(value)]
    for i, (start, end) in enumerate(spans):
        if not any(open_ <= start and end <= close for open_, close in hours):
            raise r.fail(f"{where}[{i}]", "must lie within one opening period (site.hours)")
    _no_overlap(r, spans, where)
    return tuple(sorted(spans))


def _standby_plan(r: _Reader, value: Any, where: str, serves: tuple[str, ...], standby: bool,
                  hours: Sequence[tuple[int, int]]) -> tuple[PlannedShift, ...]:
    """A standby counter's planned shifts: within the opening hours, for some of its agencies, not overlapping."""
    if not standby:
        raise r.fail(where, "only a standby counter (standby = true) has a plan: a regular one is staffed all day")
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise r.fail(where, 'must be an array of tables { from = "HH:MM", to = "HH:MM", serves = [...] }')
    shifts: list[PlannedShift] = []
    for i, entry in enumerate(value):
        at = f"{where}[{i}]"
        r.known_keys(entry, "standby_plan", at)
        start, end = r.minutes(entry.get("from"), f"{at}.from"), r.minutes(entry.get("to"), f"{at}.to")
        if end <= start:
            raise r.fail(f"{at}.to", "must be after 'from'")
        if start < hours[0][0] or end > hours[-1][1]:
            raise r.fail(at, f"must lie within the opening hours (site.hours, {hours[0][0] // 60:02d}:"
                             f"{hours[0][0] % 60:02d}-{hours[-1][1] // 60:02d}:{hours[-1][1] % 60:02d})")
        if not any(start < close and open_ < end for open_, close in hours):
            raise r.fail(at, "falls in a break between opening periods")
        own = r.strings(entry, "serves", at) if "serves" in entry else serves
        if not own:
            raise r.fail(f"{at}.serves", "must name at least one agency")
        if len(set(own)) != len(own):
            raise r.fail(f"{at}.serves", "names an agency twice")
        for agency in own:
            if agency not in serves:
                raise r.fail(f"{at}.serves", f"{agency!r} is not among the counter's serves")
        shifts.append(PlannedShift(start, end, own))
    _no_overlap(r, [(s.start_min, s.end_min) for s in shifts], where)
    return tuple(sorted(shifts, key=lambda s: s.start_min))


def _parse_arrivals(r: _Reader, data: Mapping[str, Any], hours: Sequence[tuple[int, int]]) -> ArrivalProfile:
    table = data.get("arrivals")
    half_hours = sum((end - start + 29) // 30 for start, end in hours)
    if table is None:
        return ArrivalProfile((1.0,) * half_hours, (1.0,) * 5 + (0.0, 0.0), 0.05, 0.0, 3600.0)
    if not isinstance(table, Mapping):
        raise r.fail("arrivals", "must be a table")
    r.known_keys(table, "arrivals", "arrivals")
    weights = r.floats(table, "half_hour_weights", "arrivals")
    if len(weights) != half_hours:
        raise r.fail(
            "arrivals.half_hour_weights", f"needs {half_hours} values (one per open half hour), got {len(weights)}"
        )
    weekday = r.floats(table, "weekday_factor", "arrivals")
    if len(weekday) != 7:
        raise r.fail("arrivals.weekday_factor", f"needs 7 values (Monday..Sunday), got {len(weekday)}")
    return ArrivalProfile(
        half_hour_weights=weights,
        weekday_factor=weekday,
        priority_share=r.number(table, "priority_share", "arrivals", default=0.05, low=0, high=1),
        appointment_share=r.number(table, "appointment_share", "arrivals", default=0.0, low=0, high=1),
        abandon_after_s=60 * r.number(table, "abandon_after_min", "arrivals", default=60, low=0, strict_low=True),
    )


def _result_return(r: _Reader, site_t: Mapping[str, Any], procedures: Mapping[str, Procedure],
                   agencies: Mapping[str, Agency]) -> str | None:
    """The procedure of collecting a result given a later date: named in [site], else the only one the
    kiosk offers in a result agency (several and none named: none, the receipt's QR is then refused)."""
    named = site_t.get("result_return_procedure")
    if named is not None:
        if named not in procedures or procedures[named].step_only:
            raise r.fail("site.result_return_procedure", f"{named!r} is not a procedure chosen at the kiosk")
        return str(named)
    found = [p.id for p in procedures.values() if not p.step_only and agencies[p.agency].role == "result"]
    return found[0] if len(found) == 1 else None


def _journey_step(
    r: _Reader,
    site_t: Mapping[str, Any],
    key: str,
    procedures: Mapping[str, Procedure],
    agencies: Mapping[str, Agency],
    role: str,
    exclude: str | None = None,
) -> str | None:
    """Find the fee or result step: named in [site], else inferred from step_only procedures."""
    named = site_t.get(key)
    if named is not None:
        if named not in procedures:
            raise r.fail(f"site.{key}", f"unknown procedure {named!r}")
        return str(named)
    steps = [p for p in procedures.values() if p.step_only and p.id != exclude]
    by_role = [p for p in steps if agencies[p.agency].role == role]
    if role == "fee":
        # A commune takes fees at the result counter: the fee step is then named as such.
        named_fee = [p for p in steps if "phí" in p.name.lower()]
        by_role = [p for p in by_role if p in named_fee] or by_role or named_fee
    if len(by_role) > 1:
        raise r.fail(f"site.{key}", f"several {role} steps ({', '.join(p.id for p in by_role)}): name one")
    return by_role[0].id if by_role else None
