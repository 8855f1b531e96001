"""Routing policies: which waiting ticket a counter calls next.

A policy is a small strategy (`choose`) over the read-only state. Both policies
serve transfers directed to the counter first. `fifo` is the baseline most
queue systems ship; `deadline` is motcua's: it acts on the wait targets.
"""

from __future__ import annotations

import math
from typing import Protocol

from controller.core.site import Counter
from controller.core.state import SiteState
from controller.core.tickets import CounterStatus, TicketState

__all__ = [
    "POLICIES",
    "DeadlinePolicy",
    "FifoPolicy",
    "RoutingPolicy",
    "fairness_violation",
    "make_policy",
]

# A called citizen needs time to reach the counter; counts toward when it frees.
WALK_S = 30.0


class RoutingPolicy(Protocol):
    """Chooses the next ticket for a counter; None when nobody it may serve waits."""

    name: str

    def choose(self, state: SiteState, counter: Counter, now: float) -> str | None: ...


def _directed(state: SiteState, counter: Counter) -> str | None:
    line = state.directed.get(counter.id)
    return line[0] if line else None


def _early_appointment(state: SiteState, counter: Counter) -> str | None:
    """For a counter with nobody else to call: the appointment holder checked in before the earliest slot.

    Appointment holders are not called before their slot while anyone else waits
    (they join the line at the slot); an idle counter may serve them early.
    """
    best: tuple[float, int, str] | None = None
    for agency in counter.serves:
        early = state.early.get(agency)
        for tid, slot in early.items() if early else ():
            key = (slot, state.tickets[tid].order, tid)
            if best is None or key < best:
                best = key
    return None if best is None else best[2]


class FifoPolicy:
    """Legal priority first, then arrival; the counter's agencies in the counter's order."""

    name = "fifo"

    def choose(self, state: SiteState, counter: Counter, now: float) -> str | None:
        directed = _directed(state, counter)
        if directed is not None:
            return directed
        return _in_counter_order(state, counter)


def _in_counter_order(state: SiteState, counter: Counter) -> str | None:
    """Legal priority first (longest waiting across the counter's lines), then the counter's own
    agencies in its order (`serves`: its home line first), each line longest waiting first."""
    best: tuple[float, int, str] | None = None
    for agency in counter.serves:
        head = state.queues[agency].priority.head_by_start()
        if head is not None:
            tid, start = head
            key = (start, state.tickets[tid].order, tid)
            if best is None or key < best:
                best = key
    if best is not None:
        return best[2]
    for agency in counter.serves:
        head = state.queues[agency].normal.head_by_start()
        if head is not None:
            return head[0]
    return _early_appointment(state, counter)


