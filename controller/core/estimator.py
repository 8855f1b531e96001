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
import math
from collections import deque
from dataclasses import dataclass, field

from controller.core.clock import local_hour
from controller.core.policies import WALK_S
from controller.core.queues import LineEntry
from controller.core.state import SiteState
from controller.core.tickets import CounterStatus, TicketState

__all__ = ["Forecast", "forecast"]


@dataclass(frozen=True)
class Forecast:
    """Predicted call times (epoch s) of waiting tickets and of a new ticket per agency.

    `late` lists the tickets predicted to be called after their deadline, or
    never (no open counter serves them), so enforcement reads the few at risk
    instead of every waiting ticket.
    """

    computed_at: float
    state_version: int  # the state's routing_version it was computed from
    call_at: dict[str, float] = field(default_factory=dict)
    new_ticket_call_at: dict[str, float | None] = field(default_factory=dict)
    issued_since: dict[str, int] = field(default_factory=dict)
    late: tuple[str, ...] = ()
    # Until then the predictions hold if the state does not change (no service overruns yet).
    stable_until: float = math.inf

    def ticket_wait(self, ticket_id: str, now: float) -> float | None:
        at = self.call_at.get(ticket_id)
        return None if at is None else max(0.0, at - now)


def _lines(state: SiteState, by_deadline: bool) -> dict[str, deque[LineEntry]]:
    """Every non-empty agency line, legal priority first, each in the policy's order."""
    lines: dict[str, deque[LineEntry]] = {}
    for agency, queue in state.queues.items():
        if queue:  # most lines of a quiet floor are empty: skip them before any lookup
            lines[agency] = deque(queue.line(by_deadline))
    target = state.site.targets.transaction_wait_s
    for agency, away in state.away.items():
        if not away:
            continue
        # Remote numbers away from the hall, at their places as if they were in it (controller/core/remote.py).
        entries = [*lines.get(agency, ()), *((1, place + target, place, tid) for tid, place in away.items())]
        entries.sort(key=(lambda e: (e[0], e[1], e[2])) if by_deadline else (lambda e: (e[0], e[2])))
        lines[agency] = deque(entries)
    return lines


def forecast(state: SiteState, now: float, by_deadline: bool = False) -> Forecast:
    """Run the virtual dispatch and return its predictions."""
    site = state.site
    hour = local_hour(now, site.utc_offset_s)
    learned = state.service_times.expected
    expected: dict[tuple[str, int], float] = {}
    lines = _lines(state, by_deadline)
    directed: dict[int, deque[LineEntry]] = {}
    for cid, tids in state.directed.items():
        if tids:
            held = [state.tickets[t] for t in tids]
            directed[cid] = deque((0, state.deadline_of(t), t.effective_start(), t.id, t.order) for t in held)
    free: list[tuple[float, int]] = []
    idle_from: dict[int, float] = {}
    stable_until = math.inf
    counters = state.specs  # as opened today: a counter opened for some agencies serves only those
    tickets = state.tickets
    waiting = lines.keys()
    for cid, cs in state.counters.items():
        if cs.status is not CounterStatus.OPEN:
            continue
        at = now
        if cs.current is not None:
            current = tickets[cs.current]
            if current.state is TicketState.SERVING:
                began, extra = current.started_at, 0.0
            else:
                began, extra = current.called_at, WALK_S
            service = learned(current.procedure, cid, hour)
            # A service already longer than expected still needs some time to end.
            end = (began or now) + extra + service
            at = max(now + 0.25 * service, end)
            stable_until = min(stable_until, max(now, end - 0.25 * service))
        if cid in directed or not waiting.isdisjoint(counters[cid].serves):
            if cs.current is None:
                stable_until = now  # an idle counter with work: every prediction moves with the clock
            free.append((at, cid))
        else:
            idle_from[cid] = at  # nothing it may serve waits: free for the next newcomer
    heapq.heapify(free)
    call_at: dict[str, float] = {}
    late: list[str] = []
    pop, push = heapq.heappop, heapq.heappush
    while free:
        at, cid = pop(free)
        spec = counters[cid]
        own = directed.get(cid) if directed else None
        if own:
            entry = own.popleft()
        else:
            # The head the counter would take: legal priority first, then the policy's order
            # (by deadline, unless a head it may serve is overdue by then: the deadline policy's triage
            # serves in the counter's order, as fifo does; fifo: by wait start on a priority counter,
            # else in the counter's order).
            serves = spec.serves
            best: deque[LineEntry] | None = None
            if len(serves) == 1:
                best = lines.get(serves[0])  # one line: whatever the order, its head
            else:
                best_flag, best_order = 2, 0.0
                triage = False
                if by_deadline:
                    for agency in serves:
                        line = lines.get(agency)
                        if line is not None and line[0][1] <= at:
                            triage = True
                            break
                for rank, agency in enumerate(serves):
                    line = lines.get(agency)
                    if line is None:
                        continue
                    head = line[0]
                    if triage:
                        order = head[2] if head[0] == 0 else float(rank)
                    elif by_deadline:
                        order = head[1]
                    else:
                        order = head[2] if spec.priority else float(rank)
                    if head[0] < best_flag or (head[0] == best_flag and order < best_order):
                        best, best_flag, best_order = line, head[0], order
            if best is None:
                idle_from[cid] = at
                continue
            entry = best.popleft()
            if not best:
                del lines[tickets[entry[3]].agency]  # emptied lines drop out of every counter's look
        tid = entry[3]
        call_at[tid] = at
        if at > entry[1]:
            late.append(tid)
        key2 = (tickets[tid].procedure, cid)
        cached = expected.get(key2)
        if cached is None:
            cached = expected[key2] = learned(key2[0], cid, hour)
        push(free, (at + WALK_S + cached, cid))
    # Whoever no open counter reaches is late by definition.
    for line in lines.values():
        late.extend(entry[3] for entry in line)
    for line in directed.values():
        late.extend(entry[3] for entry in line)
    # A newcomer is called when the first counter that may serve it runs out of work.
    first_idle: dict[str, float] = {}
    for cid, at in idle_from.items():
        for agency in counters[cid].serves:
            if at < first_idle.get(agency, math.inf):
                first_idle[agency] = at
    new_ticket: dict[str, float | None] = {agency: first_idle.get(agency) for agency in site.agencies}
    return Forecast(
        computed_at=now,
        state_version=state.routing_version,
        call_at=call_at,
        new_ticket_call_at=new_ticket,
        issued_since=dict(state.issued_per_agency),
        late=tuple(late),
        stable_until=stable_until,
    )
