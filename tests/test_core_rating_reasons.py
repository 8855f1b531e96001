"""Reasons at a low rating (issue 17, item 1): the site file's [feedback] table and the core's GiveReasons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from controller.core.commands import CallNext, Finish, GiveReasons, IssueTicket, OpenCounter, Rate, reasons_wanted
from controller.core.errors import DomainError, SiteError
from controller.core.feedback_settings import REASONS, parse_feedback
from controller.core.floor import Floor
from controller.sitefile import load_sites

SITES = Path(__file__).resolve().parent.parent / "controller" / "sites"
T0 = 1_795_300_000.0


@pytest.fixture
def floor() -> Floor:
    return Floor(load_sites(SITES / "province-centre.toml")[0], "fifo")


def serve(floor: Floor, counter: int, at: float, staff: str = "quay7") -> str:
    floor.execute(OpenCounter(counter=counter, staff=staff), at)
    procedure = next(p.id for p in floor.site.kiosk_procedures()
                     if p.agency in floor.site.counters[counter].serves)
    floor.execute(IssueTicket(procedure=procedure, check_hours=False), at)
    ticket = str(floor.execute(CallNext(counter=counter), at + 1)[0].data["ticket"])
    floor.execute(Finish(counter=counter), at + 60)
    return ticket


def test_the_default_threshold_is_the_lower_half_of_the_scale() -> None:
    assert [parse_feedback({}, "f", levels).reasons_at for levels in (3, 4, 5)] == [1, 2, 2]
    settings = parse_feedback({}, "f", 4)
    assert [settings.asks_reasons(s) for s in (1, 2, 3, 4)] == [True, True, False, False]
    assert settings.reasons == REASONS
    assert not parse_feedback({"feedback": {"reasons_at": 0}}, "f", 4).asks_reasons(1)


@pytest.mark.parametrize(("table", "field"), [
    ({"reasons_at": 4}, "feedback.reasons_at"),           # at the best rating: every rating would ask
    ({"reasons_at": True}, "feedback.reasons_at"),
    ({"reasons_timeout_s": 1}, "feedback.reasons_timeout_s"),
    ({"response_days": "10"}, "feedback.response_days"),
    ({"reason": []}, "feedback.reason"),
    ({"reason": [{"code": "Bad Code", "name": "x", "name_en": "x"}]}, "feedback.reason[0].code"),
    ({"reason": [{"code": "a", "name": "", "name_en": "x"}]}, "feedback.reason[0].name"),
    ({"reason": [{"code": "a", "name": "x", "name_en": "x", "colour": 1}]}, "feedback.reason[0].colour"),
    ({"reason": [{"code": "a", "name": "x", "name_en": "x"}] * 2}, "feedback.reason[1].code"),
    ({"category": [{"code": f"c{i}", "name": "x", "name_en": "x"} for i in range(13)]}, "feedback.category"),
    ({"reasons_at_": 2}, "feedback.reasons_at_"),
])
def test_a_bad_feedback_table_is_refused_naming_the_field(table: dict[str, Any], field: str) -> None:
    with pytest.raises(SiteError) as refused:
        parse_feedback({"feedback": table}, "site.toml", 4)
    assert refused.value.field == field


def test_the_site_file_reads_its_own_lists() -> None:
    settings = parse_feedback({"feedback": {"reasons_at": 1, "reasons_window_min": 5, "reason": [
        {"code": "noisy", "name": "Ồn ào", "name_en": "Noisy"}]}}, "f", 5)
    assert settings.reasons_at == 1 and settings.reasons_window_s == 300
    assert settings.is_reason("noisy") and not settings.is_reason("waited_long")


def test_reasons_at_the_counter_bind_to_the_ticket_and_staff_of_the_low_rating(floor: Floor) -> None:
    ticket = serve(floor, 7, T0)
    rated = floor.execute(Rate(counter=7, score=2), T0 + 70)[0]
    assert rated.data["ask_reasons"] is True
    event = floor.execute(GiveReasons(reasons=("waited_long", "staff_attitude", "waited_long"), counter=7), T0 + 80)[0]
    assert event.type == "rating.reasons"
    assert {k: event.data[k] for k in ("ticket", "counter", "staff", "score", "reasons", "via")} == {
        "ticket": ticket, "counter": 7, "staff": "quay7", "score": 2,
        "reasons": ["waited_long", "staff_attitude"], "via": "counter"}
    assert floor.state.ratings[-1]["reasons"] == ["waited_long", "staff_attitude"]
    with pytest.raises(DomainError) as again:
        floor.execute(GiveReasons(reasons=("guidance_unclear",), ticket=ticket), T0 + 90)
    assert again.value.code == "reasons_given"


def test_the_ticket_page_may_answer_within_the_window(floor: Floor) -> None:
    ticket = serve(floor, 7, T0)
    assert not reasons_wanted(floor.state, ticket, T0 + 65)
    floor.execute(Rate(counter=7, score=1), T0 + 70)
    assert reasons_wanted(floor.state, ticket, T0 + 70)
    window = floor.site.feedback.reasons_window_s
    assert not reasons_wanted(floor.state, ticket, T0 + 71 + window)
    with pytest.raises(DomainError) as late:
        floor.execute(GiveReasons(reasons=("extra_papers",), ticket=ticket), T0 + 71 + window)
    assert late.value.code == "reasons_too_late"
    event = floor.execute(GiveReasons(reasons=("extra_papers",), ticket=ticket), T0 + 69 + window)[0]
    assert event.data["via"] == "ticket" and not reasons_wanted(floor.state, ticket, T0 + 70 + window)


@pytest.mark.parametrize(("setup", "command", "code"), [
    ("good", GiveReasons(reasons=("waited_long",), counter=7), "reasons_not_asked"),
    ("none", GiveReasons(reasons=("waited_long",), counter=7), "nothing_to_explain"),
    ("low", GiveReasons(reasons=("<script>",), counter=7), "invalid_reason"),
    ("moved_on", GiveReasons(reasons=("waited_long",), counter=7), "rating_moved_on"),
    ("low", GiveReasons(reasons=("waited_long",), ticket="nope"), "unknown_ticket"),
])
def test_reasons_refused_change_nothing(floor: Floor, setup: str, command: GiveReasons, code: str) -> None:
    serve(floor, 7, T0)
    if setup != "none":
        floor.execute(Rate(counter=7, score={"good": 4}.get(setup, 2)), T0 + 70)
    if setup == "moved_on":
        serve(floor, 7, T0 + 71)
    version = floor.state.version
    with pytest.raises(DomainError) as refused:
        floor.execute(command, T0 + 80)
    assert refused.value.code == code
    assert floor.state.version == version


@pytest.mark.parametrize("reasons", [(), tuple(f"r{i}" for i in range(9))])
def test_empty_or_long_lists_are_refused_when_made(reasons: tuple[str, ...]) -> None:
    with pytest.raises(DomainError) as refused:
        GiveReasons(reasons=reasons, counter=7)
    assert refused.value.code == "invalid_reasons"


def test_reasons_replay_into_the_same_state(floor: Floor) -> None:
    serve(floor, 7, T0)
    events = [*floor.execute(Rate(counter=7, score=2), T0 + 70),
              *floor.execute(GiveReasons(reasons=("hall_conditions",), counter=7), T0 + 75)]
    fresh = Floor(floor.site, "fifo")
    serve(fresh, 7, T0)
    for event in events:  # what a restart does with the log
        fresh.state.apply(event)
    assert fresh.state.ratings == floor.state.ratings
    assert fresh.state.ratings[-1]["reasons"] == ["hall_conditions"]
