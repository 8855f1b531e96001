"""A counter opened for some of its agencies calls only from those lines, until it is closed."""

from __future__ import annotations

import pytest

from controller.core.commands import CallNext, CloseCounter, IssueTicket, OpenCounter
from controller.core.errors import DomainError
from controller.core.floor import Floor
from controller.core.site import parse_site
from controller.core.views import counter_view

SITE = parse_site({
    "site": {"id": "x", "name": "Trung tâm thử", "hours": [["07:30", "11:30"]], "expected_daily_visits": 50},
    "agency": [{"id": "A", "name": "Cơ quan A", "number_block": 1000},
               {"id": "B", "name": "Cơ quan B", "number_block": 2000}],
    "procedure": [{"id": "a", "agency": "A", "name": "Thủ tục A", "share": 0.5, "service": 5.0},
                  {"id": "b", "agency": "B", "name": "Thủ tục B", "share": 0.5, "service": 5.0}],
    "counter": [{"ids": [1], "serves": ["A", "B"], "standby": True}],
}, "test.toml")
T0 = 1736130000.0  # 2025-01-06 09:20 at +07:00


def _floor() -> Floor:
    floor = Floor(SITE, "deadline")
    floor.execute(IssueTicket(procedure="a"), T0)
    floor.execute(IssueTicket(procedure="b"), T0 + 60)
    return floor


@pytest.mark.parametrize("policy", ["deadline", "fifo"])
def test_a_counter_opened_for_one_agency_calls_only_that_line(policy: str) -> None:
    floor = _floor()
    floor.policy = Floor(SITE, policy).policy
    opened = floor.execute(OpenCounter(counter=1, staff="nv", serves=("B",)), T0 + 120)
    assert opened[0].data["serves"] == ["B"]
    called = floor.execute(CallNext(counter=1), T0 + 130)
    assert called[0].data["agency"] == "B"  # A's ticket is older, but the counter is not open for A
    assert counter_view(floor, 1, T0 + 130)["open_for"] == ["B"]


def test_closing_ends_it_and_an_untrained_agency_is_refused() -> None:
    floor = _floor()
    with pytest.raises(DomainError) as refused:
        floor.decide(OpenCounter(counter=1, staff="nv", serves=("C",)), T0)
    assert refused.value.code == "not_trained"
    floor.execute(OpenCounter(counter=1, staff="nv", serves=("B",)), T0 + 120)
    floor.execute(CloseCounter(counter=1), T0 + 125)
    floor.execute(OpenCounter(counter=1, staff="nv"), T0 + 126)  # for all again
    assert floor.state.specs[1].serves == ("A", "B")
    assert floor.execute(CallNext(counter=1), T0 + 130)[0].data["agency"] == "A"


def test_a_log_without_serves_replays_as_before() -> None:
    # Logs written before counters could be opened for some agencies name none: all of them.
    floor = _floor()
    events = floor.decide(OpenCounter(counter=1, staff="nv"), T0 + 120)
    for event in events:
        event.data.pop("serves")
    floor.apply(events)
    assert floor.state.specs[1].serves == ("A", "B") and floor.state.counters[1].serving == ()
