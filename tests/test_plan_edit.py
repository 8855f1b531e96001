"""The planner's other moves (breaks off the peak, planned standby shifts) and the edited site file.

The file keeps everything the planner did not change, comments included; a change to one counter of a
group of `ids` splits the group; the comments that introduced the next table stay in front of it.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from controller.cli import main
from controller.sitefile import load_sites
from sim.plan_edit import edit_site_text
from sim.plan_layout import CrossTrain, MovedBreak, PlannedStandby, apply_changes, change_from_json
from tests.test_plan import FAST, SMALL

CENTRE = Path(__file__).resolve().parent.parent / "controller" / "sites" / "province-centre.toml"


def _changed_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    diff = list(difflib.ndiff(old.splitlines(), new.splitlines()))
    return [d[2:] for d in diff if d.startswith("- ")], [d[2:] for d in diff if d.startswith("+ ")]


def test_edits_split_groups_and_keep_comments(tmp_path: Path) -> None:
    text = CENTRE.read_text(encoding="utf-8")
    site = load_sites(CENTRE)[0]
    changes = [CrossTrain(1, "PHI"), CrossTrain(3, "PHI"), CrossTrain(5, "CT"), CrossTrain(48, "PHI"),
               CrossTrain(44, "GDDT"), CrossTrain(45, "GDDT"), CrossTrain(46, "GDDT"),
               PlannedStandby(49, 480, 630, ("GTVT", "TP"))]
    edited = edit_site_text(text, site, changes, str(CENTRE))
    (tmp_path / "new.toml").write_text(edited, encoding="utf-8")
    assert dict(load_sites(tmp_path / "new.toml")[0].counters) == dict(apply_changes(site, changes).counters)
    removed, added = _changed_lines(text, edited)
    assert removed == ["ids = [1, 2, 3, 4, 5, 6]", 'serves = ["TKQ"]',
                       'serves = ["GTVT", "TP", "KHDT", "LDTBXH", "BHXH", "TKQ"]', "ids = [49, 50, 51, 52, 53]"]
    assert "ids = [1, 3]" in added and "ids = [5]" in added and "ids = [2, 4, 6]" in added
    assert 'standby_plan = [{from = "08:00", to = "10:30", serves = ["GTVT", "TP"]}]' in added
    assert not [line for line in added if line.startswith("#")]
    # The standby heading still stands right before the standby counters' table.
    heading = edited.index("# Standby counters, closed at opening")
    assert edited.index("ids = [50, 51, 52, 53]") > heading > edited.index('serves = ["GTVT", "TP", "KHDT", "LDTBXH", '
                                                                           '"BHXH", "TKQ", "PHI"]')


def test_a_moved_break_changes_that_pair_only(tmp_path: Path) -> None:
    text = SMALL.replace("id = 4\n", 'id = 4\nbreaks = [["09:00", "09:30"], ["10:30", "10:45"]]  # agreed with staff\n')
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    site = load_sites(path)[0]
    edited = edit_site_text(text, site, [MovedBreak(4, (540, 570), (600, 630))], str(path))
    removed, added = _changed_lines(text, edited)
    assert removed == ['breaks = [["09:00", "09:30"], ["10:30", "10:45"]]  # agreed with staff']
    assert added == ['breaks = [["10:00", "10:30"], ["10:30", "10:45"]]  # agreed with staff']


def _run(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object], Path]:
    source, out = tmp_path / "site.toml", tmp_path / "new.toml"
    source.write_text(text, encoding="utf-8")
    rc = main(["plan", "--scenario", str(source), "--out", str(out), "--json", *FAST])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    return rc, json.loads(captured.out), out


def test_the_plan_moves_a_break_off_the_peak(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # B's only counter rests an hour at the morning peak, and nobody else may serve B.
    text = SMALL.replace('number_block = 2000\n', 'number_block = 2000\ncross_train = false\n')
    text = text.replace("share = 0.35\nservice = 6.0", "share = 0.15\nservice = 5.0")
    text = text.replace("id = 4\n", 'id = 4\nbreaks = [["08:30", "09:30"]]\n')
    _, body, out = _run(tmp_path, text, capsys)
    moves = [c for c in body["changes"] if c["kind"] == "break"]
    assert moves and moves[0]["counter"] == 4 and moves[0]["from"] == ["08:30", "09:30"]
    assert body["after"]["deadline"]["within_transaction_target"]["mean"] >= 0.95
    new = load_sites(out)[0]
    assert new.counters[4].breaks == apply_changes(load_sites(tmp_path / "site.toml")[0],
                                                   [change_from_json(c) for c in body["changes"]]).counters[4].breaks
    assert new.counters[4].breaks != ((510, 570),)


def test_the_plan_staffs_a_standby_counter_when_training_cannot_help(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # Nobody may be trained for B; a standby counter for B exists, and enforcement does not open it.
    text = SMALL.replace('number_block = 2000\n', 'number_block = 2000\ncross_train = false\n')
    text += '\n[[counter]]\nids = [7]\nserves = ["B"]\nstandby = true\n\n[scenario]\nauto_open_standby = false\n'
    _, body, out = _run(tmp_path, text, capsys)
    shifts = [c for c in body["changes"] if c["kind"] == "standby_plan"]
    assert shifts and shifts[0]["counter"] == 7 and shifts[0]["serves"] == ["B"]
    assert not [c for c in body["changes"] if c["kind"] == "cross_train" and c["agency"] == "B"]
    assert body["after"]["deadline"]["within_transaction_target"]["mean"] >= 0.95
    assert load_sites(out)[0].counters[7].standby_plan
    assert "[scenario]\nauto_open_standby = false" in out.read_text(encoding="utf-8")
