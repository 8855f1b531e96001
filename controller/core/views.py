"""Read models built from a Floor: the catalogue and the monitor snapshot. Pure."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from controller.core.away import away_from_state, away_note, away_rows
from controller.core.clock import hhmm, local_seconds
from controller.core.estimator import Forecast
from controller.core.floor import Floor
from controller.core.site import Site
from controller.core.targets import TargetTally, at_risk_now, break_alert_id, transaction_tallies, visit_tally
from controller.core.tickets import Ticket

__all__ = ["catalogue", "counter_view", "monitor_snapshot", "predicted_new_wait"]


def catalogue(site: Site) -> dict[str, Any]:
    """Agencies, procedures (with required papers) and counters of a site."""
    return {
        "site": {
            "id": site.id,
            "name": site.name,
            "name_en": site.name_en,
            "level": site.level,
            "timezone": site.timezone,
            "hours": [[f"{a // 60:02d}:{a % 60:02d}", f"{b // 60:02d}:{b % 60:02d}"] for a, b in site.hours],
            "targets": {
                "transaction_wait_min": site.targets.transaction_wait_s / 60,
                "visit_wait_min": site.targets.visit_wait_s / 60,
                "satisfaction": site.targets.satisfaction,
            },
            "rating_levels": site.rating_levels,
            "feedback": site.feedback.as_json(),
            "issue_cutoff_min": round(site.issue_cutoff_s / 60),
        },
        "agencies": [
            {"id": a.id, "name": a.name, "name_en": a.name_en, "role": a.role, "number_block": a.number_block}
            for a in site.agencies.values()
        ],
        "procedures": [
            {
                "id": p.id,
                "agency": p.agency,
                "name": p.name,
                "name_en": p.name_en,
                "papers": list(p.papers),
                "papers_en": list(p.papers_en),
                "service_min": round(p.service_s / 60, 1),
                "fee": p.fee,
                "on_the_spot": p.on_the_spot_s is not None,
                "kiosk": not p.step_only,
            }
            for p in site.procedures.values()
        ],
        "counters": [
            {"id": c.id, "serves": list(c.serves), "priority": c.priority, "standby": c.standby}
            for c in site.counters.values()
        ],
    }


def predicted_new_wait(fc: Forecast, agency: str, waiting: Sequence[Ticket], now: float) -> float | None:
    """Seconds a ticket taken now for `agency` would wait to be called; None when no open counter serves it."""
    new_at = fc.new_ticket_call_at.get(agency)
    if new_at is None:
        return None
    predicted = max(0.0, new_at - now)
    if waiting:
        # The forecast's idle time is for a ticket behind everyone it knew of.
        predicted = max(predicted, max((fc.ticket_wait(t.id, now) or 0.0) for t in waiting))
    return predicted


def counter_view(floor: Floor, counter_id: int, now: float) -> dict[str, Any]:
    """One counter's state for the monitor and the staff app."""
    state = floor.state
    cs = state.counters[counter_id]
    spec = floor.site.counters[counter_id]
    current = state.tickets.get(cs.current) if cs.current else None
    satisfaction, rated = state.satisfaction(counter_id)
    return {
        "id": counter_id,
        "status": str(cs.status),
        "staff": cs.staff,
        "serves": list(spec.serves),
        "open_for": list(state.specs[counter_id].serves),  # the lines it calls from now
        "priority": spec.priority,
        "standby": spec.standby,
        "opened_by": cs.opened_by,
        "pause_reason": cs.pause_reason,
        "served_today": cs.served,
        "ratings_today": rated,
        "satisfaction_today": None if satisfaction is None else round(satisfaction, 3),
        "current": None if current is None else {
            "id": current.id,
            "number": current.number,
            "procedure": current.procedure,
            "state": str(current.state),
            "waited_s": round(current.tx_waited_before),
            "since_s": round(now - (current.started_at or current.called_at or now)),
            "calls": current.calls,  # at this counter, the first call included
            "recalls_left": max(0, floor.site.recall_limit + 1 - current.calls),
            "dossier": current.dossier,  # a result to collect: the file to fetch (an intake receipt's QR)
        },
    }


def _at_risk_tickets(floor: Floor, in_line: Mapping[str, list[Ticket]], now: float) -> list[dict[str, Any]]:
    """Tickets at risk now (targets.at_risk_now), the closest to their deadline first (at most 30)."""
    state = floor.state
    fc = floor.forecast(now)
    risky = [t for tickets in in_line.values() for t in tickets if t.at_risk and at_risk_now(state, t, now)]
    risky.sort(key=state.deadline_of)
    rows = []
    for t in risky[:30]:
        wait = fc.ticket_wait(t.id, now)
        rows.append({
            "ticket": t.id,
            "number": t.number,
            "agency": t.agency,
            "waited_s": round(t.waited(now)),
            "deadline_in_s": round(state.deadline_of(t) - now),
            "predicted_wait_s": None if wait is None else round(wait),
            "priority": t.priority,
        })
    return rows


