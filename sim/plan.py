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
through the real core (sim/plan_eval.py), every candidate on the same seeds
(common random numbers: the same citizens, procedures and service times). It
goes on until that share is above the target (by a margin: its own seeds
flatter it) and at most `max_visits_over` of visits wait over the visit target,
or no change helps. Candidates come from the last simulation (sim/plan_moves.py),
so only a few are simulated per round. Several candidates that help different
agencies through different counters are accepted together when the layout with
all of them scores at least as well as the best one alone. What may change is
sim/plan_layout.py.

Figures reported come from held-out seeds only (disjoint from the search
seeds): before and after for fifo and deadline, and the deadline share after
each change in the order accepted (the curve and each change's gain).
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from statistics import fmean
from typing import Any

from controller.core.site import Agency, Site
from sim.arrivals import day_factor
from sim.metrics import Tally
from sim.plan_eval import Evaluator, Outcome
from sim.plan_layout import (
    Change,
    CrossTrain,
    Limits,
    PlanError,
    apply_changes,
    change_json,
    eligible_pairs,
    hhmm,
    why_nothing_trainable,
)
from sim.plan_moves import Picture, break_candidates, cross_candidates, pick, standby_candidates, touches
from sim.runner import RunOptions, RunResult
from sim.scenario import Scenario
from sim.staffing import StaffingGap, staffing_gaps

__all__ = ["PlanResult", "plan"]

POOLED = "*"              # cannot_fix's name for the whole site as one line
MIN_GAIN = 0.001          # a change must add this much to the mean share within target (search seeds)
PER_ROUND = 6             # candidates simulated per round
BATCH = 4                 # at most this many accepted together in one round
STALE_ROUNDS = 1          # rounds in a row without gain before the next kind of change is tried (or the end)


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
        return fmean(o.share for o in self.after["deadline"]) >= self.limits.target - 1e-12

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
            "changes": [change_json(c, g) for c, g in zip(self.changes, gains, strict=True)],
            "curve": [{"changes": i, "within_transaction_target": round(v, 4)} for i, v in enumerate(self.curve)],
            "before": _figures(self.before, self.site),
            "after": _figures(self.after, self.after_site),
            "cannot_fix": self.cannot_fix,
            "search": {"evaluations": self.evaluations, "site_days": self.site_days, "wall_s": round(self.wall_s, 1),
                       "curve": [round(v, 4) for v in self.search_curve]},
            "notes": self.notes,
        }


def _figures(runs: Mapping[str, Sequence[Outcome]], site: Site) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for policy, outcomes in runs.items():
        shares = [o.share for o in outcomes]
        over = [o.over_share for o in outcomes]
        out[policy] = {
            "within_transaction_target": {"mean": round(fmean(shares), 4), "worst": round(min(shares), 4)},
            "visits_over_visit_target": {"mean": round(fmean(over), 4), "worst": round(max(over), 4)},
            "utilisation": round(fmean(o.utilisation for o in outcomes), 4),
        }
    bounds = [o.bound for o in runs.get("deadline", ()) if o.bound is not None]
    out["pooled_bound"] = round(fmean(bounds), 4) if bounds else None
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


