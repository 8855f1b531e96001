"""Simulator: speed (centre, province, nation) and the proof of the deadline policy against fifo and Erlang C.

Run with `python -m benchmarks.run bench_sim`. Every outcome figure compares
runs on the same seeds: the same citizens, procedures and service times.
"""

from __future__ import annotations

import os
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from controller.core.policies import DeadlinePolicy, RoutingPolicy, fairness_violation, make_policy
from controller.core.site import Counter, Site
from controller.core.state import SiteState
from controller.sitefile import commune_dict, load_document, read_toml, site_from_dict
from sim.metrics import HALF_HOUR_S
from sim.runner import RunOptions, RunResult, simulate
from sim.scenario import Scenario, parse_scenario

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "controller" / "sites"
SEEDS = range(1, 21)
NATION_SITES = 3355       # the national day: 34 provincial centres and their commune-level centres
NATION_PROVINCES = 34
JOBS = os.cpu_count() or 1


class GuardedDeadline(DeadlinePolicy):
    """The deadline policy, counting calls that break the fairness guard."""

    violations = 0
    calls = 0

    def choose(self, state: SiteState, counter: Counter, now: float) -> str | None:
        chosen = super().choose(state, counter, now)
        if chosen is not None and not state.directed.get(counter.id):
            GuardedDeadline.calls += 1
            if fairness_violation(state, counter, chosen, now) is not None:
                GuardedDeadline.violations += 1
        return chosen


def _guarded(name: str) -> RoutingPolicy:
    return GuardedDeadline() if name == "deadline" else make_policy(name)


def _scenario(sites: Sequence[Site], weekday: int) -> Scenario:
    return parse_scenario({"weekday": weekday}, "bench", sites)


def _timed(sites: Sequence[Site], scenario: Scenario, repeat: int = 1, jobs: int = 1) -> tuple[float, RunResult]:
    best = float("inf")
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = simulate(sites, scenario, RunOptions(policy="deadline", seed=1, jobs=jobs))
        best = min(best, time.perf_counter() - started)
    assert result is not None
    return best, result


def _nation() -> list[Site]:
    """The national set, generated: 34 provincial centres and their communes, 3,355 sites in all.

    Commune volumes cycle through province.toml's commune_scale, as `motcua sim` builds a province.
    """
    province = read_toml(SITES / "province.toml")["province"]
    centre = read_toml(SITES / "province-centre.toml")
    template = read_toml(SITES / "commune-centre.toml")
    scales = province["commune_scale"]
    communes = NATION_SITES - NATION_PROVINCES
    sites: list[Site] = []
    index = 0
    for p in range(NATION_PROVINCES):
        data = {**centre, "site": {**centre["site"], "id": f"tinh-{p:02d}"}}
        sites.append(site_from_dict(data, f"centre {p}"))
        share = communes // NATION_PROVINCES + (1 if p < communes % NATION_PROVINCES else 0)
        for _ in range(share):
            index += 1
            sites.append(site_from_dict(commune_dict(template, index, float(scales[(index - 1) % len(scales)])),
                                        f"commune {index}"))
    return sites


def fixed_lines(site: Site) -> frozenset[str]:
    """Lines no routing can widen or reorder under the fairness guard.

    An agency whose every counter serves it alone, and the fee line: six counters
    of its own plus counter 47, which the guard already sends to it whenever its
    line is overdue. Their order is fixed too: once a ticket there is overdue,
    the guard makes the counter call the longest waiting.
    """
    fixed = {a for a in site.agencies if all(c.serves == (a,) for c in site.counters_for(a))}
    fixed |= {a for a, agency in site.agencies.items() if agency.role == "fee"}
    return frozenset(fixed)


def ceiling(run: RunResult, fixed: frozenset[str]) -> float:
    """The run's share within target if every transaction outside the fixed lines had been on time."""
    target = run.tally.transaction_target_s
    within = sum(1 for wait, agency in zip(run.tally.waits, run.tally.wait_agency, strict=True)
                 if agency not in fixed or wait <= target)
    return within / len(run.tally.waits) if run.tally.waits else 1.0


def _what_if_site(fee_standby: bool, pooled: bool) -> Site:
    """A WHAT-IF variant of the demo centre built here, not a site file: never the demo layout.

    fee_standby: the standby counters are also trained for the fee line (PHI);
    pooled: every counter serves every agency (what the pooled Erlang C bound assumes).
    """
    data = read_toml(SITES / "province-centre.toml")
    agencies = [a["id"] for a in data["agency"]]
    counters = []
    for table in data["counter"]:
        serves = list(table["serves"])
        if pooled:
            serves = serves + [a for a in agencies if a not in serves]
        elif fee_standby and table.get("standby"):
            serves = [*serves, "PHI"]
        counters.append({**table, "serves": serves})
    return site_from_dict({**data, "counter": counters}, "what-if")


