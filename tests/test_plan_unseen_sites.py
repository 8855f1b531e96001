"""`motcua plan` on generated sites of every shape the format allows: a proposal or a clear refusal, never a crash."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.cli import main
from controller.sitefile import load_sites
from sim.plan_layout import apply_changes, change_from_json
from tests.site_strategies import site_dicts, to_toml

REFUSALS = {"closed_weekday", "nothing_trainable", "target_unreachable"}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=site_dicts(max_visits=40), weekday=st.integers(0, 6))
def test_plan_proposes_or_refuses_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str], data: dict[str, Any],
                                          weekday: int) -> None:
    source, out = tmp_path / "site.toml", tmp_path / "new.toml"
    out.unlink(missing_ok=True)
    source.write_text(to_toml(data), encoding="utf-8")
    rc = main(["plan", "--scenario", str(source), "--out", str(out), "--weekday", str(weekday), "--target", "0.9",
               "--seeds", "1", "--held-out", "1", "--jobs", "1", "--json"])
    captured = capsys.readouterr()
    body = json.loads(captured.out)
    assert "Traceback" not in captured.err
    if rc == 2:
        assert body["error"]["code"] in REFUSALS and body["error"]["message"] in captured.err
        assert not out.exists()
        return
    assert rc == 0
    assert set(body["seeds"]["search"]).isdisjoint(body["seeds"]["held_out"])
    site, new = load_sites(source)[0], load_sites(out)[0]
    changes = [change_from_json(c) for c in body["changes"]]
    assert dict(new.counters) == dict(apply_changes(site, changes).counters)
    before, after = tomllib.loads(source.read_text(encoding="utf-8")), tomllib.loads(out.read_text(encoding="utf-8"))
    del before["counter"], after["counter"]
    assert before == after
    assert body["after"]["deadline"]["within_transaction_target"]["mean"] >= 0.9
