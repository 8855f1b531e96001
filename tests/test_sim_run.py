"""Simulator runs: determinism, conservation, routing rules, incidents, multi-site, CLI and report."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from controller.core.commands import CallNext
from controller.core.site import Site
from controller.core.tickets import TicketState
from controller.sitefile import load_document
from sim.runner import RunOptions, calendar, simulate
from sim.scenario import Scenario, parse_scenario
from sim.staff import SiteDay
from tests.sim_support import CheckingFloor, locations_are_consistent, run_day

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "controller" / "sites"
CENTRE = SITES / "province-centre.toml"
COMMUNE = SITES / "commune-centre.toml"


def _load(path: Path, **knobs: Any) -> tuple[list[Site], Scenario]:
    sites, table = load_document(path)
    return sites, parse_scenario({**table, **knobs}, str(path), sites)


@pytest.mark.parametrize("policy", ["deadline", "fifo"])
def test_a_day_keeps_the_routing_rules_and_conserves_citizens(policy: str) -> None:
    sites, scenario = _load(CENTRE, weekday=0)
    floor, tally = run_day(sites[0], scenario, policy)
    assert floor.calls > 1500
    assert floor.violations == []
    locations_are_consistent(floor.events)
    assert tally.visits > 1000
    assert tally.visits == tally.served + tally.abandoned + tally.still_waiting_at_close + tally.no_shows
    assert tally.standby_opened > 0  # Monday needs standby counters


class _CallsForNobody(SiteDay):
    """Staff who press call-next at every free counter, even when nobody they could be given waits."""

    empty_calls = 0

    def _call_next(self, counter: int) -> None:
        if not self._run(CallNext(counter)):
            _CallsForNobody.empty_calls += 1


@pytest.mark.parametrize("policy", ["deadline", "fifo"])
def test_calls_the_simulator_skips_would_have_changed_nothing(policy: str) -> None:
    # The staff model skips a call when the floor has nobody the counter could be given (about a third
    # of all calls); making every one of them must give the very same day, event for event.
    sites, scenario = _load(CENTRE, weekday=0)
    skipping, _ = run_day(sites[0], scenario, policy)
    _CallsForNobody.empty_calls = 0
    calling, _ = run_day(sites[0], scenario, policy, day=_CallsForNobody)
    assert _CallsForNobody.empty_calls > 500
    assert calling.events == skipping.events


def test_no_shows_and_incomplete_dossiers_are_conserved_too() -> None:
    sites, scenario = _load(COMMUNE, no_show_share=0.1, incomplete_share=0.1, weekday=0)
    floor, tally = run_day(sites[0], scenario, "deadline", seed=4)
    locations_are_consistent(floor.events)
    assert floor.violations == []
    finished = [e for e in floor.events if e.type == "ticket.finished"]
    assert any(e.data["outcome"] == "incomplete" for e in finished)
    assert any(e.type == "ticket.no_show" for e in floor.events)
    assert tally.visits == tally.served + tally.abandoned + tally.still_waiting_at_close + tally.no_shows


def test_staff_take_staggered_breaks_and_close_at_lunch() -> None:
    sites, scenario = _load(CENTRE)
    floor, _ = run_day(sites[0], scenario, "deadline")
    pauses = [e for e in floor.events if e.type == "counter.changed" and e.data["status"] == "paused"]
    regular = [c for c in sites[0].counters.values() if not c.standby]
    assert len(pauses) >= len(regular)  # one break per counter per half-day, when it fits
    at_fee = sorted(e.at for e in pauses if e.data["counter"] in (38, 39, 40))
    assert len(set(at_fee)) == len(at_fee)  # not the whole fee line at once
    noon = 1736096400.0 + 11.5 * 3600
    served_after_noon = [e for e in floor.events if e.type == "ticket.called" and noon < e.at < noon + 7200]
    assert all(e.at < noon + 3600 for e in served_after_noon)  # serve-out, then lunch


def test_same_seed_same_json_in_two_processes() -> None:
    command = [sys.executable, "-m", "controller.cli", "sim", "--scenario", str(COMMUNE), "--seed", "5", "--json"]
    outputs = []
    for hash_seed in ("1", "2"):  # different string hashing must not change anything
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120,
                              env={"PYTHONHASHSEED": hash_seed, "PATH": "/usr/bin:/bin"})
        assert done.returncode == 0, done.stderr
        body = json.loads(done.stdout)
        assert body.pop("wall_s") >= 0
        outputs.append(json.dumps(body, sort_keys=True))
    assert outputs[0] == outputs[1]
    other = subprocess.run([*command[:-2], "6", "--json"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert json.loads(other.stdout)["visits"] != json.loads(outputs[0])["visits"] or other.stdout != outputs[0]


def test_contract_keys_and_types() -> None:
    sites, scenario = _load(COMMUNE)
    body = simulate(sites, scenario, RunOptions(policy="fifo", seed=2)).to_json()
    contract = ["policy", "seed", "sites", "visits", "transactions", "served", "abandoned", "wait_s",
                "within_transaction_target", "visits_over_visit_target", "utilisation", "wall_s", "simulated_s"]
    assert list(body)[: len(contract)] == contract
    assert body["policy"] == "fifo" and body["seed"] == 2 and body["sites"] == 1
    assert set(body["wait_s"]) == {"p50", "p90", "p99", "max"}
    assert body["wait_s"]["p50"] <= body["wait_s"]["p90"] <= body["wait_s"]["p99"] <= body["wait_s"]["max"]
    assert 0 <= body["within_transaction_target"] <= 1 and 0 < body["utilisation"] < 1
    assert body["transactions"] > body["visits"] > 50
    assert 8 * 3600 < body["simulated_s"] < 11 * 3600
    json.dumps(body)


def test_same_citizens_for_both_policies() -> None:
    sites, scenario = _load(COMMUNE)
    runs = [simulate(sites, scenario, RunOptions(policy=p, seed=3)) for p in ("fifo", "deadline")]
    assert runs[0].tally.visits == runs[1].tally.visits
    assert sorted(runs[0].tally.service_s) == pytest.approx(sorted(runs[1].tally.service_s))


def test_estimates_at_issue_are_honest_on_the_demo_centre() -> None:
    sites, scenario = _load(CENTRE)
    result = simulate(sites, scenario, RunOptions(policy="deadline", seed=1))
    honesty = result.tally.estimate_honesty()
    assert honesty is not None and honesty >= 0.5
    assert len(result.tally.estimate_errors) > 900


def test_no_standby_never_opens_standby_counters() -> None:
    sites, scenario = _load(CENTRE, weekday=0)
    result = simulate(sites, scenario, RunOptions(policy="deadline", seed=1, auto_standby=False))
    assert result.tally.standby_opened == 0 and result.tally.standby_shifts == []
    assert result.tally.standby_alerts > 0  # enforcement recommends them to the manager instead
    standby = {c.id for c in sites[0].counters.values() if c.standby}
    assert not any(counter in standby for (_site, counter) in result.tally.available_s)


def test_replayed_standby_openings_staff_the_same_counters() -> None:
    sites, scenario = _load(CENTRE, weekday=0)
    deadline = simulate(sites, scenario, RunOptions(policy="deadline", seed=2))
    shifts = tuple(deadline.tally.standby_shifts)
    assert shifts
    fifo = simulate(sites, scenario, RunOptions(policy="fifo", seed=2, auto_standby=False, replay=shifts))
    assert fifo.tally.standby_opened == 0
    opened = {(s, c) for (s, _d, c, _on, _off) in shifts}
    assert opened <= {k for k, v in fifo.tally.available_s.items() if v > 0}


def test_incidents_change_the_day() -> None:
    sites = load_document(CENTRE)[0]
    events = [
        {"kind": "counter_closed", "counters": [1, 2, 3], "from": "08:00", "to": "10:00"},
        {"kind": "staff_late", "counters": [7], "minutes": 40},
        {"kind": "surge", "agency": "LDTBXH", "factor": 3.0, "from": "09:00", "to": "10:30"},
        {"kind": "device_down", "device": "printer", "from": "09:30", "to": "10:00"},
        {"kind": "device_down", "device": "display:20", "from": "08:00", "to": "12:00"},
    ]
    scenario = parse_scenario({"event": events}, "x.toml", sites)
    floor, tally = run_day(sites[0], scenario, "deadline")
    midnight = 1736096400.0
    calls = [e for e in floor.events if e.type == "ticket.called"]
    assert not [e for e in calls if e.data["counter"] in (1, 2, 3) and midnight + 8 * 3600 + 1 < e.at
                < midnight + 10 * 3600]
    assert min(e.at for e in calls if e.data["counter"] == 7) >= midnight + 8 * 3600 + 10 * 60
    assert tally.devices["tickets_without_printout"] > 0
    assert tally.devices["calls_without_counter_display"] > 0
    assert any(e.type == "device.changed" for e in floor.events)
    calm, _ = run_day(sites[0], parse_scenario({}, "x.toml", sites), "deadline")
    def ldtbxh(f: CheckingFloor) -> int:
        return sum(1 for e in f.events if e.type == "ticket.issued" and e.data["agency"] == "LDTBXH")
    assert ldtbxh(floor) > ldtbxh(calm) + 20


def test_calendar_skips_days_no_site_opens() -> None:
    centre = load_document(CENTRE)[0]
    commune = load_document(COMMUNE)[0]
    assert [w for w, _ in calendar(centre, 4, 3)] == [4, 0, 1]
    assert [w for w, _ in calendar(commune, 4, 3)] == [4, 5, 0]  # communes open on Saturday
    assert [d.weekday() for w, d in calendar(centre, 0, 5)] == [0, 1, 2, 3, 4]


def test_two_days_start_a_new_floor_day() -> None:
    sites, scenario = _load(COMMUNE, weekday=4)
    result = simulate(sites, scenario, RunOptions(policy="deadline", seed=1, days=2))
    one = simulate(sites, scenario, RunOptions(policy="deadline", seed=1, days=1))
    assert result.weekdays == [4, 5]
    assert result.tally.visits > one.tally.visits
    assert result.tally.visits == (result.tally.served + result.tally.abandoned
                                   + result.tally.still_waiting_at_close + result.tally.no_shows)


def test_a_province_runs_every_site_and_aggregates(tmp_path: Path) -> None:
    province = tmp_path / "province.toml"
    province.write_text(
        f'[province]\nid = "p"\nname = "P"\ncentre = "{CENTRE}"\ncommune_template = "{COMMUNE}"\n'
        "communes = 3\ncommune_scale = [1.0, 0.5]\n[scenario]\nseed = 3\n",
        encoding="utf-8",
    )
    sites, scenario = _load(province)
    whole = simulate(sites, scenario, RunOptions(seed=3))
    assert whole.tally.sites == 4
    parts = [simulate([s], scenario, RunOptions(seed=3)).tally for s in sites]
    assert whole.tally.visits == sum(p.visits for p in parts)
    assert len(whole.tally.waits) == sum(len(p.waits) for p in parts)


def test_worker_processes_give_the_same_run_as_one_process(tmp_path: Path) -> None:
    province = tmp_path / "province.toml"
    province.write_text(
        f'[province]\nid = "p"\nname = "P"\ncentre = "{CENTRE}"\ncommune_template = "{COMMUNE}"\n'
        "communes = 5\ncommune_scale = [1.0, 0.5, 2.0]\n[scenario]\nseed = 4\n",
        encoding="utf-8",
    )
    sites, scenario = _load(province)
    alone = simulate(sites, scenario, RunOptions(seed=4, days=2))
    seen: list[int] = []
    shared = simulate(sites, scenario, RunOptions(seed=4, days=2, jobs=2), progress=lambda done, _n: seen.append(done))
    assert seen[-1] == len(sites) and seen == sorted(seen)
    one, two = alone.to_json(), shared.to_json()
    assert one.pop("wall_s") >= 0 and two.pop("wall_s") >= 0
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)
    assert alone.tally.waits == shared.tally.waits  # the same transactions, in the same (site) order
    assert dict(alone.tally.queue_samples) == dict(shared.tally.queue_samples)
    assert alone.tally.bins == shared.tally.bins and alone.tally.standby_shifts == shared.tally.standby_shifts
    with pytest.raises(ValueError, match="jobs"):
        simulate(sites, scenario, RunOptions(jobs=0))


@pytest.mark.slow
def test_out_writes_a_report_with_plots(tmp_path: Path) -> None:
    out = tmp_path / "report"
    done = subprocess.run(
        [sys.executable, "-m", "controller.cli", "sim", "--scenario", str(CENTRE), "--seed", "2", "--json",
         "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["policy"] == "deadline"
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "fifo" in report and "deadline" in report and "Erlang C" in report
    for name in ("waits", "agencies", "queue", "targets", "utilisation", "erlang"):
        png = out / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"({name}.png)" in report


def test_every_arrival_is_accounted_for_under_the_still_waiting_rule() -> None:
    sites, scenario = _load(CENTRE, weekday=0)
    floor, tally = run_day(sites[0], scenario, "fifo")
    states = Counter(t.state for t in floor.state.tickets.values())
    assert set(states) <= {TicketState.DONE, TicketState.ABANDONED, TicketState.NO_SHOW}
    assert states[TicketState.ABANDONED] == tally.abandoned + tally.still_waiting_at_close
