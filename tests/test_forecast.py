"""Demand forecast: error on a held-out simulated week, and Erlang C staffing."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

import sim.runner
from controller.core.events import Event
from controller.core.floor import Floor
from controller.core.forecast import counters_needed, demand_from_events, forecast_error, seasonal_mean
from controller.sitefile import load_document
from sim.runner import RunOptions, simulate
from sim.scenario import parse_scenario

SITES = Path(__file__).resolve().parent.parent / "controller" / "sites"
# Bounds the test holds the method to; the measured figures are printed and in docs/BENCHMARKS.md.
SLOT_WAPE_BOUND = 0.6
AGENCY_DAY_WAPE_BOUND = 0.25


class RecordingFloor(Floor):
    log: ClassVar[list[dict[str, Any]]] = []

    def apply(self, events: Any) -> None:
        events = list(events)
        RecordingFloor.log.extend(e.to_dict() for e in events if isinstance(e, Event))
        super().apply(events)


@pytest.mark.slow
def test_forecast_error_on_a_held_out_simulated_week() -> None:
    sites, table = load_document(SITES / "province-centre.toml")
    site = sites[0]
    scenario = parse_scenario({"seed": 11, "weekday": 0, **table}, "tinh", sites)
    RecordingFloor.log = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sim.runner, "Floor", RecordingFloor)
        simulate(sites, scenario, RunOptions(policy="deadline", seed=11, days=15, record_estimates=False))
    demand = demand_from_events(site, RecordingFloor.log)
    days = sorted({d for d, _, _ in demand})
    assert len(days) == 15
    error = forecast_error(site, demand, holdout=5, weeks=2)
    print(f"held-out week: slot WAPE {error.slot_wape:.3f}, agency-day WAPE {error.agency_day_wape:.3f}")
    assert error.slot_wape is not None and error.slot_wape < SLOT_WAPE_BOUND
    assert error.agency_day_wape is not None and error.agency_day_wape < AGENCY_DAY_WAPE_BOUND
    # Mondays are busier (weekday factor 1.3): the forecast for a Monday says so.
    monday = next(d for d in days[-5:] if d > days[9])
    coming = seasonal_mean(site, demand, [monday, days[-3]], weeks=2)
    busy = sum(v for (d, _, _), v in coming.items() if d == monday)
    quiet = sum(v for (d, _, _), v in coming.items() if d == days[-3])
    assert busy > quiet


def test_journey_steps_count_as_demand_of_the_fee_counter() -> None:
    site = load_document(SITES / "province-centre.toml")[0][0]
    at = 1_795_300_000.0 - (1_795_300_000.0 + site.utc_offset_s) % 86400 + 9 * 3600  # 09:00 local
    events = [
        {"type": "ticket.issued", "at": at, "agency": "GTVT"},
        {"type": "ticket.finished", "at": at + 600, "next_step": "phi-nop-phi"},
        {"type": "ticket.transferred", "at": at + 700, "to_agency": "TP"},
        {"type": "ticket.issued", "at": at - 5 * 3600, "agency": "GTVT"},  # 04:00, before opening
    ]
    demand = demand_from_events(site, events)
    assert sorted((agency, slot) for (_, agency, slot), n in demand.items() for _ in range(n)) == [
        ("GTVT", 3), ("PHI", 3), ("TP", 3),
    ]


def test_counters_needed_grows_with_demand_and_meets_the_level() -> None:
    assert counters_needed(0, 300, 900) == 0
    needs = [counters_needed(arrivals, 600, 900, 0.9) for arrivals in (3, 10, 30, 60)]
    assert needs == sorted(needs) and needs[0] >= 1
    # 60 arrivals of 10 minutes in half an hour is 20 Erlang: more than 20 counters.
    assert needs[-1] > 20
    assert counters_needed(30, 600, 900, 0.99) >= counters_needed(30, 600, 900, 0.8)


def test_afternoon_demand_is_counted_in_its_own_half_hour() -> None:
    # Input: the commune centre (07:30-11:30, 13:30-17:00), tickets at 12:00 and 16:00. Slots were half
    # hours since 07:30 cut at 15 weights: 12:00 counted in a lunch slot, 16:00 (slot 17) dropped.
    site = load_document(SITES / "commune-centre.toml")[0][0]
    midnight = 1_795_300_000.0 - (1_795_300_000.0 + site.utc_offset_s) % 86400
    events = [{"type": "ticket.issued", "at": midnight + hour * 3600, "agency": "HT"} for hour in (12, 16, 16.9)]
    demand = demand_from_events(site, events)
    assert sorted(slot for (_, _, slot) in demand) == [13, 14]
