"""`motcua sim`: run a scenario on a virtual clock and print or write what it measured.

stdout carries exactly one JSON object with --json (CONTRACT.md section 1);
everything else (progress, a human summary, errors) goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from controller.core.errors import SiteError
from controller.core.policies import POLICIES
from controller.core.site import Site
from controller.sitefile import load_document
from sim.progress import ProgressBar
from sim.runner import RunOptions, RunResult, simulate
from sim.scenario import Scenario, parse_scenario

__all__ = ["run"]


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Entry point of `motcua sim` (see controller/cli.py for the arguments)."""
    if args.policy not in POLICIES:
        _say(f"motcua sim: unknown policy {args.policy!r}; choose one of {', '.join(POLICIES)}")
        return 2
    if args.days < 1:
        _say("motcua sim: --days must be >= 1")
        return 2
    if args.jobs < 1:
        _say("motcua sim: --jobs must be >= 1")
        return 2
    try:
        sites, table = load_document(args.scenario)
        scenario = parse_scenario(table, str(args.scenario), sites)
    except SiteError as exc:
        _say(f"motcua sim: refused: {exc}")
        return 2
    seed = scenario.seed if args.seed is None else args.seed
    auto_standby = scenario.auto_open_standby and not args.no_standby
    options = RunOptions(policy=args.policy, seed=seed, days=args.days, auto_standby=auto_standby, jobs=args.jobs)
    bar = ProgressBar(f"sim {args.policy}")
    result = simulate(sites, scenario, options, progress=bar)
    bar.close()
    if args.out:
        from sim.report import write_report  # matplotlib only when a report is asked for

        runs = _comparison_runs(sites, scenario, result)
        path = write_report(Path(args.out), str(args.scenario), [result, *runs])
        _say(f"report written to {path}")
    body = result.to_json()
    if args.json:
        print(json.dumps(body, ensure_ascii=False))
    else:
        _say(_human(body))
    return 0


def _comparison_runs(sites: Sequence[Site], scenario: Scenario, main: RunResult) -> list[RunResult]:
    """The other policy on the same seed; for a deadline run that opened standby counters, fifo on those too."""
    other = "fifo" if main.options.policy != "fifo" else "deadline"
    runs = [simulate(sites, scenario, replace(main.options, policy=other))]
    deadline = main if main.options.policy == "deadline" else runs[0]
    if deadline.tally.standby_shifts:
        runs.append(simulate(sites, scenario, replace(
            main.options, policy="fifo", auto_standby=False, replay=tuple(deadline.tally.standby_shifts))))
        runs[-1].extra["label"] = "fifo + same standby counters"
    return runs


def _human(body: dict[str, object]) -> str:
    wait = body["wait_s"]
    assert isinstance(wait, dict)
    return (
        f"{body['policy']} seed {body['seed']}: {body['sites']} site(s), {body['visits']} visits, "
        f"{body['transactions']} transactions, {body['served']} served, {body['abandoned']} abandoned, "
        f"{body['still_waiting_at_close']} still waiting at close\n"
        f"waits p50 {wait['p50']} s, p90 {wait['p90']} s, max {wait['max']} s; "
        f"within target {100 * float(str(body['within_transaction_target'])):.1f} % "
        f"(pooled Erlang C bound {body['erlang_c_within_target']}); utilisation {body['utilisation']}; "
        f"{body['wall_s']} s wall for {body['simulated_s']} s simulated"
    )
