"""DLE EOT status bytes: golden answers, rejection of noise, and the fake's answers round-trip."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.errors import ProtocolError
from devices.printer.status import (
    ErrorCause,
    OfflineCause,
    PaperLevel,
    PrinterHealth,
    encode_status_bytes,
    health_from_status,
    parse_error_cause,
    parse_offline_cause,
    parse_paper,
    parse_printer_online,
    status_query,
)


def test_status_queries_are_dle_eot_n() -> None:
    assert [status_query(n) for n in (1, 2, 3, 4)] == [
        b"\x10\x04\x01", b"\x10\x04\x02", b"\x10\x04\x03", b"\x10\x04\x04",
    ]
    with pytest.raises(ValueError):
        status_query(5)


@pytest.mark.parametrize(("byte", "online"), [(0x12, True), (0x16, True), (0x1A, False),
                                               (0x5A, False), (0x52, True)])
def test_printer_status_golden(byte: int, online: bool) -> None:
    assert parse_printer_online(byte) is online


@pytest.mark.parametrize(
    ("byte", "cause"),
    [
        (0x12, OfflineCause()),
        (0x16, OfflineCause(cover_open=True)),
        (0x1A, OfflineCause(feeding=True)),
        (0x32, OfflineCause(paper_end_stop=True)),
        (0x52, OfflineCause(error=True)),
        (0x76, OfflineCause(cover_open=True, paper_end_stop=True, error=True)),
    ],
)
def test_offline_cause_golden(byte: int, cause: OfflineCause) -> None:
    assert parse_offline_cause(byte) == cause


@pytest.mark.parametrize(
    ("byte", "cause"),
    [
        (0x12, ErrorCause()),
        (0x16, ErrorCause(recoverable=True)),
        (0x1A, ErrorCause(cutter=True)),
        (0x32, ErrorCause(unrecoverable=True)),
        (0x52, ErrorCause(auto_recoverable=True)),
    ],
)
def test_error_cause_golden(byte: int, cause: ErrorCause) -> None:
    assert parse_error_cause(byte) == cause


@pytest.mark.parametrize(
    ("byte", "level"),
    [
        (0x12, PaperLevel.OK),
        (0x1E, PaperLevel.NEAR_END),
        (0x16, PaperLevel.NEAR_END),  # models that set only one bit of the pair
        (0x72, PaperLevel.OUT),
        (0x7E, PaperLevel.OUT),
        (0x32, PaperLevel.OUT),
    ],
)
def test_paper_sensor_golden(byte: int, level: PaperLevel) -> None:
    assert parse_paper(byte) is level


@pytest.mark.parametrize("byte", [0x00, 0xFF, 0x10, 0x02, 0x92, 0x13, 0x100, -1])
def test_bytes_without_the_fixed_bits_are_protocol_errors(byte: int) -> None:
    for parse in (parse_printer_online, parse_offline_cause, parse_error_cause, parse_paper):
        with pytest.raises(ProtocolError, match="not a status byte"):
            parse(byte)


def test_health_from_golden_answers() -> None:
    ready = health_from_status(0x12, 0x12)
    assert ready == PrinterHealth(reachable=True, online=True, paper=PaperLevel.OK,
                                  cover_open=False, error=None)
    assert ready.can_print and ready.describe() == "ready"

    near_end = health_from_status(0x12, 0x1E)
    assert near_end.can_print and near_end.describe() == "paper near end"

    paper_out = health_from_status(0x1A, 0x7E, offline_cause=0x32)
    assert not paper_out.can_print and paper_out.describe() == "paper out"

    cover = health_from_status(0x1A, 0x12, offline_cause=0x16)
    assert cover.cover_open and cover.describe() == "cover open"

    cutter = health_from_status(0x1A, 0x12, offline_cause=0x52, error_cause=0x1A)
    assert cutter.error == "autocutter error" and not cutter.can_print


def test_unknown_and_unreachable_health() -> None:
    one_way = PrinterHealth(reachable=True)
    assert one_way.can_print and one_way.describe() == "reachable, status unknown"
    down = PrinterHealth(reachable=False, error="connection refused")
    assert not down.can_print and down.describe() == "unreachable (connection refused)"
    assert down.as_payload() == {
        "reachable": False, "online": None, "paper": "unknown", "cover_open": None,
        "error": "connection refused", "can_print": False,
    }


def test_encoded_answers_are_the_golden_bytes() -> None:
    assert encode_status_bytes() == {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}
    assert encode_status_bytes(paper=PaperLevel.OUT) == {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x7E}
    assert encode_status_bytes(cover_open=True)[2] == 0x16


@given(
    online=st.booleans(),
    paper=st.sampled_from([PaperLevel.OK, PaperLevel.NEAR_END, PaperLevel.OUT]),
    cover_open=st.booleans(),
    error=st.booleans(),
)
def test_fake_answers_parse_back_to_the_same_state(
    online: bool, paper: PaperLevel, cover_open: bool, error: bool
) -> None:
    answers = encode_status_bytes(online, paper, cover_open, error)
    offline = not parse_printer_online(answers[1])
    health = health_from_status(
        answers[1],
        answers[4],
        answers[2] if offline else None,
        answers[3] if offline and parse_offline_cause(answers[2]).error else None,
    )
    assert health.paper is paper
    assert health.cover_open is cover_open
    assert (health.error is not None) is error
    assert health.can_print is (online and not cover_open and not error
                                and paper is not PaperLevel.OUT)
