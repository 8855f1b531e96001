"""Reports: figures from a simulated day checked against answers computed here from the log."""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

import sim.runner
from controller.core.events import Event
from controller.core.floor import Floor
from controller.core.reports import build_report, percentile
from controller.core.site import Site
from controller.core.targets import TargetTally, transaction_tallies, visit_tally
from controller.sitefile import load_document
from sim.runner import RunOptions, simulate
from sim.scenario import parse_scenario
from tests.server import KIOSK, ServerProcess, login, serve_process

SITES = Path(__file__).resolve().parent.parent / "controller" / "sites"


class RecordingFloor(Floor):
    """A Floor that keeps every event it folds, as the server's log would."""

    log: ClassVar[list[dict[str, Any]]] = []

    def apply(self, events: Any) -> None:
        events = list(events)
        RecordingFloor.log.extend(e.to_dict() for e in events if isinstance(e, Event))
        super().apply(events)


def build_site() -> Site:
    return load_document(SITES / "commune-centre.toml")[0][0]


@pytest.fixture(scope="module")
def simulated_day() -> list[dict[str, Any]]:
    sites, table = load_document(SITES / "commune-centre.toml")
    scenario = parse_scenario({"seed": 3, "weekday": 0, **table}, "commune", sites)
    RecordingFloor.log = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sim.runner, "Floor", RecordingFloor)
        simulate(sites, scenario, RunOptions(policy="deadline", seed=3, days=1))
    return list(RecordingFloor.log)


def test_report_matches_the_log_of_a_simulated_day(simulated_day: list[dict[str, Any]]) -> None:
    log = simulated_day
    report = build_report("xa", ["d"], log).to_dict()
    # Independent answers, straight from the log.
    finished = [e for e in log if e["type"] == "ticket.finished"]
    assert finished, "the simulated day served nobody"
    last_call: dict[str, dict[str, Any]] = {}
    waits_by_agency: dict[str, list[float]] = {}
    for e in log:
        if e["type"] == "ticket.called":
            last_call[e["ticket"]] = e
        elif e["type"] == "ticket.finished":
            call = last_call[e["ticket"]]
            waits_by_agency.setdefault(call["agency"], []).append(call["waited_s"])
    all_waits = [w for ws in waits_by_agency.values() for w in ws]
    assert report["visits"] == sum(1 for e in log if e["type"] == "ticket.issued")
    assert report["abandoned"] == sum(1 for e in log if e["type"] == "ticket.abandoned")
    assert report["total"]["transactions"] == len(finished)
    assert report["total"]["wait_max_s"] == pytest.approx(max(all_waits), abs=0.1)
    # Within the target (controller/core/targets.py): each transaction at its last call, plus those never called
    # again after their wait passed the target, written out from the log.
    final_call: dict[str, float] = {}   # ticket -> wait of its current call
    within = missed = 0
    past_target: set[str] = set()
    for e in log:
        ticket = e.get("ticket")
        if e["type"] == "ticket.called":
            final_call[ticket] = e["waited_s"]
            past_target.discard(ticket)
        elif e["type"] in ("ticket.transferred", "ticket.no_show") and (
                e["type"] == "ticket.transferred" or e["requeued"]):
            if final_call.pop(ticket) > 900:
                past_target.add(ticket)
        elif e["type"] in ("ticket.finished", "ticket.no_show", "ticket.abandoned") and ticket in final_call:
            wait = final_call.pop(ticket)
            within, missed = within + (wait <= 900), missed + (wait > 900)
        elif e["type"] == "target.breached" and e["kind"] == "transaction" and ticket not in final_call:
            past_target.add(ticket)
    within += sum(1 for w in final_call.values() if w <= 900)
    missed += sum(1 for w in final_call.values() if w > 900) + len(past_target)
    assert missed > sum(1 for w in all_waits if w > 900), "the day should leave someone unserved past the target"
    assert report["total"]["within_transaction_target"] == pytest.approx(within / (within + missed), abs=1e-4)
    # The live floor, replayed to the end of the day, says the same (one definition, two folds).
    replayed = Floor(build_site(), "fifo")
    replayed.apply(Event.from_dict(e) for e in log)
    live = sum(transaction_tallies(replayed.state, log[-1]["at"]).values(), TargetTally())
    assert (live.within, live.missed) == (within, missed)
    visits = visit_tally(replayed.state, log[-1]["at"])
    assert report["visits_within_visit_target"] == pytest.approx(visits.within / visits.counted, abs=1e-4)
    for row in report["agencies"]:
        waits = waits_by_agency.get(row["key"], [])
        assert row["transactions"] == len(waits)
        if waits:
            assert row["wait_p50_s"] == pytest.approx(sorted(waits)[(len(waits) + 1) // 2 - 1], abs=0.1)
    breaches = [e for e in log if e["type"] == "target.breached"]
    assert sum(c["count"] for c in report["breaches_by_cause"]) == len(breaches)
    counters = {str(e["counter"]) for e in finished}
    assert {row["key"] for row in report["counters"]} >= counters


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.5) is None
    assert percentile([5.0, 1.0, 3.0, 2.0], 0.5) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.9) == 5.0
    assert percentile([7.0], 0.99) == 7.0
    assert statistics.median([1.0, 2.0, 3.0]) == percentile([1.0, 2.0, 3.0], 0.5)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with serve_process(SITES / "commune-centre.toml", tmp_path_factory.mktemp("reports")) as proc:
        yield proc