def _speed() -> list[str]:
    centre = load_document(SITES / "province-centre.toml")[0]
    province = load_document(SITES / "province.toml")[0]
    centre_s, centre_run = _timed(centre, _scenario(centre, 2), repeat=3)
    province_one_s, _ = _timed(province, _scenario(province, 2), repeat=2)
    province_s, province_run = _timed(province, _scenario(province, 2), repeat=2, jobs=JOBS)
    nation = _nation()
    nation_s, nation_run = _timed(nation, _scenario(nation, 2), jobs=JOBS)
    def met(wall: float, goal: float) -> str:
        return "yes" if wall < goal else "no"

    return [
        "| run | sites | visits | processes | wall (s) | goal | met |",
        "|---|---|---|---|---|---|---|",
        f"| province centre, one day | 1 | {centre_run.tally.visits} | 1 | {centre_s:.2f} | < 0.5 s | "
        f"{met(centre_s, 0.5)} |",
        f"| province (centre + 99 communes), one day | {len(province)} | {province_run.tally.visits} | 1 | "
        f"{province_one_s:.2f} | < 5 s | {met(province_one_s, 5)} |",
        f"| province (centre + 99 communes), one day | {len(province)} | {province_run.tally.visits} | {JOBS} | "
        f"{province_s:.2f} | < 5 s | {met(province_s, 5)} |",
        f"| nation (34 centres + {len(nation) - NATION_PROVINCES} communes, generated), one day | {len(nation)} | "
        f"{nation_run.tally.visits} | {JOBS} | {nation_s:.1f} | < 180 s | {met(nation_s, 180)} |",
    ]


class _Losses:
    """Where the share within target is lost, per agency, and how loaded each agency's counters are at peak."""

    def __init__(self, deadline: str, fifo: str) -> None:
        self.deadline, self.fifo = deadline, fifo
        self.counted: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])  # (run, agency) -> [in, all]
        self.peak: dict[tuple[str, str], list[float]] = defaultdict(list)               # (run, agency) -> per seed

    def add(self, name: str, run: RunResult) -> None:
        target = run.tally.transaction_target_s
        for wait, agency in zip(run.tally.waits, run.tally.wait_agency, strict=True):
            entry = self.counted[(name, agency)]
            entry[0] += wait <= target
            entry[1] += 1
        # Offered work in each half hour over the open time of every counter that may serve the agency:
        # above 1, its line grows in that half hour whatever the routing, even with those counters all its own.
        site = run.sites[0]
        open_s = run.tally.counter_open_s
        peak: dict[str, float] = {}
        for (site_index, day, half_hour, agency), (_entries, service) in run.tally.agency_bins.items():
            if site.half_hour_index(half_hour * HALF_HOUR_S) is None:
                continue  # work entering at the lunch break or after closing waits for the next opening
            capacity = sum(open_s.get((site_index, day, half_hour, c.id), 0.0) for c in site.counters_for(agency))
            if capacity > 0:
                peak[agency] = max(peak.get(agency, 0.0), service / capacity)
        for agency, load in peak.items():
            self.peak[(name, agency)].append(load)

    def table(self) -> list[str]:
        deadline, fifo = self.deadline, self.fifo
        agencies = sorted({a for (_n, a) in self.counted})
        def share(name: str, agency: str) -> float:
            within, count = self.counted.get((name, agency), [0, 0])
            return 100 * within / count if count else 100.0

        lost = {a: self.counted[(deadline, a)][1] - self.counted[(deadline, a)][0] for a in agencies}
        total_lost = sum(lost.values()) or 1
        rows = ["| agency | counters that may serve it | transactions (20 days) | deadline within 15 min | "
                "fifo within 15 min | share of deadline's late transactions | peak half-hour load on its "
                "counters (mean of seeds) |", "|---|---|---|---|---|---|---|"]
        site = load_document(SITES / "province-centre.toml")[0][0]
        for agency in sorted(agencies, key=lambda a: -lost[a]):
            peaks = self.peak.get((deadline, agency), [0.0])
            rows.append(
                f"| {agency} | {len(site.counters_for(agency))} | {self.counted[(deadline, agency)][1]} | "
                f"{share(deadline, agency):.1f} % | {share(fifo, agency):.1f} % | "
                f"{100 * lost[agency] / total_lost:.1f} % | {statistics.mean(peaks):.2f} |")
        return rows


