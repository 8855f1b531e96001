"""Modbus RTU codec for LED-485 displays: golden bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from counter_display.modbus import (
    ReadHolding,
    WriteSingle,
    decode_request,
    encode_exception,
    encode_read_response,
    encode_request,
    parse_read_response,
    parse_write_response,
    response_length,
)
from devices.errors import ProtocolError


def test_write_single_golden() -> None:
    # the reference example of the Modbus spec: slave 1, register 1, value 3
    assert encode_request(WriteSingle(1, 0x0001, 3)) == bytes.fromhex("01 06 00 01 00 03 98 0b")
    assert encode_request(WriteSingle(1, 0x0000, 1024)) == bytes.fromhex("01 06 00 00 04 00 8b 0a")


def test_read_holding_golden() -> None:
    assert encode_request(ReadHolding(1, 0, 1)) == bytes.fromhex("01 03 00 00 00 01 84 0a")


def test_exception_golden() -> None:
    assert encode_exception(1, 0x03, 0x02) == bytes.fromhex("01 83 02 c0 f1")


def test_echo_is_accepted() -> None:
    request = WriteSingle(7, 0, 2015)
    parse_write_response(request, encode_request(request))


def test_exception_response_raises_protocol_error() -> None:
    request = WriteSingle(7, 0, 2015)
    with pytest.raises(ProtocolError, match="illegal data value"):
        parse_write_response(request, encode_exception(7, 0x06, 0x03))


def test_bad_crc_and_mismatch_raise() -> None:
    request = WriteSingle(7, 0, 2015)
    echo = bytearray(encode_request(request))
    echo[5] ^= 1
    with pytest.raises(ProtocolError, match="CRC"):
        parse_write_response(request, bytes(echo))
    with pytest.raises(ProtocolError, match="does not match"):
        parse_write_response(request, encode_request(WriteSingle(7, 0, 2016)))


def test_read_response() -> None:
    request = ReadHolding(2, 0, 1)
    assert parse_read_response(request, encode_read_response(2, (1024,))) == (1024,)
    with pytest.raises(ProtocolError):
        parse_read_response(request, encode_read_response(2, (1, 2)))


def test_response_length() -> None:
    assert response_length(b"\x01") is None
    assert response_length(b"\x01\x06") == 8
    assert response_length(b"\x01\x86") == 5
    assert response_length(b"\x01\x03") is None
    assert response_length(b"\x01\x03\x02") == 7
    with pytest.raises(ProtocolError):
        response_length(b"\x01\x10")


def test_request_values_are_checked() -> None:
    with pytest.raises(ValueError):
        WriteSingle(0, 0, 1)
    with pytest.raises(ValueError):
        WriteSingle(1, 0, 65536)
    with pytest.raises(ValueError):
        ReadHolding(1, 0, 0)


@given(st.integers(1, 247), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF))
def test_request_round_trip(addr: int, register: int, value: int) -> None:
    request = WriteSingle(addr, register, value)
    assert decode_request(encode_request(request)) == request


def test_decode_request_rejects() -> None:
    with pytest.raises(ProtocolError):
        decode_request(b"\x01\x06\x00")
    with pytest.raises(ProtocolError):
        decode_request(bytes.fromhex("01 10 00 00 00 01 00 00"))
