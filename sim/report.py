"""`motcua sim --out DIR`: report.md and PNG plots comparing the runs of one scenario.

The first run is the one asked for; the others are the comparison runs (the
other policy on the same seed, and fifo on the standby counters the deadline
run opened). Plots use matplotlib's Agg backend: no display needed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from sim.erlang import wait_within
from sim.metrics import HALF_HOUR_S, Tally, percentile
from sim.runner import RunResult
from sim.staffing import SERVICE_LEVEL, staffing_gaps

__all__ = ["label", "write_report"]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
STAFFING_ROWS = 25


def label(run: RunResult) -> str:
    """A short name for a run: policy and standby behaviour."""
    given = run.extra.get("label")
    if isinstance(given, str):
        return given
    return f"{run.options.policy} {'+ auto standby' if run.options.auto_standby else 'without standby'}"


def _hhmm(local_s: float) -> str:
    return f"{int(local_s // 3600):02d}:{int(local_s % 3600 // 60):02d}"


def _half_hour_shares(tally: Tally) -> dict[int, tuple[int, float]]:
    """Per half hour of the day (pooled over sites and days): transactions entered and share within target."""
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for waited, entered in zip(tally.waits, tally.wait_entered, strict=True):
        if entered < 0:
            continue
        entry = counts[int(entered // HALF_HOUR_S)]
        entry[0] += 1
        entry[1] += waited <= tally.transaction_target_s
    return {k: (n, ok / n) for k, (n, ok) in sorted(counts.items())}


def _half_hour_bound(tally: Tally) -> dict[int, float]:
    """Pooled Erlang C P(wait <= target) per half hour of the day, arrival-weighted over sites and days."""
    sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for (_site, _day, half_hour), (entries, service, open_s) in tally.bins.items():
        if entries <= 0 or service <= 0:
            continue
        p = wait_within(open_s / HALF_HOUR_S, entries / HALF_HOUR_S, entries / service, tally.transaction_target_s)
        sums[half_hour][0] += entries
        sums[half_hour][1] += entries * p
    return {k: total / weight for k, (weight, total) in sorted(sums.items()) if weight > 0}


def _plot_waits(runs: Sequence[RunResult], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for run in runs:
        waits = sorted(w / 60 for w in run.tally.waits)
        if waits:
            ax.plot(waits, [(i + 1) / len(waits) for i in range(len(waits))], label=label(run))
    ax.axvline(runs[0].tally.transaction_target_s / 60, color="grey", linestyle="--", label="target")
    ax.set_xlabel("transaction wait (min)")
    ax.set_ylabel("share of transactions waiting at most this long")
    ax.set_title("Wait distribution per policy")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_agencies(runs: Sequence[RunResult], path: Path) -> None:
    agencies = sorted({a for run in runs for a in run.tally.wait_agency})
    fig, ax = plt.subplots(figsize=(max(8.0, 0.5 * len(agencies)), 4.5))
    width = 0.8 / max(1, len(runs))
    for i, run in enumerate(runs):
        by: dict[str, list[float]] = defaultdict(list)
        for waited, agency in zip(run.tally.waits, run.tally.wait_agency, strict=True):
            by[agency].append(waited / 60)
        ax.bar([j + i * width for j in range(len(agencies))], [percentile(by[a], 90) for a in agencies],
               width=width, label=label(run))
    ax.axhline(runs[0].tally.transaction_target_s / 60, color="grey", linestyle="--")
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(agencies))], agencies, rotation=60, fontsize=8)
    ax.set_ylabel("p90 wait (min)")
    ax.set_title("Waits per agency (90th percentile)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_queue(runs: Sequence[RunResult], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 4))
    for run in runs:
        samples = sorted(run.tally.queue_samples.items())
        days = max(1, run.options.days)
        ax.plot([t / 3600 for t, _ in samples], [n / days for _, n in samples], label=label(run), linewidth=1)
    ax.set_xlabel("hour of day")
    ax.set_ylabel("citizens waiting (mean over days)")
    ax.set_title("Queue length over the day")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_timeline(runs: Sequence[RunResult], path: Path) -> None:
    fig, axes = plt.subplots(len(runs), 1, figsize=(8, 2.2 * len(runs) + 0.6), sharex=True, squeeze=False)
    edges = [h * 900 / 3600 for h in range(24, 76)]
    for ax, run in zip(axes[:, 0], runs, strict=True):
        ax.hist([t / 3600 for t in run.tally.at_risk_times], bins=edges, alpha=0.6, label="at risk raised")
        ax.hist([t / 3600 for t in run.tally.breach_times], bins=edges, alpha=0.6, label="breached")
        ax.set_title(label(run), fontsize=9)
        ax.legend(fontsize=7)
    axes[-1, 0].set_xlabel("hour of day (15-minute bins)")
    fig.suptitle("Target at-risk and breach events")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_utilisation(runs: Sequence[RunResult], path: Path) -> None:
    run = runs[0]
    keys = sorted(k for k in run.tally.available_s if run.tally.available_s[k] > 0)
    values = [run.tally.busy_s.get(k, 0.0) / run.tally.available_s[k] for k in keys]
    fig, ax = plt.subplots(figsize=(max(8.0, 0.15 * len(keys)), 4))
    if len({s for s, _ in keys}) == 1:
        ax.bar([str(c) for _, c in keys], values)
        ax.set_xlabel("counter")
        ax.tick_params(axis="x", labelsize=6, rotation=90)
    else:
        ax.hist(values, bins=20)
        ax.set_xlabel("utilisation of a counter")
    ax.set_ylabel("busy / staffed" if len({s for s, _ in keys}) == 1 else "counters")
    ax.set_title(f"Counter utilisation ({label(run)})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_bound(runs: Sequence[RunResult], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 4))
    bound = _half_hour_bound(runs[0].tally)
    ax.plot([(k + 0.5) / 2 for k in bound], list(bound.values()), "k--", label="pooled Erlang C bound")
    for run in runs:
        shares = _half_hour_shares(run.tally)
        ax.plot([(k + 0.5) / 2 for k in shares], [s for _, s in shares.values()], marker=".", label=label(run))
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("hour of day (by when the wait began)")
    ax.set_ylabel("share within the transaction target")
    ax.set_title("Within target per half hour vs the pooled bound")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _staffing(run: RunResult) -> list[str]:
    """The layout's shortfalls in the first run (sim/staffing.py), most expected late transactions first."""
    gaps = staffing_gaps(run)
    target_min = run.tally.transaction_target_s / 60
    lines = [
        "", "## Staffing: where the counters fall short, whatever the routing", "",
        f"Per agency and half hour, the counters an M/M/c queue needs to call {100 * SERVICE_LEVEL:.0f} % of the",
        f"transactions entering the agency's line within {target_min:g} min, against the counters that may serve",
        "it and were open (shared counters counted in full, staff breaks counted out). Routing cannot call a",
        "ticket at a counter that may not serve it: these spans need a layout change (a standby or",
        "cross-trained counter for the agency, one more of its own, breaks moved off the peak).",
        "",
    ]
    if not gaps:
        return [*lines, "No agency falls short of counters in this run."]
    lines += ["| site | weekday | agency | time | transactions a day | expected late a day | counters needed | "
              "counters open that may serve it |", "|---|---|---|---|---|---|---|---|"]
    for gap in gaps[:STAFFING_ROWS]:
        span = f"{_hhmm(gap.start_s)}-{_hhmm(gap.end_s)}"
        lines.append(f"| {gap.site} | {WEEKDAYS[gap.weekday]} | {gap.agency} | {span} | {gap.transactions:.1f} | "
                     f"{gap.late:.1f} | {gap.needed} | {gap.serving:.1f} |")
    if len(gaps) > STAFFING_ROWS:
        lines += ["", f"{len(gaps) - STAFFING_ROWS} more spans, each with fewer expected late transactions."]
    return lines


