"""Numbers held away in the simulator (sim/away.py): from a phone, the same citizens as a walk-in-only day, each
number held away until its holder checks in, late ones rejoining at the back, some never coming; at the kiosk,
numbers to come back later taken when the kiosk offers them; the hall's waits counted from check-in; scenario
keys checked by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from controller.core.errors import SiteError
from controller.sitefile import load_document
from sim.scenario import parse_scenario
from tests.sim_support import locations_are_consistent, run_day

COMMUNE = Path(__file__).resolve().parent.parent / "controller" / "sites" / "commune-centre.toml"


@pytest.mark.parametrize(("table", "field"), [
    ({"remote_share": 1.5}, "scenario.remote_share"),
    ({"remote_travel_min": []}, "scenario.remote_travel_min"),
    ({"remote_travel_min": [10, 0]}, "scenario.remote_travel_min"),
    ({"remote_travel_min": "20"}, "scenario.remote_travel_min"),
    ({"check_in_late_min": -1}, "scenario.check_in_late_min"),
    ({"remote_reads_wait": 1}, "scenario.remote_reads_wait"),
    ({"return_later_share": -0.1}, "scenario.return_later_share"),
])
def test_bad_remote_keys_are_refused_by_name(table: dict[str, Any], field: str) -> None:
    site = load_document(COMMUNE)[0][0]
    with pytest.raises(SiteError) as caught:
        parse_scenario(table, "bad.toml", [site])
    assert caught.value.field == field


def test_numbers_from_phones_wait_away_then_check_in_and_the_hall_counts_from_check_in() -> None:
    site = load_document(COMMUNE)[0][0]
    walk_ins = parse_scenario({"weekday": 0}, "x.toml", [site])
    remote = parse_scenario({"weekday": 0, "remote_share": 0.6, "remote_travel_min": [10, 20],
                             "check_in_late_min": 4, "away_no_show_share": 0.1, "remote_reads_wait": False},
                            "x.toml", [site])
    assert remote.remote_travel_s == (600.0, 1200.0) and remote.check_in_late_s == 240.0
    _floor, alone = run_day(site, walk_ins, "deadline", seed=3)
    floor, tally = run_day(site, remote, "deadline", seed=3)
    assert floor.violations == []
    locations_are_consistent(floor.events)
    assert tally.visits == alone.visits  # the same citizens: a number is taken from a phone instead
    away = tally.away
    assert away["remote_taken"] > 20 and away["remote_checked_in"] > 10 and away["remote_never_came"] > 0
    assert away["remote_taken"] + away["remote_refused"] <= 0.6 * tally.visits + 10
    state = floor.state
    remote_tickets = [t for t in state.tickets.values() if t.channel == "remote"]
    assert len(remote_tickets) == away["remote_taken"]
    called = {e.data["ticket"]: e.at for e in reversed(floor.events) if e.type == "ticket.called"}
    for ticket in remote_tickets:
        if ticket.checked_in_at is None:
            assert ticket.id not in called  # never called while away
        elif ticket.id in called:
            assert called[ticket.id] >= ticket.checked_in_at
    came_in = [t for t in state.tickets.values() if t.place_at is None or t.checked_in_at is not None]
    assert len(tally.hall_waits) == len(came_in) == tally.visits - sum(
        1 for t in remote_tickets if t.checked_in_at is None)
    assert tally.remote_hall and all(h <= lived for h, lived in zip(tally.remote_hall, tally.remote_lived,
                                                                    strict=True))


def test_citizens_who_accept_come_back_at_the_offered_time_and_check_in() -> None:
    site = load_document(COMMUNE)[0][0]
    busy = {"weekday": 0, "event": [{"kind": "counter_closed", "counters": [1, 2], "from": "07:30", "to": "10:00"}]}
    scenario = parse_scenario({**busy, "return_later_share": 1.0}, "x.toml", [site])
    floor, tally = run_day(site, scenario, "deadline", seed=4)
    _floor, alone = run_day(site, parse_scenario(busy, "x.toml", [site]), "deadline", seed=4)
    assert floor.violations == [] and tally.visits == alone.visits
    locations_are_consistent(floor.events)
    away = tally.away
    assert away["return_taken"] > 20 and away["return_not_offered"] > 0  # offered only past the target
    back = [t for t in floor.state.tickets.values() if t.return_at is not None]
    assert len(back) == away["return_taken"] and all(t.channel == "kiosk" for t in back)
    issued = {e.data["ticket"]: e for e in floor.events if e.type == "ticket.issued"}
    for ticket in back:  # offered when the predicted wait was over the target, back before the predicted call
        assert ticket.return_at is not None and ticket.return_at > issued[ticket.id].at
        if ticket.checked_in_at is not None and ticket.rejoined is False:
            assert ticket.checked_in_at >= ticket.return_at
    assert len(tally.return_hall) == sum(1 for t in back if t.checked_in_at is not None and any(
        k == "ticket.called" for k, _at, _c in floor.state.history[t.id]))
