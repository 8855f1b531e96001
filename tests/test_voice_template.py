"""Announcement templates, announcements, and the plans they compose to (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.voice.compose import text_plan
from devices.voice.template import (
    Announcement,
    AnnouncementTemplate,
    Chime,
    Clip,
    Gap,
    Part,
    plan,
    split_phrases,
)


def spoken(parts: tuple[Part, ...]) -> list[str]:
    return [p.text for p in parts if isinstance(p, Clip)]


def test_call_is_chime_then_phrases_number_and_counter_read_as_numbers() -> None:
    template = AnnouncementTemplate(repeat=1)
    parts = plan(Announcement("t1", "1024", counter=5), template)
    assert parts[0] == Chime()
    assert parts[1] == Gap(template.chime_gap_s)
    assert spoken(parts) == [
        "Mời công dân có số thứ tự",
        "một",
        "nghìn",
        "không trăm",
        "hai mươi tư",
        "đến quầy số",
        "năm",
    ]
    assert " ".join(spoken(parts)) == ("Mời công dân có số thứ tự một nghìn không trăm hai mươi tư đến quầy số năm")


def test_gaps_separate_words_of_a_number_and_phrases() -> None:
    template = AnnouncementTemplate(repeat=1, chime=False, word_gap_s=0.05, phrase_gap_s=0.2)
    parts = plan(Announcement("t1", "21", counter=12), template)
    assert parts == (
        Clip("Mời công dân có số thứ tự", "vi"),
        Gap(0.2),
        Clip("hai mươi mốt", "vi"),
        Gap(0.2),
        Clip("đến quầy số", "vi"),
        Gap(0.2),
        Clip("mười hai", "vi"),
    )


def test_repeat_says_the_body_again_after_the_repeat_gap_with_one_chime() -> None:
    template = AnnouncementTemplate(repeat=2, repeat_gap_s=0.7)
    once = plan(Announcement("t1", "15", counter=3, repeat=1), template)
    twice = plan(Announcement("t1", "15", counter=3), template)
    thrice = plan(Announcement("t1", "15", counter=3, repeat=3), template)
    body = once[2:]
    assert twice == (*once, Gap(0.7), *body)
    assert thrice.count(Chime()) == 1
    assert spoken(thrice) == spoken(once) * 3


def test_recall_uses_the_recall_wording() -> None:
    parts = plan(Announcement("t1", "105", counter=2, kind="recall", repeat=1), AnnouncementTemplate())
    assert spoken(parts)[:2] == ["Xin mời lần nữa", "công dân có số thứ tự"]
    assert "một trăm" in spoken(parts) and "linh năm" in spoken(parts)


def test_southern_template_says_le_and_ngan() -> None:
    template = AnnouncementTemplate(southern=True, repeat=1, chime=False)
    words = spoken(plan(Announcement("t1", "1005", counter=1), template))
    assert words[1:5] == ["một", "ngàn", "không trăm", "lẻ năm"]


def test_digit_style_reads_ticket_digit_by_digit_but_counter_as_number() -> None:
    template = AnnouncementTemplate(number_style="digits", repeat=1, chime=False)
    words = spoken(plan(Announcement("t1", "0042", counter=14), template))
    assert words == ["Mời công dân có số thứ tự", "không", "không", "bốn", "hai", "đến quầy số", "mười bốn"]


def test_whole_style_drops_leading_zeros() -> None:
    template = AnnouncementTemplate(repeat=1, chime=False)
    assert spoken(plan(Announcement("t1", "0042", counter=1), template))[1] == "bốn mươi hai"


def test_english_follows_vietnamese_in_its_own_voice() -> None:
    template = AnnouncementTemplate(english_call="Ticket number {number}, please go to counter {counter}", repeat=1)
    parts = plan(Announcement("t1", "2015", counter=7), template)
    english = [p for p in parts if isinstance(p, Clip) and p.voice == "en"]
    assert [c.text for c in english] == [
        "Ticket number",
        "two",
        "zero",
        "one",
        "five",
        "please go to counter",
        "seven",
    ]
    # Vietnamese first.
    first_english = parts.index(english[0])
    assert all(p.voice == "vi" for p in parts[:first_english] if isinstance(p, Clip))


@given(
    number=st.integers(min_value=0, max_value=99_999),
    counter=st.integers(min_value=0, max_value=9_999),
    kind=st.sampled_from(["call", "recall"]),
    southern=st.booleans(),
    english=st.booleans(),
)
def test_every_clip_a_plan_needs_is_in_the_template_inventory(
    number: int, counter: int, kind: str, southern: bool, english: bool
) -> None:
    """So a library warmed with the inventory can say any announcement offline."""
    template = AnnouncementTemplate(
        southern=southern,
        english_call="Number {number}, counter {counter}" if english else None,
    )
    inventory = set(template.clip_inventory())
    announcement = Announcement("t", str(number), counter, kind=kind)  # type: ignore[arg-type]
    needed = {p for p in plan(announcement, template) if isinstance(p, Clip)}
    assert needed <= inventory


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"call": "Mời số {number}"}, "counter"),
        ({"recall": "Xin mời {ticket} quầy {counter}"}, "unknown placeholder"),
        ({"call": "Mời {number:>5} quầy {counter}"}, "unknown placeholder"),
        ({"call": "Mời {number quầy"}, "call"),
        ({"english_recall": "Again {number} {counter}"}, "english_call"),
        ({"repeat": 0}, "repeat"),
        ({"phrase_gap_s": -0.1}, "phrase_gap_s"),
        ({"number_style": "roman"}, "number_style"),
        ({"voice": "vi; rm -rf"}, "voice"),
        ({"call": "Mời {number} — {counter}"}, "no words"),
    ],
)
def test_bad_templates_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AnnouncementTemplate(**changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {"ticket_id": ""},
        {"number": "12a"},
        {"number": ""},
        {"number": "١٢"},  # Arabic-Indic digits are digits, but not ours
        {"counter": -1},
        {"counter": True},
        {"zone": "Hall A"},
        {"kind": "shout"},
        {"repeat": 9},
    ],
)
def test_bad_announcements_are_refused(changes: dict[str, object]) -> None:
    values: dict[str, object] = {"ticket_id": "t1", "number": "1024", "counter": 5} | changes
    with pytest.raises(ValueError):
        Announcement(**values)  # type: ignore[arg-type]


def test_template_from_a_site_table() -> None:
    template = AnnouncementTemplate.from_mapping(
        {
            "call": "Xin mời số {number} tới quầy {counter}",
            "repeat": 3,
            "southern": True,
            "phrase_gap_s": 1,
            "english_call": None,
        }
    )
    assert template.repeat == 3 and template.southern and template.phrase_gap_s == 1.0
    assert spoken(plan(Announcement("t", "5", 2, repeat=1), template)) == ["Xin mời số", "năm", "tới quầy", "hai"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"volume": 3}, "voice.volume: unknown"),
        ({"repeat": "2"}, "voice.repeat: wrong type"),
        ({"repeat": True}, "voice.repeat: wrong type"),
        ({"southern": 1}, "voice.southern: wrong type"),
        ({"call": None}, "voice.call: wrong type"),
        ({"repeat": 7}, "voice.repeat"),
    ],
)
def test_bad_site_tables_name_the_field(table: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AnnouncementTemplate.from_mapping(table)


def test_split_phrases_at_punctuation() -> None:
    assert split_phrases(" Xin mời lần nữa,  công dân có số thứ tự ") == [
        "Xin mời lần nữa",
        "công dân có số thứ tự",
    ]


def test_free_text_uses_known_phrases_numbers_and_leftovers() -> None:
    template = AnnouncementTemplate()
    phrases = [c.text for c in template.clip_inventory()]
    parts = text_plan("mời công dân có số thứ tự 2015 đến quầy số 7, xin cảm ơn", template, phrases)
    assert parts[0] == Chime()
    assert spoken(parts) == [
        "Mời công dân có số thứ tự",
        "hai",
        "nghìn",
        "không trăm",
        "mười lăm",
        "đến quầy số",
        "bảy",
        "xin cảm ơn",
    ]
    # Digits only: the number, read as a number; a phone-like code digit by digit.
    assert spoken(text_plan("1024", template, phrases)) == ["một", "nghìn", "không trăm", "hai mươi tư"]
    assert spoken(text_plan("09", template, phrases)) == ["không", "chín"]
    with pytest.raises(ValueError):
        text_plan(" ,.! ", template, phrases)