def _outcomes() -> tuple[list[str], dict[str, list[float]], dict[str, list[str]]]:
    sites = load_document(SITES / "province-centre.toml")[0]
    fixed = fixed_lines(sites[0])
    shares: dict[str, list[float]] = {}
    honesty: list[float] = []
    losses = {day: _Losses(f"{day}: deadline + auto standby", f"{day}: fifo without standby")
              for day in ("Wed", "Mon")}

    def add(name: str, run: RunResult) -> None:
        shares.setdefault(name, []).append(run.tally.within_target())
        day = losses.get(name[:3])
        if day is not None and name in (day.deadline, day.fifo):
            day.add(name, run)
        if name == f"{name[:3]}: deadline + auto standby":
            shares.setdefault(f"{name[:3]}: ceiling of that run: every transaction outside {_named(fixed)} "
                              "on time", []).append(ceiling(run, fixed))

    for seed in SEEDS:
        wednesday = _scenario(sites, 2)
        run = simulate(sites, wednesday, RunOptions(policy="deadline", seed=seed), make=_guarded)
        add("Wed: deadline + auto standby", run)
        shares.setdefault("Wed: pooled Erlang C bound", []).append(run.bound() or 0.0)
        shares.setdefault("Wed: Erlang C per agency, own counters (layout-aware estimate)", []).append(
            run.layout_bound() or 0.0)
        honesty.append(run.tally.estimate_honesty() or 0.0)
        add("Wed: fifo without standby",
            simulate(sites, wednesday, RunOptions(policy="fifo", seed=seed, auto_standby=False)))
        monday = _scenario(sites, 0)
        deadline = simulate(sites, monday, RunOptions(policy="deadline", seed=seed), make=_guarded)
        add("Mon: deadline + auto standby", deadline)
        shares.setdefault("Mon: pooled Erlang C bound", []).append(deadline.bound() or 0.0)
        shares.setdefault("Mon: Erlang C per agency, own counters (layout-aware estimate)", []).append(
            deadline.layout_bound() or 0.0)
        add("Mon: fifo without standby",
            simulate(sites, monday, RunOptions(policy="fifo", seed=seed, auto_standby=False)))
        add("Mon: fifo, same standby counters as deadline", simulate(sites, monday, RunOptions(
            policy="fifo", seed=seed, auto_standby=False, replay=tuple(deadline.tally.standby_shifts))))
        add("Mon: deadline without standby",
            simulate(sites, monday, RunOptions(policy="deadline", seed=seed, auto_standby=False), make=_guarded))
    # What-ifs: the same citizens on layouts the demo centre does not have (evidence of what the
    # layout, not the policy, limits). Labelled as such in the table.
    pooled, fee_standby = [_what_if_site(False, True)], [_what_if_site(True, False)]
    for seed in SEEDS:
        add("WHAT-IF Wed, every counter serves every agency: deadline + auto standby",
            simulate(pooled, _scenario(pooled, 2), RunOptions(policy="deadline", seed=seed), make=_guarded))
        trained = simulate(fee_standby, _scenario(fee_standby, 0), RunOptions(policy="deadline", seed=seed),
                           make=_guarded)
        add("WHAT-IF Mon, standby counters also trained for the fee line: deadline + auto standby", trained)
        add("WHAT-IF Mon, standby counters also trained for the fee line: fifo, same standby counters",
            simulate(fee_standby, _scenario(fee_standby, 0), RunOptions(
                policy="fifo", seed=seed, auto_standby=False, replay=tuple(trained.tally.standby_shifts))))
    shares["estimate within ±3 min (Wed, deadline)"] = honesty
    rows = ["| run (20 seeds, same seeds everywhere) | mean within 15 min | worst seed |", "|---|---|---|"]
    for name, values in shares.items():
        rows.append(f"| {name} | {100 * statistics.mean(values):.1f} % | {100 * min(values):.1f} % |")
    return rows, shares, {day: table.table() for day, table in losses.items()}


def _named(agencies: frozenset[str]) -> str:
    return ", ".join(sorted(agencies))


def _gap(shares: dict[str, list[float]], a: str, b: str) -> float:
    return 100 * (statistics.mean(shares[a]) - statistics.mean(shares[b]))


