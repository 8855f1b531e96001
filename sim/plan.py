"""`motcua plan`'s search: the layout changes that bring a site's day within its wait target.

Routing alone cannot beat a layout in which most agencies have one or two
counters of their own: a clump of arrivals at a one-counter agency waits while
counters of other agencies sit idle. The planner proposes what a centre's
director can change without adding a counter:

- cross-training: one more agency in a counter's `serves` (at most
  `max_added_per_counter` per counter, `max_added` in all); never for an agency
  marked `cross_train = false`, nor on a counter whose home agency is so marked
  (its staff are that agency's specialists), nor on a counter marked `fixed`;
- staff breaks moved off the hours an agency loses its target (only where the
  site file lists a counter's `breaks`);
- planned shifts of standby counters (`standby_plan`), when training alone does
  not reach the target: they cost staff hours, so they come last.

The search is greedy forward selection scored by the deadline policy's mean
share of transactions within the target over the search seeds, simulated
through the real core (sim.runner.simulate), every candidate on the same seeds
(common random numbers: the same citizens, procedures and service times).
Candidates come from the last simulation: the agencies whose transactions were
late in each half hour against the counters with time to spare then (each
agency's offered load shared among the counters that may serve it), so only a
few are simulated per round. Several candidates that help different agencies
through different counters are accepted together when the layout with all of
them scores at least as well as the best one alone.

Figures reported come from held-out seeds only (disjoint from the search
seeds): before and after for fifo and deadline, and the deadline share after
each change in the order accepted (the curve and each change's gain).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from controller.core.site import Agency, Counter, PlannedShift, Site
from sim.arrivals import day_factor
from sim.metrics import HALF_HOUR_S, Tally
from sim.runner import RunOptions, RunResult, simulate
from sim.scenario import Scenario
from sim.staffing import StaffingGap, staffing_gaps

__all__ = [
    "Change",
    "CrossTrain",
    "Limits",
    "MovedBreak",
    "Outcome",
    "PlanError",
    "PlanResult",
    "PlannedStandby",
    "apply_changes",
    "change_from_json",
    "hhmm",
    "plan",
]

POOLED = "*"              # cannot_fix's name for the whole site as one line
MIN_GAIN = 0.001          # a change must add this much to the mean share within target (search seeds)
PER_ROUND = 6             # candidates simulated per round
BATCH = 4                 # at most this many accepted together in one round
PER_AGENCY = 2            # at most this many candidates for one agency in a round
STALE_ROUNDS = 1          # rounds in a row without gain before the next kind of change is tried (or the end)
STANDBY_MIN_LATE = 1.0    # late transactions a day in a half hour that call for a planned standby shift


class PlanError(Exception):
    """Input the planner cannot work with: a code for programs, a message Vietnamese first."""

    def __init__(self, code: str, message: str, detail: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail: dict[str, Any] = dict(detail or {})


@dataclass(frozen=True, order=True)
class CrossTrain:
    """Train a counter for one more agency (appended to its serves)."""

    counter: int
    agency: str

    def describe(self) -> str:
        return f"quầy {self.counter} nhận thêm {self.agency} / counter {self.counter} also serves {self.agency}"


@dataclass(frozen=True, order=True)
class PlannedStandby:
    """Staff a standby counter from start to end (local minutes) for the agencies named."""

    counter: int
    start_min: int
    end_min: int
    serves: tuple[str, ...]

    def describe(self) -> str:
        span = f"{hhmm(self.start_min)}-{hhmm(self.end_min)}"
        agencies = ", ".join(self.serves)
        return f"mở quầy dự phòng {self.counter} {span} cho {agencies} / open standby counter {self.counter} " \
               f"{span} for {agencies}"


@dataclass(frozen=True, order=True)
class MovedBreak:
    """Move one staff break of a counter to another window of the same length."""

    counter: int
    old: tuple[int, int]
    new: tuple[int, int]

    def describe(self) -> str:
        old, new = f"{hhmm(self.old[0])}-{hhmm(self.old[1])}", f"{hhmm(self.new[0])}-{hhmm(self.new[1])}"
        return f"quầy {self.counter} nghỉ {new} thay vì {old} / counter {self.counter} breaks {new} instead of {old}"


Change = CrossTrain | PlannedStandby | MovedBreak


@dataclass(frozen=True)
class Limits:
    """What the planner may change and how hard it searches."""

    target: float = 0.95
    max_added: int = 20
    max_added_per_counter: int = 1
    seeds: int = 4              # search seeds
    held_out: int = 8           # held-out seeds (the figures reported)
    margin: float = 0.005       # the search aims this far above the target (its own seeds flatter it)
    max_visits_over: float = 0.02   # ... and on at most this share of visits over the visit target
    jobs: int = 1


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


@dataclass
class PlanResult:
    """The proposed changes and what they do on the held-out seeds."""

    site: Site
    after_site: Site
    weekday: int
    limits: Limits
    search_seeds: tuple[int, ...]
    held_out_seeds: tuple[int, ...]
    changes: list[Change]
    curve: list[float]                         # held-out deadline mean share after 0, 1, ... changes
    search_curve: list[float]                  # the same on the search seeds, as the search saw it
    before: dict[str, list[Outcome]]           # policy -> held-out outcomes
    after: dict[str, list[Outcome]]
    cannot_fix: list[dict[str, Any]]
    evaluations: int = 0
    site_days: int = 0
    wall_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def reached(self) -> bool:
        """Does the proposed layout meet the target on the held-out seeds (deadline policy)?"""
        return _mean(o.share for o in self.after["deadline"]) >= self.limits.target - 1e-12

    def to_json(self) -> dict[str, Any]:
        """The object `motcua plan --json` prints."""
        gains = [self.curve[i + 1] - self.curve[i] for i in range(len(self.changes))]
        return {
            "site": self.site.id,
            "weekday": self.weekday,
            "target": self.limits.target,
            "max_visits_over": self.limits.max_visits_over,
            "target_min": self.site.targets.transaction_wait_s / 60,
            "visit_target_min": self.site.targets.visit_wait_s / 60,
            "target_reached": self.reached,
            "seeds": {"search": list(self.search_seeds), "held_out": list(self.held_out_seeds)},
            "changes": [_change_json(c, g) for c, g in zip(self.changes, gains, strict=True)],
            "curve": [{"changes": i, "within_transaction_target": round(v, 4)} for i, v in enumerate(self.curve)],
            "before": _figures(self.before, self.site),
            "after": _figures(self.after, self.after_site),
            "cannot_fix": self.cannot_fix,
            "search": {"evaluations": self.evaluations, "site_days": self.site_days, "wall_s": round(self.wall_s, 1),
                       "curve": [round(v, 4) for v in self.search_curve]},
            "notes": self.notes,
        }


def hhmm(minutes: float) -> str:
    """Local minutes as HH:MM."""
    m = round(minutes)
    return f"{m // 60:02d}:{m % 60:02d}"


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


def _change_json(change: Change, gain: float) -> dict[str, Any]:
    base: dict[str, Any]
    if isinstance(change, CrossTrain):
        base = {"kind": "cross_train", "counter": change.counter, "agency": change.agency}
    elif isinstance(change, PlannedStandby):
        base = {"kind": "standby_plan", "counter": change.counter, "from": hhmm(change.start_min),
                "to": hhmm(change.end_min), "serves": list(change.serves)}
    else:
        base = {"kind": "break", "counter": change.counter, "from": [hhmm(m) for m in change.old],
                "to": [hhmm(m) for m in change.new]}
    return {**base, "gain": round(gain, 4), "text": change.describe()}


def change_from_json(item: Mapping[str, Any]) -> Change:
    """A change as `--json` printed it (the inverse of its entry in "changes")."""
    def minutes(text: str) -> int:
        hh, mm = text.split(":")
        return int(hh) * 60 + int(mm)

    if item["kind"] == "cross_train":
        return CrossTrain(int(item["counter"]), str(item["agency"]))
    if item["kind"] == "standby_plan":
        return PlannedStandby(int(item["counter"]), minutes(item["from"]), minutes(item["to"]),
                              tuple(item["serves"]))
    old, new = item["from"], item["to"]
    return MovedBreak(int(item["counter"]), (minutes(old[0]), minutes(old[1])), (minutes(new[0]), minutes(new[1])))


def _figures(runs: Mapping[str, Sequence[Outcome]], site: Site) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for policy, outcomes in runs.items():
        shares = [o.share for o in outcomes]
        over = [o.over_share for o in outcomes]
        out[policy] = {
            "within_transaction_target": {"mean": round(_mean(shares), 4), "worst": round(min(shares), 4)},
            "visits_over_visit_target": {"mean": round(_mean(over), 4), "worst": round(max(over), 4)},
            "utilisation": round(_mean(o.utilisation for o in outcomes), 4),
        }
    bounds = [o.bound for o in runs.get("deadline", ()) if o.bound is not None]
    out["pooled_bound"] = round(_mean(bounds), 4) if bounds else None
    agencies: dict[str, Any] = {}
    for agency in site.agencies:
        row: dict[str, Any] = {}
        for policy, outcomes in runs.items():
            n = sum(o.agencies.get(agency, (0, 0))[0] for o in outcomes)
            ok = sum(o.agencies.get(agency, (0, 0))[1] for o in outcomes)
            row["transactions"] = round(n / len(outcomes), 1) if outcomes else 0.0
            row[policy] = round(ok / n, 4) if n else None
        agencies[agency] = row
    out["agencies"] = agencies
    return out


# ----------------------------------------------------------------- layouts

def apply_changes(site: Site, changes: Iterable[Change]) -> Site:
    """The site with the changes made (a new Site; counters not named are the same objects)."""
    counters = dict(site.counters)
    for change in changes:
        counter = counters[change.counter]
        if isinstance(change, CrossTrain):
            counter = replace(counter, serves=(*counter.serves, change.agency))
        elif isinstance(change, PlannedStandby):
            shift = PlannedShift(change.start_min, change.end_min, change.serves)
            counter = replace(counter, standby_plan=tuple(sorted((*counter.standby_plan, shift),
                                                                 key=lambda s: s.start_min)))
        else:
            breaks = tuple(sorted(change.new if b == change.old else b for b in counter.breaks or ()))
            counter = replace(counter, breaks=breaks)
        counters[change.counter] = counter
    return replace(site, counters=counters)


def _learners(site: Site) -> list[Counter]:
    """Counters that may be trained for another agency."""
    return [c for c in site.counters.values()
            if not c.fixed and site.agencies[c.home_agency].cross_train]


def _eligible_pairs(site: Site, changes: Sequence[Change], limits: Limits) -> list[tuple[Counter, str]]:
    """(counter, agency) pairs the limits still allow."""
    added: dict[int, int] = defaultdict(int)
    for change in changes:
        if isinstance(change, CrossTrain):
            added[change.counter] += 1
    if sum(added.values()) >= limits.max_added:
        return []
    trainable = [a for a, agency in site.agencies.items() if agency.cross_train]
    return [(c, a) for c in _learners(site) if added[c.id] < limits.max_added_per_counter
            for a in trainable if a not in c.serves]


def why_nothing_trainable(site: Site, limits: Limits) -> str | None:
    """None when something may change; else what is missing, Vietnamese first."""
    if _eligible_pairs(site, (), limits):
        return None
    if any(c.standby and not c.fixed for c in site.counters.values()):
        return None
    if any(c.breaks and not c.fixed for c in site.counters.values()):
        return None
    if limits.max_added <= 0 or limits.max_added_per_counter <= 0:
        return ("--max-added và --max-added-per-counter không cho thêm cơ quan nào, và không có quầy dự phòng hay giờ "
                "nghỉ nào được đổi / --max-added and --max-added-per-counter allow no training, and no standby counter "
                "or listed break may change")
    if all(c.fixed for c in site.counters.values()):
        return "mọi quầy đều có fixed = true / every counter is marked fixed = true"
    if not any(a.cross_train for a in site.agencies.values()):
        return "mọi cơ quan đều có cross_train = false / every agency is marked cross_train = false"
    return ("không quầy nào có thể nhận thêm cơ quan (mọi quầy đã phục vụ mọi cơ quan được phép, hoặc là quầy của cơ "
            "quan có cross_train = false hay fixed = true) / no counter can take another agency (each already serves "
            "every agency it may, or belongs to an agency marked cross_train = false, or is fixed)")


# ----------------------------------------------------------------- simulating

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


def _simulate(task: tuple[tuple[Change, ...], str, int, bool]) -> tuple[Outcome, Tally | None]:
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


class _Evaluator:
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

    def run(self, tasks: Sequence[tuple[tuple[Change, ...], str, int, bool]]) -> list[tuple[Outcome, Tally | None]]:
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


# ----------------------------------------------------------------- candidates

@dataclass
class _Picture:
    """A layout's day as the search reads it, averaged over the search seeds."""

    score: float
    over: float                             # share of visits over the visit target
    late: dict[tuple[str, int], float]
    load: dict[tuple[str, int], float]      # offered load in counters (service seconds / half hour)
    open: dict[tuple[int, int], float]      # counters staffed, as a share of the half hour

    @staticmethod
    def of(outcomes: Sequence[Outcome]) -> _Picture:
        n = len(outcomes)
        late: dict[tuple[str, int], float] = defaultdict(float)
        load: dict[tuple[str, int], float] = defaultdict(float)
        opened: dict[tuple[int, int], float] = defaultdict(float)
        for o in outcomes:
            for key, count in o.late.items():
                late[key] += count / n
            for key, (_entries, service) in o.load.items():
                load[key] += service / HALF_HOUR_S / n
            for slot, seconds in o.open_s.items():
                opened[slot] += seconds / HALF_HOUR_S / n
        return _Picture(_mean(o.share for o in outcomes), _mean(o.over_share for o in outcomes), dict(late),
                        dict(load), dict(opened))

    def spare(self, site: Site) -> dict[tuple[int, int], float]:
        """(counter, half hour) -> staffed time left over once each agency's load is shared among its counters."""
        serving: dict[tuple[str, int], float] = defaultdict(float)
        for (cid, hh), share in self.open.items():
            for agency in site.counters[cid].serves:
                serving[(agency, hh)] += share
        spare: dict[tuple[int, int], float] = {}
        for (cid, hh), share in self.open.items():
            used = sum(self.load.get((a, hh), 0.0) * share / serving[(a, hh)]
                       for a in site.counters[cid].serves if serving[(a, hh)] > 0)
            spare[(cid, hh)] = max(0.0, share - used)
        return spare


