"""Erlang C against known values and an independent factorial formula."""

from __future__ import annotations

import math

import pytest

from controller.core.site import parse_site
from sim.erlang import erlang_b, erlang_c, pooled_within, wait_within
from sim.metrics import Tally
from sim.runner import RunOptions, RunResult
from sim.scenario import Scenario


def _erlang_c_factorial(c: int, a: float) -> float:
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


@pytest.mark.parametrize(("c", "a", "expected"), [(1, 0.5, 0.5), (2, 1.0, 1 / 3), (3, 2.0, 4 / 9)])
def test_erlang_c_textbook_values(c: int, a: float, expected: float) -> None:
    assert erlang_c(c, a) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("c", "a"), [(5, 3.2), (10, 8.0), (20, 17.5), (50, 45.0)])
def test_erlang_c_matches_the_factorial_formula(c: int, a: float) -> None:
    assert erlang_c(c, a) == pytest.approx(_erlang_c_factorial(c, a), rel=1e-9)


def test_call_centre_example() -> None:
    # 10 agents, 8 Erlangs: about 40.9 % of callers wait (standard staffing tables).
    assert erlang_c(10, 8.0) == pytest.approx(0.4092, abs=5e-4)
    assert erlang_b(10, 8.0) == pytest.approx(0.1217, abs=5e-4)


def test_unstable_and_empty_systems() -> None:
    assert erlang_c(3, 3.0) == 1.0
    assert erlang_c(0, 1.0) == 1.0
    assert erlang_c(4, 0.0) == 0.0
    assert wait_within(3, lam=1.0, mu=0.2, t=900) == 0.0  # 5 Erlangs on 3 servers
    assert wait_within(3, lam=0.0, mu=0.2, t=0) == 1.0
    with pytest.raises(ValueError):
        erlang_c(-1, 1.0)


def test_wait_within_formula_and_interpolation() -> None:
    lam, mu, t = 1 / 60, 1 / 300, 900.0
    expected = 1 - erlang_c(7, lam / mu) * math.exp(-(7 * mu - lam) * t)
    assert wait_within(7, lam, mu, t) == pytest.approx(expected)
    assert wait_within(7, lam, mu, 0.0) == pytest.approx(1 - erlang_c(7, 5.0))
    half = wait_within(6.5, lam, mu, t)
    assert half == pytest.approx((wait_within(6, lam, mu, t) + wait_within(7, lam, mu, t)) / 2)
    assert wait_within(6, lam, mu, t) < half < wait_within(7, lam, mu, t)


def test_pooled_within_weights_slots_by_arrivals() -> None:
    busy = (90.0, 300.0, 16.0, 1800.0)
    quiet = (10.0, 300.0, 16.0, 1800.0)
    p_busy = wait_within(16, 90 / 1800, 1 / 300, 900)
    p_quiet = wait_within(16, 10 / 1800, 1 / 300, 900)
    assert pooled_within([busy, quiet], 900) == pytest.approx(0.9 * p_busy + 0.1 * p_quiet)
    assert pooled_within([(0.0, 300.0, 3.0, 1800.0)], 900) is None


def test_the_layout_aware_estimate_lends_no_agency_a_counter_that_cannot_serve_it() -> None:
    site = parse_site({
        "site": {"id": "s", "name": "S", "hours": [["08:00", "12:00"]]},
        "agency": [{"id": "A", "name": "A", "number_block": 1000}, {"id": "B", "name": "B", "number_block": 2000}],
        "procedure": [{"id": "a", "agency": "A", "name": "a", "share": 1, "service": 5},
                      {"id": "b", "agency": "B", "name": "b", "share": 1, "service": 5}],
        "counter": [{"ids": [1], "serves": ["A"]}, {"ids": [2, 3], "serves": ["B"]}],
    }, "s.toml")
    tally = Tally(sites=1)
    # Half hour 16: three citizens for A and three for B, five minutes each; counters 2 and 3 open (B only).
    tally.bins[(0, 0, 16)] = [6.0, 1800.0, 3600.0]
    tally.agency_bins[(0, 0, 16, "A")] = [3.0, 900.0]
    tally.agency_bins[(0, 0, 16, "B")] = [3.0, 900.0]
    tally.counter_open_s[(0, 0, 16, 2)] = 1800.0
    tally.counter_open_s[(0, 0, 16, 3)] = 1800.0
    run = RunResult(RunOptions(), Scenario(), tally, [2], sites=(site,))
    pooled, layout = run.bound(), run.layout_bound()
    assert pooled is not None and pooled > 0.9  # two counters, a light load: nearly nobody waits long
    b_alone = pooled_within([(3.0, 300.0, 2.0, 1800.0)], tally.transaction_target_s)
    assert layout == pytest.approx((0.0 + b_alone) / 2)  # nobody may serve A: its half is lost
