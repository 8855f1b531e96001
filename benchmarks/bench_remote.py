"""Numbers from a phone, simulated: who stands in the hall past 15 minutes on the demo centre's Monday.

Run with `python -m benchmarks.run bench_remote`. The demo province centre's Monday (+30 % on a
mid-week day, no incident), the deadline policy, 20 seeds (101-120, the convention of
bench_targets.py), each seed meeting the same citizens in every variant (sim/away.py draws the
phone plans after the arrivals):

- walk-ins only (today);
- 40 % of citizens with a phone (those without legal priority or an appointment) who read the
  predicted wait on /q: they take a number from home when the wait is longer than their trip,
  and come directly otherwise (the scenario's default, `remote_reads_wait`);
- the same 40 % taking a number whatever the wait (`remote_reads_wait = false`);
- walk-ins only, half of whom accept the kiosk's offer to come back later when the wait is
  over the target (`return_later_share = 0.5`);
- 40 % by phone reading the wait, and half of the others accepting to come back later.

Phone holders take their number when they would have set off (at the earliest the opening),
announce a trip of 10, 20 or 30 minutes, set off at the server's "come now" (the predicted call
within their trip, or their turn passed), check in 3 minutes late on average (exponential), and
10 % never come; one found expired rejoins at the back. Those who come back later leave with
the kiosk's printed time (the predicted call less the target) and check in as late, as often
never. Time in the hall is what the core counts:
a visit's queue waits, from check-in for a number held away; a number whose holder never came in
has none.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.core.site import Site
from controller.sitefile import load_document
from sim.runner import RunOptions, simulate
from sim.scenario import parse_scenario

ROOT = Path(__file__).resolve().parent.parent
SEEDS = range(101, 121)  # bench_targets.py's held-out seeds
JOBS = os.cpu_count() or 1
VARIANTS: dict[str, dict[str, Any]] = {
    "walk-ins only": {},
    "40 % by phone, reading the wait": {"remote_share": 0.4},
    "40 % by phone, whatever the wait": {"remote_share": 0.4, "remote_reads_wait": False},
    "half accept coming back later": {"return_later_share": 0.5},
    "40 % by phone, half accept coming back later": {"remote_share": 0.4, "return_later_share": 0.5},
}
BASE = {"weekday": 0, "remote_travel_min": [10, 20, 30], "check_in_late_min": 3, "away_no_show_share": 0.1}


@dataclass(frozen=True)
class _Run:
    variant: str
    seed: int
    visits: int
    hall_visits: int
    over_share: float      # of the visits that came in, waits in the hall past 15 minutes
    hall_mean_s: float
    within: float          # transactions called within 15 minutes (the target's share)
    fee_share: float       # of the time waited in the hall, the share in the fee line (always a later step)
    away: dict[str, Any]
    wall_s: float


def _one(task: tuple[str, Site, int]) -> _Run:
    variant, site, seed = task
    scenario = parse_scenario({**BASE, **VARIANTS[variant]}, variant, [site])
    run = simulate([site], scenario, RunOptions(policy="deadline", seed=seed))
    tally = run.tally
    hall = tally.hall_waits
    fee = {a.id for a in site.agencies.values() if a.role == "fee"}
    fee_s = sum(w for w, agency in zip(tally.waits, tally.wait_agency, strict=True) if agency in fee)
    return _Run(variant, seed, tally.visits, len(hall), tally.hall_over_share(),
                statistics.fmean(hall) if hall else 0.0, tally.within_target(),
                fee_s / sum(tally.waits) if tally.waits else 0.0, run.to_json()["away"], run.wall_s)


def _paired(runs: Sequence[_Run], variant: str, field: str) -> tuple[float, float, float]:
    """Mean, lowest and highest of a figure's per-seed difference from walk-ins only (same citizens)."""
    base = {r.seed: getattr(r, field) for r in runs if r.variant == "walk-ins only"}
    diffs = [getattr(r, field) - base[r.seed] for r in runs if r.variant == variant]
    return statistics.fmean(diffs), min(diffs), max(diffs)


