"""`motcua plan`: the proposal on a small centre, the edited site file, and bad input refused with exit 2."""

from __future__ import annotations

import difflib
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from controller.cli import main
from controller.sitefile import load_sites
from sim.plan_layout import CrossTrain, apply_changes

# A small centre, one morning: agency B has one counter and more work than it can do at the peak; A has
# three counters with time to spare. The police (CA) and counter 5 may not change.
SMALL = """\
# A small test centre: one morning, four agencies.
[site]
id = "nho"
name = "Trung tâm nhỏ"
hours = [["08:00", "11:00"]]
expected_daily_visits = 60

[arrivals]
half_hour_weights = [1.0, 2.0, 2.0, 1.0, 0.5, 0.5]
weekday_factor = [1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0]

[[agency]]
id = "A"
name = "Cơ quan A"
number_block = 1000

[[agency]]
id = "B"
name = "Cơ quan B"
number_block = 2000

[[agency]]
id = "C"
name = "Cơ quan C"
number_block = 3000

[[agency]]
id = "CA"
name = "Công an"
number_block = 4000
# the police's own specialists only
cross_train = false

[[procedure]]
id = "a"
agency = "A"
name = "Thủ tục A"
share = 0.40
service = 4.0

[[procedure]]
id = "b"
agency = "B"
name = "Thủ tục B"
share = 0.35
service = 6.0

[[procedure]]
id = "c"
agency = "C"
name = "Thủ tục C"
share = 0.15
service = 5.0

[[procedure]]
id = "ca"
agency = "CA"
name = "Thủ tục công an"
share = 0.10
service = 4.0

# A's own counters
[[counter]]
ids = [1, 2, 3]
serves = ["A"]   # three of them

[[counter]]
id = 4
serves = ["B"]

# The director keeps this one as it is.
[[counter]]
ids = [5]
serves = ["C"]
fixed = true

[[counter]]
ids = [6]
serves = ["CA"]
"""

FAST = ["--seeds", "2", "--held-out", "2", "--jobs", "1"]


def _plan(tmp_path: Path, text: str, *extra: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, Any, str, Path]:
    site = tmp_path / "site.toml"
    site.write_text(text, encoding="utf-8")
    out = tmp_path / "new.toml"
    rc = main(["plan", "--scenario", str(site), "--out", str(out), "--json", *FAST, *extra])
    captured = capsys.readouterr()
    body = json.loads(captured.out) if captured.out.strip() else None
    return rc, body, captured.err, out


