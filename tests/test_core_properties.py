"""Properties of the pure core under random commands and clock advances (hypothesis).

A small floor (three agencies, a fee step, a cross-trained and a priority
counter) is driven by random command sequences. After every step the state
must be coherent, and the whole event stream must rebuild the same state.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.core.commands import (
    Abandon,
    CallNext,
    CheckIn,
    CloseCounter,
    Command,
    Finish,
    IssueTicket,
    NoShow,
    OpenCounter,
    PauseCounter,
    ResumeCounter,
    Start,
    Transfer,
)
from controller.core.errors import DomainError
from controller.core.estimator import forecast
from controller.core.events import Event
from controller.core.floor import Floor
from controller.core.policies import fairness_violation
from controller.core.site import Site, parse_site
from controller.core.targets import enforce
from controller.core.tickets import CounterStatus, TicketState

MONDAY_0800 = 1736125200.0  # 2025-01-06 08:00 +07:00

SITE: Site = parse_site(
    {
        "site": {"id": "p", "name": "Property floor", "hours": [["00:00", "23:59"]], "issue_cutoff_min": 0,
                 "wait_target_transaction_min": 2, "wait_target_visit_min": 3, "appointment_grace_min": 1},
        "agency": [
            {"id": "A", "name": "A", "number_block": 1000},
            {"id": "B", "name": "B", "number_block": 2000},
            {"id": "F", "name": "Fee", "number_block": 3000, "role": "fee"},
        ],
        "procedure": [
            {"id": "a1", "agency": "A", "name": "a1", "share": 1, "service": 2, "fee": True},
            {"id": "a2", "agency": "A", "name": "a2", "share": 1, "service": 3},
            {"id": "b1", "agency": "B", "name": "b1", "share": 1, "service": 2, "fee": True},
            {"id": "fee", "agency": "F", "name": "Nộp phí", "share": 0, "service": 1, "step_only": True},
        ],
        "counter": [
            {"ids": [1], "serves": ["A"]},
            {"ids": [2], "serves": ["B", "A"]},
            {"ids": [3], "serves": ["A", "B", "F"], "priority": True},
            {"ids": [4], "serves": ["F"]},
        ],
    },
    "property.toml",
)

counters = st.integers(1, 4)
commands = st.one_of(
    st.builds(lambda p, prio: IssueTicket(p, priority=prio), st.sampled_from(["a1", "a2", "b1"]),
              st.sampled_from([None, None, None, "elderly"])),
    st.builds(lambda c: OpenCounter(c, staff=f"s{c}"), counters),
    st.builds(CloseCounter, counters),
    st.builds(lambda c: CloseCounter(c, by="quanly"), counters),  # closed by a person: enforcement holds off
    st.builds(PauseCounter, counters),
    st.builds(ResumeCounter, counters),
    st.builds(CallNext, counters),
    st.builds(CallNext, counters),
    st.builds(Start, counters),
    st.builds(lambda c, o: Finish(c, outcome=o), counters, st.sampled_from(["done", "done", "incomplete"])),
    st.builds(NoShow, counters),
    st.builds(lambda c, p: Transfer(c, procedure=p), counters, st.sampled_from(["a1", "a2", "b1"])),
    st.builds(lambda c, t: Transfer(c, to_counter=t), counters, counters),
    st.integers(0, 30).map(lambda i: ("abandon", i)),
    st.floats(1.0, 150.0).map(lambda s: ("advance", s)),
    st.just(("tick", 0)),
    # an appointment checked in from 2 minutes after its slot to 10 minutes before (a few bookings, so repeats)
    st.tuples(st.sampled_from(["a1", "a2", "b1"]), st.floats(-120.0, 600.0), st.integers(0, 4)).map(
        lambda t: ("appointment", t)),
)


def _snapshot(floor: Floor) -> dict[str, Any]:
    state = floor.state
    return {
        "tickets": {tid: (t.state, t.step, t.procedure, t.agency, t.counter, t.waiting_since, t.tx_waited_before,
                          t.visit_waited, tuple(t.transaction_waits), t.at_risk, t.breached_tx, t.number)
                    for tid, t in state.tickets.items()},
        "counters": {cid: (c.status, c.current, c.staff, c.served) for cid, c in state.counters.items()},
        "queues": {a: q.ordered() for a, q in state.queues.items()},
        "directed": {c: list(v) for c, v in state.directed.items() if v},
        "pending": dict(state.pending),
        "early": {a: dict(e) for a, e in state.early.items() if e},
    }


def _check_coherent(floor: Floor) -> None:
    state = floor.state
    numbers = [t.number for t in state.tickets.values()]
    assert len(numbers) == len(set(numbers)), "a number was given twice"
    at_counters = Counter(c.current for c in state.counters.values() if c.current is not None)
    for tid, ticket in state.tickets.items():
        in_queues = sum(tid in q for q in state.queues.values()) + sum(v.count(tid) for v in state.directed.values())
        places = in_queues + at_counters[tid] + (tid in state.pending)
        if ticket.state == TicketState.WAITING:
            assert in_queues == 1 and places == 1, (tid, ticket.state, places)
        elif ticket.state in (TicketState.CALLED, TicketState.SERVING):
            assert at_counters[tid] == 1 and places == 1 and state.counters[ticket.counter or 0].current == tid
        elif ticket.state in (TicketState.HELD, TicketState.BACK_OFFICE):
            assert tid in state.pending and places == 1
        elif ticket.state == TicketState.EARLY:
            assert tid in state.pending and places == 1 and tid in state.early[ticket.agency]
        else:
            assert places == 0, (tid, ticket.state, places)
    assert state.in_line == sum(map(len, state.queues.values())) + sum(map(len, state.directed.values()))
    targets = SITE.targets
    for ticket in state.tickets.values():
        # deadline_of reads a ticket in line from what the fold worked out when it joined: always the formula.
        deadline = ticket.deadline(targets.transaction_wait_s, targets.visit_wait_s)
        if ticket.appointment_pending:
            deadline = min(deadline, (ticket.slot_at or 0.0) + SITE.appointment_grace_s)
        if ticket.remote_pending:
            deadline = min(deadline, ticket.place() + targets.transaction_wait_s)
        assert state.deadline_of(ticket) == deadline, ticket.id
    for agency in SITE.agencies:
        assert state.open_counters(agency) == [c for c in state.open_counters() if agency in state.specs[c.id].serves]
    # The counter indexes enforcement reads instead of scanning every counter.
    assert set(state.auto_opened) == {cid for cid, c in state.counters.items()
                                      if c.status == CounterStatus.OPEN and c.opened_by == "auto"}
    assert set(state.closed_by_person) == {cid for cid, c in state.counters.items()
                                           if c.status == CounterStatus.CLOSED and c.opened_by not in (None, "auto")}


def _check_call(floor: Floor, event: Event) -> None:
    """A call respects competence and, under the deadline policy, the fairness guard."""
    state, now = floor.state, event.at
    counter = SITE.counters[event.data["counter"]]
    ticket = state.tickets[event.data["ticket"]]
    directed = ticket.target_counter == counter.id
    assert directed or ticket.agency in counter.serves
    if floor.policy.name != "deadline" or directed:
        return
    assert fairness_violation(state, counter, ticket.id, now) is None, "fairness guard broken"


def _check_enforcement(floor: Floor, now: float) -> None:
    """The tick's shortcuts lose nothing: late tickets come from the forecast, a quiet tick hides no event."""
    state = floor.state
    fresh = forecast(state, now, by_deadline=floor.policy.name == "deadline")
    expected_late = {t.id for t in state.tickets.values() if t.state == TicketState.WAITING
                     and (fresh.call_at.get(t.id) is None or fresh.call_at[t.id] > state.deadline_of(t))}
    assert set(fresh.late) == expected_late
    version, until = floor._quiet
    if version == state.enforce_version and now < until:
        # Readiness and breaches are exact moments: a quiet tick may skip neither.
        due = [e for e in enforce(state, now, fresh) if e.type in ("ticket.ready", "target.breached")]
        assert due == [], due


