"""What the monitor says, from the pure core: the honest share within target, "at risk" as a current judgement,
one alert per thing to do. Driven through Floor with a controlled clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from controller.core.commands import CallNext, Finish, IssueTicket, NoShow, OpenCounter, Transfer
from controller.core.floor import Floor
from controller.core.reports import build_report
from controller.core.series import day_series
from controller.core.site import Site, parse_site
from controller.core.views import monitor_snapshot
from controller.sitefile import load_sites

SITES = Path(__file__).resolve().parent.parent / "controller" / "sites"
T0 = 1_795_300_000.0
MIN = 60.0


def small_site(standby_serves: list[str] | None = None, agencies: tuple[str, ...] = ("A",)) -> Site:
    """Agencies of ten-minute procedures, two regular counters each, and optionally one standby counter."""
    counters: list[dict[str, Any]] = [
        {"ids": [10 * i + 1, 10 * i + 2], "serves": [a]} for i, a in enumerate(agencies, start=1)
    ]
    if standby_serves:
        counters.append({"ids": [50], "serves": standby_serves, "standby": True})
    return parse_site({
        "site": {"id": "x", "name": "X", "hours": [["00:00", "23:59"]]},
        "agency": [{"id": a, "name": f"Lĩnh vực {a}", "name_en": f"Agency {a}", "number_block": 1000 * (i + 1)}
                   for i, a in enumerate(agencies)],
        "procedure": [{"id": a.lower(), "agency": a, "name": a, "share": 1, "service": 10} for a in agencies],
        "counter": counters,
    }, "x.toml")


def issue(floor: Floor, procedure: str, now: float) -> str:
    events = floor.execute(IssueTicket(procedure=procedure, check_hours=False), now)
    return str(events[-1].data["ticket"])


def tick(floor: Floor, now: float) -> list[Any]:
    events = floor.tick(now)
    floor.apply(events)
    return events


def agency_row(snapshot: dict[str, Any], agency: str) -> dict[str, Any]:
    return next(a for a in snapshot["agencies"] if a["id"] == agency)


def test_tickets_waiting_past_the_target_count_against_it_the_moment_they_pass_it() -> None:
    # Input: the issue's floor. One counter, one ticket called in time, six more left waiting past 15 minutes.
    # "Đạt 15 phút" read 100.0 % because only transactions called (and finished) counted.
    floor, _ = one_counter_floor(7)
    floor.execute(Finish(counter=34), T0 + 60)
    just_before = monitor_snapshot(floor, T0 + 15 * MIN)
    thue = agency_row(just_before, "THUE")
    assert (thue["within_target_share"], thue["waiting_over_target"]) == (1.0, 0)
    after = monitor_snapshot(floor, T0 + 16 * MIN)  # no tick yet: the figure does not wait for the breach event
    thue = agency_row(after, "THUE")
    assert thue["waiting_over_target"] == 6
    assert thue["within_target_share"] == round(1 / 7, 3)
    assert thue["transaction_target"] == {"target_s": 900.0, "share": round(1 / 7, 4), "within": 1, "missed": 6,
                                          "waiting_over": 6}
    assert after["performance"]["transaction"]["share"] == round(1 / 7, 4)
    assert [t["over_s"] for t in after["overdue_tickets"]] == [60 - i for i in range(1, 7)]
    # Called at last, late: they stay missed, now as calls (each transaction counts once).
    floor.execute(CallNext(counter=34), T0 + 17 * MIN)
    later = agency_row(monitor_snapshot(floor, T0 + 17 * MIN), "THUE")
    assert (later["transaction_target"]["missed"], later["waiting_over_target"]) == (6, 5)


def test_a_missed_call_put_back_in_line_or_a_transfer_is_not_the_transactions_last_call() -> None:
    site = small_site(agencies=("A", "B"))
    floor = Floor(site, "fifo")
    floor.execute(OpenCounter(counter=11, staff="s"), T0)
    first = issue(floor, "a", T0)
    second = issue(floor, "a", T0 + 1)
    floor.execute(CallNext(counter=11), T0 + 60)
    floor.execute(NoShow(counter=11), T0 + 120)  # held, back in line: its wait clock keeps running
    floor.execute(CallNext(counter=11), T0 + 130)
    floor.execute(Transfer(counter=11, procedure="b"), T0 + 140)
    snapshot = monitor_snapshot(floor, T0 + 20 * MIN)
    a, b = agency_row(snapshot, "A"), agency_row(snapshot, "B")
    # Nothing was called for good: both tickets wait, past 15 minutes, in A (first, held) and B (second).
    assert {floor.ticket(first).agency, floor.ticket(second).agency} == {"A", "B"}
    assert (a["transaction_target"]["within"], a["transaction_target"]["missed"]) == (0, 1)
    assert (b["transaction_target"]["within"], b["transaction_target"]["missed"]) == (0, 1)


def test_at_risk_clears_when_the_forecast_no_longer_predicts_a_breach() -> None:
    # Input: one counter for four ten-minute tickets: the last two are predicted past 15 minutes. A second
    # counter opens and the prediction is well inside the target, but "at risk" stayed raised all day.
    floor = Floor(small_site(), "fifo")
    floor.execute(OpenCounter(counter=11, staff="s"), T0)
    tickets = [issue(floor, "a", T0 + i) for i in range(4)]
    raised = [e for e in tick(floor, T0 + 10) if e.type == "target.at_risk"]
    assert {e.data["ticket"] for e in raised} == set(tickets[2:])
    assert agency_row(monitor_snapshot(floor, T0 + 10), "A")["at_risk"] == 2
    assert tick(floor, T0 + 20) == []  # said once, not again
    floor.execute(OpenCounter(counter=12, staff="t"), T0 + 30)
    cleared = [e for e in tick(floor, T0 + 90) if e.type == "target.at_risk_cleared"]
    assert {e.data["ticket"] for e in cleared} == set(tickets[2:])
    assert all(e.data["predicted_call_at"] <= e.data["deadline"] for e in cleared)
    snapshot = monitor_snapshot(floor, T0 + 90)
    assert agency_row(snapshot, "A")["at_risk"] == 0 and snapshot["at_risk_tickets"] == []
    assert not floor.ticket(tickets[3]).at_risk and floor.state.risk_since == {}


def test_a_ticket_past_its_deadline_is_a_breach_not_a_risk() -> None:
    floor = Floor(small_site(), "fifo")
    floor.execute(OpenCounter(counter=11, staff="s"), T0)
    tickets = [issue(floor, "a", T0 + i) for i in range(4)]
    tick(floor, T0 + 10)
    # Between the deadline and the tick that records the breach, the ticket is already overdue, not at risk
    # ("Còn đến hạn 1 phút" showed for a ticket 13 s overdue).
    deadline = floor.state.deadline_of(floor.ticket(tickets[2]))
    snapshot = monitor_snapshot(floor, deadline + 13)
    assert [t["ticket"] for t in snapshot["at_risk_tickets"]] == []
    # (nobody was called: the first two are overdue too, longest first)
    assert [(t["ticket"], t["over_s"]) for t in snapshot["overdue_tickets"]] == [
        (tickets[0], 15), (tickets[1], 14), (tickets[2], 13), (tickets[3], 12)]
    breached = [e for e in tick(floor, deadline + 13) if e.type == "target.breached"]
    assert {e.data["ticket"] for e in breached} == set(tickets)
    assert not floor.ticket(tickets[2]).at_risk


def test_one_alert_per_standby_counter_whatever_agencies_need_it() -> None:
    # Input: three agencies at risk, one closed standby counter serving all three: three alerts said
    # "open counter 50". Now one alert says it, naming the three agencies; opening the counter answers it.
    site = small_site(["A", "B", "C"], agencies=("A", "B", "C"))
    floor = Floor(site, "fifo")
    for counter, procedure in ((11, "a"), (21, "b"), (31, "c")):
        floor.execute(OpenCounter(counter=counter, staff=f"s{counter}"), T0)
        for i in range(4):
            issue(floor, procedure, T0 + i)
    raised = []
    now = T0 + 10
    while now < T0 + 10 * MIN:
        raised += [e for e in tick(floor, now) if e.type == "alert.raised"]
        now += 5
    assert [(e.data["alert"], e.data["counter"], e.data["agencies"]) for e in raised] == [
        ("standby-50", 50, ["A", "B", "C"])]
    assert "quầy dự phòng 50" in raised[0].data["message"] and "Agency B" in raised[0].data["message"]
    assert [a["alert"] for a in monitor_snapshot(floor, now)["alerts"]] == ["standby-50"]
    floor.execute(OpenCounter(counter=50, staff="m"), now)
    assert monitor_snapshot(floor, now)["alerts"] == []


def one_counter_floor(tickets: int) -> tuple[Floor, list[Any]]:
    """The province centre's one tax counter, `tickets` tickets issued and the first called; and its log."""
    floor = Floor(load_sites(SITES / "province-centre.toml")[0], "fifo")
    log = floor.execute(OpenCounter(counter=34, staff="s34"), T0)
    for i in range(tickets):
        log += floor.execute(IssueTicket(procedure="thue-dang-ky", check_hours=False), T0 + i)
    log += floor.execute(CallNext(counter=34), T0 + 10)
    return floor, log


