"""The candidates `motcua plan` simulates: guided by the last simulation, so only a few are tried a round.

Per half hour, the agencies whose transactions were late, against the counters
with staffed time to spare then (each agency's offered load shared among the
counters that may serve it). Training a counter for an agency scores the late
transactions it could take in its spare time; a break scores the lateness of its
counter's agencies it would leave; a planned standby shift covers a span in
which its agencies lose at least STANDBY_MIN_LATE transactions a half hour.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from controller.core.site import Counter, Site
from sim.metrics import HALF_HOUR_S
from sim.plan_eval import Outcome
from sim.plan_layout import Change, CrossTrain, Limits, MovedBreak, PlannedStandby, eligible_pairs

__all__ = ["Picture", "break_candidates", "cross_candidates", "pick", "standby_candidates", "touches"]

PER_AGENCY = 2            # at most this many candidates for one agency in a round
STANDBY_MIN_LATE = 1.0    # late transactions a day in a half hour that call for a planned standby shift


@dataclass
class Picture:
    """A layout's day as the search reads it, averaged over the search seeds."""

    score: float
    over: float                             # share of visits over the visit target
    late: dict[tuple[str, int], float]
    load: dict[tuple[str, int], float]      # offered load in counters (service seconds / half hour)
    open: dict[tuple[int, int], float]      # counters staffed, as a share of the half hour

    @staticmethod
    def of(outcomes: Sequence[Outcome]) -> Picture:
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
        return Picture(fmean(o.share for o in outcomes), fmean(o.over_share for o in outcomes), dict(late),
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


def cross_candidates(site: Site, picture: Picture, changes: Sequence[Change], limits: Limits,
                     dropped: set[Change]) -> list[tuple[float, Change]]:
    """(score, change) of every counter and agency the limits allow, but those dropped or of no use."""
    spare = picture.spare(site)
    late_by_agency: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for (agency, hh), count in picture.late.items():
        late_by_agency[agency].append((hh, count))
    # Counters alike (same agencies, kind, breaks, plan) are one candidate: the lowest numbered.
    seen: set[tuple[Any, ...]] = set()
    out: list[tuple[float, Change]] = []
    for counter, agency in eligible_pairs(site, changes, limits):
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


def break_candidates(site: Site, picture: Picture, dropped: set[Change]) -> list[tuple[float, Change]]:
    """(score, change) of each listed break that may move to a window its agencies lose less in."""
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


def standby_candidates(site: Site, picture: Picture, dropped: set[Change]) -> list[tuple[float, Change]]:
    """(score, change) of a planned shift for each span a standby counter's agencies lose transactions in."""
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


def pick(ranked: list[tuple[float, Change]], count: int) -> list[Change]:
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


def touches(change: Change) -> set[str]:
    """What two changes accepted together must not share: the counter and, for training, the agency."""
    keys = {f"#{change.counter}"}
    if isinstance(change, CrossTrain):
        keys.add(change.agency)
    elif isinstance(change, PlannedStandby):
        keys.update(change.serves)
    return keys