def _overdue_tickets(floor: Floor, in_line: Mapping[str, list[Ticket]], now: float) -> list[dict[str, Any]]:
    """Tickets still in line past the transaction target, the longest wait first (at most 30)."""
    target = floor.site.targets.transaction_wait_s
    over = [(waited, t) for tickets in in_line.values() for t in tickets if (waited := t.waited(now)) > target]
    over.sort(key=lambda pair: -pair[0])
    return [
        {
            "ticket": t.id,
            "number": t.number,
            "agency": t.agency,
            "waited_s": round(waited),
            "over_s": round(waited - target),
            "priority": t.priority,
        }
        for waited, t in over[:30]
    ]


def monitor_snapshot(floor: Floor, now: float, devices: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """Per agency waiting and risk, how the targets are met, counters, open alerts and devices."""
    site = floor.site
    state = floor.state
    fc = floor.forecast(now)
    agencies = []
    in_line = state.waiting_by_agency()
    tallies = transaction_tallies(state, now, in_line)
    target_s = site.targets.transaction_wait_s
    for agency in site.agencies.values():
        waiting = in_line[agency.id]
        longest = max((t.waited(now) for t in waiting), default=0.0)
        predicted_new = predicted_new_wait(fc, agency.id, waiting, now)
        waits = state.waits_per_agency.get(agency.id, [])
        tally = tallies[agency.id]
        share = tally.share
        serving = [c.id for c in site.counters_for(agency.id)]
        agencies.append({
            "id": agency.id,
            "name": agency.name,
            "name_en": agency.name_en,
            "waiting": len(waiting),
            "longest_wait_s": round(longest),
            "predicted_wait_s": None if predicted_new is None else round(predicted_new),
            "at_risk": sum(1 for t in waiting if t.at_risk and at_risk_now(state, t, now)),
            "waiting_over_target": tally.waiting_over,
            "served_today": state.served_per_agency.get(agency.id, 0),
            "median_wait_s": round(statistics.median(waits)) if waits else None,
            "within_target_share": None if share is None else round(share, 3),
            "transaction_target": tally.as_dict(target_s),
            "open_counters": len(state.open_counters(agency.id)),
            "counters": serving,
        })
    satisfaction, _ = state.satisfaction()
    total = sum(tallies.values(), TargetTally())
    return {
        "site": site.id,
        "name": site.name,
        "name_en": site.name_en,
        "timezone": site.timezone,
        "day": state.day,
        "at": now,
        "targets": {
            "transaction_wait_s": site.targets.transaction_wait_s,
            "visit_wait_s": site.targets.visit_wait_s,
            "satisfaction": site.targets.satisfaction,
        },
        "performance": {
            "transaction": total.as_dict(target_s),
            "visit": visit_tally(state, now).as_dict(site.targets.visit_wait_s),
        },
        "agencies": agencies,
        "counters": [counter_view(floor, cid, now) for cid in site.counters],
        "alerts": state.open_alerts(),
        "at_risk_tickets": _at_risk_tickets(floor, in_line, now),
        "overdue_tickets": _overdue_tickets(floor, in_line, now),
        "recent_breaches": [
            {k: b.get(k) for k in ("ticket", "number", "agency", "kind", "cause", "waited_s", "at")}
            for b in state.breaches[-20:]
        ][::-1],
        "breaches_today": len(state.breaches),
        "satisfaction_today": None if satisfaction is None else round(satisfaction, 3),
        "issued_today": len(state.tickets),
        # numbers that held a place away: the hall's wait (the target's) and the citizen's (away.py)
        "away": away_rows(away_from_state(state), target_s),
        "away_note": away_note(target_s / 60),
        "devices": [dict(d) for d in devices],
        "plan": today_plan(floor, now),
    }


def today_plan(floor: Floor, now: float) -> list[dict[str, Any]]:
    """The site file's plan for today beside what happens: planned standby shifts and listed breaks.

    Each entry: kind (standby_shift | break), counter, from, to (local HH:MM), agencies (a shift's),
    when (done | now | later), and what the floor does: a shift's counter status and the agencies it
    is open for; a break's counter status and whether deferring it is advised now.
    """
    state = floor.state
    local_min = local_seconds(now, floor.site.utc_offset_s) / 60.0
    entries: list[dict[str, Any]] = []
    for counter in floor.site.planned_counters:
        cs = state.counters[counter.id]
        spans: list[tuple[str, int, int, list[str]]] = [
            ("standby_shift", shift.start_min, shift.end_min, list(shift.serves)) for shift in counter.standby_plan]
        spans.extend(("break", start, end, []) for start, end in counter.breaks or ())
        for kind, start, end, agencies in spans:
            advice = state.alerts.get(break_alert_id(counter.id, start)) if kind == "break" else None
            advised = advice is not None and not advice.get("resolved")
            entries.append({
                "kind": kind, "counter": counter.id, "from": hhmm(start), "to": hhmm(end),
                "agencies": agencies,
                "when": "done" if local_min >= end else "now" if local_min >= start else "later",
                "status": str(cs.status), "open_for": list(state.specs[counter.id].serves),
                "defer_advised": advised,
            })
    entries.sort(key=lambda e: (e["from"], e["counter"]))
    return entries

