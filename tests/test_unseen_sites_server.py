"""The real server on generated sites (tests/site_strategies.py), and refusing bad site files at start-up.

For a few random valid sites: every agency's visit goes issue -> call-next ->
start -> finish through its journey steps at counters that serve them, a
transfer moves a ticket to another procedure, the monitor snapshot lists every
agency and counter, and the pages answer 200. Bad files stop `motcua serve`
before it listens, exit 2, and name the file, the field and the reason.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from controller.core.errors import SiteError
from controller.sitefile import site_from_dict
from tests.server import KIOSK, login, serve_process
from tests.site_strategies import site_dicts, to_toml

API = "/api/v1/sites"


def _counter_numbers(site: dict[str, Any]) -> dict[str, list[int]]:
    """Agency -> the counters that serve it, in number order."""
    serving: dict[str, list[int]] = {}
    for group in site["counter"]:
        for n in group["ids"] if "ids" in group else [group["id"]]:
            for agency in group["serves"]:
                serving.setdefault(agency, []).append(n)
    return {agency: sorted(numbers) for agency, numbers in serving.items()}


class Floor:
    """A client of one running server: logs each counter's staff in once."""

    def __init__(self, client: httpx.Client, site_id: str) -> None:
        self.client = client
        self.site = site_id
        self.auth: dict[int, dict[str, str]] = {}

    def staff(self, counter: int) -> dict[str, str]:
        if counter not in self.auth:
            self.auth[counter] = login(str(self.client.base_url), f"quay{counter}", "1234")
            opened = self.client.post(f"{API}/{self.site}/counters/{counter}/open", headers=self.auth[counter])
            assert opened.status_code == 200, opened.text
        return self.auth[counter]

    def act(self, counter: int, action: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.client.post(f"{API}/{self.site}/counters/{counter}/{action}", headers=self.staff(counter),
                                json=body)

    def serve(self, counter: int, ticket_id: str) -> dict[str, Any]:
        """Call `ticket_id` at `counter`, start and finish it (serving first whoever is ahead: a journey
        step of an earlier visit that came back from the back office)."""
        for _ in range(20):
            called = self.act(counter, "call-next")
            assert called.status_code == 200, (counter, called.status_code, called.text)
            assert self.act(counter, "start").status_code == 200
            finished = self.act(counter, "finish", {"outcome": "done"})
            assert finished.status_code == 200, finished.text
            if called.json()["id"] == ticket_id:
                return dict(finished.json())
        raise AssertionError(f"ticket {ticket_id} never called at counter {counter}")


def _issue(floor: Floor, procedure: str) -> dict[str, Any] | None:
    """A kiosk ticket; None when the agency's small daily cap is reached (a refusal the format allows)."""
    issued = floor.client.post(f"{API}/{floor.site}/tickets", headers=KIOSK, json={"procedure": procedure})
    if issued.status_code == 429 and issued.json()["error"]["code"] == "daily_cap_reached":
        return None
    assert issued.status_code == 201, issued.text
    return dict(issued.json())


def _visit(floor: Floor, site: dict[str, Any], procedure: str) -> None:
    """One citizen's visit for `procedure`: each journey step at a counter that serves it, up to the
    back office of an on-the-spot result (its minutes are not waited out here)."""
    serving = _counter_numbers(site)
    parsed = site_from_dict(site, "gen.toml")
    ticket = _issue(floor, procedure)
    if ticket is None:
        return
    for step in parsed.journey(procedure):
        state = floor.client.get(f"{API}/{floor.site}/tickets/{ticket['id']}").json()
        short = (parsed.procedures[procedure].on_the_spot_s or 0) <= 5
        for _ in range(30 if short else 0):  # a result of a few seconds' back office is waited for
            if state["state"] != "back_office":
                break
            time.sleep(0.2)
            state = floor.client.get(f"{API}/{floor.site}/tickets/{ticket['id']}").json()
        if state["state"] == "back_office":
            return
        assert state["state"] == "waiting", state
        ticket = floor.serve(serving[parsed.procedures[step].agency][0], ticket["id"])
    assert floor.client.get(f"{API}/{floor.site}/tickets/{ticket['id']}").json()["state"] == "done"


def _transfer(floor: Floor, site: dict[str, Any], source: str, target: str) -> None:
    """A ticket called for `source` is transferred to `target` (or, when that is the same procedure, to
    another open counter) and served there."""
    serving = _counter_numbers(site)
    parsed = site_from_dict(site, "gen.toml")
    ticket = _issue(floor, source)
    if ticket is None:
        return
    counter, *others = serving[parsed.procedures[source].agency]
    for _ in range(20):  # whoever is ahead (a result step back from the back office) is served first
        called = floor.act(counter, "call-next")
        assert called.status_code == 200, called.text
        if called.json()["id"] == ticket["id"]:
            break
        assert floor.act(counter, "start").status_code == 200
        assert floor.act(counter, "finish", {"outcome": "done"}).status_code == 200
    if target != source:
        moved = floor.act(counter, "transfer", {"procedure": target})
        assert moved.status_code == 200, moved.text
        assert moved.json()["procedure"] == target
        floor.serve(serving[parsed.procedures[target].agency][0], ticket["id"])
        return
    if not others:
        assert floor.act(counter, "transfer", {"procedure": target}).json()["error"]["code"] == "same_procedure"
        return
    floor.staff(others[0])  # opens it
    moved = floor.act(counter, "transfer", {"counter": others[0]})
    assert moved.status_code == 200, moved.text
    floor.serve(others[0], ticket["id"])


# A whole journey: intake, fee, a result after a second of back office; Bangkok; one long period.
GOOD: dict[str, Any] = {
    "site": {"id": "trung-tam", "name": "Trung tâm", "timezone": "Asia/Bangkok", "hours": [["00:00", "23:59"]]},
    "agency": [{"id": "A", "name": "Cơ quan", "number_block": 5000},
               {"id": "PHI", "name": "Thu phí", "number_block": 1000, "role": "fee"},
               {"id": "TKQ", "name": "Trả kết quả", "number_block": 9000, "role": "result"}],
    "procedure": [{"id": "a", "agency": "A", "name": "Thủ tục", "share": 1, "service": 5, "fee": True,
                   "on_the_spot_min": 0.02, "papers": ["Tờ khai"]},
                  {"id": "b", "agency": "A", "name": "Thủ tục khác", "share": 1, "service": 5},
                  {"id": "phi", "agency": "PHI", "name": "Nộp phí", "service": 1, "step_only": True},
                  {"id": "tra", "agency": "TKQ", "name": "Nhận kết quả", "service": 1, "step_only": True}],
    "counter": [{"ids": [3], "serves": ["A", "TKQ"], "priority": True}, {"ids": [700], "serves": ["PHI"]},
                {"ids": [12], "serves": ["TKQ"], "standby": True}],
}


# A server per example: few examples, and no shrinking (each shrink step would start a server).
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
          phases=[Phase.explicit, Phase.generate])
