"""Vietnamese number reading: the rules people use, both dialects, and the reverse parser."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.voice.numerals import (
    MAX_NUMBER,
    NORTHERN,
    SOUTHERN,
    ReadingStyle,
    chunk_inventory,
    digit_chunks,
    english_digit_chunks,
    number_chunks,
    parse_number,
    read_number,
    reading_style,
)

NORTHERN_TABLE = {
    0: "không",
    1: "một",
    4: "bốn",
    5: "năm",
    10: "mười",
    11: "mười một",
    14: "mười bốn",
    15: "mười lăm",
    20: "hai mươi",
    21: "hai mươi mốt",
    24: "hai mươi tư",
    25: "hai mươi lăm",
    41: "bốn mươi mốt",
    44: "bốn mươi tư",
    55: "năm mươi lăm",
    94: "chín mươi tư",
    100: "một trăm",
    101: "một trăm linh một",
    104: "một trăm linh bốn",
    105: "một trăm linh năm",
    110: "một trăm mười",
    115: "một trăm mười lăm",
    121: "một trăm hai mươi mốt",
    1000: "một nghìn",
    1001: "một nghìn không trăm linh một",
    1005: "một nghìn không trăm linh năm",
    1010: "một nghìn không trăm mười",
    1024: "một nghìn không trăm hai mươi tư",
    1100: "một nghìn một trăm",
    2015: "hai nghìn không trăm mười lăm",
    10000: "mười nghìn",
    15000: "mười lăm nghìn",
    20999: "hai mươi nghìn chín trăm chín mươi chín",
    21000: "hai mươi mốt nghìn",
    24005: "hai mươi tư nghìn không trăm linh năm",
    99999: "chín mươi chín nghìn chín trăm chín mươi chín",
    100000: "một trăm nghìn",
    105000: "một trăm linh năm nghìn",
    1000000: "một triệu",
    1000024: "một triệu không trăm hai mươi tư",
    1005000: "một triệu không trăm linh năm nghìn",
    2000000000: "hai tỷ",
}

SOUTHERN_TABLE = {
    105: "một trăm lẻ năm",
    1005: "một ngàn không trăm lẻ năm",
    1024: "một ngàn không trăm hai mươi tư",
    2015: "hai ngàn không trăm mười lăm",
    20999: "hai mươi ngàn chín trăm chín mươi chín",
}


@pytest.mark.parametrize(("number", "reading"), sorted(NORTHERN_TABLE.items()))
def test_northern_reading(number: int, reading: str) -> None:
    assert read_number(number) == reading
    assert parse_number(reading) == number


@pytest.mark.parametrize(("number", "reading"), sorted(SOUTHERN_TABLE.items()))
def test_southern_reading(number: int, reading: str) -> None:
    assert read_number(number, SOUTHERN) == reading
    assert read_number(number, reading_style(southern=True)) == reading
    assert parse_number(reading) == number


def test_chunks_split_at_group_and_hundreds_boundaries() -> None:
    assert number_chunks(20999) == ("hai mươi", "nghìn", "chín trăm", "chín mươi chín")
    assert number_chunks(1005) == ("một", "nghìn", "không trăm", "linh năm")
    assert number_chunks(7) == ("bảy",)


def test_every_number_to_99999_reads_in_words_round_trips_and_uses_known_chunks() -> None:
    # Exhaustive over the ticket range: cheap (about a second) and stronger than sampling.
    for style in (NORTHERN, SOUTHERN):
        inventory = set(chunk_inventory(style))
        for number in range(100_000):
            chunks = number_chunks(number, style)
            reading = " ".join(chunks)
            assert not any(c.isdigit() for c in reading), reading
            assert set(chunks) <= inventory, (number, chunks)
            assert parse_number(reading) == number, reading


@given(st.integers(min_value=0, max_value=99_999), st.sampled_from([NORTHERN, SOUTHERN]))
def test_property_reading_round_trips(number: int, style: ReadingStyle) -> None:
    reading = read_number(number, style)
    assert not any(c.isdigit() for c in reading)
    assert parse_number(reading) == number
    # "tư" is only said after "mươi" (24..94), "mốt" likewise.
    words = reading.split()
    for i, word in enumerate(words):
        if word in ("tư", "mốt"):
            assert i > 0 and words[i - 1] == "mươi", reading


@given(st.integers(min_value=0, max_value=MAX_NUMBER))
def test_property_large_numbers_round_trip(number: int) -> None:
    assert parse_number(read_number(number)) == number
    assert parse_number(read_number(number, SOUTHERN)) == number


@pytest.mark.parametrize(
    ("variant", "number"),
    [
        ("mười tư", 14),
        ("hai mươi bốn", 24),
        ("hai mươi một", 21),
        ("hai mươi nhăm", 25),
        ("Một Nghìn Không Trăm Linh Năm.", 1005),
        ("bốn tỉ", 4_000_000_000),
        ("bẩy", 7),
    ],
)
def test_parser_accepts_spoken_variants(variant: str, number: int) -> None:
    assert parse_number(variant) == number


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "1024",
        "mười mười",
        "linh năm",
        "một trăm năm linh",
        "hai mươi năm",
        "mười mốt",
        "nghìn",
        "một nghìn hai mươi",
        "một nghìn một triệu",
        "không trăm",
        "một mươi",
        "trăm",
        "hai ba",
        "một trăm hai",
    ],
)
def test_parser_rejects_malformed_readings(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_number(bad)


@pytest.mark.parametrize("bad", [-1, MAX_NUMBER + 1])
def test_out_of_range_numbers_are_refused(bad: int) -> None:
    with pytest.raises(ValueError):
        read_number(bad)


def test_non_int_is_refused() -> None:
    with pytest.raises(TypeError):
        number_chunks(True)


def test_digit_by_digit_readings() -> None:
    assert digit_chunks("1024") == ("một", "không", "hai", "bốn")
    assert english_digit_chunks("105") == ("one", "zero", "five")
    with pytest.raises(ValueError):
        digit_chunks("12a")
    with pytest.raises(ValueError):
        digit_chunks("")


def test_style_validates_its_words() -> None:
    with pytest.raises(ValueError):
        ReadingStyle(zero_tens="le")  # type: ignore[arg-type]
