"""The [scenario] table is parsed strictly: good tables become values, bad fields are named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from controller.core.errors import SiteError
from controller.sitefile import load_document
from sim.scenario import CounterClosed, DeviceDown, StaffLate, Surge, Window, parse_scenario

ROOT = Path(__file__).resolve().parent.parent
CENTRE = ROOT / "controller" / "sites" / "province-centre.toml"


@pytest.fixture(scope="module")
def sites() -> list[Any]:
    return load_document(CENTRE)[0]


def test_contract_example_parses(sites: list[Any]) -> None:
    table = {
        "seed": 7,
        "weekday": 0,
        "event": [
            {"kind": "counter_closed", "counters": [1, 2], "from": "08:00", "to": "10:00"},
            {"kind": "staff_late", "counters": [7], "minutes": 40},
            {"kind": "surge", "agency": "LDTBXH", "factor": 2.0, "from": "09:00", "to": "10:30"},
            {"kind": "device_down", "device": "printer", "from": "09:30", "to": "10:00"},
        ],
    }
    scenario = parse_scenario(table, "x.toml", sites)
    assert scenario.seed == 7 and scenario.weekday == 0 and scenario.auto_open_standby
    assert scenario.events == (
        CounterClosed("tinh", (1, 2), Window(8 * 3600, 10 * 3600)),
        StaffLate("tinh", (7,), 2400.0),
        Surge("tinh", "LDTBXH", 2.0, Window(9 * 3600, 10.5 * 3600)),
        DeviceDown("tinh", "printer", Window(9.5 * 3600, 10 * 3600)),
    )


def test_defaults_without_a_table(sites: list[Any]) -> None:
    scenario = parse_scenario({}, "x.toml", sites)
    assert (scenario.seed, scenario.weekday, scenario.events, scenario.no_show_share) == (1, 2, (), 0.0)


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"colour": "red"}, "scenario.colour"),
        ({"weekday": 7}, "scenario.weekday"),
        ({"seed": "seven"}, "scenario.seed"),
        ({"auto_open_standby": "yes"}, "scenario.auto_open_standby"),
        ({"no_show_share": 1.5}, "scenario.no_show_share"),
        ({"event": {"kind": "surge"}}, "scenario.event"),
        ({"event": [{"kind": "flood"}]}, "scenario.event[0].kind"),
        ({"event": [{"kind": "staff_late", "counters": [99], "minutes": 5}]}, "scenario.event[0].counters"),
        ({"event": [{"kind": "staff_late", "counters": [1], "minutes": -5}]}, "scenario.event[0].minutes"),
        ({"event": [{"kind": "counter_closed", "counters": [1], "from": "10:00", "to": "09:00"}]},
         "scenario.event[0].to"),
        ({"event": [{"kind": "counter_closed", "counters": [1], "from": "8h", "to": "09:00"}]},
         "scenario.event[0].from"),
        ({"event": [{"kind": "surge", "agency": "NOPE", "factor": 2, "from": "08:00", "to": "09:00"}]},
         "scenario.event[0].agency"),
        ({"event": [{"kind": "surge", "agency": "TP", "factor": True, "from": "08:00", "to": "09:00"}]},
         "scenario.event[0].factor"),
        ({"event": [{"kind": "device_down", "device": "display:99", "from": "08:00", "to": "09:00"}]},
         "scenario.event[0].device"),
        ({"event": [{"kind": "device_down", "device": "fax", "from": "08:00", "to": "09:00"}]},
         "scenario.event[0].device"),
        ({"event": [{"kind": "device_down", "device": "printer", "from": "08:00", "to": "09:00", "x": 1}]},
         "scenario.event[0].x"),
        ({"event": [{"kind": "surge", "site": "elsewhere", "agency": "TP", "factor": 2,
                     "from": "08:00", "to": "09:00"}]}, "scenario.event[0].site"),
    ],
)
def test_bad_fields_are_refused_by_name(sites: list[Any], table: dict[str, Any], field: str) -> None:
    with pytest.raises(SiteError) as caught:
        parse_scenario(table, "bad.toml", sites)
    assert caught.value.field == field
    assert caught.value.source == "bad.toml"
    assert field in str(caught.value)


def test_cli_refuses_a_bad_scenario_naming_the_field(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text(
        f'[scenario]\nsite = "{CENTRE}"\nweekday = 0\n'
        '[[scenario.event]]\nkind = "surge"\nagency = "TP"\nfactor = 2.0\nfrom = "09:00"\nto = "25:00"\n',
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "controller.cli", "sim", "--scenario", str(scenario), "--json"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "scenario.event[0].to" in done.stderr and "bad.toml" in done.stderr