@given(site_dicts())
@example(GOOD)
def test_generated_sites_serve_every_agency(tmp_path_factory: Any, site: dict[str, Any]) -> None:
    tmp = tmp_path_factory.mktemp("site")
    path = tmp / "site.toml"
    path.write_text(to_toml(site), encoding="utf-8")
    site_id = site["site"]["id"]
    with serve_process(path, tmp / "data") as server, httpx.Client(base_url=server.url, timeout=10) as client:
        floor = Floor(client, site_id)
        kiosk = [p["id"] for p in site["procedure"] if not p.get("step_only")]
        for procedure in kiosk:
            _visit(floor, site, procedure)
        _transfer(floor, site, kiosk[0], kiosk[-1])
        manager = login(server.url, "quanly", "demo")
        monitor = floor.client.get(f"{API}/{site_id}/monitor", headers=manager)
        assert monitor.status_code == 200, monitor.text
        snapshot = monitor.json()
        assert [a["id"] for a in snapshot["agencies"]] == [a["id"] for a in site["agency"]]
        assert sorted(c["id"] for c in snapshot["counters"]) == sorted(
            {n for numbers in _counter_numbers(site).values() for n in numbers})
        forecast = floor.client.get(f"{API}/{site_id}/forecast", headers=manager)
        assert forecast.status_code == 200, forecast.text
        starts = [row["start"] for row in forecast.json()["days"][0]["agencies"][0]["slots"]]
        assert starts[0] == site["site"]["hours"][0][0] and starts == sorted(starts)
        report = floor.client.get(f"{API}/{site_id}/reports", headers=manager)
        assert report.status_code == 200, report.text
        assert f'site="{site_id}"' in floor.client.get("/metrics").text
        first = min(n for numbers in _counter_numbers(site).values() for n in numbers)
        for page in (f"/kiosk/{site_id}?kiosk=k1", f"/counter/{site_id}/{first}", f"/hall/{site_id}",
                     f"/monitor/{site_id}", "/monitor", f"/book/{site_id}"):
            assert floor.client.get(page).status_code == 200, page