def test_plan_trains_idle_counters_for_the_short_agency(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, body, err, out = _plan(tmp_path, SMALL, capsys=capsys)
    assert rc == 0, err
    assert set(body) >= {"changes", "before", "after", "cannot_fix", "curve", "seeds"}
    for when in ("before", "after"):
        for policy in ("fifo", "deadline"):
            figures = body[when][policy]
            assert set(figures["within_transaction_target"]) == {"mean", "worst"}
            assert set(figures["visits_over_visit_target"]) == {"mean", "worst"}
            assert figures["within_transaction_target"]["worst"] <= figures["within_transaction_target"]["mean"]
    assert body["seeds"]["search"] == [1, 2] and body["seeds"]["held_out"] == [3, 4]
    # B was short: every change trains a counter for it (A's idle counters), none touches what may not change.
    assert body["changes"] and all(c["kind"] == "cross_train" and c["agency"] == "B" for c in body["changes"])
    assert {c["counter"] for c in body["changes"]} <= {1, 2, 3}
    assert body["before"]["deadline"]["within_transaction_target"]["mean"] < 0.95
    after = body["after"]["deadline"]["within_transaction_target"]["mean"]
    assert after >= 0.95 and body["target_reached"]
    # The curve: before, then after each change; its last point is the after figure, gains add up to it.
    curve = [p["within_transaction_target"] for p in body["curve"]]
    assert len(curve) == len(body["changes"]) + 1 and curve[-1] == after
    assert sum(c["gain"] for c in body["changes"]) == pytest.approx(curve[-1] - curve[0], abs=1e-3)
    assert body["after"]["agencies"]["B"]["deadline"] > body["before"]["agencies"]["B"]["deadline"]

    # NEW.toml: a valid site that differs from the input by the proposed changes only.
    site = load_sites(tmp_path / "site.toml")[0]
    new = load_sites(out)[0]
    changes = [CrossTrain(c["counter"], c["agency"]) for c in body["changes"]]
    assert dict(new.counters) == dict(apply_changes(site, changes).counters)
    old_data, new_data = tomllib.loads(SMALL), tomllib.loads(out.read_text(encoding="utf-8"))
    del old_data["counter"], new_data["counter"]
    assert old_data == new_data
    text = out.read_text(encoding="utf-8")
    removed = [line for line in difflib.ndiff(SMALL.splitlines(), text.splitlines()) if line.startswith("- ")]
    # Only counter lines go: the ids of a split group, or a serves list that grew.
    assert removed and all(line[2:].startswith(("ids = [1, 2, 3]", "serves = [\"A\"]")) for line in removed)
    for line in SMALL.splitlines():
        if line.startswith("#") or "#" in line.partition("=")[2]:
            assert line in text  # comments kept


def test_plan_result_does_not_depend_on_jobs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, one, err, _ = _plan(tmp_path, SMALL, capsys=capsys)
    _, two, err2, _ = _plan(tmp_path, SMALL, "--jobs", "2", capsys=capsys)
    for body in (one, two):
        del body["search"]["wall_s"]
    assert one == two, (err, err2)


def test_plan_reports_what_no_layout_fixes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The police line is the short one now, and nobody may be trained for it.
    text = SMALL.replace('share = 0.35\nservice = 6.0', 'share = 0.10\nservice = 4.0')
    text = text.replace('share = 0.10\nservice = 4.0\n\n# A', 'share = 0.35\nservice = 6.0\n\n# A')
    assert text.count("service = 6.0") == 1 and 'name = "Thủ tục công an"\nshare = 0.35' in text
    rc, body, err, out = _plan(tmp_path, text, capsys=capsys)
    assert rc == 2 and not out.exists()
    assert body["error"]["code"] == "target_unreachable"
    assert "Traceback" not in err and "không đạt mục tiêu" in err and "out of reach" in err
    police = [entry for entry in body["cannot_fix"] if entry["agency"] == "CA"]
    assert police and police[0]["reason"] == "cross_train_false"
    assert all(h["counters_needed"] > h["counters_serving"] for h in police[0]["half_hours"])
    assert not [c for c in body["changes"] if c.get("agency") == "CA" or c["counter"] in (5, 6)]


@pytest.mark.parametrize(
    ("edit", "extra", "code", "says"),
    [
        (lambda t: t.replace("serves = [\"A\"]   # three", "fixed = true\nserves = [\"A\"]   #").replace(
            "id = 4\n", "id = 4\nfixed = true\n").replace("ids = [6]\n", "ids = [6]\nfixed = true\n"),
         [], "nothing_trainable", "every counter is marked fixed"),
        (lambda t: t, ["--weekday", "6"], "closed_weekday", "closed on Sunday"),
        (lambda t: t.replace("[[counter]]\nid = 4", "[[counter]\nid = 4"), [], "invalid_site", "not valid TOML"),
        (lambda t: t.replace("fixed = true", "fixd = true"), [], "invalid_site", "counter[2].fixd: unknown field"),
        (lambda t: t.replace("id = 4\n", "id = 4\nbreaks = [[\"10:00\", \"09:45\"]]\n"), [], "invalid_site",
         "counter[1].breaks[0]: ends before it starts"),
        (lambda t: t.replace("id = 4\n", "id = 4\nstandby_plan = [{ from = \"08:00\", to = \"09:00\" }]\n"), [],
         "invalid_site", "only a standby counter"),
        (lambda t: t, ["--target", "1.5"], "bad_argument", "--target must be in (0, 1]"),
        (lambda t: t, ["--max-added", "0"], "nothing_trainable", "--max-added"),
        (lambda t: 'counter = [{ ids = [1, 2, 3], serves = ["A"] }, { id = 4, serves = ["B"] }, '
         '{ id = 5, serves = ["C"] }, { id = 6, serves = ["CA"] }]\n' + t.split("# A's own counters")[0], [],
         "unsupported_layout", "not written as [[counter]] tables"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Any,
                                               extra: list[str], code: str, says: str) -> None:
    rc, body, err, out = _plan(tmp_path, edit(SMALL), *extra, capsys=capsys)
    assert rc == 2 and not out.exists()
    assert body["error"]["code"] == code
    assert says in err and says in body["error"]["message"]
    assert "Traceback" not in err


def test_the_console_script_refuses_a_province_file_without_a_traceback(tmp_path: Path) -> None:
    province = Path(__file__).resolve().parent.parent / "controller" / "sites" / "province.toml"
    done = subprocess.run(
        [sys.executable, "-m", "controller.cli", "plan", "--scenario", str(province), "--out",
         str(tmp_path / "new.toml")], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert "needs one centre's site file" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "new.toml").exists()


def test_the_report_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, body, err, _ = _plan(tmp_path, SMALL, "--report", str(tmp_path / "report"), capsys=capsys)
    assert rc == 0, err
    report = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    page = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    for change in body["changes"]:
        assert change["text"] in report and change["text"] in page
    assert "+serves = [\"A\", \"B\"]" in report  # the diff of the site file
    assert "http" not in page  # nothing loaded from outside
    for plot in ("curve.png", "agencies.png"):
        assert (tmp_path / "report" / plot).stat().st_size > 1000 and plot in page
