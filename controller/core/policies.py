"""Routing policies: which waiting ticket a counter calls next.

A policy is a small strategy (`choose`) over the read-only state. Both policies
serve transfers directed to the counter first. `fifo` is the baseline most
queue systems ship; `deadline` is motcua's: it acts on the wait targets.
"""

from __future__ import annotations

from typing import Protocol

from controller.core.site import Counter
from controller.core.state import SiteState
from controller.core.tickets import CounterStatus, TicketState

__all__ = ["POLICIES", "DeadlinePolicy", "FifoPolicy", "RoutingPolicy", "make_policy"]

# A called citizen needs time to reach the counter; counts toward when it frees.
WALK_S = 30.0


class RoutingPolicy(Protocol):
    """Chooses the next ticket for a counter; None when nobody it may serve waits."""

    name: str

    def choose(self, state: SiteState, counter: Counter, now: float) -> str | None: ...


def _directed(state: SiteState, counter: Counter) -> str | None:
    line = state.directed.get(counter.id)
    return line[0] if line else None


class FifoPolicy:
    """Legal priority first, then arrival; the counter's agencies in the counter's order."""

    name = "fifo"

    def choose(self, state: SiteState, counter: Counter, now: float) -> str | None:
        directed = _directed(state, counter)
        if directed is not None:
            return directed
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
        return None


class DeadlinePolicy:
    """Deadline-aware routing.

    1. Fairness guard: if any ticket the counter may serve is past its deadline,
       call the one that has waited longest among those (legal priority does
       not override this, so priority cannot starve others past their deadline).
    2. Legal priority, least slack first.
    3. Everyone else, least slack first, where slack = deadline - now - the wait
       the ticket would still have if this counter passed it over (the next
       moment another counter for its agency frees, or this one after a
       service). A cross-trained counter thereby pulls an at-risk ticket of
       another agency before a comfortable one of its own.
    """

    name = "deadline"

    def choose(self, state: SiteState, counter: Counter, now: float) -> str | None:
        directed = _directed(state, counter)
        if directed is not None:
            return directed
        overdue = self._oldest_overdue(state, counter, now)
        if overdue is not None:
            return overdue
        best: tuple[float, float, int, str] | None = None
        for agency in counter.serves:
            head = state.queues[agency].priority.head_by_deadline()
            if head is not None:
                best = self._better(state, counter, agency, head, now, best)
        if best is not None:
            return best[3]
        for agency in counter.serves:
            head = state.queues[agency].normal.head_by_deadline()
            if head is not None:
                best = self._better(state, counter, agency, head, now, best)
        return None if best is None else best[3]

    def _better(
        self,
        state: SiteState,
        counter: Counter,
        agency: str,
        head: tuple[str, float],
        now: float,
        best: tuple[float, float, int, str] | None,
    ) -> tuple[float, float, int, str]:
        tid, deadline = head
        ticket = state.tickets[tid]
        slack = deadline - now - self._wait_if_passed(state, counter, agency, ticket.procedure, now)
        key = (slack, ticket.effective_start(), ticket.order, tid)
        return key if best is None or key < best else best

    @staticmethod
    def _oldest_overdue(state: SiteState, counter: Counter, now: float) -> str | None:
        best: tuple[float, int, str] | None = None
        for agency in counter.serves:
            queue = state.queues[agency]
            for index in (queue.priority, queue.normal):
                head = index.head_by_start()
                if head is None:
                    continue
                start, deadline, order = index.keys(head[0])
                if deadline <= now:
                    # The longest-waiting ticket is overdue: nobody overdue is older than it.
                    candidates = [(head[0], start, order)]
                else:
                    # Only tickets whose visit budget ran out can be overdue: few, found in O(k).
                    candidates = [(tid, s, o) for tid, s, _d, o in index.due_by(now)]
                for tid, s, o in candidates:
                    key = (s, o, tid)
                    if best is None or key < best:
                        best = key
        return None if best is None else best[2]

    @staticmethod
    def _wait_if_passed(state: SiteState, counter: Counter, agency: str, procedure: str, now: float) -> float:
        """How long a ticket would still wait if this counter served someone else now."""
        own = state.service_times.expected(procedure, counter.id)
        soonest = own
        for other in state.site.counters_for(agency):
            if other.id == counter.id:
                continue
            cs = state.counters[other.id]
            if cs.status != CounterStatus.OPEN:
                continue
            if cs.current is None:
                return 0.0
            current = state.tickets[cs.current]
            began = current.started_at if current.state == TicketState.SERVING else current.called_at
            extra = 0.0 if current.state == TicketState.SERVING else WALK_S
            expected = state.service_times.expected(current.procedure, other.id)
            free_in = max(0.0, (began or now) + extra + expected - now)
            # A cross-trained counter also serves other agencies: it is only partly ours.
            free_in *= len(other.serves) ** 0.5
            soonest = min(soonest, free_in)
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
