"""`motcua plan`: propose layout changes (cross-training, breaks, standby shifts) that meet the wait target.

stdout carries exactly one JSON object with --json; everything else (progress,
the human summary, errors) goes to stderr. Input the planner cannot work with
(a malformed or half-valid file, a weekday the site is closed, nothing that may
change, a target no allowed change reaches) exits 2 with a message saying what
is missing, Vietnamese first, and writes no site file.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from controller.core.errors import SiteError
from controller.sitefile import load_document, read_toml
from sim.plan import PlanResult, plan
from sim.plan_layout import Limits, PlanError
from sim.progress import ProgressBar
from sim.scenario import parse_scenario

__all__ = ["run"]

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Entry point of `motcua plan` (see controller/cli.py for the arguments)."""
    try:
        return _run(args)
    except PlanError as exc:
        _say(f"motcua plan: {exc.message}")
        if args.json:
            print(json.dumps({"error": {"code": exc.code, "message": exc.message}, **exc.detail}, ensure_ascii=False))
        return 2


def _run(args: argparse.Namespace) -> int:
    limits = _limits(args)
    source = Path(args.scenario)
    out = Path(args.out)
    if out.resolve() == source.resolve():
        raise PlanError("bad_argument", "--out phải là một tệp khác --scenario (đề xuất được so với tệp gốc) / "
                        "--out must be another file than --scenario (the proposal is compared with the original)")
    if not out.parent.is_dir():
        raise PlanError("bad_argument", f"không có thư mục {out.parent} cho --out / no folder {out.parent} for --out")
    try:
        data = read_toml(source)
        if "province" in data or "site" not in data:
            raise PlanError("not_a_site_file", f"{source}: cần một tệp trung tâm có bảng [site] (tệp tỉnh hoặc tệp "
                            "kịch bản trỏ sang tệp khác: hãy đưa chính tệp trung tâm) / needs one centre's site file "
                            "with its [site] table (for a province or a scenario pointing at another file, give the "
                            "centre's own file)")
        sites, table = load_document(source)
        scenario = parse_scenario(table, str(source), sites)
    except SiteError as exc:
        raise PlanError("invalid_site", f"tệp bị từ chối / file refused: {exc}") from None
    site = sites[0]
    from sim.plan_edit import check_editable  # tomlkit only when a file is written

    check_editable(source.read_text(encoding="utf-8"), str(source))
    if args.seed is not None:
        scenario = replace(scenario, seed=args.seed)
    weekday = scenario.weekday if args.weekday is None else args.weekday
    bars: dict[str, ProgressBar] = {}

    def progress(phase: str, done: int, total: int) -> None:
        if phase not in bars:
            for bar in bars.values():
                bar.close()
            bars[phase] = ProgressBar(f"plan: {phase}")
        bars[phase](done, total)

    try:
        result = plan(site, scenario, weekday, limits, progress=progress)
    finally:
        for bar in bars.values():
            bar.close()
    body = result.to_json()
    if args.report:
        from sim.plan_report import write_report  # matplotlib only when a report is asked for

        diff = _diff(source, out, result) if result.reached else ""
        path = write_report(Path(args.report), str(source), result, diff)
        _say(f"báo cáo / report: {path}")
    if not result.reached:
        raise PlanError("target_unreachable", _unreachable(result), body)
    text = source.read_text(encoding="utf-8")
    out.write_text(_edited(text, result, source), encoding="utf-8")
    if args.json:
        print(json.dumps(body, ensure_ascii=False))
    else:
        _say(_human(body, out))
    return 0


