"""Erlang C: the M/M/c queue, and the pooled-servers bound on waits within a target.

Pure functions, no simulation state: the simulator's bound and the staffing forecast use them. With arrival
rate lambda, service rate mu per server and c servers (offered load a =
lambda/mu, stable when a < c):

    C(c, a)          probability that an arrival has to wait (Erlang C)
    P(W <= t)        = 1 - C(c, a) * exp(-(c*mu - lambda) * t)

The bound of a day pools every open counter into one M/M/c per half hour
(that half hour's arrival rate, counters open, mean service of the mix) and
weights the half hours by their arrivals. A real floor, split by agency, can
only do worse than perfectly pooled servers: that is the yardstick a routing
policy is measured against.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["erlang_b", "erlang_c", "pooled_within", "wait_within"]


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of M/M/c/c with offered load a (stable recurrence)."""
    if c < 0 or a < 0:
        raise ValueError("c and a must be >= 0")
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability of waiting in M/M/c with offered load a = lambda/mu; 1.0 when unstable."""
    if c < 0 or a < 0:
        raise ValueError("c and a must be >= 0")
    if a == 0:
        return 0.0
    if c == 0 or a >= c:
        return 1.0
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def _within_integer(c: int, lam: float, mu: float, t: float) -> float:
    if lam <= 0:
        return 1.0
    if c <= 0 or lam >= c * mu:
        return 0.0
    return 1.0 - erlang_c(c, lam / mu) * math.exp(-(c * mu - lam) * t)


def wait_within(c: float, lam: float, mu: float, t: float) -> float:
    """P(wait <= t) in M/M/c; a fractional c (time-averaged counters) interpolates linearly."""
    if mu <= 0:
        raise ValueError("mu must be > 0")
    low = math.floor(c)
    share = c - low
    p_low = _within_integer(low, lam, mu, t)
    if share == 0:
        return p_low
    return (1 - share) * p_low + share * _within_integer(low + 1, lam, mu, t)


def pooled_within(slots: Iterable[tuple[float, float, float, float]], t: float) -> float | None:
    """Arrival-weighted P(wait <= t) over slots of (arrivals, mean service s, counters, slot length s)."""
    weight = 0.0
    total = 0.0
    for arrivals, mean_service, counters, length in slots:
        if arrivals <= 0 or length <= 0 or mean_service <= 0:
            continue
        p = wait_within(counters, arrivals / length, 1.0 / mean_service, t)
        weight += arrivals
        total += arrivals * p
    return total / weight if weight > 0 else None