# Every run starts from a working floor, so random steps reach calls, services and transfers.
PREFIX: list[Any] = [*(OpenCounter(c, staff=f"s{c}") for c in (1, 2, 3, 4)),
                     IssueTicket("a1"), IssueTicket("b1"), IssueTicket("a2", priority="elderly")]
serve_cycle = st.builds(lambda c, o: [CallNext(c), Start(c), ("advance", 40.0), Finish(c, outcome=o)],
                        counters, st.sampled_from(["done", "done", "incomplete"]))
steps_strategy = st.lists(st.one_of(commands.map(lambda c: [c]), serve_cycle), min_size=10, max_size=60).map(
    lambda chunks: [step for chunk in chunks for step in chunk])


def _drive(policy: str, steps: list[Any]) -> Counter[str]:
    floor = Floor(SITE, policy)
    now = MONDAY_0800
    log: list[Event] = []
    finished: Counter[tuple[str, int]] = Counter()
    for step in [*PREFIX, *steps]:
        if isinstance(step, tuple):
            kind, value = step
            if kind == "advance":
                now += value
                continue
            if kind == "tick":
                _check_enforcement(floor, now)
                events = floor.tick(now)
                floor.apply(events)
                log.extend(events)
                _check_coherent(floor)
                continue
            if kind == "appointment":
                procedure, ahead, booking = value
                command: Command = CheckIn(f"bk{booking}", procedure, slot_at=round(now + ahead))
            else:
                tickets = sorted(floor.state.tickets)
                if not tickets:
                    continue
                command = Abandon(tickets[value % len(tickets)])
        else:
            command = step
        before = {tid: (t.waited(now), t.state) for tid, t in floor.state.tickets.items()}
        try:
            events = floor.decide(command, now)
        except DomainError:
            assert _snapshot(floor) == _snapshot(floor)  # a refusal changes nothing (and decide is pure)
            continue
        for event in events:
            if event.type == "ticket.called":
                _check_call(floor, event)
        if isinstance(command, CallNext):
            # The simulator skips a call that has_work_for says would find nobody: it never hides one.
            assert events == [] or floor.state.has_work_for(command.counter)
        floor.apply(events)
        log.extend(events)
        for event in events:
            tid = event.data.get("ticket")
            if event.type == "ticket.finished":
                finished[(tid, floor.state.tickets[tid].step - (0 if event.data.get("next_step") is None else 1))] += 1
            if event.type == "ticket.transferred":
                # The wait clock goes on from what the citizen had waited when called.
                ticket = floor.state.tickets[tid]
                assert abs(ticket.waited(now) - ticket.tx_waited_before) < 1e-6
                assert ticket.waited(now) <= before[tid][0] + 1e-6 or before[tid][1] != TicketState.WAITING
        _check_coherent(floor)
    assert all(n == 1 for n in finished.values()), "a transaction was served twice"
    replayed = Floor(SITE, policy)
    replayed.apply(log)
    assert _snapshot(replayed) == _snapshot(floor)
    return Counter(e.type for e in log)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps_strategy)