def _limits(args: argparse.Namespace) -> Limits:
    checks = [
        (0 < args.target <= 1, "--target phải trong khoảng (0, 1] / --target must be in (0, 1]"),
        (0 <= args.max_visits_over <= 1, "--max-visits-over phải trong khoảng [0, 1] / --max-visits-over must be "
                                         "in [0, 1]"),
        (args.seeds >= 1, "--seeds phải >= 1 / --seeds must be >= 1"),
        (args.held_out >= 1, "--held-out phải >= 1 / --held-out must be >= 1"),
        (args.max_added >= 0, "--max-added phải >= 0 / --max-added must be >= 0"),
        (args.max_added_per_counter >= 0, "--max-added-per-counter phải >= 0 / --max-added-per-counter must be >= 0"),
        (args.weekday is None or 0 <= args.weekday <= 6,
         "--weekday phải từ 0 (thứ Hai) đến 6 (Chủ nhật) / --weekday must be 0 (Monday) to 6 (Sunday)"),
        (args.jobs >= 1, "--jobs phải >= 1 / --jobs must be >= 1"),
    ]
    for ok, message in checks:
        if not ok:
            raise PlanError("bad_argument", message)
    return Limits(target=args.target, max_visits_over=args.max_visits_over, max_added=args.max_added,
                  max_added_per_counter=args.max_added_per_counter,
                  seeds=args.seeds, held_out=args.held_out, jobs=args.jobs)


def _edited(text: str, result: PlanResult, source: Path) -> str:
    from sim.plan_edit import edit_site_text  # tomlkit only when a file is written

    return edit_site_text(text, result.site, result.changes, str(source))


def _diff(source: Path, out: Path, result: PlanResult) -> str:
    text = source.read_text(encoding="utf-8")
    edited = _edited(text, result, source)
    return "".join(difflib.unified_diff(text.splitlines(True), edited.splitlines(True), str(source), str(out)))


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def _unreachable(result: PlanResult) -> str:
    body = result.to_json()
    after = body["after"]["deadline"]["within_transaction_target"]["mean"]
    lines = [
        f"không đạt mục tiêu {_pct(result.limits.target)}: bố trí tốt nhất tìm được ({len(result.changes)} thay đổi) "
        f"đạt {_pct(after)} trên các seed kiểm tra / the target {_pct(result.limits.target)} is out of reach: the best "
        f"layout found ({len(result.changes)} changes) reaches {_pct(after)} on the held-out seeds.",
        "Thử --max-added lớn hơn, cho phép thêm quầy đào tạo chéo, hoặc --target thấp hơn / try a larger --max-added, "
        "allow more cross-training, or a lower --target.",
    ]
    for entry in body["cannot_fix"]:
        spans = ", ".join(f"{h['from']}-{h['to']} cần/needs {h['counters_needed']} có/has {h['counters_serving']}"
                          for h in entry["half_hours"])
        lines.append(f"  {entry['agency']}: {entry['why']}; {spans}")
    return "\n".join(lines)


def _human(body: dict[str, Any], out: Path) -> str:
    before, after = body["before"], body["after"]
    lines = [f"motcua plan: {body['site']}, {_WEEKDAYS[body['weekday']]}; {len(body['changes'])} thay đổi / changes "
             f"-> {out}"]
    if not body["changes"]:
        lines.append("  bố trí hiện tại đã đạt mục tiêu: không cần thay đổi / the layout already meets the target: "
                     "no change needed")
    for change in body["changes"]:
        lines.append(f"  {change['text']}: {100 * change['gain']:+.1f} điểm / points")
    target = body["target_min"]
    for policy in ("fifo", "deadline"):
        b, a = before[policy], after[policy]
        within, within_after = b["within_transaction_target"], a["within_transaction_target"]
        lines.append(
            f"  {policy}: trong {target:g} phút / within {target:g} min {_pct(within['mean'])}"
            f" -> {_pct(within_after['mean'])} (worst {_pct(within_after['worst'])});"
            f" visits over {body['visit_target_min']:g} min {_pct(b['visits_over_visit_target']['mean'])} -> "
            f"{_pct(a['visits_over_visit_target']['mean'])}")
    lines.append(f"  pooled Erlang C bound {_pct(before['pooled_bound'])} -> {_pct(after['pooled_bound'])}; "
                 f"held-out seeds {body['seeds']['held_out']}; {body['search']['site_days']} site-days simulated in "
                 f"{body['search']['wall_s']} s")
    lines += [f"  {note}" for note in body["notes"]]
    for entry in body["cannot_fix"]:
        spans = ", ".join(f"{h['from']}-{h['to']} {h['counters_needed']}/{h['counters_serving']}"
                          for h in entry["half_hours"])
        lines.append(f"  không sửa được / cannot fix {entry['agency']} ({entry['reason']}): counters needed/serving "
                     f"{spans}")
    return "\n".join(lines)