@pytest.mark.integration
def test_report_endpoints(server: ServerProcess) -> None:
    staff = login(server.url, "quay1", "1234")
    manager = login(server.url, "quanly", "demo")
    with httpx.Client(base_url=server.url, timeout=10) as c:
        c.post("/api/v1/sites/xa/counters/1/open", headers=staff)
        for _ in range(3):
            issued = c.post("/api/v1/sites/xa/tickets", headers=KIOSK, json={"procedure": "ht-khai-tu"})
            assert issued.status_code == 201
        for score in (4, 3, 1):
            c.post("/api/v1/sites/xa/counters/1/call-next", headers=staff)
            c.post("/api/v1/sites/xa/counters/1/start", headers=staff)
            c.post("/api/v1/sites/xa/counters/1/finish", headers=staff, json={"outcome": "done"})
            rated = c.post("/api/v1/sites/xa/ratings", headers=KIOSK, json={"counter": 1, "score": score})
            assert rated.status_code == 201
        body = c.get("/api/v1/sites/xa/reports", headers=manager).json()
        assert body["visits"] == 3 and body["total"]["transactions"] >= 3
        # 4 and 3 are the top two levels of the default 4-level scale: 2 of 3 ratings.
        assert body["total"]["satisfaction"] == pytest.approx(2 / 3, abs=1e-4)
        assert body["satisfaction_meets_target"] is False
        quay1 = next(r for r in body["staff"] if r["key"] == "quay1")
        assert quay1["ratings"] == 3 and quay1["agency"] == "HT"
        data = c.get("/api/v1/sites/xa/reports?format=csv", headers=manager).content
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
        assert any(r["Nhóm / Level"] == "Lĩnh vực" and r["Mã / Code"] == "HT" for r in rows)
        page = c.get("/api/v1/sites/xa/reports?format=html", headers=manager)
        assert page.status_code == 200 and "Báo cáo chất lượng phục vụ" in page.text and "<svg" in page.text
        assert c.get("/api/v1/sites/xa/reports", headers=staff).status_code == 403
        bad = c.get("/api/v1/sites/xa/reports?from=2026-13-01", headers=manager)
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_date"
        backwards = c.get("/api/v1/sites/xa/reports?from=2026-02-02&to=2026-02-01", headers=manager)
        assert backwards.status_code == 422
        empty = c.get("/api/v1/sites/xa/reports?from=2020-01-01&to=2020-01-02", headers=manager).json()
        assert empty["visits"] == 0 and empty["total"]["transactions"] == 0


@pytest.mark.integration
def test_forecast_without_history_says_so_and_counts_bookings(server: ServerProcess) -> None:
    manager = login(server.url, "quanly", "demo")
    with httpx.Client(base_url=server.url, timeout=10) as c:
        c.post("/api/v1/sites/xa/tickets", headers=KIOSK, json={"procedure": "ht-khai-sinh"})
        day = c.get("/api/v1/sites/xa/appointments/days").json()["days"][-1]
        booked = c.post("/api/v1/sites/xa/appointments", json={"procedure": "ht-khai-tu", "date": day, "time": "08:00"})
        assert booked.status_code == 201
        body = c.get("/api/v1/sites/xa/forecast", headers=manager).json()
        assert "seasonal mean" in body["method"] and len(body["days"]) == 7
        # today is not history yet: nothing to forecast from, and the answer says so (it said 0 arrivals and
        # 0 counters needed everywhere, as if nobody would come)
        assert body["history_days"] == 0 and body["history"] is None
        assert body["message"].startswith("Chưa có ngày nào trọn vẹn có người đến")
        assert body["error"] is None and "Cần hơn 5 ngày" in body["error_reason"]
        for ahead in body["days"]:
            for agency in ahead["agencies"]:
                assert all(s["arrivals"] is None and s["counters_needed"] is None for s in agency["slots"]
                           if ahead["open"])
        slots = body["days"][0]["agencies"][0]["slots"]
        assert len(slots) == 15 and slots[0]["start"] == "07:30"
        assert [s["start"] for s in slots[7:9]] == ["11:00", "13:30"] and slots[-1]["start"] == "16:30"
        # the booking already made is there, at its slot (it was ignored)
        ahead = [d for d in body["days"] if d["date"] == day]
        if ahead:  # the booking horizon may reach past the seven days forecast
            ht = next(a for a in ahead[0]["agencies"] if a["agency"] == "HT")
            assert next(s for s in ht["slots"] if s["start"] == "08:00")["booked"] == 1 and ahead[0]["booked"] == 1
        first = body["days"][0]["date"] if body["days"][0]["open"] else body["days"][1]["date"]
        again = c.post("/api/v1/sites/xa/appointments", json={"procedure": "ht-khai-tu", "date": first,
                                                            "time": "09:00"})
        assert again.status_code == 201, again.text
        body = c.get("/api/v1/sites/xa/forecast", headers=manager).json()
        soon = next(d for d in body["days"] if d["date"] == first)
        ht = next(a for a in soon["agencies"] if a["agency"] == "HT")
        assert [s["booked"] for s in ht["slots"] if s["start"] == "09:00"] == [1]
        assert soon["basis"] == {"kind": "none", "days": []} and soon["arrivals"] is None
        assert c.get("/api/v1/sites/xa/forecast?weeks=0", headers=manager).status_code == 422
        assert c.get("/api/v1/sites/xa/forecast", headers=KIOSK).status_code == 403