def test_random_commands_keep_the_deadline_floor_coherent(steps: list[Any]) -> None:
    _drive("deadline", steps)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps_strategy)
def test_random_commands_keep_the_fifo_floor_coherent(steps: list[Any]) -> None:
    _drive("fifo", steps)


def _seeded_steps(seed: int) -> list[Any]:
    """A plain pseudo-random walk with the same vocabulary, to check what the walks reach."""
    rng = random.Random(seed)
    steps: list[Any] = []
    for _ in range(60):
        c = rng.randint(1, 4)
        steps += rng.choice([
            [IssueTicket(rng.choice(["a1", "a2", "b1"]))],
            [CallNext(c), Start(c), ("advance", 40.0), Finish(c)],
            [CallNext(c), Transfer(c, procedure=rng.choice(["a1", "b1"]))],
            [("abandon", rng.randint(0, 30))],
            [("advance", rng.uniform(1, 150)), ("tick", 0)],
            [PauseCounter(c)], [ResumeCounter(c)],
        ])
    return steps


def test_the_walks_reach_the_interesting_events() -> None:
    seen: Counter[str] = Counter()
    for seed in range(20):
        seen.update(_drive("deadline", _seeded_steps(seed)))
    for kind in ("ticket.called", "ticket.finished", "ticket.transferred", "ticket.abandoned", "target.breached"):
        assert seen[kind] > 0, kind


