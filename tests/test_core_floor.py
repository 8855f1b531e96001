"""The core's rules, driven through Floor with a controlled clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.core.commands import (
    CallNext,
    CloseCounter,
    Finish,
    IssueTicket,
    NoShow,
    OpenCounter,
    Rate,
    Recall,
    Start,
    Transfer,
)
from controller.core.errors import DomainError
from controller.core.floor import Floor
from controller.core.site import parse_site
from controller.core.targets import breach_cause
from controller.core.tickets import TicketState
from controller.sitefile import load_sites

SITES = Path(__file__).resolve().parent.parent / "controller" / "sites"
T0 = 1_795_300_000.0  # a Sunday 02:26 UTC; check_hours=False where it matters


@pytest.fixture
def floor() -> Floor:
    return Floor(load_sites(SITES / "province-centre.toml")[0], "fifo")


def issue(floor: Floor, procedure: str, now: float = T0, **kw: object) -> str:
    events = floor.execute(IssueTicket(procedure=procedure, check_hours=False, **kw), now)  # type: ignore[arg-type]
    return str(events[-1].data["ticket"])


def test_numbers_come_from_the_agency_block_and_reset_daily(floor: Floor) -> None:
    first = floor.ticket(issue(floor, "gtvt-doi-gplx"))
    second = floor.ticket(issue(floor, "gtvt-cap-lai-gplx"))
    other = floor.ticket(issue(floor, "tp-ly-lich-tu-phap"))
    assert (first.number, second.number, other.number) == ("1001", "1002", "2001")
    tomorrow = floor.ticket(issue(floor, "gtvt-doi-gplx", T0 + 86400))
    assert tomorrow.number == "1001" and tomorrow.id != first.id


def test_legal_priority_first_then_arrival(floor: Floor) -> None:
    floor.execute(OpenCounter(counter=1, staff="a"), T0)
    normal = issue(floor, "gtvt-doi-gplx", T0)
    elderly = issue(floor, "gtvt-doi-gplx", T0 + 5, priority="elderly")
    called = floor.execute(CallNext(counter=1), T0 + 10)[0].data["ticket"]
    assert called == elderly
    floor.execute(Finish(counter=1), T0 + 20)
    assert floor.execute(CallNext(counter=1), T0 + 30)[0].data["ticket"] == normal


def test_journey_intake_fee_then_on_the_spot_result(floor: Floor) -> None:
    for counter in (1, 38, 44):
        floor.execute(OpenCounter(counter=counter, staff=f"s{counter}"), T0)
    tid = issue(floor, "gtvt-doi-gplx")
    floor.execute(CallNext(counter=1), T0 + 60)
    floor.execute(Start(counter=1), T0 + 90)
    floor.execute(Finish(counter=1), T0 + 390)
    ticket = floor.ticket(tid)
    assert ticket.state == TicketState.WAITING and ticket.agency == "PHI" and ticket.visit_waited == 60
    floor.execute(CallNext(counter=38), T0 + 450)
    floor.execute(Finish(counter=38), T0 + 600)
    # Back office: 20 minutes after the intake finished, not counted as waiting.
    assert ticket.state == TicketState.BACK_OFFICE and ticket.ready_at == T0 + 390 + 20 * 60
    assert floor.execute(CallNext(counter=44), T0 + 700) == []
    ready = [e for e in floor.tick(T0 + 390 + 1200) if e.type == "ticket.ready"]
    floor.apply(ready)
    assert ticket.state == TicketState.WAITING and ticket.agency == "TKQ"
    called = floor.execute(CallNext(counter=44), T0 + 1700)[0]
    assert called.data["ticket"] == tid and called.data["waited_s"] == pytest.approx(1700 - 1590)
    floor.execute(Finish(counter=44), T0 + 1800)
    assert ticket.state == TicketState.DONE and ticket.transaction_waits == [60, 60, 110]


def test_no_show_requeues_then_leaves_at_the_recall_limit(floor: Floor) -> None:
    floor.execute(OpenCounter(counter=7, staff="s7"), T0)
    tid = issue(floor, "tp-cong-chung")
    floor.execute(CallNext(counter=7), T0 + 10)
    floor.execute(Recall(counter=7), T0 + 40)
    floor.execute(Recall(counter=7), T0 + 70)
    with pytest.raises(DomainError) as info:
        floor.execute(Recall(counter=7), T0 + 100)
    assert info.value.code == "recall_limit_reached"
    floor.execute(NoShow(counter=7), T0 + 110)
    ticket = floor.ticket(tid)
    assert ticket.state == TicketState.HELD
    assert floor.execute(CallNext(counter=7), T0 + 120) == []  # held for two minutes
    floor.apply([e for e in floor.tick(T0 + 110 + 120) if e.type == "ticket.ready"])
    floor.execute(CallNext(counter=7), T0 + 240)
    floor.execute(NoShow(counter=7), T0 + 300)
    assert ticket.state == TicketState.NO_SHOW


def test_transfer_to_a_counter_keeps_the_wait_clock(floor: Floor) -> None:
    floor.execute(OpenCounter(counter=7, staff="s7"), T0)
    floor.execute(OpenCounter(counter=8, staff="s8"), T0)
    tid = issue(floor, "tp-cong-chung")
    issue(floor, "tp-cong-chung", T0 + 1)
    floor.execute(CallNext(counter=7), T0 + 300)
    floor.execute(Transfer(counter=7, to_counter=8), T0 + 400)
    ticket = floor.ticket(tid)
    assert ticket.target_counter == 8 and ticket.waited(T0 + 500) == pytest.approx(300 + 100)
    # Counter 8 serves its directed transfer before the older queue.
    assert floor.execute(CallNext(counter=8), T0 + 500)[0].data["ticket"] == tid


def test_wrong_state_commands_change_nothing(floor: Floor) -> None:
    issue(floor, "tp-cong-chung")
    version = floor.state.version
    for command, code in [
        (CallNext(counter=7), "counter_closed"),
        (Finish(counter=7), "no_current_ticket"),
        (CallNext(counter=999), "unknown_counter"),
        (Rate(counter=7, score=4), "nothing_to_rate"),
        (IssueTicket(procedure="nope", check_hours=False), "unknown_procedure"),
    ]:
        with pytest.raises(DomainError) as info:
            floor.execute(command, T0 + 1)
        assert info.value.code == code
    assert floor.state.version == version


def test_hours_are_enforced_unless_told_otherwise(floor: Floor) -> None:
    night = T0 - (T0 + 7 * 3600) % 86400 + 22 * 3600  # 22:00 local
    with pytest.raises(DomainError) as info:
        floor.execute(IssueTicket(procedure="tp-cong-chung"), night)
    assert info.value.code == "centre_closed"
    morning = night - 22 * 3600 + 8 * 3600
    assert floor.execute(IssueTicket(procedure="tp-cong-chung"), morning)[-1].type == "ticket.issued"
    late = night - 22 * 3600 + 16 * 3600 + 50 * 60  # 16:50, after close minus 15 minutes
    with pytest.raises(DomainError):
        floor.execute(IssueTicket(procedure="tp-cong-chung"), late)


def test_rating_binds_to_last_served_ticket_and_its_staff(floor: Floor) -> None:
    floor.execute(OpenCounter(counter=7, staff="lan"), T0)
    tid = issue(floor, "tp-cong-chung")
    floor.execute(CallNext(counter=7), T0 + 10)
    floor.execute(Finish(counter=7), T0 + 500)
    event = floor.execute(Rate(counter=7, score=4), T0 + 510)[0]
    assert event.data["ticket"] == tid and event.data["staff"] == "lan"
    with pytest.raises(DomainError):
        floor.execute(Rate(counter=7, score=3), T0 + 520)
    with pytest.raises(DomainError):
        floor.execute(CloseCounter(counter=999), T0)


def test_breach_and_at_risk_are_raised_by_the_tick(floor: Floor) -> None:
    floor.execute(OpenCounter(counter=34, staff="s34"), T0)
    for i in range(6):
        issue(floor, "thue-dang-ky", T0 + i)
    floor.execute(CallNext(counter=34), T0 + 10)
    events = floor.tick(T0 + 20)
    risky = [e for e in events if e.type == "target.at_risk"]
    assert risky and all(e.data["predicted_call_at"] > e.data["deadline"] for e in risky)
    floor.apply(events)
    breaches = [e for e in floor.tick(T0 + 16 * 60) if e.type == "target.breached"]
    assert breaches and {e.data["kind"] for e in breaches} == {"transaction"}
    assert all(e.data["cause"] for e in breaches)


def test_replay_rebuilds_the_same_state(floor: Floor) -> None:
    log = []
    log += floor.execute(OpenCounter(counter=1, staff="a"), T0)
    for i in range(5):
        log += floor.execute(IssueTicket(procedure="gtvt-doi-gplx", check_hours=False), T0 + i)
    log += floor.execute(CallNext(counter=1), T0 + 10)
    log += floor.execute(Finish(counter=1), T0 + 300)
    fresh = Floor(floor.site, "fifo")
    fresh.apply(log)
    def snapshot(f: Floor) -> list[tuple[str, str, str, float]]:
        return sorted((t.id, str(t.state), t.agency, t.effective_start()) for t in f.state.tickets.values())
    assert snapshot(fresh) == snapshot(floor)


def test_positions_follow_the_line_with_priority_first(floor: Floor) -> None:
    first = issue(floor, "tp-cong-chung", T0)
    second = issue(floor, "tp-cong-chung", T0 + 1)
    elderly = issue(floor, "tp-cong-chung", T0 + 2, priority="elderly")
    assert [floor.position(floor.ticket(t)) for t in (elderly, first, second)] == [1, 2, 3]
    floor.execute(OpenCounter(counter=7, staff="s7"), T0 + 3)
    floor.execute(CallNext(counter=7), T0 + 4)
    assert floor.position(floor.ticket(elderly)) is None
    assert [floor.position(floor.ticket(t)) for t in (first, second)] == [1, 2]


def test_next_tick_at_says_when_enforcement_can_act_next() -> None:
    site = load_sites(SITES / "province-centre.toml")[0]
    floor = Floor(site, "deadline", enforce_refresh_s=60.0)
    floor.execute(OpenCounter(counter=1, staff="a"), T0)
    issue(floor, "gtvt-doi-gplx", T0)
    floor.execute(CallNext(counter=1), T0)
    waiting = floor.ticket(issue(floor, "gtvt-doi-gplx", T0 + 1))
    assert floor.next_tick_at(T0 + 1) == T0 + 1  # never ticked: at once
    assert floor.tick(T0 + 1) == []  # called well within its target: nothing to do
    # Quiet until something can change: never later than the waiting ticket's deadline.
    quiet = floor.next_tick_at(T0 + 2)
    assert T0 + 1 < quiet <= floor.state.deadline_of(waiting)
    assert floor.tick(quiet - 0.5) == []
    # A change: the tick judges risk on its forecast until that may be refreshed, 60 s after it was made.
    issue(floor, "gtvt-doi-gplx", T0 + 10)
    assert floor.next_tick_at(T0 + 10) == T0 + 1 + 60.0
    assert floor.next_tick_at(T0 + 100) == T0 + 100  # overdue refresh: at once


def test_a_standby_counter_closed_by_the_manager_is_recommended_not_reopened() -> None:
    # Input: a standby counter opened by enforcement, closed by the manager while its agency is still at
    # risk. The next tick reopened it (every second, fighting the manager); now it is recommended instead
    # for half an hour, and opened automatically again after that.
    site = parse_site({
        "site": {"id": "x", "name": "X", "hours": [["00:00", "23:59"]], "auto_open_standby": True,
                 "wait_target_transaction_min": 2},
        "agency": [{"id": "A", "name": "A", "number_block": 1000}],
        "procedure": [{"id": "a", "agency": "A", "name": "a", "share": 1, "service": 10}],
        "counter": [{"ids": [1], "serves": ["A"]}, {"ids": [2], "serves": ["A"], "standby": True}],
    }, "x.toml")
    floor = Floor(site, "deadline")
    floor.execute(OpenCounter(counter=1, staff="s1"), T0)
    for i in range(10):
        issue(floor, "a", T0 + i)
    floor.execute(CallNext(counter=1), T0 + 10)
    opened_at = None
    now = T0 + 10
    while opened_at is None and now < T0 + 600:
        now += 1
        events = floor.tick(now)
        floor.apply(events)
        if any(e.type == "counter.changed" and e.data["by"] == "auto" for e in events):
            opened_at = now
    assert opened_at is not None
    assert set(floor.state.auto_opened) == {2} and not floor.state.closed_by_person
    floor.execute(CloseCounter(counter=2, by="quanly"), now + 1)
    assert set(floor.state.closed_by_person) == {2} and not floor.state.auto_opened
    seen = []
    while now < opened_at + 29 * 60:
        now += 5
        events = floor.tick(now)
        floor.apply(events)
        seen.extend(events)
    assert not [e for e in seen if e.type == "counter.changed"]
    assert [e.data["counter"] for e in seen if e.type == "alert.raised"] == [2]
    assert floor.next_tick_at(now) <= opened_at + 1 + 30 * 60
    later = floor.tick(opened_at + 31 * 60)
    assert [(e.data["counter"], e.data["by"]) for e in later if e.type == "counter.changed"] == [(2, "auto")]


def test_an_afternoon_breach_is_not_blamed_on_a_surge_of_ordinary_demand() -> None:
    # Input: the commune centre (hours 07:30-11:30 and 13:30-17:00), four HT tickets at 15:05 with every
    # HT counter open. The surge test read the arrival weight of "half hours since 07:30" (index 15, past
    # the 15 weights), found no expected demand and called any 3 tickets a surge.
    site = load_sites(SITES / "commune-centre.toml")[0]
    assert site.half_hour_index(15 * 3600 + 300) == 11 and site.half_hour_index(12 * 3600) is None
    assert site.half_hour_starts[8] == 13 * 60 + 30 and len(site.half_hour_starts) == 15
    floor = Floor(site, "fifo")
    at = 1736121600.0 - site.utc_offset_s + 15 * 3600 + 300  # Monday 2025-01-06 15:05 local
    for counter in (1, 2, 3, 5):
        floor.execute(OpenCounter(counter=counter, staff=f"s{counter}"), at)
    tickets = [issue(floor, "ht-khai-sinh", at + i) for i in range(4)]
    assert breach_cause(floor.state, floor.ticket(tickets[-1]), at + 16 * 60) == "capacity"
