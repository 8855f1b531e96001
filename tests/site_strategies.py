"""Hypothesis strategies for site files and [scenario] tables unlike the demo ones.

`site_dicts()` draws the plain dict of a VALID site file (what tomllib would
return) anywhere the format allows: one to five agencies with and without fee,
result and guidance roles; procedures with and without on_the_spot_min, fee,
papers and step_only; one to three opening periods, including an almost
24-hour day and a day of a few minutes; counters serving one or several
agencies, priority and standby counters (or none); targets, weekday factors
with zeros, appointment and abandonment settings; time zones other than
Asia/Ho_Chi_Minh. `scenario_tables(site)` draws a [scenario] table for such a
site: closures (an agency's every counter all day, a closure over the whole
opening), staff late, surges, device outages, a weekday the site is closed.

`to_toml` writes either back as TOML text, for the CLI and the server.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

__all__ = ["TIMEZONES", "hhmm", "scenario_tables", "site_dicts", "to_toml"]

TIMEZONES = (
    "Asia/Ho_Chi_Minh", "Asia/Bangkok", "UTC", "Asia/Kolkata", "Pacific/Chatham",
    "America/St_Johns", "Europe/Berlin", "Pacific/Kiritimati", "Pacific/Pago_Pago",
)
_DAY_MIN = 24 * 60 - 1  # the last minute a site file can name (23:59)


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def _hours(draw: st.DrawFn) -> list[tuple[int, int]]:
    """One to three opening periods, in order, as minutes from midnight."""
    kind = draw(st.sampled_from(["normal", "random", "whole_day", "random", "short"]))
    if kind == "whole_day":
        return [(0, _DAY_MIN)]
    if kind == "short":
        start = draw(st.integers(0, _DAY_MIN - 30))
        return [(start, start + draw(st.integers(1, 30)))]
    if kind == "normal":
        return [(450, 690), (810, 1020)]
    periods = draw(st.integers(1, 3))
    points = sorted(draw(st.sets(st.integers(0, _DAY_MIN), min_size=2 * periods, max_size=2 * periods)))
    pairs = [(points[2 * i], points[2 * i + 1]) for i in range(periods)]
    if periods > 1 and draw(st.booleans()):
        # A period may start where the previous one ends: [a, b], [b, c] is allowed.
        pairs[1] = (pairs[0][1], pairs[1][1])
    return pairs


def _half_hours(hours: Sequence[tuple[int, int]]) -> int:
    return sum((end - start + 29) // 30 for start, end in hours)


_WEIGHT = st.sampled_from([0.0, 0.2, 1.0, 1.0, 1.7, 3.0])
_FACTOR = st.sampled_from([0.0, 0.5, 1.0, 1.0, 1.3])


@st.composite
def site_dicts(draw: st.DrawFn, max_visits: int = 150) -> dict[str, Any]:
    """The dict of a valid site file (see the module docstring for what varies)."""
    hours = draw(_hours())
    transaction = draw(st.sampled_from([1, 5, 15, 30]))
    site: dict[str, Any] = {
        "id": draw(st.sampled_from(["x", "site-2", "Phuong_7", "a.b"])),
        "name": draw(st.sampled_from(["Trung tâm thử", "Bộ phận Một cửa", "Điểm phục vụ số 9"])),
        "timezone": draw(st.sampled_from(TIMEZONES)),
        "hours": [[hhmm(a), hhmm(b)] for a, b in hours],
        "expected_daily_visits": draw(st.sampled_from([max_visits, 80, 30, max_visits, 1, 0])),
        "wait_target_transaction_min": transaction,
        "wait_target_visit_min": transaction * draw(st.sampled_from([1, 2, 4])),
    }
    optional = {
        "level": st.sampled_from(["commune", "province", "district"]),
        "rating_levels": st.integers(3, 5),
        "recall_limit": st.integers(1, 3),
        "no_show_hold_min": st.sampled_from([0, 1, 2, 10]),
        "auto_open_standby": st.booleans(),
        "appointment_grace_min": st.sampled_from([0, 5, 10]),
        "appointment_slot_capacity": st.integers(0, 4),
        "issue_cutoff_min": st.sampled_from([0, 5, 15, 60]),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            site[key] = draw(strategy)
    if len(hours) == 1 and hours[0][1] - hours[0][0] <= site.get("issue_cutoff_min", 15):
        site["issue_cutoff_min"] = 0  # (a day shorter than the cut-off could issue no ticket: refused)

    # Agencies: service ones, and optionally a fee, a result and a guidance agency.
    n_service = draw(st.integers(1, 4))
    roles = ["service"] * n_service
    for role in ("fee", "result", "guidance"):
        if draw(st.booleans()):
            roles.append(role)
    blocks = draw(st.permutations(range(1, 1 + len(roles) + draw(st.integers(0, 5)))))
    agencies = [
        {"id": f"A{i}" if role == "service" else role.upper(), "name": f"Cơ quan {i}",
         "number_block": 1000 * blocks[i], **({} if role == "service" else {"role": role})}
        for i, role in enumerate(roles)
    ]
    for agency in agencies:
        if draw(st.booleans()):
            agency["name_en"] = "Agency"
        if draw(st.integers(0, 4)) == 0:
            agency["daily_cap"] = draw(st.integers(1, 30))

    # Journey steps: at most one fee step (in the fee agency) and one result step.
    procedures: list[dict[str, Any]] = []
    fee_step = "FEE" in [a["id"] for a in agencies] and draw(st.booleans())
    result_step = "RESULT" in [a["id"] for a in agencies] and draw(st.booleans())
    if fee_step:
        procedures.append({"id": "nop-phi", "agency": "FEE", "name": "Nộp phí, lệ phí", "share": 0.0,
                           "service": draw(st.sampled_from([0.5, 2.0])), "step_only": True})
    if result_step:
        procedures.append({"id": "tra-tai-cho", "agency": "RESULT", "name": "Nhận kết quả tại chỗ",
                           "share": 0.0, "service": 2.0, "step_only": True})
    chooseable = [a["id"] for a in agencies if not (a["id"] == "FEE" and fee_step)]
    for agency_id in chooseable:
        for k in range(draw(st.integers(1, 3))):
            proc: dict[str, Any] = {
                "id": f"{agency_id.lower()}-p{k}", "agency": agency_id, "name": f"Thủ tục {agency_id} {k}",
                "share": draw(st.sampled_from([0.0, 0.05, 0.3, 1.0])),
                "service": draw(st.sampled_from([0.5, 3.0, 12.0, 45.0])),
            }
            if draw(st.booleans()):
                proc["service_cv"] = draw(st.sampled_from([0.0, 0.4, 1.5]))
            if fee_step and draw(st.booleans()):
                proc["fee"] = True
            if result_step and draw(st.booleans()):
                proc["on_the_spot_min"] = draw(st.sampled_from([0.5, 15, 90]))
            if draw(st.booleans()):
                proc["papers"] = ["Tờ khai", "Căn cước công dân"][: draw(st.integers(0, 2))]
                if draw(st.booleans()):
                    proc["papers_en"] = ["Form", "Citizen ID card"][: len(proc["papers"])]
            procedures.append(proc)
    kiosk = [p for p in procedures if not p.get("step_only")]
    if sum(p["share"] for p in kiosk) <= 0:
        kiosk[0]["share"] = 1.0
    if len(kiosk) > 1 and draw(st.booleans()):
        # A step_only procedure outside the journey (a service agency's own step): never at the kiosk.
        extra = next(p for p in reversed(kiosk) if p is not kiosk[0])
        # (Only in a service agency: a second step_only procedure of the fee or result agency would make
        # the journey step ambiguous, which the loader rightly refuses.)
        service = extra["agency"].startswith("A")
        if service and sum(p["share"] for p in kiosk if p is not extra) > 0:
            extra["step_only"] = True
            extra.pop("fee", None)

    # Counters: every agency has at least one; some cross-trained, priority or standby.
    numbers = iter(_counter_numbers(draw))
    counters: list[dict[str, Any]] = []
    ids = [a["id"] for a in agencies]
    for agency_id in ids:
        extra_serves = draw(st.lists(st.sampled_from(ids), max_size=2, unique=True))
        serves = [agency_id, *[a for a in extra_serves if a != agency_id]]
        group = {"ids": [next(numbers) for _ in range(draw(st.integers(1, 3)))], "serves": serves}
        if draw(st.integers(0, 5)) == 0:
            group["standby"] = True  # its agencies may then have no regular counter at all
        counters.append(group)
    if draw(st.booleans()):
        counters.append({"ids": [next(numbers)], "serves": draw(st.lists(st.sampled_from(ids), min_size=1,
                                                                         unique=True)), "priority": True})
    if draw(st.booleans()):
        counters.append({"ids": [next(numbers) for _ in range(draw(st.integers(1, 2)))],
                         "serves": draw(st.lists(st.sampled_from(ids), min_size=1, unique=True)), "standby": True})
    if draw(st.booleans()):
        one = counters[0]
        counters[0] = {"id": one["ids"][0], **{k: v for k, v in one.items() if k != "ids"}}

    data: dict[str, Any] = {"site": site, "agency": agencies, "procedure": procedures, "counter": counters}
    if draw(st.integers(0, 5)) > 0:
        weights = [draw(_WEIGHT) for _ in range(_half_hours(hours))]
        if draw(st.booleans()):
            weights[draw(st.integers(0, len(weights) - 1))] = 1.0
        weekday = [draw(_FACTOR) for _ in range(7)]
        if draw(st.integers(0, 5)) > 0:
            weekday[draw(st.integers(0, 6))] = 1.0
        data["arrivals"] = {
            "half_hour_weights": weights,
            "weekday_factor": weekday,
            "priority_share": draw(st.sampled_from([0.0, 0.1, 1.0])),
            "appointment_share": draw(st.sampled_from([0.0, 0.0, 0.2, 1.0])),
            "abandon_after_min": draw(st.sampled_from([0.5, 5, 60, 600])),
        }
    return data


def _counter_numbers(draw: st.DrawFn) -> list[int]:
    """Distinct counter numbers 1..999, not necessarily contiguous nor in order."""
    start = draw(st.sampled_from([1, 7, 101, 990]))
    step = draw(st.sampled_from([1, 3]))
    numbers = [start + step * i for i in range(40)]
    numbers = [n if n <= 999 else n - 990 for n in numbers]
    return list(dict.fromkeys(numbers))


@st.composite
def scenario_tables(draw: st.DrawFn, site: Mapping[str, Any]) -> dict[str, Any]:
    """A [scenario] table for the site dict `site` (events name its counters, agencies, hours)."""
    hours = [(int(a[:2]) * 60 + int(a[3:]), int(b[:2]) * 60 + int(b[3:])) for a, b in site["site"]["hours"]]
    opening, closing = hours[0][0], hours[-1][1]
    counter_ids = [n for c in site["counter"] for n in (c["ids"] if "ids" in c else [c["id"]])]
    agency_ids = [a["id"] for a in site["agency"]]
    table: dict[str, Any] = {"seed": draw(st.integers(0, 2**31))}
    weekday_factor = site.get("arrivals", {}).get("weekday_factor", [1.0] * 5 + [0.0] * 2)
    open_days = [d for d in range(7) if weekday_factor[d] > 0]
    if draw(st.integers(0, 7)) == 0:
        table["weekday"] = draw(st.integers(0, 6))  # perhaps a day the site is closed
    elif open_days:
        table["weekday"] = draw(st.sampled_from(open_days))
    knobs = {
        "auto_open_standby": st.booleans(),
        "walk_s": st.sampled_from([0, 30, 300]),
        "break_min": st.sampled_from([0, 15, 60]),
        "breaks_per_half_day": st.integers(0, 2),
        "no_show_share": st.sampled_from([0.0, 0.2, 1.0]),
        "incomplete_share": st.sampled_from([0.0, 0.3]),
        "tick_s": st.sampled_from([5, 30, 600]),
        "lunch_serve_out": st.booleans(),
    }
    for key, strategy in knobs.items():
        if draw(st.booleans()):
            table[key] = draw(strategy)

    def window() -> dict[str, str]:
        start = draw(st.integers(max(0, opening - 60), min(_DAY_MIN - 1, closing)))
        end = draw(st.integers(start + 1, min(_DAY_MIN, start + 240)))
        return {"from": hhmm(start), "to": hhmm(end)}

    events: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["counter_closed", "agency_closed", "whole_opening", "staff_late",
                                     "surge", "device_down"]))
        if kind == "counter_closed":
            events.append({"kind": kind, "counters": draw(st.lists(st.sampled_from(counter_ids), min_size=1,
                                                                   max_size=3, unique=True)), **window()})
        elif kind == "agency_closed":
            # Every counter that serves one agency, all day: that agency has no open counter at all.
            agency = draw(st.sampled_from(agency_ids))
            serving = [n for c in site["counter"] if agency in c["serves"]
                       for n in (c["ids"] if "ids" in c else [c["id"]])]
            events.append({"kind": "counter_closed", "counters": serving, "from": "00:00", "to": "23:59"})
        elif kind == "whole_opening":
            events.append({"kind": "counter_closed", "counters": draw(st.lists(
                st.sampled_from(counter_ids), min_size=1, max_size=3, unique=True)),
                "from": hhmm(opening), "to": hhmm(closing)})
        elif kind == "staff_late":
            events.append({"kind": kind, "counters": draw(st.lists(st.sampled_from(counter_ids), min_size=1,
                                                                   max_size=3, unique=True)),
                           "minutes": draw(st.sampled_from([0, 10, 40, 600]))})
        elif kind == "surge":
            start = draw(st.integers(opening, max(opening, closing - 1)))
            events.append({"kind": kind, "agency": draw(st.sampled_from(agency_ids)),
                           "factor": draw(st.sampled_from([0.0, 2.0, 5.0, 100.0])),
                           "from": hhmm(start), "to": hhmm(min(_DAY_MIN, start + 60))})
        else:
            device = draw(st.sampled_from(["printer", "display", "keypad"]))
            name = device if device == "printer" else f"{device}:{draw(st.sampled_from(counter_ids))}"
            events.append({"kind": kind, "device": name, **window()})
    if events:
        table["event"] = events
    return table


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def _toml_table(header: str, table: Mapping[str, Any], out: list[str]) -> None:
    out.append(header)
    nested: list[tuple[str, Any]] = []
    for key, value in table.items():
        if isinstance(value, Mapping) or (isinstance(value, list) and value and isinstance(value[0], Mapping)):
            nested.append((key, value))
        else:
            out.append(f"{key} = {_toml_value(value)}")
    out.append("")
    name = header.strip("[]")
    for key, value in nested:
        if isinstance(value, Mapping):
            _toml_table(f"[{name}.{key}]", value, out)
        else:
            for item in value:
                _toml_table(f"[[{name}.{key}]]", item, out)


def to_toml(data: Mapping[str, Any]) -> str:
    """TOML text of a site dict (tables, arrays of tables, one level of nesting as the format uses)."""
    out: list[str] = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            _toml_table(f"[{key}]", value, out)
        else:
            for item in value:
                _toml_table(f"[[{key}]]", item, out)
    return "\n".join(out)
