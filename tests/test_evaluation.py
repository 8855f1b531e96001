"""The monthly evaluation (controller/core/evaluation.py) checked against a month computed by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from controller.core.evaluation import PRIOR_RATINGS, adjusted_share, build_evaluation, counter_blame
from controller.core.feedback import Feedback
from controller.core.reports import build_report
from controller.core.site import Site
from controller.sitefile import load_document

SITES = Path(__file__).resolve().parent.parent / "controller" / "sites"


def commune() -> Site:
    return load_document(SITES / "commune-centre.toml")[0][0]


def served(ticket: str, counter: int, staff: str, at: float, waited: float, service: float,
           agency: str = "HT", procedure: str = "ht-khai-sinh") -> list[dict[str, Any]]:
    """One transaction: issued, called, started, finished after `service` seconds."""
    return [
        {"type": "ticket.issued", "at": at - waited, "ticket": ticket, "agency": agency, "procedure": procedure},
        {"type": "ticket.called", "at": at, "ticket": ticket, "counter": counter, "staff": staff, "agency": agency,
         "procedure": procedure, "waited_s": waited},
        {"type": "ticket.started", "at": at + 30, "ticket": ticket, "counter": counter, "agency": agency},
        {"type": "ticket.finished", "at": at + 30 + service, "ticket": ticket, "counter": counter, "agency": agency,
         "outcome": "done"},
    ]


def rated(ticket: str, counter: int, staff: str, score: int, at: float) -> dict[str, Any]:
    return {"type": "rating.recorded", "at": at, "counter": counter, "score": score, "levels": 4, "ticket": ticket,
            "agency": "HT", "staff": staff}


D1, D2 = 1_793_000_000.0, 1_793_086_400.0  # 2026-10-26 and 27, 14:33 at the site (UTC+7)

# The hand-made month: "an" at counter 1 and "binh" at counter 2, both for HT (Hộ tịch).
MONTH: list[dict[str, Any]] = [
    {"type": "day.started", "at": D1},
    {"type": "counter.changed", "at": D1 + 1, "counter": 1, "staff": "an", "status": "open"},
    {"type": "counter.changed", "at": D1 + 2, "counter": 2, "staff": "binh", "status": "open"},
    *served("d1-1001", 1, "an", D1 + 600, 300, 600),
    rated("d1-1001", 1, "an", 4, D1 + 1300),
    *served("d1-1002", 1, "an", D1 + 1400, 100, 300),
    rated("d1-1002", 1, "an", 2, D1 + 1800),
    {"type": "rating.reasons", "at": D1 + 1810, "ticket": "d1-1002", "counter": 1, "staff": "an", "agency": "HT",
     "score": 2, "reasons": ["waited_long", "staff_attitude"], "via": "counter"},
    *served("d1-1003", 2, "binh", D1 + 700, 200, 900),
    rated("d1-1003", 2, "binh", 4, D1 + 1700),
    {"type": "ticket.issued", "at": D1 + 1750, "ticket": "d1-1004", "agency": "HT", "procedure": "ht-khai-sinh"},
    {"type": "ticket.called", "at": D1 + 1800, "ticket": "d1-1004", "counter": 2, "staff": "binh", "agency": "HT",
     "procedure": "ht-khai-sinh", "waited_s": 50},
    {"type": "ticket.no_show", "at": D1 + 1900, "ticket": "d1-1004", "counter": 2, "agency": "HT",
     "requeued": False},
    {"type": "counter.changed", "at": D1 + 2000, "counter": 2, "staff": "binh", "status": "paused",
     "reason": "break"},
    # binh's counter paused while HT was short of counters: the breach is counted against binh
    {"type": "target.breached", "at": D1 + 2100, "ticket": "d1-1005", "agency": "HT", "kind": "transaction",
     "cause": "counters_closed"},
    # another cause names nobody
    {"type": "target.breached", "at": D1 + 2200, "ticket": "d1-1006", "agency": "HT", "kind": "transaction",
     "cause": "surge"},
    {"type": "counter.changed", "at": D1 + 2300, "counter": 2, "staff": "binh", "status": "open"},
    {"type": "target.breached", "at": D1 + 2400, "ticket": "d1-1007", "agency": "HT", "kind": "transaction",
     "cause": "counters_closed"},  # counter 2 open again: nobody's
    {"type": "day.started", "at": D2},
    *served("d2-1001", 1, "an", D2 + 600, 60, 420),
    rated("d2-1001", 1, "an", 3, D2 + 1100),
]


def feedback(code: str, staff: str, upheld: bool | None) -> Feedback:
    return Feedback(site="xa", code=code, category="staff", text="…", channel="ticket", received_at=D1 + 5000,
                    due_at=D1 + 90000, status="answered" if upheld is not None else "open", ticket="d1-1001",
                    agency="HT", staff=staff, counter=1, upheld=upheld)


def evaluate(items: list[Feedback]) -> dict[str, Any]:
    site = commune()
    report = build_report("xa", ["2026-10-26", "2026-10-27"], MONTH, 900, 1800, 0.95)
    return build_evaluation(site, "2026-10", report, counter_blame(site, MONTH), items)


def test_the_month_computed_by_hand() -> None:
    body = evaluate([feedback("AAAAAAAA", "an", True), feedback("BBBBBBBB", "an", False),
                     feedback("CCCCCCCC", "binh", None)])
    staff = {row["staff"]: row for row in body["staff"]}
    an, binh = staff["an"], staff["binh"]
    # ratings 4, 2, 3 of 4 levels: the top two levels (3, 4) satisfied -> 2 of 3; binh 1 of 1; HT 3 of 4
    assert (an["ratings"], an["satisfied"], an["share_satisfied"]) == (3, 2, 0.6667)
    assert (binh["ratings"], binh["satisfied"], binh["share_satisfied"]) == (1, 1, 1.0)
    assert an["agency_share_satisfied"] == binh["agency_share_satisfied"] == 0.75
    # Bayesian average toward HT's 75 % with 20 ratings' weight: (2 + 15) / 23 and (1 + 15) / 21
    assert an["adjusted"] == round(17 / 23, 4) == 0.7391
    assert binh["adjusted"] == round(16 / 21, 4) == 0.7619
    # one rating at 100 % does not beat three at 67 % by much: binh first, an second, and the page says why
    assert [row["staff"] for row in body["staff"]] == ["binh", "an"]
    assert (binh["rank"], an["rank"], an["rank_in_agency"]) == (1, 2, 2)
    why = {w["code"]: w for w in an["why"]}
    assert "2/3" in why["ratings"]["vi"] and "73,9 %" in why["ratings"]["vi"] and "73.9 %" in why["ratings"]["en"]
    assert why["place"]["vi"].startswith("Sau binh") and "76,2 %" in why["place"]["vi"]
    assert {w["code"] for w in binh["why"]} >= {"ratings", "place", "service", "no_shows", "breaches"}
    # served and service (start to finish): an 600, 300, 420 -> median 420 s; binh 900; HT 300, 420, 600, 900 -> 420
    assert (an["served"], an["service_p50_s"], binh["served"], binh["service_p50_s"]) == (3, 420.0, 1, 900.0)
    assert an["agency_service_p50_s"] == 420.0
    # no-shows: binh 1 of 2 calls; HT 1 of 5
    assert (binh["no_shows"], binh["no_show_share"], binh["agency_no_show_share"]) == (1, 0.5, 0.2)
    assert (an["no_shows"], an["no_show_share"]) == (0, 0.0)
    # breaches: only the counters_closed one while binh's counter was paused
    assert (binh["breaches"], an["breaches"]) == (1, 0)
    # reasons and complaints
    assert an["reasons"] == {"waited_long": 1, "staff_attitude": 1} and binh["reasons"] == {}
    assert (an["complaints"], an["complaints_upheld"], binh["complaints"], binh["complaints_upheld"]) == (2, 1, 1, 0)
    ht = next(a for a in body["agencies"] if a["agency"] == "HT")
    assert (ht["served"], ht["ratings"], ht["satisfied"], ht["share_satisfied"], ht["meets_target"]) == (
        4, 4, 3, 0.75, False)
    assert (ht["complaints"], ht["complaints_upheld"], ht["breaches"]) == (3, 1, 3)
    assert ht["breaches_by_cause"] == {"counters_closed": 2, "surge": 1}
    assert ht["reasons"] == {"waited_long": 1, "staff_attitude": 1}
    # the province's table: share satisfied per agency and month, and the whole centre
    assert {"month": "2026-10", "agency": "HT", "name": "Tư pháp - Hộ tịch", "ratings": 4, "satisfied": 3,
            "share_satisfied": 0.75} in body["province"]
    assert body["province"][-1]["agency"] is None and body["province"][-1]["share_satisfied"] == 0.75
    assert body["total"] == {"served": 4, "ratings": 4, "satisfied": 3, "share_satisfied": 0.75,
                             "meets_target": False, "complaints": 3, "complaints_upheld": 1}
    # the charts' figures: each of the site's days (14:33 at the site is still its day), and the centre's reasons
    assert body["by_day"] == [
        {"day": "2026-10-26", "ratings": 3, "satisfied": 2, "share_satisfied": 0.6667},
        {"day": "2026-10-27", "ratings": 1, "satisfied": 1, "share_satisfied": 1.0}]
    assert body["reasons"] == {"waited_long": 1, "staff_attitude": 1}


def test_an_empty_month() -> None:
    site = commune()
    body = build_evaluation(site, "2026-01", build_report("xa", [], []), counter_blame(site, []), [])
    assert body["staff"] == [] and body["agencies"] == []
    assert body["province"] == [{"month": "2026-01", "agency": None, "name": "Toàn trung tâm / whole centre",
                                 "ratings": 0, "satisfied": 0, "share_satisfied": None}]


@pytest.mark.parametrize(("satisfied", "ratings", "prior", "expected"), [
    (0, 0, 0.9, 0.9),                 # nobody rated: the agency's mean
    (10, 10, 0.5, 20 / 30),           # 10 of 10 beside a 50 % agency: (10 + 20 x 0.5) / 30, two thirds
    (180, 200, 0.5, 190 / 220),       # many ratings: close to their own 90 %
    (0, 0, None, None),               # no ratings anywhere: no figure
    (3, 4, None, 0.75),
])
def test_adjusted_share(satisfied: int, ratings: int, prior: float | None, expected: float | None) -> None:
    assert PRIOR_RATINGS == 20
    got = adjusted_share(satisfied, ratings, prior)
    assert got == expected if expected is None else got == pytest.approx(expected)
