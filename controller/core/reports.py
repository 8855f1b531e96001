"""Daily and period reports, computed from the event log alone. Pure.

Definitions (they matter for the province's targets):
- a visit is a ticket; a transaction is one served step (ticket.finished);
- a transaction's wait is the queue waiting at its last call (ticket.called
  waited_s), which keeps the clock across transfers and missed calls;
- a visit's wait is the sum of its transactions' waits (plus the wait of a
  step it left without being served);
- service time runs from start (or the call, when start was not pressed) to finish;
- within the transaction target is the core's one definition (controller/core/targets.py):
  transactions called within the target / (transactions called + transactions not
  called whose wait passed it: still in line at the end, or left); a transaction
  counts at its last call (a missed call put back in line or a transfer is not its
  last), whether it was then served or not; per counter and staff member only their
  calls count (a transaction nobody called belongs to no counter);
- within the visit target: visits completed within it / (visits completed + visits
  whose wait passed it, completed or not);
- satisfaction is the share of ratings in the top two levels of the site's scale.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from controller.core.targets import TargetTally

__all__ = ["BREACH_CAUSES", "Group", "Report", "build_report", "daily_summaries", "is_satisfied", "percentile"]

# The causes a breach is recorded with (controller/core/targets.py breach_cause), in words for people.
BREACH_CAUSES: dict[str, tuple[str, str]] = {
    "recall_limit": ("đã gọi nhưng công dân vắng mặt", "called but the citizen was absent"),
    "no_open_counter": ("không có quầy nào mở", "no counter open"),
    "counters_closed": ("một số quầy của lĩnh vực đang đóng", "some of the agency's counters closed"),
    "surge": ("lượng người tăng đột biến", "a surge of arrivals"),
    "long_service": ("phục vụ lâu hơn dự kiến", "services longer than expected"),
    "capacity": ("không đủ quầy cho lượng người", "too few counters for the demand"),
}


def is_satisfied(score: int, levels: int) -> bool:
    """A rating in the top two levels of its scale (the satisfaction figure's numerator)."""
    return score >= levels - 1


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q * len(ordered))))
    return ordered[rank - 1]