def plan(
    site: Site,
    scenario: Scenario,
    weekday: int,
    limits: Limits,
    progress: Callable[[str, int, int], None] | None = None,
) -> PlanResult:
    """Search for the changes, then measure before, after and every step on the held-out seeds.

    `progress(phase, done, total)` hears each simulated site-day of the phase ("search", then "held-out").
    """
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
    # Progress in two phases: the search (its length unknown: estimated as rounds of PER_ROUND candidates
    # accepting two changes each, up to max_added), then the held-out runs (known once the search ends).
    phase, total, done = "search", limits.seeds * (1 + (PER_ROUND + 1) * max(3, (limits.max_added + 1) // 2)), 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(phase, min(done, total - 1), total)

    evaluator = Evaluator(site, scenario, max(1, min(limits.jobs, os.cpu_count() or 1)), tick)
    try:
        changes, search_curve, evaluations = _search(site, limits, search_seeds, evaluator)
        if progress is not None:
            progress(phase, done, done)
        phase, total, done = "held-out", limits.held_out * (len(changes) + 3) + 1, 0
        result = _held_out(site, weekday, limits, search_seeds, held_out, changes, search_curve, evaluator)
        if progress is not None:
            progress(phase, total, total)
        result.evaluations = evaluations
        result.site_days = evaluator.site_days
        over = fmean(o.over_share for o in result.after["deadline"])
        if over > limits.max_visits_over:
            most = f"{100 * limits.max_visits_over:g} %"
            result.notes.append(f"{100 * over:.1f} % lượt vẫn chờ quá mục tiêu lượt (tối đa {most}) / "
                                f"{100 * over:.1f} % of visits still wait over the visit target (at most {most} asked)")
    finally:
        evaluator.close()
    result.wall_s = time.perf_counter() - started
    return result


def evaluate(evaluator: Evaluator, layouts: Sequence[tuple[Change, ...]], seeds: Sequence[int],
              policy: str = "deadline") -> list[list[Outcome]]:
    tasks = [(layout, policy, seed, False) for layout in layouts for seed in seeds]
    outcomes = [o for o, _ in evaluator.run(tasks)]
    k = len(seeds)
    return [outcomes[i * k:(i + 1) * k] for i in range(len(layouts))]


def _search(site: Site, limits: Limits, seeds: Sequence[int],
            evaluator: Evaluator) -> tuple[list[Change], list[float], int]:
    changes: list[Change] = []
    [current] = evaluate(evaluator, [()], seeds)
    picture = Picture.of(current)
    curve = [picture.score]
    evaluations = 1
    dropped: set[Change] = set()
    stale = 0
    standby = False   # planned standby shifts cost staff hours: tried once training stops paying
    goal = min(1.0, limits.target + limits.margin)
    while picture.score < goal or picture.over > limits.max_visits_over:
        layout = apply_changes(site, changes)
        ranked = cross_candidates(layout, picture, changes, limits, dropped)
        ranked += break_candidates(layout, picture, dropped)
        if standby:
            ranked += standby_candidates(layout, picture, dropped)
        batch = pick(ranked, PER_ROUND)
        if not batch:
            if standby:
                break
            standby, stale = True, 0
            continue
        trials = evaluate(evaluator, [(*changes, c) for c in batch], seeds)
        evaluations += len(batch)
        gains = sorted((_Gain(c, fmean(o.share for o in t) - picture.score, t)
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
            [together] = evaluate(evaluator, [(*changes, *accepted)], seeds)
            evaluations += 1
            if fmean(o.share for o in together) >= fmean(o.share for o in current):
                current = together
            else:
                accepted = accepted[:1]
        changes.extend(accepted)
        picture = Picture.of(current)
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
    touched = touches(gains[0].change)
    for gain in gains[1:]:
        if gain.mean < 2 * MIN_GAIN or len(accepted) >= BATCH:
            break
        change = gain.change
        if touched & touches(change):
            continue
        if isinstance(change, CrossTrain):
            layout = apply_changes(site, [*changes, *accepted])
            if (layout.counters[change.counter], change.agency) not in eligible_pairs(
                    layout, [*changes, *accepted], limits):
                continue
        accepted.append(change)
        touched |= touches(change)
    return accepted


def _held_out(site: Site, weekday: int, limits: Limits, search_seeds: tuple[int, ...], held_out: tuple[int, ...],
              changes: list[Change], search_curve: list[float], evaluator: Evaluator) -> PlanResult:
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
        curve=[fmean(o.share for o in outcomes) for outcomes in deadline],
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
    for _counter, agency in eligible_pairs(site, changes, limits):
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
