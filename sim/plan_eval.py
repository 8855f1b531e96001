"""Simulating layouts for `motcua plan`: each task one day of one layout, policy and seed.

Every task runs through the real core (sim.runner.simulate) and is reduced to
an Outcome: what the search and the report read. Tasks run on worker processes
forked with the site and scenario (a task carries only its changes), or inline
with one job; the results do not depend on the number of workers.
"""

from __future__ import annotations

import multiprocessing
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from controller.core.site import Site
from sim.metrics import HALF_HOUR_S, Tally
from sim.plan_layout import Change, apply_changes
from sim.runner import RunOptions, RunResult, simulate
from sim.scenario import Scenario

__all__ = ["Evaluator", "Outcome", "Task"]

Task = tuple[tuple[Change, ...], str, int, bool]   # changes, policy, seed, keep the tally


@dataclass(frozen=True)
class Outcome:
    """What one simulated day of one layout measured, reduced to what the planner reads."""

    policy: str
    seed: int
    transactions: int
    within: int
    visits: int
    visits_over: int
    bound: float | None
    utilisation: float
    agencies: dict[str, tuple[int, int]]                  # agency -> (transactions, within target)
    late: dict[tuple[str, int], int]                      # (agency, half hour of the day) -> late transactions
    load: dict[tuple[str, int], tuple[float, float]]      # (agency, half hour) -> (entries, nominal service s)
    open_s: dict[tuple[int, int], float]                  # (counter, half hour) -> staffed seconds

    @property
    def share(self) -> float:
        return self.within / self.transactions if self.transactions else 1.0

    @property
    def over_share(self) -> float:
        return self.visits_over / self.visits if self.visits else 0.0


_BASE: tuple[Site, Scenario] | None = None    # set in the parent before forking workers, or for an inline run
_BUILT: dict[tuple[Change, ...], Site] = {}


def _layout(changes: tuple[Change, ...]) -> Site:
    assert _BASE is not None
    site = _BUILT.get(changes)
    if site is None:
        if len(_BUILT) > 64:
            _BUILT.clear()
        site = _BUILT[changes] = apply_changes(_BASE[0], changes)
    return site


def _simulate(task: Task) -> tuple[Outcome, Tally | None]:
    """Simulate one day of one layout with one policy and seed (in a worker or inline)."""
    changes, policy, seed, keep = task
    assert _BASE is not None
    site, scenario = _layout(changes), _BASE[1]
    options = RunOptions(policy=policy, seed=seed, days=1, auto_standby=scenario.auto_open_standby,
                         record_estimates=False)
    result = simulate([site], scenario, options)
    return _outcome(result, policy, seed), (result.tally if keep else None)


def _outcome(result: RunResult, policy: str, seed: int) -> Outcome:
    tally = result.tally
    target = tally.transaction_target_s
    agencies: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    late: dict[tuple[str, int], int] = defaultdict(int)
    for waited, agency, entered in zip(tally.waits, tally.wait_agency, tally.wait_entered, strict=True):
        row = agencies[agency]
        row[0] += 1
        if waited <= target:
            row[1] += 1
        elif entered >= 0:
            late[(agency, int(entered // HALF_HOUR_S))] += 1
    return Outcome(
        policy=policy,
        seed=seed,
        transactions=len(tally.waits),
        within=tally.waits_within,
        visits=tally.visits,
        visits_over=tally.visits_over,
        bound=result.bound(),
        utilisation=tally.utilisation(),
        agencies={a: (n, ok) for a, (n, ok) in agencies.items()},
        late=dict(late),
        load={(a, hh): (e, s) for (_site, _day, hh, a), (e, s) in tally.agency_bins.items()},
        open_s={(c, hh): v for (_site, _day, hh, c), v in tally.counter_open_s.items()},
    )


class Evaluator:
    """Runs simulation tasks on worker processes (forked with the site and scenario) or inline."""

    def __init__(self, site: Site, scenario: Scenario, jobs: int, progress: Callable[[int], None]) -> None:
        global _BASE
        _BASE = (site, scenario)
        _BUILT.clear()
        self.progress = progress
        self.site_days = 0
        self.pool: ProcessPoolExecutor | None = None
        if jobs > 1:
            self.pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"))

    def run(self, tasks: Sequence[Task]) -> list[tuple[Outcome, Tally | None]]:
        out: list[tuple[Outcome, Tally | None]] = []
        results = self.pool.map(_simulate, tasks) if self.pool is not None else map(_simulate, tasks)
        for result in results:
            out.append(result)
            self.site_days += 1
            self.progress(1)
        return out

    def close(self) -> None:
        global _BASE
        if self.pool is not None:
            self.pool.shutdown()
        _BASE = None
        _BUILT.clear()