@dataclass
class Group:
    """Figures for one agency, procedure, counter or staff member."""

    key: str
    waits: list[float] = field(default_factory=list)
    services: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    no_shows: int = 0
    transfers: int = 0
    breaches: Counter[str] = field(default_factory=Counter)
    ratings: list[tuple[int, int]] = field(default_factory=list)  # (score, levels)
    within: int = 0   # transactions called within the target (at their last call)
    missed: int = 0   # called after it, or not called with their wait past it

    def summary(self, target_s: float) -> dict[str, Any]:
        n = len(self.waits)
        share = TargetTally(self.within, self.missed).share
        top = sum(1 for score, levels in self.ratings if is_satisfied(score, levels))
        return {
            "key": self.key,
            "transactions": n,
            "wait_p50_s": _round(percentile(self.waits, 0.5)),
            "wait_p90_s": _round(percentile(self.waits, 0.9)),
            "wait_max_s": _round(max(self.waits, default=None)),
            "within_transaction_target": None if share is None else round(share, 4),
            "service_p50_s": _round(percentile(self.services, 0.5)),
            "service_mean_s": _round(statistics.fmean(self.services)) if self.services else None,
            "outcomes": dict(sorted(self.outcomes.items())),
            "no_shows": self.no_shows,
            "transfers": self.transfers,
            "breaches": dict(sorted(self.breaches.items())),
            "ratings": len(self.ratings),
            "satisfaction": round(top / len(self.ratings), 4) if self.ratings else None,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass
class Report:
    """A report over one site and one or more days."""

    site: str
    days: list[str]
    transaction_target_s: float
    visit_target_s: float
    satisfaction_target: float
    total: Group = field(default_factory=lambda: Group("total"))
    by_agency: dict[str, Group] = field(default_factory=dict)
    by_procedure: dict[str, Group] = field(default_factory=dict)
    by_counter: dict[str, Group] = field(default_factory=dict)
    by_staff: dict[str, Group] = field(default_factory=dict)
    staff_agency: dict[str, Counter[str]] = field(default_factory=dict)
    visit_waits: dict[str, float] = field(default_factory=dict)
    visits_completed: set[str] = field(default_factory=set)
    visits_breached: set[str] = field(default_factory=set)
    visits: int = 0
    abandoned: int = 0
    breach_causes: Counter[tuple[str, str]] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of the report endpoint."""
        target = self.transaction_target_s
        total = self.total.summary(target)
        visits = self.visit_tally().share
        sat = total["satisfaction"]
        return {
            "site": self.site,
            "days": self.days,
            "targets": {
                "transaction_wait_s": target,
                "visit_wait_s": self.visit_target_s,
                "satisfaction": self.satisfaction_target,
            },
            "visits": self.visits,
            "abandoned": self.abandoned,
            "visits_within_visit_target": None if visits is None else round(visits, 4),
            "satisfaction_meets_target": None if sat is None else sat >= self.satisfaction_target,
            "total": total,
            "breaches_by_cause": [
                {"kind": kind, "cause": cause, "count": n}
                for (kind, cause), n in sorted(self.breach_causes.items())
            ],
            "agencies": [g.summary(target) for g in self.by_agency.values()],
            "procedures": [g.summary(target) for g in self.by_procedure.values()],
            "counters": [g.summary(target) for g in self.by_counter.values()],
            "staff": self.staff_evaluation(),
        }

    def visit_tally(self) -> TargetTally:
        """Visits against the visit target (the module's definition)."""
        missed = set(self.visits_breached)
        within = 0
        for ticket in self.visits_completed:
            if ticket in missed:
                continue
            if self.visit_waits.get(ticket, 0.0) > self.visit_target_s:
                missed.add(ticket)
            else:
                within += 1
        return TargetTally(within, len(missed))

    def staff_evaluation(self) -> list[dict[str, Any]]:
        """Each staff member beside the peers of their main agency (for monthly evaluation)."""
        target = self.transaction_target_s
        out = []
        for name, group in sorted(self.by_staff.items()):
            agency = self.staff_agency[name].most_common(1)[0][0] if self.staff_agency.get(name) else None
            row = group.summary(target)
            peers = self.by_agency.get(agency) if agency else None
            row["agency"] = agency
            if peers is not None:
                peer = peers.summary(target)
                row["agency_service_p50_s"] = peer["service_p50_s"]
                row["agency_satisfaction"] = peer["satisfaction"]
            out.append(row)
        return out


def build_report(
    site: str,
    days: list[str],
    events: Iterable[Mapping[str, Any]],
    transaction_target_s: float = 900.0,
    visit_target_s: float = 1800.0,
    satisfaction_target: float = 0.95,
) -> Report:
    """Fold event bodies (in commit order, possibly several days) into a report."""
    report = Report(site, days, transaction_target_s, visit_target_s, satisfaction_target)
    calls: dict[str, dict[str, Any]] = {}   # ticket -> its current call
    started: dict[str, float] = {}
    unserved: dict[str, float] = {}          # ticket -> wait of a step left unserved
    # The transaction target: a call counts at once, and is taken back if the transaction goes back in line;
    # a transaction in line past the target counts as missed unless a call comes.
    counted: dict[str, tuple[list[Group], bool]] = {}  # ticket -> groups its current call counted in, within?
    overdue: dict[str, tuple[str, str]] = {}           # ticket in line past the target -> (agency, procedure)
    procedure_of: dict[str, str] = {}

    def groups(agency: str, procedure: str, counter: Any, staff: Any, finished: bool = True) -> list[Group]:
        out = [report.total,
               report.by_agency.setdefault(agency, Group(agency)),
               report.by_procedure.setdefault(procedure, Group(procedure))]
        if counter is not None:
            out.append(report.by_counter.setdefault(str(counter), Group(str(counter))))
        if staff:
            out.append(report.by_staff.setdefault(str(staff), Group(str(staff))))
            if finished:
                report.staff_agency.setdefault(str(staff), Counter())[agency] += 1
        return out

    def uncount(ticket: str) -> bool | None:
        """Take back the current call of a ticket going back in line; whether it was within (None: none)."""
        taken = counted.pop(ticket, None)
        if taken is None:
            return None
        for group in taken[0]:
            if taken[1]:
                group.within -= 1
            else:
                group.missed -= 1
        return taken[1]

    for body in events:
        kind = body.get("type")
        ticket = body.get("ticket")
        if kind == "day.started":
            calls.clear()
            started.clear()
            counted.clear()  # calls of an earlier day stay counted
        elif kind == "ticket.issued":
            report.visits += 1
            report.visit_waits[str(ticket)] = 0.0
            procedure_of[str(ticket)] = str(body.get("procedure"))
        elif kind == "ticket.called":
            calls[str(ticket)] = dict(body)
            started.pop(str(ticket), None)
            uncount(str(ticket))
            overdue.pop(str(ticket), None)
            procedure_of[str(ticket)] = str(body["procedure"])
            within = float(body.get("waited_s", 0.0)) <= transaction_target_s
            called = groups(body["agency"], body["procedure"], body.get("counter"), body.get("staff"), False)
            for group in called:
                if within:
                    group.within += 1
                else:
                    group.missed += 1
            counted[str(ticket)] = (called, within)
        elif kind == "ticket.started":
            started[str(ticket)] = float(body["at"])
        elif kind in ("ticket.finished", "ticket.transferred"):
            call = calls.pop(str(ticket), None)
            if kind == "ticket.finished":
                counted.pop(str(ticket), None)  # its last call
                if body.get("next_step"):
                    procedure_of[str(ticket)] = str(body["next_step"])
                else:
                    report.visits_completed.add(str(ticket))
            elif uncount(str(ticket)) is False:
                # back in line already past the target: missed unless called again
                procedure = str(body.get("procedure") or procedure_of.get(str(ticket)))
                procedure_of[str(ticket)] = procedure
                overdue[str(ticket)] = (str(body.get("to_agency") or body.get("agency")), procedure)
            elif body.get("procedure"):
                procedure_of[str(ticket)] = str(body["procedure"])
            if call is None:
                continue
            wait = float(call.get("waited_s", 0.0))
            began = started.pop(str(ticket), float(call["at"]))
            for group in groups(call["agency"], call["procedure"], call.get("counter"), call.get("staff")):
                if kind == "ticket.transferred":
                    group.transfers += 1
                    continue
                group.waits.append(wait)
                group.services.append(max(0.0, float(body["at"]) - began))
                group.outcomes[str(body.get("outcome", "done"))] += 1
            if kind == "ticket.finished":
                report.visit_waits[str(ticket)] = report.visit_waits.get(str(ticket), 0.0) + wait
        elif kind == "ticket.no_show":
            call = calls.pop(str(ticket), None)
            if body.get("requeued"):
                if uncount(str(ticket)) is False:
                    overdue[str(ticket)] = (str(body.get("agency")), procedure_of.get(str(ticket), ""))
            else:
                counted.pop(str(ticket), None)  # its last call
            if call is not None and not body.get("requeued"):
                for group in groups(call["agency"], call["procedure"], call.get("counter"), call.get("staff")):
                    group.no_shows += 1
                unserved[str(ticket)] = float(call.get("waited_s", 0.0))
        elif kind == "ticket.abandoned":
            report.abandoned += 1
            counted.pop(str(ticket), None)
        elif kind == "target.breached":
            report.breach_causes[(str(body.get("kind")), str(body.get("cause")))] += 1
            agency = str(body.get("agency"))
            report.total.breaches[str(body.get("cause"))] += 1
            report.by_agency.setdefault(agency, Group(agency)).breaches[str(body.get("cause"))] += 1
            if body.get("kind") == "visit":
                report.visits_breached.add(str(ticket))
            elif str(ticket) not in counted:
                overdue[str(ticket)] = (agency, procedure_of.get(str(ticket), ""))
        elif kind == "rating.recorded":
            rating = (int(body["score"]), int(body["levels"]))
            report.total.ratings.append(rating)
            report.by_counter.setdefault(str(body["counter"]), Group(str(body["counter"]))).ratings.append(rating)
            if body.get("agency"):
                report.by_agency.setdefault(str(body["agency"]), Group(str(body["agency"]))).ratings.append(rating)
            if body.get("staff"):
                report.by_staff.setdefault(str(body["staff"]), Group(str(body["staff"]))).ratings.append(rating)
    for agency, procedure in overdue.values():
        for group in (report.total, report.by_agency.setdefault(agency, Group(agency)),
                      report.by_procedure.setdefault(procedure, Group(procedure))):
            group.missed += 1
    for ticket, wait in unserved.items():
        report.visit_waits[ticket] = report.visit_waits.get(ticket, 0.0) + wait
    report.by_agency = dict(sorted(report.by_agency.items()))
    report.by_procedure = dict(sorted(report.by_procedure.items()))
    report.by_counter = dict(sorted(report.by_counter.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0))
    return report


DAY_FIELDS = ("transactions", "wait_p50_s", "wait_p90_s", "wait_max_s", "within_transaction_target",
              "service_p50_s", "no_shows", "transfers", "ratings", "satisfaction")


def daily_summaries(
    days: Iterable[tuple[str, list[Mapping[str, Any]]]],
    transaction_target_s: float = 900.0,
    visit_target_s: float = 1800.0,
    satisfaction_target: float = 0.95,
) -> list[dict[str, Any]]:
    """One row per (day, that day's events): its visits, breaches and total figures (a visit never spans days)."""
    out = []
    for day, events in days:
        report = build_report("", [day], events, transaction_target_s, visit_target_s, satisfaction_target)
        total = report.total.summary(transaction_target_s)
        visits = report.visit_tally().share
        out.append({
            "day": day,
            "visits": report.visits,
            "abandoned": report.abandoned,
            "visits_within_visit_target": None if visits is None else round(visits, 4),
            "breaches": sum(report.breach_causes.values()),
            **{name: total[name] for name in DAY_FIELDS},
        })
    return out
