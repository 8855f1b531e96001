"""Numbers taken from a phone, in the pure core: the place kept while away, held aside, expired, rejoined,
"more time", the share of capacity, and the one fairness rule (README, "Numbers from a phone").

The property tests drive a Floor with random walk-ins, remote numbers, check-ins and calls under both
policies and check the rule at every call: an away number is never called; in line, everyone holds a
place by the time they joined (legal priority first); the deadline policy's fairness guard, judged by
places, holds; remote numbers stay within their share; and the log replays to the same floor.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.commands import (
    Abandon,
    CallNext,
    CheckInRemote,
    Command,
    Finish,
    IssueTicket,
    MoreTime,
    OpenCounter,
    Rejoin,
    TakeRemote,
)
from controller.core.errors import DomainError
from controller.core.events import Event
from controller.core.floor import Floor
from controller.core.policies import fairness_violation
from controller.core.remote import half_hour_capacity, remote_cap
from controller.core.return_later import return_time
from controller.core.site import Site, parse_site
from controller.core.state import SiteState
from controller.core.tickets import TicketState

MONDAY_0800 = 1736096400.0 + 8 * 3600  # 2025-01-06 08:00 +07:00


def _site(**remote: Any) -> Site:
    return parse_site(
        {
            "site": {"id": "s", "name": "Trung tâm thử", "hours": [["07:30", "17:00"]]},
            "arrivals": {"half_hour_weights": [1.0] * 19, "weekday_factor": [1, 1, 1, 1, 1, 0, 0]},
            "agency": [{"id": "A", "name": "Cơ quan A", "number_block": 1000},
                       {"id": "B", "name": "Cơ quan B", "number_block": 2000}],
            "procedure": [{"id": "a", "agency": "A", "name": "Thủ tục a", "share": 1, "service": 6},
                          {"id": "b", "agency": "B", "name": "Thủ tục b", "share": 1, "service": 6}],
            "counter": [{"ids": [1], "serves": ["A"]}, {"ids": [2], "serves": ["B", "A"]},
                        {"ids": [3], "serves": ["B"]}],
            "remote": {"share": 1.0, "grace_min": 10, "more_time_places": 2, **remote},
        },
        "test.toml",
    )


SITE = _site()


def _floor(policy: str = "deadline", site: Site = SITE, counters: tuple[int, ...] = (1,)) -> Floor:
    floor = Floor(site, policy)
    for c in counters:
        floor.execute(OpenCounter(c, staff=f"quay{c}"), MONDAY_0800)
    return floor


def _issued(events: list[Event]) -> str:
    return str(next(e for e in events if e.type == "ticket.issued").data["ticket"])


def _called(events: list[Event]) -> str | None:
    called = [e for e in events if e.type == "ticket.called"]
    return str(called[0].data["ticket"]) if called else None


def _tick(floor: Floor, now: float) -> list[Event]:
    events = floor.tick(now)
    floor.apply(events)
    return events


def test_an_away_number_holds_its_place_but_is_never_called_until_it_checks_in() -> None:
    floor = _floor()
    t = MONDAY_0800
    remote = _issued(floor.execute(TakeRemote("a", travel_s=1200), t + 1))
    assert floor.state.tickets[remote].state is TicketState.AWAY
    assert _called(floor.execute(CallNext(1), t + 2)) is None  # nobody in the hall: nobody called
    walk_in = _issued(floor.execute(IssueTicket("a"), t + 10))
    later = _issued(floor.execute(IssueTicket("a"), t + 20))
    assert floor.position(floor.state.tickets[remote]) == 1
    assert floor.position(floor.state.tickets[walk_in]) == 1  # in the hall, nobody is ahead of it...
    # ...but the forecast keeps the away number's place: the walk-in is predicted behind it
    fc = floor.forecast(t + 21, refresh_s=0.0)
    assert fc.call_at[remote] < fc.call_at[walk_in] < fc.call_at[later]
    floor.execute(CheckInRemote(remote), t + 30)
    ticket = floor.state.tickets[remote]
    assert ticket.state is TicketState.WAITING and ticket.waited(t + 30) == 0.0  # the hall's clock starts now
    assert _called(floor.execute(CallNext(1), t + 40)) == remote  # at its place, ahead of those who came later


@pytest.mark.parametrize("policy", ["fifo", "deadline"])
def test_its_turn_passes_it_is_held_aside_then_expires_and_may_rejoin_once_at_the_back(policy: str) -> None:
    floor = _floor(policy)
    t = MONDAY_0800
    remote = _issued(floor.execute(TakeRemote("a", travel_s=60), t))
    walk_in = _issued(floor.execute(IssueTicket("a"), t + 60))
    assert _tick(floor, t + 61) == []
    assert _called(floor.execute(CallNext(1), t + 120)) == walk_in  # the away number is passed over...
    held = _tick(floor, t + 121)
    assert [e.type for e in held] == ["ticket.turn_passed"]  # ...and held aside for the grace period
    ticket = floor.state.tickets[remote]
    assert ticket.state is TicketState.AWAY and ticket.expires_at == t + 121 + SITE.remote.grace_s
    with pytest.raises(DomainError) as late:
        floor.execute(MoreTime(remote), t + 130)
    assert late.value.code == "more_time_used"
    assert _tick(floor, t + 121 + SITE.remote.grace_s - 1) == []
    assert floor.next_tick_at(t + 130) <= t + 121 + SITE.remote.grace_s
    assert [e.type for e in _tick(floor, t + 121 + SITE.remote.grace_s)] == ["ticket.expired"]
    assert floor.state.tickets[remote].state is TicketState.NO_SHOW
    with pytest.raises(DomainError) as expired:
        floor.execute(CheckInRemote(remote), t + 800)
    assert expired.value.code == "remote_expired"
    other = _issued(floor.execute(IssueTicket("a"), t + 900))
    floor.execute(Rejoin(remote), t + 1000)
    assert floor.state.tickets[remote].state is TicketState.AWAY
    assert floor.state.tickets[remote].place_at == t + 1000  # at the back: behind the walk-in of t + 900
    floor.execute(CheckInRemote(remote), t + 1100)
    floor.execute(Finish(1), t + 1200)
    assert _called(floor.execute(CallNext(1), t + 1201)) == other
    with pytest.raises(DomainError) as twice:
        floor.execute(Rejoin(remote), t + 1300)
    assert twice.value.code == "not_expired"


def test_a_turn_that_passes_before_the_trip_is_over_holds_the_number_until_the_trip_and_the_grace_are() -> None:
    floor = _floor()
    t = MONDAY_0800
    # the line is shorter than the 30-minute trip: the walk-in behind it is called long before the holder can come
    remote = _issued(floor.execute(TakeRemote("a", travel_s=1800), t))
    walk_in = _issued(floor.execute(IssueTicket("a"), t + 60))
    assert _called(floor.execute(CallNext(1), t + 120)) == walk_in
    assert [e.type for e in _tick(floor, t + 121)] == ["ticket.turn_passed"]
    assert floor.state.tickets[remote].expires_at == t + 1800 + SITE.remote.grace_s
    assert _tick(floor, t + 121 + SITE.remote.grace_s) == []  # the old grace from the passing would end here
    floor.execute(Finish(1), t + 1500)
    floor.execute(CheckInRemote(remote), t + 1850)  # arrived after the trip it announced: called next
    assert _called(floor.execute(CallNext(1), t + 1860)) == remote


def test_checked_in_during_the_grace_period_it_is_called_next() -> None:
    floor = _floor()
    t = MONDAY_0800
    remote = _issued(floor.execute(TakeRemote("a", travel_s=600), t))
    first = _issued(floor.execute(IssueTicket("a"), t + 60))
    second = _issued(floor.execute(IssueTicket("a"), t + 70))
    assert _called(floor.execute(CallNext(1), t + 120)) == first
    _tick(floor, t + 121)
    floor.execute(CheckInRemote(remote, via="staff"), t + 300)
    floor.execute(Finish(1), t + 400)
    assert _called(floor.execute(CallNext(1), t + 401)) == remote  # its place is older than the second's
    assert floor.state.tickets[second].state is TicketState.WAITING


def test_bad_check_ins_and_more_time_are_refused_and_change_nothing() -> None:
    floor = _floor()
    t = MONDAY_0800
    remote = _issued(floor.execute(TakeRemote("a", travel_s=600), t))
    walk_in = _issued(floor.execute(IssueTicket("a"), t + 1))
    cases: list[tuple[Command, str]] = [
        (CheckInRemote(walk_in), "not_remote"),
        (CheckInRemote("20250106-9999"), "unknown_ticket"),
        (Rejoin(remote), "not_expired"),
    ]
    floor.execute(CheckInRemote(remote), t + 2)
    cases += [(CheckInRemote(remote), "already_checked_in"), (MoreTime(remote), "not_away")]
    for command, code in cases:
        version = floor.state.version
        with pytest.raises(DomainError) as refused:
            floor.decide(command, t + 3)
        assert refused.value.code == code and floor.state.version == version


def test_more_time_moves_the_place_back_a_few_places_once() -> None:
    floor = _floor()
    t = MONDAY_0800
    remote = _issued(floor.execute(TakeRemote("a", travel_s=600), t))
    behind = [_issued(floor.execute(IssueTicket("a"), t + 10 * i)) for i in range(1, 5)]
    floor.execute(MoreTime(remote), t + 60)
    ticket = floor.state.tickets[remote]
    assert floor.position(ticket) == 3  # behind two (more_time_places = 2)
    assert floor.state.tickets[behind[1]].place() < ticket.place() < floor.state.tickets[behind[2]].place()
    with pytest.raises(DomainError) as again:
        floor.execute(MoreTime(remote), t + 70)
    assert again.value.code == "more_time_used"


def test_remote_numbers_take_at_most_their_share_of_each_half_hour() -> None:
    site = _site(share=0.5)
    cap = remote_cap(site, "A")
    assert cap == math.floor(0.5 * half_hour_capacity(site, "A"))
    assert half_hour_capacity(site, "A") == pytest.approx(30 / 6 + 30 / 6 / 2)  # counter 1, and half of 2
    floor = _floor(site=site)
    t = MONDAY_0800
    for i in range(cap):
        floor.execute(TakeRemote("a", travel_s=600), t + i)
    with pytest.raises(DomainError) as full:
        floor.execute(TakeRemote("a", travel_s=600), t + 60)
    assert full.value.code == "remote_share_full" and "08:30" in full.value.message
    floor.execute(IssueTicket("a"), t + 61)  # walk-ins keep flowing
    floor.execute(TakeRemote("b", travel_s=600), t + 62)  # another agency has its own share
    floor.execute(TakeRemote("a", travel_s=600), t + 1800)  # the next half hour has its own


def test_a_number_held_for_the_day_joins_at_the_opening_whenever_it_is_issued() -> None:
    site = _site(share=0.5)
    floor = _floor(site=site)
    opening = MONDAY_0800 - 1800  # 07:30
    cap = remote_cap(site, "A")
    for i in range(cap):  # the opening half hour's share, all taken by same-day numbers
        floor.execute(TakeRemote("a", travel_s=600), opening + 60 + i)
    walk_in = _issued(floor.execute(IssueTicket("a"), MONDAY_0800 + 5))
    # Issued at 09:00 (a controller started late), the held numbers still hold places from 07:30, ahead of the
    # walk-in; their share was counted when they were taken, so a full half hour does not refuse them.
    first = TakeRemote("a", travel_s=1200, idempotency_key="held:h-1", place_at=opening, held=True)
    held = [_issued(floor.execute(first, MONDAY_0800 + 3600)),
            _issued(floor.execute(TakeRemote("a", travel_s=600, idempotency_key="held:h-2",
                                             place_at=opening + 0.001, held=True), MONDAY_0800 + 3601))]
    assert [floor.state.tickets[t].place_at for t in held] == [opening, opening + 0.001]
    assert floor.position(floor.state.tickets[held[0]]) == 1 and floor.position(floor.state.tickets[held[1]]) == 2
    assert floor.execute(first, MONDAY_0800 + 3700) == []  # issued once
    for ticket in held:
        floor.execute(CheckInRemote(ticket), MONDAY_0800 + 3800)
    for at, expected in ((3801, held[0]), (3901, held[1]), (4001, walk_in)):
        assert _called(floor.execute(CallNext(1), MONDAY_0800 + at)) == expected
        floor.execute(Finish(1), MONDAY_0800 + at + 50)
    with pytest.raises(DomainError) as bad:
        TakeRemote("a", travel_s=600, held=True)
    assert bad.value.code == "invalid_held_number"


def test_no_remote_numbers_where_the_share_is_zero() -> None:
    floor = _floor(site=_site(share=0))
    with pytest.raises(DomainError) as off:
        floor.execute(TakeRemote("a", travel_s=600), MONDAY_0800)
    assert off.value.code == "remote_disabled"


def test_an_away_number_may_be_abandoned_and_leaves_the_forecast() -> None:
    floor = _floor()
    t = MONDAY_0800
    remote = _issued(floor.execute(TakeRemote("a", travel_s=600), t))
    floor.execute(Abandon(remote, reason="cancelled"), t + 5)
    assert floor.state.tickets[remote].state is TicketState.ABANDONED
    assert remote not in floor.forecast(t + 6, refresh_s=0.0).call_at
    assert not floor.state.away["A"]


# ---------------------------------------------------------------- return later, from the kiosk

def test_come_back_at_the_predicted_call_less_the_target_inside_the_opening_hours() -> None:
    site = _site()
    lunch = parse_site({**site.raw, "site": {**site.raw["site"], "hours": [["07:30", "11:30"], ["13:30", "17:00"]]},
                        "arrivals": {"half_hour_weights": [1.0] * 15, "weekday_factor": [1, 1, 1, 1, 1, 0, 0]}},
                       "lunch.toml")
    t = MONDAY_0800
    assert return_time(site, None, t) is None  # no open counter: no prediction, no offer
    assert return_time(site, 15 * 60, t) is None  # not over the target
    assert return_time(site, 15 * 60 + 30, t + 10) is None  # less than a whole minute to gain
    assert return_time(site, 50 * 60 + 45, t + 10) == t + 35 * 60  # 08:35, to the minute
    assert return_time(lunch, 3 * 3600 + 50 * 60, t) == t + 5.5 * 3600  # 11:35 is lunch: back at 13:30
    assert return_time(lunch, 9.5 * 3600, t) is None  # 17:15: closed by then


def test_a_number_that_returns_later_keeps_its_place_away_and_is_called_there_once_checked_in() -> None:
    floor = _floor(site=_site(share=0.01))  # the phones' share is spent at once: returning later is not capped
    t = MONDAY_0800
    first = _issued(floor.execute(IssueTicket("a"), t))
    later = _issued(floor.execute(IssueTicket("a", kiosk="k1", return_at=t + 1800), t + 1))
    behind = _issued(floor.execute(IssueTicket("a"), t + 2))
    ticket = floor.state.tickets[later]
    assert ticket.state is TicketState.AWAY and ticket.channel == "kiosk" and ticket.return_at == t + 1800
    assert ticket.travel_s == SITE.targets.transaction_wait_s  # "come now" a target's time before its call
    assert not floor.state.remote_taken
    _issued(floor.execute(IssueTicket("a", return_at=t + 1800), t + 3))  # a second one: no share to spend
    assert _called(floor.execute(CallNext(1), t + 10)) == first
    floor.execute(Finish(1), t + 20)
    floor.execute(CheckInRemote(later, via="card"), t + 30)
    assert _called(floor.execute(CallNext(1), t + 40)) == later  # ahead of the one who came after it
    assert floor.state.tickets[behind].state is TicketState.WAITING
    for command, code in [(IssueTicket("a", priority="elderly", return_at=t + 1800), "return_later_priority"),
                          (IssueTicket("a", return_at=t + 50), "invalid_return")]:
        version = floor.state.version
        with pytest.raises(DomainError) as refused:
            floor.decide(command, t + 50)
        assert refused.value.code == code and floor.state.version == version


# ---------------------------------------------------------------- the fairness rule, as properties

_OPS = st.lists(
    st.tuples(
        st.sampled_from(["walk_in", "priority", "remote", "later", "check_in", "more_time", "call", "finish",
                         "tick", "rejoin"]),
        st.integers(0, 30),     # seconds on
        st.integers(0, 99),     # which procedure, ticket or counter
    ),
    min_size=5,
    max_size=80,
)


def _snapshot(state: SiteState) -> dict[str, Any]:
    return {
        "tickets": {tid: (str(t.state), t.place_at, t.turn_passed_at, t.expires_at, t.counter)
                    for tid, t in state.tickets.items()},
        "queues": {a: q.ordered() for a, q in state.queues.items()},
        "away": {a: dict(v) for a, v in state.away.items() if v},
    }


@settings(max_examples=60, deadline=None)
@given(ops=_OPS, policy=st.sampled_from(["fifo", "deadline"]))
def test_the_fairness_rule_holds_for_walk_ins_remote_numbers_and_legal_priority(
    ops: list[tuple[str, int, int]], policy: str
) -> None:
    floor = _floor(policy, counters=(1, 2, 3))
    log: list[Event] = [e for c in (1, 2, 3) for e in [Event("counter.changed", MONDAY_0800, {
        "counter": c, "status": "open", "staff": f"quay{c}", "by": None})]]
    now = MONDAY_0800
    for op, dt, pick in ops:
        now += dt * 10
        state = floor.state
        command: Command | None = None
        tickets = list(state.tickets.values())
        if op in ("walk_in", "priority"):
            command = IssueTicket("ab"[pick % 2], priority="elderly" if op == "priority" else None)
        elif op == "remote":
            command = TakeRemote("ab"[pick % 2], travel_s=600)
        elif op == "later":  # returns later (from the kiosk): away like a remote number, outside the share
            command = IssueTicket("ab"[pick % 2], kiosk="k1", return_at=now + 1200)
        elif op in ("check_in", "more_time", "rejoin") and tickets:
            ticket = tickets[pick % len(tickets)]
            command = {"check_in": CheckInRemote, "more_time": MoreTime, "rejoin": Rejoin}[op](ticket.id)
        elif op == "finish":
            command = Finish(1 + pick % 3)
        elif op == "call":
            counter = state.site.counters[1 + pick % 3]
            chosen = floor.policy.choose(state, counter, now)
            if chosen is not None and state.counters[counter.id].current is None:
                ticket = state.tickets[chosen]
                assert ticket.state is TicketState.WAITING  # never an away number
                if policy == "deadline":
                    assert fairness_violation(state, counter, chosen, now) is None
                else:
                    _assert_called_in_place(state, counter.serves, chosen)
            command = CallNext(counter.id)
        if command is not None:
            try:
                events = floor.decide(command, now)
            except DomainError:
                continue
            floor.apply(events)
            log.extend(events)
        ticked = floor.tick(now)
        for event in ticked:
            if event.type == "ticket.turn_passed":
                ticket = floor.state.tickets[event.data["ticket"]]
                assert ticket.state is TicketState.AWAY
                assert ticket.place_at is not None
                assert ticket.place_at < floor.state.called_place[ticket.agency]
        floor.apply(ticked)
        log.extend(ticked)
        for (agency, _half_hour), taken in floor.state.remote_taken.items():
            assert taken <= remote_cap(floor.site, agency)
    replayed = Floor(SITE, policy)
    replayed.apply(log)
    assert _snapshot(replayed.state) == _snapshot(floor.state)  # the log alone rebuilds every place


def _assert_called_in_place(state: SiteState, serves: tuple[str, ...], chosen: str) -> None:
    """fifo: legal priority first; otherwise nobody in the called ticket's line holds an earlier place."""
    ticket = state.tickets[chosen]
    if ticket.priority is not None or ticket.target_counter is not None:
        return
    assert not any(len(state.queues[a].priority) for a in serves)
    line = state.queues[ticket.agency].normal.members()
    assert all(state.tickets[other].place() >= ticket.place() for other in line)