def _bad(site: dict[str, Any], mistake: str) -> tuple[dict[str, Any], str, str]:
    """The site with one mistake; the field and the words of the reason the refusal must give."""
    bad = json.loads(json.dumps(site))
    if mistake == "counter_unknown_agency":
        bad["counter"][-1]["serves"] = [*bad["counter"][-1]["serves"], "KHONG-CO"]
        return bad, f"counter[{len(bad['counter']) - 1}].serves", "unknown agency 'KHONG-CO'"
    if mistake == "number_blocks_overlap":
        bad["agency"][-1]["number_block"] = bad["agency"][0]["number_block"]
        return bad, f"agency[{len(bad['agency']) - 1}].number_block", "already used"
    if mistake == "number_block_inside_another":
        bad["agency"][0]["number_block"] += 500
        return bad, "agency[0].number_block", "multiple of 1000"
    if mistake == "procedure_unknown_agency":
        procedure = bad["procedure"][-1]
        procedure["agency"] = "KHONG-CO"
        return bad, f"procedure[{procedure['id']}].agency", "unknown agency 'KHONG-CO'"
    if mistake == "hours_out_of_order":
        bad["site"]["hours"] = [["13:30", "17:00"], ["07:30", "11:30"]]
        return bad, "site.hours[1]", "precedes"
    if mistake == "hours_closing_before_opening":
        bad["site"]["hours"] = [["17:00", "07:30"]]
        return bad, "site.hours[0]", "closes before it opens"
    raise AssertionError(mistake)


MISTAKES = ("counter_unknown_agency", "number_blocks_overlap", "number_block_inside_another",
            "procedure_unknown_agency", "hours_out_of_order", "hours_closing_before_opening")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(site_dicts(), st.sampled_from(MISTAKES))
def test_generated_sites_with_a_mistake_are_refused_naming_field_and_reason(
    site: dict[str, Any], mistake: str
) -> None:
    bad, field, reason = _bad(site, mistake)
    if mistake == "number_blocks_overlap" and len(bad["agency"]) < 2:
        return
    try:
        site_from_dict(bad, "bad.toml")
    except SiteError as exc:
        assert (exc.source, exc.field) == ("bad.toml", field), str(exc)
        assert reason in exc.reason, str(exc)
    else:
        raise AssertionError(f"{mistake} accepted")


def test_the_server_refuses_to_start_on_a_bad_site_file(tmp_path: Path) -> None:
    for mistake in ("counter_unknown_agency", "number_blocks_overlap", "procedure_unknown_agency",
                    "hours_out_of_order"):
        bad, field, reason = _bad(GOOD, mistake)
        path = tmp_path / f"{mistake}.toml"
        path.write_text(to_toml(bad), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "controller.cli", "serve", "--site", str(path), "--port", "9",
             "--data-dir", str(tmp_path / "data"), "--demo"],
            capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 2, (mistake, done.stderr)
        assert str(path) in done.stderr and field in done.stderr and reason in done.stderr, done.stderr
        assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())