def run() -> str:
    """Measure and return the markdown section."""
    speed = _speed()
    rows, shares, losses = _outcomes()
    wed_gap = _gap(shares, "Wed: pooled Erlang C bound", "Wed: deadline + auto standby")
    wed_layout = _gap(shares, "Wed: deadline + auto standby",
                      "Wed: Erlang C per agency, own counters (layout-aware estimate)")
    mon_vs_fifo = _gap(shares, "Mon: deadline + auto standby", "Mon: fifo without standby")
    mon_vs_same = _gap(shares, "Mon: deadline + auto standby", "Mon: fifo, same standby counters as deadline")
    honesty = 100 * statistics.mean(shares["estimate within ±3 min (Wed, deadline)"])
    fixed = _named(fixed_lines(load_document(SITES / "province-centre.toml")[0][0]))
    wed_ceiling = 100 * statistics.mean(shares[f"Wed: ceiling of that run: every transaction outside {fixed} on time"])
    mon_ceiling = _gap(shares, f"Mon: ceiling of that run: every transaction outside {fixed} on time",
                       "Mon: fifo without standby")
    wed_bound = 100 * statistics.mean(shares["Wed: pooled Erlang C bound"])
    goals = [
        f"- Wednesday: deadline is {wed_gap:.1f} points below the pooled bound (goal: within 3): "
        f"{'met' if wed_gap <= 3 else 'missed'}; against the layout-aware estimate: {wed_layout:+.1f} points.",
        f"- Monday: deadline + auto standby vs fifo without standby: {mon_vs_fifo:+.1f} points (goal: +10): "
        f"{'met' if mon_vs_fifo >= 10 else 'missed'}.",
        f"- Monday: deadline + auto standby vs fifo on the same counters: {mon_vs_same:+.1f} points (goal: +5): "
        f"{'met' if mon_vs_same >= 5 else 'missed'}.",
        f"- What blocks the first two: with every transaction outside {fixed} on time, Wednesday's deadline "
        f"runs would reach {wed_ceiling:.1f} % (the goal needs {wed_bound - 3:.1f} %), and Monday's would be "
        f"{mon_ceiling:+.1f} points over fifo without standby (the goal needs +10). Those lines keep their "
        "counters and, under the fairness guard, their order, whatever the routing does.",
        f"- Fairness guard: {GuardedDeadline.violations} violations in {GuardedDeadline.calls} deadline calls "
        f"(goal 0): {'met' if GuardedDeadline.violations == 0 else 'missed'}.",
        f"- Estimator honesty: {honesty:.1f} % of tickets first called within ±3 minutes of the estimate "
        "shown at issue (tests assert >= 50 %).",
    ]
    return "\n".join([
        "## Simulator (bench_sim)",
        "",
        f"Command: `python -m benchmarks.run bench_sim` (machine: {os.cpu_count()} cores).",
        "",
        "### Speed",
        "",
        "Deadline policy with auto standby, Wednesday, seed 1, estimates recorded at every issue; best of",
        "3 (centre) or 2 (province) runs, the nation once. Sites are independent, so a multi-site run",
        f"spreads them over worker processes (`motcua sim --jobs`, default one per core; here {JOBS}) and merges",
        "their tallies in site order: the JSON is identical to a one-process run (tested). The national",
        "set is generated: 34 copies of the demo centre and 3,321 communes built from the commune template",
        "with volumes cycled as in province.toml. Enforcement is woken when the Floor says it can next act",
        "(Floor.next_tick_at), never on a fixed cadence.",
        "",
        *speed,
        "",
        "### Outcomes on the demo province centre",
        "",
        "Share of transactions that waited at most 15 minutes (queue waiting only). The bound pools every",
        "open counter into one M/M/c per half hour (sim/erlang.py), including counters that cannot serve",
        "an agency: on this layout the fee line (PHI) and the agencies with one or two counters of their own",
        "get no help from standby counters, so no routing reaches it. Rows marked WHAT-IF run the same",
        "citizens on layouts built in bench_sim.py (not the demo site file) to show what the layout limits.",
        "The layout-aware estimate applies the same Erlang C per agency, with every open counter that may",
        "serve the agency counted in full (RunResult.layout_bound). Neither figure is a strict bound: M/M/c",
        "assumes exponential service, and the simulated services (lognormal, cv 0.4-0.7) are less variable.",
        "",
        *rows,
        "",
        *goals,
        "",
        "### Where the share is lost (20 seeds, demo centre)",
        "",
        "Per agency and day, deadline (with auto standby) beside fifo (without), and the load in the busiest",
        "open half hour: offered work over the open time of every counter that may serve the agency, as if",
        "those counters served nobody else. Above 1.00 the line grows in that half hour whatever the",
        "routing; shared counters (the fee line's counter 47 also serves HD and TKQ) make it worse.",
        "fifo serves a shared counter's first agency first; the deadline policy's fairness guard",
        "(goal: no overdue ticket passed over for a younger one the counter could serve) forbids that",
        "once the fee line is overdue, so a shared counter then serves the longest waiting ticket.",
        "On Monday, standby counters make intakes finish sooner, which brings fee tickets to the fee line",
        "at its peak: its row gains nothing from them under either policy.",
        "",
        "Wednesday:",
        "",
        *losses["Wed"],
        "",
        "Monday:",
        "",
        *losses["Mon"],
    ])


if __name__ == "__main__":
    print(run())
