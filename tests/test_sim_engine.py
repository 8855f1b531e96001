"""The event loop runs actions in time order, ties in scheduling order, never backwards."""

from __future__ import annotations

from sim.engine import Loop


def test_actions_run_in_time_then_scheduling_order() -> None:
    loop = Loop(100.0)
    seen: list[tuple[float, str]] = []
    loop.at(120.0, lambda: seen.append((loop.now, "b")))
    loop.at(110.0, lambda: seen.append((loop.now, "a")))
    loop.at(120.0, lambda: seen.append((loop.now, "c")))
    loop.at(90.0, lambda: seen.append((loop.now, "past runs now")))
    loop.run()
    assert seen == [(100.0, "past runs now"), (110.0, "a"), (120.0, "b"), (120.0, "c")]
    assert loop.steps == 4 and len(loop) == 0


def test_actions_can_schedule_more_and_run_stops_at_until() -> None:
    loop = Loop(0.0)
    ticks: list[float] = []

    def tick() -> None:
        ticks.append(loop.now)
        loop.after(30.0, tick)

    loop.at(0.0, tick)
    loop.run(until=100.0)
    assert ticks == [0.0, 30.0, 60.0, 90.0]
    assert len(loop) == 1  # the tick at 120 s is still on the agenda
