"""Site files: the demo sites load; a bad file is refused with file, field and reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from controller.core.errors import SiteError
from controller.core.site import parse_site
from controller.sitefile import load_sites, read_toml

SITES = Path(__file__).resolve().parent.parent / "controller" / "sites"


def demo() -> dict[str, Any]:
    return read_toml(SITES / "commune-centre.toml")


def test_demo_sites_load() -> None:
    centre = load_sites(SITES / "province-centre.toml")[0]
    assert len(centre.counters) == 53 and centre.counters[49].standby and centre.counters[48].priority
    assert centre.journey("gtvt-doi-gplx") == ("gtvt-doi-gplx", "phi-nop-phi", "tkq-tra-tai-cho")
    assert centre.utc_offset_s == 7 * 3600
    commune = load_sites(SITES / "commune-centre.toml")[0]
    # A commune takes fees at the result counter: the fee step is found by its name.
    assert commune.fee_procedure == "phi-nop-phi" and commune.result_procedure == "tkq-tra-tai-cho"
    province = load_sites(SITES / "province.toml")
    assert len(province) == 100 and len({s.id for s in province}) == 100
    assert province[1].expected_daily_visits == pytest.approx(2.5 * 120)
    assert province[1].name_en == "Commune Public Administration Service Centre no. 1"


def test_demo_sites_are_complete_in_english() -> None:
    """A citizen who switches a screen to English meets no Vietnamese name or paper list (issue 15)."""
    for name in ("province-centre.toml", "commune-centre.toml"):
        site = load_sites(SITES / name)[0]
        assert site.name_en, name
        assert all(a.name_en for a in site.agencies.values()), name
        for p in site.procedures.values():
            assert p.name_en, p.id
            assert len(p.papers_en) == len(p.papers), p.id
        assert any(p.papers_en for p in site.procedures.values()), name


def mutate(path: list[Any], value: Any) -> dict[str, Any]:
    data = demo()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "field", "reason"),
    [
        (["site", "id"], "bad id!", "site.id", "not a valid id"),
        (["site", "hours"], [["11:00", "07:00"]], "site.hours[0]", "closes before it opens"),
        (["site", "hours"], [["7h30", "11:30"]], "site.hours[0][0]", "HH:MM"),
        (["site", "wait_target_transaction_min"], -5, "site.wait_target_transaction_min", "must be >"),
        (["agency", 1, "number_block"], 1000, "agency[1].number_block", "already used"),
        (["agency", 0, "role"], "boss", "agency[0].role", "must be one of"),
        (["procedure", 0, "agency"], "NOPE", "procedure[ht-khai-sinh].agency", "unknown agency"),
        (["procedure", 0, "service"], "seven", "procedure[ht-khai-sinh].service", "must be a number"),
        (["counter", 0, "serves"], ["HT", "NOPE"], "counter[0].serves", "unknown agency"),
        (["counter", 1, "ids"], [1], "counter[1].ids", "defined twice"),
        (["arrivals", "weekday_factor"], [1.0, 1.0], "arrivals.weekday_factor", "needs 7 values"),
        (["arrivals", "half_hour_weights"], [1.0], "arrivals.half_hour_weights", "needs 15 values"),
        (["site", "rating_levels"], 7, "site.rating_levels", "must be <= 5"),
        (["site", "hours"], [["08:00", "08:10"]], "site.issue_cutoff_min", "leaves no time to issue tickets"),
        # A misspelt key was dropped silently and the site ran half-configured.
        (["counter", 4, "priorty"], True, "counter[4].priorty", "unknown field"),
        (["procedure", 0, "on_the_spot"], 15, "procedure[ht-khai-sinh].on_the_spot", "unknown field"),
        (["agency", 0, "numberblock"], 1000, "agency[0].numberblock", "unknown field"),
        (["site", "timezone_name"], "Asia/Bangkok", "site.timezone_name", "unknown field"),
        (["arrivals", "abandon_after"], 30, "arrivals.abandon_after", "unknown field"),
        (["counters"], [], "counters", "unknown field"),
        # English texts: strings, and the papers translated one for one (never half a list in English)
        (["procedure", 0, "papers_en"], ["Birth registration form"], "procedure[ht-khai-sinh].papers_en",
         "must translate each of the 3 papers in order, got 1"),
        (["procedure", 2, "papers_en"], ["A form"], "procedure[ht-khai-tu].papers_en",
         "must translate each of the 0 papers in order, got 1"),
        (["procedure", 0, "papers_en"], "Birth registration form", "procedure[ht-khai-sinh].papers_en",
         "must be an array of non-empty strings"),
        (["procedure", 0, "name_en"], 12, "procedure[ht-khai-sinh].name_en", "must be a string"),
        (["agency", 0, "name_en"], ["Justice"], "agency[0].name_en", "must be a string"),
        (["site", "name_en"], True, "site.name_en", "must be a string"),
        (["procedure", 0, "paper_en"], ["A form"], "procedure[ht-khai-sinh].paper_en", "unknown field"),
        # the receipt's QR gets a number for a kiosk procedure; the card offers the elderly priority from an age
        (["site", "result_return_procedure"], "tkq-tra-tai-cho", "site.result_return_procedure",
         "not a procedure chosen at the kiosk"),
        (["site", "elderly_priority_age"], 30, "site.elderly_priority_age", "must be >= 50"),
    ],
)
def test_bad_site_names_field_and_reason(path: list[Any], value: Any, field: str, reason: str) -> None:
    with pytest.raises(SiteError) as info:
        parse_site(mutate(path, value), "xa.toml")
    assert info.value.source == "xa.toml"
    assert info.value.field == field
    assert reason in info.value.reason


def test_agency_without_counter_is_refused() -> None:
    data = demo()
    data["counter"] = [c for c in data["counter"] if "VHXH" not in c["serves"]]
    with pytest.raises(SiteError, match="no counter serves"):
        parse_site(data, "xa.toml")


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(SiteError, match="file not found"):
        load_sites(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[site\nid = 1", encoding="utf-8")
    with pytest.raises(SiteError, match="not valid TOML"):
        load_sites(broken)


def test_bad_device_entry_is_refused_with_its_field(tmp_path: Path) -> None:
    text = (SITES / "commune-centre.toml").read_text(encoding="utf-8")
    bad = tmp_path / "xa.toml"
    bad.write_text(text + '\n[[device]]\nid = "led-9"\nkind = "display"\ncounter = 99\n', encoding="utf-8")
    with pytest.raises(SiteError) as info:
        load_sites(bad)
    assert info.value.source == str(bad) and info.value.field.startswith("device[0]")
    assert "99" in info.value.reason
