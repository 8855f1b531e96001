"""The simulator's ratings (scenario rating_share, rating_patience_min): drawn from the waits, and a simulated
month's evaluation checked against the log it came from."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import pytest

import sim.runner
from controller.core.errors import SiteError
from controller.core.evaluation import build_evaluation, counter_blame
from controller.core.events import Event
from controller.core.floor import Floor
from controller.core.reports import build_report
from controller.sitefile import load_document
from sim.runner import RunOptions, simulate
from sim.scenario import parse_scenario

SITES = Path(__file__).resolve().parent.parent / "controller" / "sites"


class RecordingFloor(Floor):
    """A Floor that keeps every event it folds, as the server's log would."""

    log: ClassVar[list[dict[str, Any]]] = []

    def apply(self, events: Any) -> None:
        events = list(events)
        RecordingFloor.log.extend(e.to_dict() for e in events if isinstance(e, Event))
        super().apply(events)


def simulated(days: int, **knobs: Any) -> list[dict[str, Any]]:
    sites, table = load_document(SITES / "commune-centre.toml")
    scenario = parse_scenario({"seed": 5, "weekday": 0, **table, **knobs}, "commune", sites)
    RecordingFloor.log = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sim.runner, "Floor", RecordingFloor)
        simulate(sites, scenario, RunOptions(policy="deadline", seed=5, days=days))
    return list(RecordingFloor.log)


@pytest.mark.parametrize(("knobs", "field"), [
    ({"rating_share": 1.5}, "scenario.rating_share"),
    ({"rating_share": "half"}, "scenario.rating_share"),
    ({"rating_share": True}, "scenario.rating_share"),
    ({"rating_patience_min": 0}, "scenario.rating_patience_min"),
    ({"rating_patience": 10}, "scenario.rating_patience"),
])
def test_bad_knobs_are_refused(knobs: dict[str, Any], field: str) -> None:
    sites, _table = load_document(SITES / "commune-centre.toml")
    with pytest.raises(SiteError) as refused:
        parse_scenario(knobs, "scenario.toml", sites)
    assert field in str(refused.value)


def test_no_ratings_unless_asked() -> None:
    assert not any(e["type"].startswith("rating.") for e in simulated(1))


def waits_of_ratings(log: list[dict[str, Any]]) -> list[tuple[float, int]]:
    """(the rated transaction's wait at its last call, the score), straight from the log."""
    last_call: dict[str, float] = {}
    out = []
    for e in log:
        if e["type"] == "ticket.called":
            last_call[e["ticket"]] = float(e["waited_s"])
        elif e["type"] == "rating.recorded":
            out.append((last_call[e["ticket"]], int(e["score"])))
    return out


def test_a_longer_wait_a_lower_rating() -> None:
    log = simulated(2, rating_share=0.7, rating_patience_min=10)
    rated = waits_of_ratings(log)
    finished = sum(1 for e in log if e["type"] == "ticket.finished")
    assert 0.55 * finished < len(rated) < 0.85 * finished
    # the level drops by floor(wait / 10 min + u): under 10 minutes always the top two levels, from 20 on never
    short = [score for wait, score in rated if wait < 599]
    long = [score for wait, score in rated if wait > 1201]
    assert short and long
    assert all(score >= 3 for score in short) and all(score <= 2 for score in long)
    # low ratings give their reasons: waited_long after a wait past the 15-minute target
    reasons = [e for e in log if e["type"] == "rating.reasons"]
    assert len(reasons) == sum(1 for _wait, score in rated if score <= 2)
    last_call: dict[str, float] = {}
    long_reasons = []
    for e in log:
        if e["type"] == "ticket.called":
            last_call[e["ticket"]] = float(e["waited_s"])
        elif e["type"] == "rating.reasons" and last_call[e["ticket"]] > 901:
            long_reasons.append(e["reasons"])
    assert long_reasons and all(r == ["waited_long"] for r in long_reasons)


@pytest.mark.slow
def test_a_simulated_month_evaluated() -> None:
    """22 working days with ratings: the evaluation's figures are the log's own counts."""
    log = simulated(22, rating_share=0.5, rating_patience_min=20)
    site = load_document(SITES / "commune-centre.toml")[0][0]
    days = [e["day"] for e in log if e["type"] == "day.started"]
    assert len(days) == 22
    body = build_evaluation(site, "sim", build_report("xa", days, log), counter_blame(site, log), [])
    ratings = [(e.get("staff"), e.get("agency"), int(e["score"])) for e in log if e["type"] == "rating.recorded"]
    satisfied = sum(1 for _s, _a, score in ratings if score >= 3)
    assert body["total"]["ratings"] == len(ratings) > 1000
    assert body["total"]["satisfied"] == satisfied
    assert body["total"]["share_satisfied"] == round(satisfied / len(ratings), 4)
    by_staff = Counter(staff for staff, _a, _s in ratings)
    assert {row["staff"]: row["ratings"] for row in body["staff"] if row["ratings"]} == dict(by_staff)
    by_agency = Counter(agency for _s, agency, _score in ratings)
    province = {row["agency"]: row["ratings"] for row in body["province"] if row["agency"]}
    assert {a: n for a, n in province.items() if n} == dict(by_agency)
    reasons = Counter(code for e in log if e["type"] == "rating.reasons" for code in e["reasons"])
    assert sum((Counter(row["reasons"]) for row in body["agencies"]), Counter()) == reasons
    # ranked by the adjusted share, each within [own share, agency share]
    adjusted = [row["adjusted"] for row in body["staff"]]
    assert adjusted == sorted(adjusted, reverse=True)
    for row in body["staff"]:
        if row["ratings"]:
            low, high = sorted((row["share_satisfied"], row["agency_share_satisfied"]))
            assert low - 1e-4 <= row["adjusted"] <= high + 1e-4
        assert row["why"][0]["code"] == "ratings"
