"""Staffing shortfalls found in a simulated run (sim/staffing.py), and their place in the report."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from controller.core.erlang import wait_within
from controller.core.forecast import counters_needed
from controller.sitefile import load_document
from sim.report import write_report
from sim.runner import RunOptions, RunResult, simulate
from sim.scenario import parse_scenario
from sim.staffing import MIN_LATE, SERVICE_LEVEL, staffing_gaps

CENTRE = Path(__file__).resolve().parent.parent / "controller" / "sites" / "province-centre.toml"


def _run(**knobs: Any) -> RunResult:
    sites, table = load_document(CENTRE)
    scenario = parse_scenario({**table, **knobs}, "test", sites)
    return simulate(sites, scenario, RunOptions(policy="deadline", seed=3, record_estimates=False))


def test_gaps_are_spans_short_of_counters_within_opening_hours() -> None:
    run = _run(weekday=0)
    site = run.sites[0]
    gaps = staffing_gaps(run)
    assert gaps, "a Monday at the demo centre is short of counters somewhere"
    for gap in gaps:
        assert gap.needed > gap.serving and gap.late >= MIN_LATE and gap.late <= gap.transactions + 1e-9
        assert any(start * 60 <= gap.start_s < gap.end_s <= end * 60 for start, end in site.hours)
        assert gap.serving <= len(site.counters_for(gap.agency))
    assert [g.late for g in gaps] == sorted((g.late for g in gaps), reverse=True)
    # The fee line carries most of Monday's late transactions (docs/BENCHMARKS.md): it must show.
    assert "PHI" in {g.agency for g in gaps}
    spans: dict[str, list[tuple[float, float]]] = {}
    for gap in gaps:
        spans.setdefault(gap.agency, []).append((gap.start_s, gap.end_s))
    for agency, times in spans.items():  # spans of one agency never touch: touching ones are merged
        times.sort()
        assert all(end < start for (_s, end), (start, _e) in itertools.pairwise(times)), agency


def test_a_span_agrees_with_the_queue_model_it_names() -> None:
    run = _run(weekday=2, breaks_per_half_day=0)
    tally = run.tally
    site = run.sites[0]
    for gap in staffing_gaps(run):
        if gap.end_s - gap.start_s != 1800:
            continue
        half = int(gap.start_s // 1800)
        entries, service = tally.agency_bins[(0, 0, half, gap.agency)]
        open_s = sum(tally.counter_open_s.get((0, 0, half, c.id), 0.0) for c in site.counters_for(gap.agency))
        assert gap.transactions == entries and gap.serving == pytest.approx(open_s / 1800)
        assert gap.needed == counters_needed(entries, service / entries, 900.0, SERVICE_LEVEL)
        within = wait_within(open_s / 1800, entries / 1800, entries / service, 900.0)
        assert gap.late == pytest.approx(entries * (1 - within))
        break
    else:
        pytest.fail("no one-half-hour span to check")


def test_an_agency_whose_only_counter_is_closed_all_day_is_short_every_half_hour() -> None:
    run = _run(weekday=2, event=[{"kind": "counter_closed", "counters": [37], "from": "07:00", "to": "17:30"}])
    spans = [g for g in staffing_gaps(run) if g.agency == "CA"]
    assert spans and all(g.serving == 0 and g.late == pytest.approx(g.transactions) for g in spans)
    assert sum(g.transactions for g in spans) == pytest.approx(
        sum(e for (_s, _d, _h, a), (e, _svc) in run.tally.agency_bins.items() if a == "CA"), abs=2)


def test_the_report_lists_the_shortfalls(tmp_path: Path) -> None:
    run = _run(weekday=0)
    report = write_report(tmp_path, "monday", [run]).read_text(encoding="utf-8")
    assert "## Staffing: where the counters fall short" in report
    first = staffing_gaps(run)[0]
    assert f"| {first.site} | Mon | {first.agency} |" in report