def test_transfer_keeps_the_wait_clock() -> None:
    floor = Floor(SITE, "deadline")
    now = MONDAY_0800
    floor.execute(IssueTicket("a2"), now)
    floor.execute(OpenCounter(1, staff="s1"), now)
    now += 100
    called = floor.execute(CallNext(1), now)
    assert called[0].data["waited_s"] == 100
    floor.execute(Start(1), now + 30)
    floor.execute(Transfer(1, procedure="b1"), now + 200)
    ticket = next(iter(floor.state.tickets.values()))
    assert ticket.agency == "B" and ticket.state == TicketState.WAITING
    assert ticket.waited(now + 200) == 100  # service time is not waiting
    assert ticket.waited(now + 260) == 160


def test_a_visit_late_fee_ticket_does_not_jump_older_ones() -> None:
    """Once anyone is late the counter serves in arrival order, not the most overdue first."""
    floor = Floor(SITE, "deadline")
    now = MONDAY_0800
    for counter in (1, 4):
        floor.execute(OpenCounter(counter, staff=f"s{counter}"), now)
    late = floor.execute(IssueTicket("a1"), now)[-1].data["ticket"]
    # a1 waits 200 s for its intake, more than the whole visit budget (3 min).
    assert floor.execute(CallNext(1), now + 200)[-1].data["ticket"] == late
    early = floor.execute(IssueTicket("b1"), now + 201)[-1].data["ticket"]
    floor.execute(OpenCounter(2, staff="s2"), now + 201)
    floor.execute(CallNext(2), now + 205)
    floor.execute(Finish(2), now + 215)  # b1 waits at the fee line from +215 (deadline +335)
    floor.execute(Finish(1), now + 230)  # a1 joins it at +230, its visit deadline already past
    state = floor.state
    assert state.tickets[early].agency == state.tickets[late].agency == "F"
    assert state.deadline_of(state.tickets[late]) <= now + 230 < state.deadline_of(state.tickets[early])
    called = floor.execute(CallNext(4), now + 240)[-1].data["ticket"]
    assert called == early  # the older ticket first: jumping a1 ahead would save nobody's target


def test_between_equally_urgent_lines_a_shared_counter_serves_the_short_job_first() -> None:
    floor = Floor(SITE, "deadline")
    now = MONDAY_0800
    floor.execute(OpenCounter(2, staff="s2"), now)
    floor.execute(PauseCounter(2), now)
    long_job = floor.execute(IssueTicket("a2"), now)[-1].data["ticket"]   # 3 minutes
    short_job = floor.execute(IssueTicket("b1"), now)[-1].data["ticket"]  # 2 minutes
    assert floor.state.deadline_of(floor.state.tickets[long_job]) == floor.state.deadline_of(
        floor.state.tickets[short_job])
    floor.execute(ResumeCounter(2), now + 1)
    assert floor.execute(CallNext(2), now + 1)[-1].data["ticket"] == short_job


def test_a_quiet_tick_wakes_for_a_breach() -> None:
    floor = Floor(SITE, "deadline")
    now = MONDAY_0800
    tid = floor.execute(IssueTicket("a1"), now)[-1].data["ticket"]
    for t in (now + 1, now + 2, now + 60):
        floor.apply(floor.tick(t))
    assert floor.tick(now + 61) == []  # nothing changed, nothing due: quiet
    breached = [e for e in floor.tick(now + 120.5) if e.type == "target.breached"]
    assert [(e.data["ticket"], e.data["kind"]) for e in breached] == [(tid, "transaction")]