def run() -> str:
    """Measure and return the markdown section."""
    site = load_document(ROOT / "controller" / "sites" / "province-centre.toml")[0][0]
    tasks = [(variant, site, seed) for variant in VARIANTS for seed in SEEDS]
    with ProcessPoolExecutor(JOBS) as pool:
        runs = list(pool.map(_one, tasks))
    rows = ["| variant | in the hall past 15 min (mean, worst seed) | vs walk-ins only (mean, range) | "
            "mean wait in the hall (min) | vs walk-ins only (min) | transactions called within 15 min |",
            "|---|---|---|---|---|---|"]
    for variant in VARIANTS:
        group = [r for r in runs if r.variant == variant]
        over = statistics.fmean(r.over_share for r in group)
        hall = statistics.fmean(r.hall_mean_s for r in group) / 60
        if variant == "walk-ins only":
            d_over, d_hall = "—", "—"
        else:
            m, lo, hi = _paired(runs, variant, "over_share")
            d_over = f"{100 * m:+.1f} points ({100 * lo:+.1f} to {100 * hi:+.1f})"
            hm, hlo, hhi = _paired(runs, variant, "hall_mean_s")
            d_hall = f"{hm / 60:+.1f} ({hlo / 60:+.1f} to {hhi / 60:+.1f})"
        rows.append(f"| {variant} | {100 * over:.1f} % ({100 * max(r.over_share for r in group):.1f} %) | "
                    f"{d_over} | {hall:.1f} | {d_hall} | {100 * statistics.fmean(r.within for r in group):.1f} % |")
    phones = ["| variant | numbers held away | not taken (wait < trip; no offer: wait within target) | refused "
              "(share full, closed) | checked in | expired before coming, rejoined | never came | hall wait from "
              "check-in, mean (min) | wait since taking the number, mean (min) |",
              "|---|---|---|---|---|---|---|---|---|"]
    for variant in list(VARIANTS)[1:]:
        group = [r for r in runs if r.variant == variant]

        def mean(key: str, rs: list[_Run] = group) -> float:
            return statistics.fmean(float(r.away.get(key, 0)) for r in rs)

        visits = statistics.fmean(r.visits for r in group)
        for kind, words, skipped in (("remote", "by phone", "remote_came_directly"),
                                     ("return", "coming back later", "return_not_offered")):
            if not mean(f"{kind}_taken"):
                continue
            hall_from = statistics.fmean(r.away[f"{kind}_hall_wait_s"]["mean"] for r in group) / 60
            lived = statistics.fmean(r.away[f"{kind}_wait_since_taken_s"]["mean"] for r in group) / 60
            phones.append(f"| {variant}: {words} | {mean(f'{kind}_taken'):.0f} "
                          f"({100 * mean(f'{kind}_taken') / visits:.1f} % of {visits:.0f} visits) | "
                          f"{mean(skipped):.0f} | {mean(f'{kind}_refused'):.0f} | {mean(f'{kind}_checked_in'):.0f} | "
                          f"{mean(f'{kind}_rejoined'):.0f} | {mean(f'{kind}_never_came'):.0f} | {hall_from:.1f} | "
                          f"{lived:.1f} |")
    day_s = statistics.median(r.wall_s for r in runs)
    fee = statistics.fmean(r.fee_share for r in runs if r.variant == "walk-ins only")
    return "\n".join([
        "## Numbers from a phone: who stands in the hall past 15 minutes (bench_remote)",
        "",
        f"Command: `python -m benchmarks.run bench_remote` (machine: {os.cpu_count()} cores, {JOBS} processes). "
        f"The demo province centre's Monday (+30 %, no incident), deadline policy, {len(SEEDS)} seeds "
        f"({SEEDS.start}-{SEEDS.stop - 1}); every variant meets the same citizens on a seed, and the differences "
        "are paired by seed. Phone holders: 40 % of the citizens without legal priority or an appointment; trips "
        "of 10, 20 or 30 minutes; they set off at \"come now\" (the predicted call within their trip) and check "
        "in 3 minutes late on average; 10 % never come; an expired number rejoins once at the back. Those who "
        "accept to come back later leave with the kiosk's printed time (the predicted call less the target) and "
        "check in as late, as often never. \"In the "
        "hall\": a visit's queue waits as the core counts them, from check-in for a number held away (sim/away.py, "
        "benchmarks/bench_remote.py).",
        "",
        *rows,
        "",
        "What the holders of numbers held away did (means per day):",
        "",
        *phones,
        "",
        f"Where the hall's time goes (walk-ins only): {100 * fee:.0f} % of all the waiting in the hall is in the fee "
        "line, a later step of the visit, which a number from a phone does not hold; the number keeps a place in "
        "the first line only.",
        "",
        f"One simulated centre day with its citizens took {day_s:.2f} s (median of the {len(runs)} runs, "
        f"{JOBS} at a time).",
    ])


if __name__ == "__main__":
    print(run())