def _cross_candidates(site: Site, picture: _Picture, changes: Sequence[Change], limits: Limits,
                      dropped: set[Change]) -> list[tuple[float, Change]]:
    spare = picture.spare(site)
    late_by_agency: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for (agency, hh), count in picture.late.items():
        late_by_agency[agency].append((hh, count))
    # Counters alike (same agencies, kind, breaks, plan) are one candidate: the lowest numbered.
    seen: set[tuple[Any, ...]] = set()
    out: list[tuple[float, Change]] = []
    for counter, agency in _eligible_pairs(site, changes, limits):
        kind = (counter.serves, counter.priority, counter.standby, counter.breaks, counter.standby_plan, agency)
        if kind in seen:
            continue
        seen.add(kind)
        change = CrossTrain(counter.id, agency)
        if change in dropped:
            continue
        score = sum(count * min(1.0, spare.get((counter.id, hh), 0.0)) for hh, count in late_by_agency[agency])
        if score > 0:
            out.append((score, change))
    return out


def _periods(site: Site) -> list[tuple[int, int]]:
    return list(site.hours)


def _break_candidates(site: Site, picture: _Picture, dropped: set[Change]) -> list[tuple[float, Change]]:
    def lateness(counter: Counter, start: int, end: int) -> float:
        total = 0.0
        for hh in range(start // 30, (end - 1) // 30 + 1):
            overlap = min(end, 30 * (hh + 1)) - max(start, 30 * hh)
            total += overlap / 30 * sum(picture.late.get((a, hh), 0.0) for a in counter.serves)
        return total

    out: list[tuple[float, Change]] = []
    for counter in site.counters.values():
        if counter.fixed or not counter.breaks:
            continue
        for old in counter.breaks:
            length = old[1] - old[0]
            now = lateness(counter, *old)
            if now <= 0:
                continue
            others = [b for b in counter.breaks if b != old]
            best: tuple[float, tuple[int, int]] | None = None
            for open_, close in _periods(site):
                if not open_ <= old[0] < close:
                    continue
                for start in range(open_, close - length + 1, 15):
                    new = (start, start + length)
                    if new == old or any(new[0] < b[1] and b[0] < new[1] for b in others):
                        continue
                    cost = lateness(counter, *new)
                    if best is None or cost < best[0]:
                        best = (cost, new)
            if best is not None and best[0] < now - 0.5:
                change = MovedBreak(counter.id, old, best[1])
                if change not in dropped:
                    out.append((now - best[0], change))
    return out


def _standby_candidates(site: Site, picture: _Picture, dropped: set[Change]) -> list[tuple[float, Change]]:
    out: list[tuple[float, Change]] = []
    seen: set[tuple[tuple[str, ...], int, int]] = set()
    for counter in site.counters.values():
        if not counter.standby or counter.fixed:
            continue
        for open_, close in _periods(site):
            halves = list(range(open_ // 30, (close - 1) // 30 + 1))
            deficit = {hh: sum(picture.late.get((a, hh), 0.0) for a in counter.serves) for hh in halves}
            span: list[int] = []
            for hh in [*halves, None]:
                if hh is not None and deficit[hh] >= STANDBY_MIN_LATE:
                    span.append(hh)
                    continue
                if span:
                    start, end = max(open_, 30 * span[0]), min(close, 30 * (span[-1] + 1))
                    span_late = {a: sum(picture.late.get((a, h), 0.0) for h in span) for a in counter.serves}
                    agencies = tuple(a for a in counter.serves if span_late[a] >= 0.5) or counter.serves
                    busy = any(start < s.end_min and s.start_min < end for s in counter.standby_plan)
                    key = (counter.serves, start, end)
                    if not busy and key not in seen:
                        seen.add(key)
                        change = PlannedStandby(counter.id, start, end, agencies)
                        if change not in dropped:
                            out.append((sum(deficit[h] for h in span), change))
                    span = []
    return out


def _pick(ranked: list[tuple[float, Change]], count: int) -> list[Change]:
    """The best-ranked candidates, at most PER_AGENCY for one agency and one per counter."""
    ranked = sorted(ranked, key=lambda item: (-item[0], item[1].counter, repr(item[1])))
    per_agency: dict[str, int] = defaultdict(int)
    counters: set[int] = set()
    picked: list[Change] = []
    for _score, change in ranked:
        agency = change.agency if isinstance(change, CrossTrain) else f"#{change.counter}"
        if per_agency[agency] >= PER_AGENCY or change.counter in counters:
            continue
        per_agency[agency] += 1
        counters.add(change.counter)
        picked.append(change)
        if len(picked) == count:
            break
    return picked


def _touches(change: Change) -> set[str]:
    """What two changes accepted together must not share: the counter and, for training, the agency."""
    keys = {f"#{change.counter}"}
    if isinstance(change, CrossTrain):
        keys.add(change.agency)
    elif isinstance(change, PlannedStandby):
        keys.update(change.serves)
    return keys


# ----------------------------------------------------------------- the search

def plan(
    site: Site,
    scenario: Scenario,
    weekday: int,
    limits: Limits,
    progress: Callable[[int, int], None] | None = None,
) -> PlanResult:
    """Search for the changes, then measure before, after and every step on the held-out seeds."""
    started = time.perf_counter()
    if day_factor(site, weekday) <= 0:
        raise PlanError("closed_weekday", f"trung tâm {site.id} không mở cửa vào {_weekday_vi(weekday)} "
                        f"(arrivals.weekday_factor = 0) / site {site.id} is closed on {_WEEKDAYS_EN[weekday]}; "
                        "choose another --weekday")
    missing = why_nothing_trainable(site, limits)
    if missing is not None:
        raise PlanError("nothing_trainable", f"không có gì để đề xuất: {missing}")
    scenario = replace(scenario, weekday=weekday)
    search_seeds = tuple(scenario.seed + i for i in range(limits.seeds))
    held_out = tuple(scenario.seed + limits.seeds + i for i in range(limits.held_out))
    # The progress bar's total: the search's rounds at their most, then the held-out runs.
    budget = [limits.seeds * (1 + (PER_ROUND + 1) * (limits.max_added + 3)) + limits.held_out * 4]
    done = [0]

    def tick(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(min(done[0], budget[0] - 1), budget[0])

    evaluator = _Evaluator(site, scenario, max(1, min(limits.jobs, os.cpu_count() or 1)), tick)
    try:
        changes, search_curve, evaluations = _search(site, limits, search_seeds, evaluator)
        budget[0] = done[0] + limits.held_out * (len(changes) + 3)
        result = _held_out(site, weekday, limits, search_seeds, held_out, changes, search_curve, evaluator)
        result.evaluations = evaluations
        result.site_days = evaluator.site_days
        over = _mean(o.over_share for o in result.after["deadline"])
        if over > limits.max_visits_over:
            most = f"{100 * limits.max_visits_over:g} %"
            result.notes.append(f"{100 * over:.1f} % lượt vẫn chờ quá mục tiêu lượt (tối đa {most}) / "
                                f"{100 * over:.1f} % of visits still wait over the visit target (at most {most} asked)")
    finally:
        evaluator.close()
    if progress is not None:
        progress(budget[0], budget[0])
    result.wall_s = time.perf_counter() - started
    return result


def _evaluate(evaluator: _Evaluator, layouts: Sequence[tuple[Change, ...]], seeds: Sequence[int],
              policy: str = "deadline") -> list[list[Outcome]]:
    tasks = [(layout, policy, seed, False) for layout in layouts for seed in seeds]
    outcomes = [o for o, _ in evaluator.run(tasks)]
    k = len(seeds)
    return [outcomes[i * k:(i + 1) * k] for i in range(len(layouts))]


def _search(site: Site, limits: Limits, seeds: Sequence[int],
            evaluator: _Evaluator) -> tuple[list[Change], list[float], int]:
    changes: list[Change] = []
    [current] = _evaluate(evaluator, [()], seeds)
    picture = _Picture.of(current)
    curve = [picture.score]
    evaluations = 1
    dropped: set[Change] = set()
    stale = 0
    standby = False   # planned standby shifts cost staff hours: tried once training stops paying
    goal = min(1.0, limits.target + limits.margin)
    while picture.score < goal or picture.over > limits.max_visits_over:
        layout = apply_changes(site, changes)
        ranked = _cross_candidates(layout, picture, changes, limits, dropped)
        ranked += _break_candidates(layout, picture, dropped)
        if standby:
            ranked += _standby_candidates(layout, picture, dropped)
        batch = _pick(ranked, PER_ROUND)
        if not batch:
            if standby:
                break
            standby, stale = True, 0
            continue
        trials = _evaluate(evaluator, [(*changes, c) for c in batch], seeds)
        evaluations += len(batch)
        gains = sorted((_Gain(c, _mean(o.share for o in t) - picture.score, t)
                        for c, t in zip(batch, trials, strict=True)), key=lambda g: -g.mean)
        for gain in gains:
            if gain.mean < MIN_GAIN:
                dropped.add(gain.change)   # diminishing returns: it will not help more after other changes
        if gains[0].mean < MIN_GAIN:
            stale += 1
            if stale >= STALE_ROUNDS:
                if standby:
                    break
                standby, stale = True, 0
            continue
        stale = 0
        accepted = _accept(site, changes, gains, limits)
        current = gains[0].outcomes
        if len(accepted) > 1:
            [together] = _evaluate(evaluator, [(*changes, *accepted)], seeds)
            evaluations += 1
            if _mean(o.share for o in together) >= _mean(o.share for o in current):
                current = together
            else:
                accepted = accepted[:1]
        changes.extend(accepted)
        picture = _Picture.of(current)
        curve.extend([picture.score] * len(accepted))
    return changes, curve, evaluations


@dataclass(frozen=True)
class _Gain:
    """A candidate's mean gain in share within target over the current layout, on the search seeds."""

    change: Change
    mean: float
    outcomes: list[Outcome]


def _accept(site: Site, changes: Sequence[Change], gains: Sequence[_Gain], limits: Limits) -> list[Change]:
    """The best change, and others that help through other counters and agencies, within the limits.

    A change accepted beside the best needs twice MIN_GAIN: its gain was measured without the others.
    """
    accepted = [gains[0].change]
    touched = _touches(gains[0].change)
    for gain in gains[1:]:
        if gain.mean < 2 * MIN_GAIN or len(accepted) >= BATCH:
            break
        change = gain.change
        if touched & _touches(change):
            continue
        if isinstance(change, CrossTrain):
            layout = apply_changes(site, [*changes, *accepted])
            if (layout.counters[change.counter], change.agency) not in _eligible_pairs(
                    layout, [*changes, *accepted], limits):
                continue
        accepted.append(change)
        touched |= _touches(change)
    return accepted


def _held_out(site: Site, weekday: int, limits: Limits, search_seeds: tuple[int, ...], held_out: tuple[int, ...],
              changes: list[Change], search_curve: list[float], evaluator: _Evaluator) -> PlanResult:
    final = tuple(changes)
    prefixes = [final[:i] for i in range(len(final) + 1)]
    tasks = [(p, "deadline", seed, p == final) for p in prefixes for seed in held_out]
    tasks += [(p, "fifo", seed, False) for p in ((), final) for seed in held_out]
    results = evaluator.run(tasks)
    k = len(held_out)
    deadline = [[o for o, _ in results[i * k:(i + 1) * k]] for i in range(len(prefixes))]
    fifo = results[len(prefixes) * k:]
    tallies = [t for _, t in results[len(final) * k:(len(final) + 1) * k] if t is not None]
    after_site = apply_changes(site, final)
    return PlanResult(
        site=site,
        after_site=after_site,
        weekday=weekday,
        limits=limits,
        search_seeds=search_seeds,
        held_out_seeds=held_out,
        changes=changes,
        curve=[_mean(o.share for o in outcomes) for outcomes in deadline],
        search_curve=search_curve,
        before={"fifo": [o for o, _ in fifo[:k]], "deadline": deadline[0]},
        after={"fifo": [o for o, _ in fifo[k:]], "deadline": deadline[-1]},
        cannot_fix=_cannot_fix(after_site, weekday, tallies, changes, limits),
    )


def _cannot_fix(site: Site, weekday: int, tallies: Sequence[Tally], changes: Sequence[Change],
                limits: Limits) -> list[dict[str, Any]]:
    """Per agency, the half hours the proposed layout still leaves short of counters, where no allowed change
    can give the agency another: counters needed (M/M/c, sim/staffing.py) against counters that may serve it."""
    run = _as_days(site, weekday, tallies)
    may_learn: dict[str, bool] = defaultdict(bool)
    for _counter, agency in _eligible_pairs(site, changes, limits):
        may_learn[agency] = True
    by_agency: dict[str, list[StaffingGap]] = defaultdict(list)
    for gap in staffing_gaps(run):
        if not may_learn[gap.agency]:
            by_agency[gap.agency].append(gap)
    # The whole site as one line served by every counter: where even that falls short, the site needs
    # more counters (or staff at its standby counters), whatever the layout.
    pooled = replace(site, agencies={POOLED: Agency(POOLED, "mọi cơ quan / every agency", 1000)},
                     counters={cid: replace(c, serves=(POOLED,)) for cid, c in site.counters.items()})
    lines: dict[tuple[int, int, int, str], list[float]] = {}
    for (s, d, hh, _agency), (entries, service) in run.tally.agency_bins.items():
        line = lines.setdefault((s, d, hh, POOLED), [0.0, 0.0])
        line[0] += entries
        line[1] += service
    run.tally.agency_bins = lines
    run.sites = (pooled,)
    by_agency[POOLED] = staffing_gaps(run)
    out: list[dict[str, Any]] = []
    for agency, gaps in sorted(by_agency.items()):
        if not gaps:
            continue
        if agency == POOLED:
            reason = "site_over_capacity"
            why = ("cả trung tâm thiếu quầy, kể cả khi mọi quầy phục vụ mọi cơ quan / the whole site is short of "
                   "counters, even with every counter serving every agency")
        elif not site.agencies[agency].cross_train:
            reason = "cross_train_false"
            why = "cơ quan có cross_train = false / the agency is marked cross_train = false"
        elif sum(isinstance(c, CrossTrain) for c in changes) >= limits.max_added:
            reason = "max_added_reached"
            why = "đã dùng hết --max-added / --max-added is used up"
        else:
            reason = "no_counter_may_learn_it"
            why = ("không quầy nào còn được nhận thêm cơ quan này / no counter may still be trained for it "
                   "(fixed, at --max-added-per-counter, or staffed by a cross_train = false agency)")
        out.append({
            "agency": agency,
            "reason": reason,
            "why": why,
            "late_per_day": round(sum(g.late for g in gaps), 1),
            "half_hours": [
                {"from": hhmm(g.start_s / 60), "to": hhmm(g.end_s / 60), "transactions": round(g.transactions, 1),
                 "late": round(g.late, 1), "counters_needed": g.needed, "counters_serving": round(g.serving, 2)}
                for g in sorted(gaps, key=lambda g: g.start_s)
            ],
        })
    return out


def _as_days(site: Site, weekday: int, tallies: Sequence[Tally]) -> RunResult:
    """The held-out days of the final layout as one run of as many days of the same weekday."""
    merged = Tally(sites=1)
    if tallies:
        merged.transaction_target_s = tallies[0].transaction_target_s
        merged.visit_target_s = tallies[0].visit_target_s
    for day, tally in enumerate(tallies):
        for (s, _d, hh), value in tally.bins.items():
            merged.bins[(s, day, hh)] = list(value)
        for (s, _d, hh, agency), value in tally.agency_bins.items():
            merged.agency_bins[(s, day, hh, agency)] = list(value)
        for (s, _d, hh, counter), seconds in tally.counter_open_s.items():
            merged.counter_open_s[(s, day, hh, counter)] = seconds
    return RunResult(RunOptions(days=max(1, len(tallies))), Scenario(weekday=weekday), merged,
                     [weekday] * len(tallies), sites=(site,))


_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _weekday_vi(weekday: int) -> str:
    return ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")[weekday]
