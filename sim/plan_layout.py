"""What `motcua plan` may change in a site's layout, and the layout with the changes made.

A change is a small frozen value: train a counter for one more agency
(CrossTrain), staff a standby counter on a planned shift (PlannedStandby), move
one staff break (MovedBreak). What may change follows the site file: never
training for an agency marked `cross_train = false` nor on a counter whose home
agency is so marked (its staff are that agency's specialists), nothing on a
counter marked `fixed`, and the Limits on how many agencies are added.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from controller.core.clock import hhmm as clock_hhmm
from controller.core.site import Counter, PlannedShift, Site

__all__ = [
    "Change",
    "CrossTrain",
    "Limits",
    "MovedBreak",
    "PlanError",
    "PlannedStandby",
    "apply_changes",
    "change_from_json",
    "change_json",
    "eligible_pairs",
    "hhmm",
    "learners",
    "minutes",
    "why_nothing_trainable",
]


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


def hhmm(minutes: float) -> str:
    """Local minutes as HH:MM."""
    return clock_hhmm(round(minutes))


def minutes(text: str) -> int:
    """HH:MM as local minutes."""
    hh, mm = text.split(":")
    return int(hh) * 60 + int(mm)


def change_json(change: Change, gain: float) -> dict[str, Any]:
    """A change as `--json` prints it in "changes", with its gain."""
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
    if item["kind"] == "cross_train":
        return CrossTrain(int(item["counter"]), str(item["agency"]))
    if item["kind"] == "standby_plan":
        return PlannedStandby(int(item["counter"]), minutes(item["from"]), minutes(item["to"]),
                              tuple(item["serves"]))
    old, new = item["from"], item["to"]
    return MovedBreak(int(item["counter"]), (minutes(old[0]), minutes(old[1])), (minutes(new[0]), minutes(new[1])))


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


def learners(site: Site) -> list[Counter]:
    """Counters that may be trained for another agency."""
    return [c for c in site.counters.values()
            if not c.fixed and site.agencies[c.home_agency].cross_train]


def eligible_pairs(site: Site, changes: Sequence[Change], limits: Limits) -> list[tuple[Counter, str]]:
    """(counter, agency) pairs that may still be trained, given the changes made and the limits."""
    added: dict[int, int] = defaultdict(int)
    for change in changes:
        if isinstance(change, CrossTrain):
            added[change.counter] += 1
    if sum(added.values()) >= limits.max_added:
        return []
    trainable = [a for a, agency in site.agencies.items() if agency.cross_train]
    return [(c, a) for c in learners(site) if added[c.id] < limits.max_added_per_counter
            for a in trainable if a not in c.serves]


def why_nothing_trainable(site: Site, limits: Limits) -> str | None:
    """None when something may change; else what is missing, Vietnamese first."""
    if eligible_pairs(site, (), limits):
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