def write_report(out: Path, scenario: str, runs: Sequence[RunResult]) -> Path:
    """Write report.md and its plots into `out`; return the report's path."""
    out.mkdir(parents=True, exist_ok=True)
    plots = {
        "waits.png": _plot_waits,
        "agencies.png": _plot_agencies,
        "queue.png": _plot_queue,
        "targets.png": _plot_timeline,
        "utilisation.png": _plot_utilisation,
        "erlang.png": _plot_bound,
    }
    for name, draw in plots.items():
        draw(runs, out / name)
    first = runs[0]
    target_min = first.tally.transaction_target_s / 60
    lines = [
        f"# Simulation report: {scenario}",
        "",
        f"Seed {first.options.seed}, {first.options.days} day(s) (weekdays {first.weekdays}, 0 = Monday), "
        f"{first.tally.sites} site(s). Every run meets the same citizens (arrivals, procedures and service "
        "times are drawn from the seed, before any routing).",
        "",
        f"| run | visits | within {target_min:g} min | pooled Erlang C bound | wait p50 / p90 / max (s) | "
        "visits over visit target | abandoned | still waiting at close | standby opened | utilisation |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        body = run.to_json()
        wait = body["wait_s"]
        bound = body["erlang_c_within_target"]
        lines.append(
            f"| {label(run)} | {body['visits']} | {100 * body['within_transaction_target']:.1f} % | "
            f"{'-' if bound is None else f'{100 * bound:.1f} %'} | "
            f"{wait['p50']:.0f} / {wait['p90']:.0f} / {wait['max']:.0f} | {body['visits_over_visit_target']} | "
            f"{body['abandoned']} | {body['still_waiting_at_close']} | {body['standby_opened']} | "
            f"{100 * body['utilisation']:.1f} % |"
        )
    lines += [
        "",
        "Waits are queue waits only (ready to called), per transaction; service and back-office",
        f"times are reported beside them: mean service {first.to_json()['service_s']['mean']} s, mean back office "
        f"{first.to_json()['back_office_s']['mean']} s.",
        "",
        "The bound pools every open counter of a site into one M/M/c per half hour (that half hour's",
        "transactions, time-averaged open counters, mean nominal service of the mix):",
        "P(wait <= t) = 1 - C(c, a) exp(-(c mu - lambda) t), weighted by arrivals. A floor split by agency",
        "cannot do better than perfectly pooled servers.",
        "",
        "## Breaches by cause",
        "",
        "| run | " + " | ".join(sorted({c for r in runs for c in r.tally.breaches_by_cause})) + " |",
        "|---|" + "---|" * len({c for r in runs for c in r.tally.breaches_by_cause}),
    ]
    causes = sorted({c for r in runs for c in r.tally.breaches_by_cause})
    for run in runs:
        lines.append(f"| {label(run)} | " + " | ".join(str(run.tally.breaches_by_cause.get(c, 0)) for c in causes)
                     + " |")
    if first.tally.standby_shifts:
        lines += ["", "## Standby counters opened by enforcement", "", "| site | day | counter | open | closed |",
                  "|---|---|---|---|---|"]
        for site, day, counter, on, off in first.tally.standby_shifts:
            lines.append(f"| {site} | {day} | {counter} | {_hhmm(on)} | {_hhmm(off)} |")
    lines += _staffing(first)
    lines += ["", "## Plots", ""]
    titles = {
        "waits.png": "Wait distribution per policy",
        "agencies.png": "Waits per agency",
        "queue.png": "Queue length over the day",
        "targets.png": "At-risk and breach timeline",
        "utilisation.png": "Counter utilisation",
        "erlang.png": "Within target per half hour vs the pooled Erlang C bound",
    }
    for name, title in titles.items():
        lines += [f"### {title}", "", f"![{title}]({name})", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
