"""Service times learned online: per procedure, per counter, per hour of day.

Starts from the site file's means and moves with an exponentially weighted
average as transactions finish, so the estimator tracks the floor as it is.
"""

from __future__ import annotations

from controller.core.site import Site

__all__ = ["ServiceTimes"]

_ALPHA = 0.1          # weight of one new observation
_FACTOR_ALPHA = 0.05  # counters and hours move slower: fewer observations each
_MIN_S = 20.0         # shorter "services" are mistakes (a call finished at once)


class ServiceTimes:
    """Expected duration of a transaction, learned from what finishes."""

    __slots__ = ("_counter_factor", "_hour_factor", "_procedure")

    def __init__(self, site: Site) -> None:
        self._procedure = {p.id: p.service_s for p in site.procedures.values()}
        self._counter_factor: dict[int, float] = {}
        self._hour_factor: dict[int, float] = {}

    def expected(self, procedure: str, counter: int | None = None, hour: int | None = None) -> float:
        """Expected service seconds for a procedure (at a counter, at an hour of day)."""
        base = self._procedure.get(procedure, 300.0)
        if counter is not None:
            base *= self._counter_factor.get(counter, 1.0)
        if hour is not None:
            base *= self._hour_factor.get(hour, 1.0)
        return base

    def observe(self, procedure: str, counter: int, hour: int, seconds: float) -> None:
        """Learn from one finished transaction."""
        if seconds < _MIN_S or procedure not in self._procedure:
            return
        expected = self.expected(procedure)
        ratio = min(5.0, max(0.2, seconds / expected))
        self._procedure[procedure] = expected + _ALPHA * (seconds - expected)
        cf = self._counter_factor.get(counter, 1.0)
        self._counter_factor[counter] = cf + _FACTOR_ALPHA * (ratio - cf)
        hf = self._hour_factor.get(hour, 1.0)
        self._hour_factor[hour] = hf + _FACTOR_ALPHA * (ratio - hf)
