"""The monthly evaluation of staff members and agencies (đánh giá chất lượng phục vụ hằng tháng). Pure.

Built on the period report (controller/core/reports.py: served, service times, no-shows,
ratings per staff member and agency) plus what only the evaluation needs: the reasons
given at low ratings, the complaints upheld (feedback.db) and the breaches a counter
caused. Definitions:

- share satisfied: ratings in the top two levels of the site's scale / all ratings
  (the reports' satisfaction), against the site's target (95 %);
- adjusted share (the fair comparison): a Bayesian average toward the mean of the
  staff member's agency, (satisfied + PRIOR_RATINGS x agency share) / (ratings +
  PRIOR_RATINGS): with few ratings a person sits near the agency's mean, with many
  their own figure counts; the number of ratings is always shown beside it;
- a staff member's agency: the one they served most this month; their peers are that
  agency's figures (all its staff together);
- no-show share: no-shows / (served + no-shows) of their calls;
- breaches caused by their counter: a breach recorded with cause "counters_closed"
  (some of the agency's counters not open) while this staff member's counter, one
  that serves the agency, was paused; a closed counter has nobody to name;
- rank: by adjusted share, highest first; ties by fewer complaints upheld, then by
  more served. Every other figure is shown against the peers but does not move the
  rank, and the page says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from controller.core.clock import local_day
from controller.core.feedback import Feedback
from controller.core.reports import Group, Report, is_satisfied
from controller.core.site import Site

__all__ = ["PRIOR_RATINGS", "CounterBlame", "adjusted_share", "build_evaluation", "counter_blame"]

PRIOR_RATINGS = 20  # the weight of the agency's mean, in ratings: about a week of one counter's ratings


def adjusted_share(satisfied: int, ratings: int, prior: float | None, weight: float = PRIOR_RATINGS) -> float | None:
    """The Bayesian average toward `prior` (None without ratings and without a prior)."""
    if prior is None:
        return satisfied / ratings if ratings else None
    return (satisfied + weight * prior) / (ratings + weight)


@dataclass
class CounterBlame:
    """What the event log says beyond the report: reasons, breaches by counter, and ratings day by day."""

    reasons_by_staff: dict[str, Counter[str]] = field(default_factory=dict)
    reasons_by_agency: dict[str, Counter[str]] = field(default_factory=dict)
    reasons: Counter[str] = field(default_factory=Counter)                     # the whole centre's
    breaches_by_staff: dict[str, Counter[str]] = field(default_factory=dict)   # staff -> agency -> breaches
    ratings_by_day: dict[str, list[int]] = field(default_factory=dict)         # site's day -> [satisfied, ratings]


def counter_blame(site: Site, events: Iterable[Mapping[str, Any]]) -> CounterBlame:
    """Fold the reasons given at low ratings, the breaches while a counter was paused (the module's rule)
    and the ratings of each of the site's days."""
    out = CounterBlame()
    paused: dict[int, str] = {}  # counter -> staff member who paused it
    for body in events:
        kind = body.get("type")
        if kind == "day.started":
            paused.clear()
        elif kind == "counter.changed":
            counter = int(body["counter"])
            if body.get("status") == "paused" and body.get("staff"):
                paused[counter] = str(body["staff"])
            else:
                paused.pop(counter, None)
        elif kind == "rating.recorded":
            day = out.ratings_by_day.setdefault(local_day(float(body["at"]), site.utc_offset_s), [0, 0])
            day[0] += is_satisfied(int(body["score"]), int(body["levels"]))
            day[1] += 1
        elif kind == "rating.reasons":
            reasons = [str(r) for r in body.get("reasons", ())]
            out.reasons.update(reasons)
            if body.get("staff"):
                out.reasons_by_staff.setdefault(str(body["staff"]), Counter()).update(reasons)
            if body.get("agency"):
                out.reasons_by_agency.setdefault(str(body["agency"]), Counter()).update(reasons)
        elif kind == "target.breached" and body.get("cause") == "counters_closed":
            agency = str(body.get("agency"))
            for spec in site.counters_for(agency):
                staff = paused.get(spec.id)
                if staff is not None:
                    out.breaches_by_staff.setdefault(staff, Counter())[agency] += 1
    return out


def _satisfied(group: Group | None) -> tuple[int, int]:
    if group is None:
        return 0, 0
    return sum(1 for score, levels in group.ratings if is_satisfied(score, levels)), len(group.ratings)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _no_show_share(summary: Mapping[str, Any]) -> float | None:
    calls = int(summary["transactions"]) + int(summary["no_shows"])
    return _share(int(summary["no_shows"]), calls)


def _pct(value: float | None, lang: str) -> str:
    if value is None:
        return "—"
    text = f"{100 * value:.1f} %"
    return text.replace(".", ",") if lang == "vi" else text


def _minutes(value: float | None, lang: str) -> str:
    if value is None:
        return "—"
    text = f"{value / 60:.1f}"
    return (text.replace(".", ",") + " phút") if lang == "vi" else text + " min"


def _reason_names(counts: Counter[str], names: Mapping[str, tuple[str, str]], lang: str) -> str:
    index = 0 if lang == "vi" else 1
    return ", ".join(f"{names.get(code, (code, code))[index]} ({n})" for code, n in counts.most_common())


def _why(row: dict[str, Any], above: dict[str, Any] | None, below: dict[str, Any] | None,
         reason_names: Mapping[str, tuple[str, str]]) -> list[dict[str, str]]:
    """The rank in words, Vietnamese and English: what places this person, then the context beside peers."""
    out: list[dict[str, str]] = []

    def say(code: str, vi: str, en: str) -> None:
        out.append({"code": code, "vi": vi, "en": en})

    n, sat, peer = row["ratings"], row["satisfied"], row["agency_share_satisfied"]
    if n:
        say("ratings",
            f"{sat}/{n} đánh giá hài lòng ({_pct(row['share_satisfied'], 'vi')}); điều chỉnh về mức trung bình "
            f"của lĩnh vực ({_pct(peer, 'vi')}, trọng số {PRIOR_RATINGS} đánh giá): {_pct(row['adjusted'], 'vi')}",
            f"{sat}/{n} ratings satisfied ({_pct(row['share_satisfied'], 'en')}); adjusted toward the agency's "
            f"mean ({_pct(peer, 'en')}, weight {PRIOR_RATINGS} ratings): {_pct(row['adjusted'], 'en')}")
    else:
        say("ratings", f"Chưa có đánh giá: tính theo mức trung bình của lĩnh vực ({_pct(peer, 'vi')})",
            f"No ratings yet: counted at the agency's mean ({_pct(peer, 'en')})")
    for other, vi_place, en_place in ((above, "Sau", "Below"), (below, "Trước", "Above")):
        if other is None:
            continue
        if other["adjusted"] != row["adjusted"]:
            vi_by = f"tỷ lệ điều chỉnh {_pct(other['adjusted'], 'vi')} so với {_pct(row['adjusted'], 'vi')}"
            en_by = f"adjusted share {_pct(other['adjusted'], 'en')} against {_pct(row['adjusted'], 'en')}"
        elif other["complaints_upheld"] != row["complaints_upheld"]:
            vi_by = f"bằng tỷ lệ; phản ánh có cơ sở {other['complaints_upheld']} so với {row['complaints_upheld']}"
            en_by = f"same share; complaints upheld {other['complaints_upheld']} against {row['complaints_upheld']}"
        else:
            vi_by = f"bằng tỷ lệ và phản ánh; số lượt phục vụ {other['served']} so với {row['served']}"
            en_by = f"same share and complaints; served {other['served']} against {row['served']}"
        say("place", f"{vi_place} {other['staff']}: {vi_by}", f"{en_place} {other['staff']}: {en_by}")
    if row["complaints"]:
        say("complaints", f"{row['complaints_upheld']} phản ánh có cơ sở trên {row['complaints']} phản ánh về lượt "
                          "phục vụ của mình",
            f"Complaints upheld: {row['complaints_upheld']} of {row['complaints']} about their services")
    if row["reasons"]:
        counts = Counter(row["reasons"])
        say("reasons", "Lý do khi đánh giá thấp: " + _reason_names(counts, reason_names, "vi"),
            "Reasons at low ratings: " + _reason_names(counts, reason_names, "en"))
    if row["service_p50_s"] is not None:
        say("service", f"Thời gian phục vụ trung vị {_minutes(row['service_p50_s'], 'vi')}; lĩnh vực "
                       f"{_minutes(row['agency_service_p50_s'], 'vi')}",
            f"Median service {_minutes(row['service_p50_s'], 'en')}; agency "
            f"{_minutes(row['agency_service_p50_s'], 'en')}")
    if row["no_shows"]:
        say("no_shows", f"Vắng mặt {row['no_shows']} lượt gọi ({_pct(row['no_show_share'], 'vi')}); lĩnh vực "
                        f"{_pct(row['agency_no_show_share'], 'vi')}",
            f"No-shows {row['no_shows']} of their calls ({_pct(row['no_show_share'], 'en')}); agency "
            f"{_pct(row['agency_no_show_share'], 'en')}")
    if row["breaches"]:
        say("breaches", f"{row['breaches']} lần trễ hạn khi quầy của mình tạm dừng (lĩnh vực thiếu quầy mở)",
            f"{row['breaches']} breaches while their counter was paused (the agency short of open counters)")
    return out


def build_evaluation(site: Site, month: str, report: Report, blame: CounterBlame,
                     feedback: list[Feedback]) -> dict[str, Any]:
    """The month's evaluation: staff ranked with their reasons, agencies, and the province's satisfaction table.

    `feedback` is the items received in the month.
    """
    target_s = report.transaction_target_s
    reason_names = {r.code: (r.name, r.name_en) for r in site.feedback.reasons}
    complaints: dict[tuple[str, str], list[Feedback]] = {}
    for item in feedback:
        for level, key in (("staff", item.staff), ("agency", item.agency)):
            if key:
                complaints.setdefault((level, key), []).append(item)

    def upheld(level: str, key: str) -> tuple[int, int]:
        items = complaints.get((level, key), [])
        return len(items), sum(1 for i in items if i.upheld)

    agencies: list[dict[str, Any]] = []
    agency_share: dict[str, float | None] = {}
    for agency_id, group in report.by_agency.items():
        summary = group.summary(target_s)
        sat, n = _satisfied(group)
        received, held = upheld("agency", agency_id)
        spec = site.agencies.get(agency_id)
        agency_share[agency_id] = _share(sat, n)
        agencies.append({
            "agency": agency_id, "name": spec.name if spec else agency_id,
            "name_en": (spec.name_en or spec.name) if spec else agency_id,
            "served": summary["transactions"], "ratings": n, "satisfied": sat, "share_satisfied": _share(sat, n),
            "meets_target": None if not n else sat / n >= report.satisfaction_target,
            "reasons": dict(blame.reasons_by_agency.get(agency_id, Counter()).most_common()),
            "complaints": received, "complaints_upheld": held,
            "service_p50_s": summary["service_p50_s"], "no_shows": summary["no_shows"],
            "no_show_share": _no_show_share(summary), "breaches": sum(group.breaches.values()),
            "breaches_by_cause": dict(sorted(group.breaches.items())),
        })
    site_sat, site_n = _satisfied(report.total)

    staff: list[dict[str, Any]] = []
    for name, group in sorted(report.by_staff.items()):
        summary = group.summary(target_s)
        main = report.staff_agency[name].most_common(1)[0][0] if report.staff_agency.get(name) else None
        peers = report.by_agency.get(main) if main else None
        peer_summary = peers.summary(target_s) if peers is not None else None
        prior = agency_share.get(main) if main else None
        if prior is None:
            prior = _share(site_sat, site_n)
        sat, n = _satisfied(group)
        received, held = upheld("staff", name)
        adjusted = adjusted_share(sat, n, prior)
        staff.append({
            "staff": name, "agency": main, "served": summary["transactions"], "ratings": n, "satisfied": sat,
            "share_satisfied": _share(sat, n), "adjusted": None if adjusted is None else round(adjusted, 4),
            "agency_share_satisfied": prior if prior is None else round(prior, 4),
            "meets_target": None if not n else sat / n >= report.satisfaction_target,
            "reasons": dict(blame.reasons_by_staff.get(name, Counter()).most_common()),
            "complaints": received, "complaints_upheld": held,
            "service_p50_s": summary["service_p50_s"],
            "agency_service_p50_s": peer_summary["service_p50_s"] if peer_summary else None,
            "no_shows": summary["no_shows"], "no_show_share": _no_show_share(summary),
            "agency_no_show_share": _no_show_share(peer_summary) if peer_summary else None,
            "breaches": sum(blame.breaches_by_staff.get(name, Counter()).values()),
        })
    staff.sort(key=lambda r: (r["adjusted"] is None, -(r["adjusted"] or 0.0), r["complaints_upheld"],
                              -r["served"], r["staff"]))
    in_agency: Counter[str | None] = Counter()
    for i, row in enumerate(staff):
        row["rank"] = i + 1
        in_agency[row["agency"]] += 1
        row["rank_in_agency"] = in_agency[row["agency"]]
    for i, row in enumerate(staff):
        row["why"] = _why(row, staff[i - 1] if i else None, staff[i + 1] if i + 1 < len(staff) else None,
                          reason_names)

    province = [{"month": month, "agency": a["agency"], "name": a["name"], "ratings": a["ratings"],
                 "satisfied": a["satisfied"], "share_satisfied": a["share_satisfied"]} for a in agencies]
    province.append({"month": month, "agency": None, "name": "Toàn trung tâm / whole centre", "ratings": site_n,
                     "satisfied": site_sat, "share_satisfied": _share(site_sat, site_n)})
    return {
        "site": report.site, "site_name": site.name, "month": month, "days": report.days,
        "definitions": {
            "satisfied": f"điểm {site.rating_levels - 1}-{site.rating_levels} trên thang {site.rating_levels} / "
                         f"the top two levels of the {site.rating_levels}-level scale",
            "satisfaction_target": report.satisfaction_target, "prior_ratings": PRIOR_RATINGS,
        },
        "total": {"served": report.total.summary(target_s)["transactions"], "ratings": site_n,
                  "satisfied": site_sat, "share_satisfied": _share(site_sat, site_n),
                  "meets_target": None if not site_n else site_sat / site_n >= report.satisfaction_target,
                  "complaints": len(feedback), "complaints_upheld": sum(1 for i in feedback if i.upheld)},
        "reason_names": {code: {"name": vi, "name_en": en} for code, (vi, en) in reason_names.items()},
        "reasons": dict(blame.reasons.most_common()),
        "by_day": [{"day": day, "ratings": n, "satisfied": sat, "share_satisfied": _share(sat, n)}
                   for day, (sat, n) in sorted(blame.ratings_by_day.items())],
        "staff": staff, "agencies": agencies, "province": province,
    }
