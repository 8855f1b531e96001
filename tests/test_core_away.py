"""Both waits of the numbers that held a place away (controller/core/away.py): in the hall from check-in (what the
target counts) and since the place was kept, the same from the event log (reports) as from the floor (monitor)."""

from __future__ import annotations

from controller.core.away import away_from_events, away_from_state, away_rows
from controller.core.commands import CallNext, CheckInRemote, Command, Finish, IssueTicket, OpenCounter, TakeRemote
from controller.core.events import Event
from controller.core.floor import Floor
from controller.core.views import monitor_snapshot
from tests.test_core_remote import MONDAY_0800, SITE


def test_the_hall_wait_counts_from_check_in_and_the_lived_wait_from_the_place_kept() -> None:
    floor = Floor(SITE, "fifo")
    log: list[Event] = []

    def run(command: Command, at: float) -> list[Event]:
        events = floor.execute(command, MONDAY_0800 + at)
        log.extend(events)
        return events

    def issued(events: list[Event]) -> str:
        return str(next(e for e in events if e.type == "ticket.issued").data["ticket"])

    run(OpenCounter(1, staff="quay1"), 0)
    opening = MONDAY_0800 - 1800
    early = issued(run(TakeRemote("a", travel_s=600), 60))                  # taken at 08:01
    held = issued(run(TakeRemote("a", travel_s=600, idempotency_key="held:h-1", place_at=opening, held=True), 61))
    never = issued(run(TakeRemote("a", travel_s=600), 62))                  # never comes
    run(IssueTicket("a"), 70)                                               # a walk-in, not counted here
    run(CheckInRemote(held), 300)
    run(CheckInRemote(early), 600)
    assert run(CallNext(1), 900)[0].data["ticket"] == held                  # 10 min in the hall, 1 h since 07:30
    run(Finish(1), 1000)
    assert run(CallNext(1), 1100)[0].data["ticket"] == early                # 500 s in the hall, 1040 s since taken
    run(Finish(1), 1200)
    run(CallNext(1), 1300)                                                  # the walk-in: the last one's turn passes
    for at in (1301, 1901):                                                 # held aside, then expired
        ticked = floor.tick(MONDAY_0800 + at)
        floor.apply(ticked)
        log.extend(ticked)
    assert floor.state.tickets[never].checked_in_at is None and [e.type for e in log[-2:]] == [
        "ticket.turn_passed", "ticket.expired"]
    rows = away_rows(away_from_state(floor.state), 900.0)
    assert rows == away_rows(away_from_events([e.to_dict() for e in log]), 900.0)
    [remote] = rows
    assert (remote["key"], remote["numbers"], remote["checked_in"], remote["expired"], remote["called"]) == (
        "remote", 3, 2, 1, 2)
    assert (remote["hall_wait_p50_s"], remote["hall_wait_p90_s"], remote["hall_wait_mean_s"]) == (500.0, 600.0, 550.0)
    assert (remote["lived_wait_p50_s"], remote["lived_wait_p90_s"]) == (1040.0, 2700.0)
    assert remote["hall_within_target"] == 1.0
    snapshot = monitor_snapshot(floor, MONDAY_0800 + 2000)
    assert snapshot["away"] == rows and "từ lúc xác nhận có mặt" in snapshot["away_note"]["vi"]