class DeadlinePolicy:
    """Deadline-aware routing that never gives up what arrival order keeps.

    Normal load (nothing the counter may serve is past its deadline):
    1. Legal priority, least slack first.
    2. Everyone else, least slack first, where slack = deadline - now - the wait
       the ticket would still have if this counter passed it over: until
       another counter for its agency frees, or until this counter has served
       the ticket it would call instead. A cross-trained counter thereby pulls
       an at-risk ticket of another agency before a comfortable one of its own,
       and between two equally urgent lines it serves the short job first, so
       both are more likely to make it.

    Triage (some ticket the counter may serve is past its deadline: the
    counter's lines cannot all be kept within target):
    3. The counter serves in its own order: legal priority first, then its
       home line (the first of its `serves`), then the lines it helps, each
       longest waiting first. Least slack is earliest-deadline-first, and in
       overload EDF collapses: every ticket becomes urgent, a cross-trained
       counter chases the other lines' overdue tickets, and the waits of all
       its lines grow past the target together. Keeping the counter's first
       line within target saves the tickets that can still be saved; the lines
       it helps lose only what they would lose anyway. Measured in
       docs/BENCHMARKS.md (bench_targets): the earlier rule, arrival order
       across all of a counter's lines, lost 1-2 points to fifo on overloaded
       Mondays, and so did keeping it for standby counters alone.

    Fairness guard (`fairness_violation`, checked in the simulator's tests and
    the bench): no ticket past its deadline is passed over for a younger ticket
    of its own line, unless that one has legal priority. Calling the longest
    waiting ticket, rather than the oldest overdue one, matters for journey
    steps: a fee ticket whose visit budget ran out during its intake is overdue
    the moment it joins the fee line, and jumping it ahead of everyone older
    would make them late too without saving its own (already lost) visit target.

    An appointment holder's deadline is the end of the grace window after the
    slot (state.deadline_of), so the least-slack rule calls them within it; one
    who checked in early joins the line at the slot, and before that only a
    counter with nobody else calls them.
    """

    name = "deadline"

    def choose(self, state: SiteState, counter: Counter, now: float) -> str | None:
        line = state.directed.get(counter.id)
        if line:
            return line[0]
        queues = state.queues
        # The earliest deadline of each line says both whether anyone waits and whether anyone is overdue.
        priority: list[tuple[str, tuple[float, int, str, int]]] = []
        normal: list[tuple[str, tuple[float, int, str, int]]] = []
        for agency in counter.serves:
            queue = queues[agency]
            for index, heads in ((queue.priority, priority), (queue.normal, normal)):
                by_deadline = index.first_by_deadline()
                if by_deadline is None:
                    continue
                if by_deadline[0] <= now:
                    return _in_counter_order(state, counter)  # triage: someone this counter may serve is overdue
                heads.append((agency, by_deadline))
        if not priority and not normal:
            return _early_appointment(state, counter)
        heads = priority or normal
        if len(heads) == 1:
            return heads[0][1][2]
        return self._least_slack(state, counter, heads, now)

    @staticmethod
    def _least_slack(
        state: SiteState, counter: Counter, heads: list[tuple[str, tuple[float, int, str, int]]], now: float
    ) -> str:
        tickets = state.tickets
        expected = state.service_times.expected
        own = [expected(tickets[first[2]].procedure, counter.id) for _agency, first in heads]
        soonest: dict[str, float] = {}
        best: tuple[float, float, int, str] | None = None
        for i, (agency, first) in enumerate(heads):
            deadline, order, tid, _ = first
            # Passed over, the ticket waits while this counter serves the quickest alternative...
            instead = min(own[j] for j in range(len(heads)) if j != i)
            # ...unless another counter of its agency frees first.
            other = soonest.get(agency)
            if other is None:
                other = soonest[agency] = _soonest_other(state, counter, agency, now)
            slack = deadline - now - min(instead, other)
            key = (slack, tickets[tid].effective_start(), order, tid)
            if best is None or key < best:
                best = key
        assert best is not None
        return best[3]


def fairness_violation(state: SiteState, counter: Counter, ticket_id: str, now: float) -> str | None:
    """Why calling `ticket_id` at `counter` now breaks the deadline policy's fairness guard (None: it doesn't).

    Call it before the call is applied. A transfer directed to the counter is never a violation.
    """
    ticket = state.tickets[ticket_id]
    if ticket.target_counter == counter.id:
        return None
    start = ticket.place()  # older = placed earlier: a remote number's place is kept from when it was taken
    for other_id in state.queues[ticket.agency].ordered():
        other = state.tickets[other_id]
        if other_id == ticket_id or other.place() >= start or state.deadline_of(other) > now:
            continue
        if ticket.is_priority and not other.is_priority:
            continue  # legal priority goes first in its own line
        return f"{ticket.number} called before {other.number}, older and past its deadline"
    return None


def _soonest_other(state: SiteState, counter: Counter, agency: str, now: float) -> float:
    """Seconds until another open counter that serves the agency is likely free (inf: none)."""
    counters = state.counters
    others = state.site.counters_for(agency)
    busy = []
    for other in others:  # an idle one first: it settles the question without any arithmetic
        cs = counters[other.id]
        if cs.status is CounterStatus.OPEN and other.id != counter.id:
            if cs.current is None:
                return 0.0
            busy.append((other, cs.current))
    soonest = math.inf
    tickets = state.tickets
    expected = state.service_times.expected
    for other, current_id in busy:
        current = tickets[current_id]
        if current.state is TicketState.SERVING:
            end = (current.started_at or now) + expected(current.procedure, other.id)
        else:
            end = (current.called_at or now) + WALK_S + expected(current.procedure, other.id)
        if end > now:
            # A cross-trained counter also serves other agencies: it is only partly ours.
            free_in = (end - now) * len(other.serves) ** 0.5
            if free_in < soonest:
                soonest = free_in
        else:
            return 0.0
    return soonest


POLICIES: dict[str, type[FifoPolicy] | type[DeadlinePolicy]] = {
    "fifo": FifoPolicy,
    "deadline": DeadlinePolicy,
}


def make_policy(name: str) -> RoutingPolicy:
    """Build a policy by name; ValueError for an unknown one."""
    try:
        return POLICIES[name]()
    except KeyError:
        raise ValueError(f"unknown policy {name!r}; choose one of {', '.join(POLICIES)}") from None