def test_reports_count_within_target_as_the_live_floor_does() -> None:
    floor, log = one_counter_floor(5)
    log += floor.execute(Finish(counter=34), T0 + 60)
    now = T0 + 16 * MIN
    log += tick(floor, now)
    live = monitor_snapshot(floor, now)["performance"]["transaction"]
    report = build_report("tinh", ["d"], [e.to_dict() for e in log]).to_dict()
    assert report["total"]["within_transaction_target"] == live["share"] == 0.2


def test_the_day_series_shows_who_waits_past_the_target_and_the_honest_last_hour() -> None:
    floor, log = one_counter_floor(4)
    now = T0 + 20 * MIN
    series = day_series(floor.site, [e.to_dict() for e in log], now, 300.0)
    thue = series["agencies"]["THUE"]
    edges = [round(t - T0) for t in series["t"]]
    assert len(edges) == len(thue["waiting"]) == len(thue["waiting_over"]) == len(series["total"]["waiting"])
    # three left in line from the first call on; past 15 minutes from the edge after T0 + 15 min
    assert [(w, o) for e, w, o in zip(edges, thue["waiting"], thue["waiting_over"], strict=True) if e > 60] == [
        (3, 0 if e <= 15 * MIN + 3 else 3) for e in edges if e > 60]
    assert thue["waiting_over"][-1] == 3 == series["total"]["waiting_over"][-1]
    # one called in time, three in line past the target: one in four, as the snapshot says
    assert thue["within_target_last_hour"] == 0.25 == agency_row(monitor_snapshot(floor, now), "THUE")[
        "within_target_share"]
    assert series["target_s"] == 900.0
