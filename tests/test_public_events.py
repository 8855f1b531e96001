"""The public form of events (controller/core/public_events.py): what the hall shows, and nothing else."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.events import EVENT_TYPES, Event
from controller.core.public_events import PUBLIC_FIELDS, public_data

PRIVATE = ("by", "staff", "priority", "kiosk", "channel", "outcome", "reason", "score", "idempotency_key",
           "waited_s", "policy", "steps", "procedure", "to_counter", "to_agency", "next_step", "ready_at")


def test_only_known_event_types_are_public() -> None:
    assert set(PUBLIC_FIELDS) <= EVENT_TYPES
    assert {"rating.recorded", "target.at_risk", "target.breached", "alert.raised", "alert.acknowledged",
            "device.changed"}.isdisjoint(PUBLIC_FIELDS)


@settings(deadline=None)  # a shared machine: no timing in unit tests
@given(st.sampled_from(sorted(EVENT_TYPES)),
       st.dictionaries(st.sampled_from(["ticket", "number", "agency", "counter", "status", "day", *PRIVATE]),
                       st.one_of(st.text(max_size=8), st.integers(), st.none())))
def test_a_public_form_carries_only_the_listed_fields_and_none_that_names_or_judges(
    kind: str, data: dict[str, object]
) -> None:
    shown = public_data(Event(kind, 1.0, data))
    if kind not in PUBLIC_FIELDS:
        assert shown is None
        return
    assert shown is not None
    assert set(shown) <= set(PUBLIC_FIELDS[kind]) and not set(shown) & set(PRIVATE)
    assert all(shown[name] == data[name] for name in shown)


def test_a_call_shows_number_and_counter_without_the_staff_member() -> None:
    called = Event("ticket.called", 1.0, {"ticket": "20261102-2015", "number": "2015", "counter": 7, "staff": "quay7",
                                          "agency": "TP", "procedure": "tp-ly-lich-tu-phap", "waited_s": 300.0,
                                          "policy": "deadline"})
    assert public_data(called) == {"ticket": "20261102-2015", "number": "2015", "agency": "TP", "counter": 7}
