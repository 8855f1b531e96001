"""Wait estimator: when will each waiting ticket be called?

A virtual dispatch of the queues as they stand: each open counter becomes free
at its expected time (learned service times), takes the next ticket it may
serve in the policy's order, and so on until every line is empty. It yields a
predicted call time for every waiting ticket and, per agency, for a ticket
issued now. Cross-trained counters are shared naturally: they take work from
whichever of their agencies is next in line.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field

from controller.core.clock import local_hour
from controller.core.policies import WALK_S
from controller.core.state import SiteState
from controller.core.tickets import CounterStatus, TicketState

__all__ = ["Forecast", "forecast"]


@dataclass(frozen=True)
class Forecast:
    """Predicted call times (epoch s) of waiting tickets and of a new ticket per agency."""

    computed_at: float
    state_version: int
    call_at: dict[str, float] = field(default_factory=dict)
    new_ticket_call_at: dict[str, float | None] = field(default_factory=dict)
    issued_since: dict[str, int] = field(default_factory=dict)

    def ticket_wait(self, ticket_id: str, now: float) -> float | None:
        at = self.call_at.get(ticket_id)
        return None if at is None else max(0.0, at - now)


def forecast(state: SiteState, now: float, by_deadline: bool = False) -> Forecast:
    """Run the virtual dispatch and return its predictions."""
    site = state.site
    hour = local_hour(now, site.utc_offset_s)
    lines: dict[str, deque[str]] = {
        agency: deque(queue.ordered(by_deadline)) for agency, queue in state.queues.items()
    }
    directed = {cid: deque(tids) for cid, tids in state.directed.items() if tids}
    free: list[tuple[float, int]] = []
    for cid, cs in state.counters.items():
        if cs.status != CounterStatus.OPEN:
            continue
        at = now
        if cs.current is not None:
            current = state.tickets[cs.current]
            began = current.started_at if current.state == TicketState.SERVING else current.called_at
            extra = 0.0 if current.state == TicketState.SERVING else WALK_S
            expected = state.service_times.expected(current.procedure, cid, hour)
            # A service already longer than expected still needs some time to end.
            at = max(now + 0.25 * expected, (began or now) + extra + expected)
        free.append((at, cid))
    heapq.heapify(free)
    call_at: dict[str, float] = {}
    idle_from: dict[int, float] = {}
    while free:
        at, cid = heapq.heappop(free)
        spec = site.counters[cid]
        tid = _take(state, spec.serves, spec.priority, lines, directed.get(cid), by_deadline)
        if tid is None:
            idle_from[cid] = at
            continue
        call_at[tid] = at
        procedure = state.tickets[tid].procedure
        heapq.heappush(free, (at + WALK_S + state.service_times.expected(procedure, cid, hour), cid))
    new_ticket: dict[str, float | None] = {}
    for agency in site.agencies:
        times = [idle_from[c.id] for c in site.counters_for(agency) if c.id in idle_from]
        new_ticket[agency] = min(times) if times else None
    return Forecast(
        computed_at=now,
        state_version=state.version,
        call_at=call_at,
        new_ticket_call_at=new_ticket,
        issued_since=dict(state.issued_per_agency),
    )


def _take(
    state: SiteState,
    serves: tuple[str, ...],
    priority_counter: bool,
    lines: dict[str, deque[str]],
    directed: deque[str] | None,
    by_deadline: bool,
) -> str | None:
    if directed:
        return directed.popleft()
    # Priority tickets sit at the front of each line (AgencyQueue.ordered).
    best_agency: str | None = None
    best_key: tuple[int, float] | None = None
    for rank, agency in enumerate(serves):
        line = lines[agency]
        if not line:
            continue
        ticket = state.tickets[line[0]]
        if by_deadline:
            order = state.deadline_of(ticket)
        else:
            order = ticket.effective_start() if priority_counter else float(rank)
        key = (0 if ticket.is_priority else 1, order)
        if best_key is None or key < best_key:
            best_key, best_agency = key, agency
    if best_agency is None:
        return None
    return lines[best_agency].popleft()
