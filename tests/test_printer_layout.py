"""Ticket value, wording, Pillow layout (Vietnamese glyphs, number near the top, QR) and text fallback."""

from __future__ import annotations

import dataclasses
import json
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import qrcode
import qrcode.constants
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from devices.printer import (
    PRIORITY_LABELS,
    PrinterProfile,
    TicketPrint,
    render_ticket,
    sample_ticket,
    strip_diacritics,
    text_ticket_lines,
    ticket_status_url,
)
from devices.printer.layout import font
from devices.printer.wording import format_counters, format_wait, ticket_wording

VN = timezone(timedelta(hours=7))


def _ticket(**changes: Any) -> TicketPrint:
    return dataclasses.replace(sample_ticket(datetime(2025, 5, 21, 8, 15, tzinfo=VN)), **changes)


def _black_share(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    region = image.crop(box)
    histogram = region.histogram()
    return histogram[0] / (region.width * region.height)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"number": "20 15"}, "ticket number"),
        ({"number": ""}, "ticket number"),
        ({"site_name": "   "}, "must not be empty"),
        ({"counters": (3, 3)}, "repeat"),
        ({"counters": (0,)}, "positive counter"),
        ({"counters": [1, 2]}, "tuple"),
        ({"people_ahead": -1}, "non-negative"),
        ({"estimated_wait_s": True}, "non-negative"),
        ({"issued_at": datetime(2025, 5, 21, 8, 15)}, "timezone-aware"),
        ({"status_url": "ftp://x/t/a/b"}, "http"),
        ({"status_url": "http://host/ticket/1"}, "/t/"),
        ({"priority": "vip"}, "priority"),
    ],
)
def test_bad_tickets_are_refused_when_made(change: dict[str, object], message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        _ticket(**change)


def test_ticket_text_is_normalised_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Sở  Tư pháp")
    assert _ticket(agency_name=decomposed).agency_name == "Sở Tư pháp"


def test_ticket_payload_round_trips_and_bad_payloads_name_the_field() -> None:
    ticket = _ticket()
    payload = ticket.as_payload()
    assert json.loads(json.dumps(payload)) == payload
    assert TicketPrint.from_payload(payload) == ticket
    assert TicketPrint.from_payload({**payload, "priority": None}).priority is None
    with pytest.raises(ValueError, match="missing \\['number'\\]"):
        TicketPrint.from_payload({k: v for k, v in payload.items() if k != "number"})
    with pytest.raises(ValueError, match="people_ahead"):
        TicketPrint.from_payload({**payload, "people_ahead": "4"})
    with pytest.raises(ValueError, match="issued_at"):
        TicketPrint.from_payload({**payload, "issued_at": "yesterday"})
    with pytest.raises(ValueError, match="site_name"):
        TicketPrint.from_payload({**payload, "site_name": 7})


def test_status_url_is_built_on_the_public_base() -> None:
    assert ticket_status_url("https://hcc.bacninh.gov.vn/", "bac-ninh", "01H X") == (
        "https://hcc.bacninh.gov.vn/t/bac-ninh/01H%20X"
    )
    with pytest.raises(ValueError):
        ticket_status_url("hcc.bacninh.gov.vn", "bac-ninh", "1")


def test_counters_and_waits_read_naturally() -> None:
    assert format_counters((7, 3, 4, 5)) == "3-5, 7"
    assert format_counters((1, 2, 9)) == "1, 2, 9"
    assert format_wait(0).vi == "dưới 1 phút"
    assert format_wait(540) == format_wait(481)
    assert format_wait(540).vi == "khoảng 9 phút" and format_wait(540).en == "about 9 min"
    assert format_wait(3900).vi == "khoảng 1 giờ 5 phút"
    assert format_wait(7200).en == "about 2 h"


def test_wording_is_vietnamese_first_with_priority_only_when_it_applies() -> None:
    words = ticket_wording(_ticket())
    assert words.priority is not None and words.priority.vi == "Ưu tiên: người cao tuổi"
    assert words.counters.vi == "Quầy phục vụ: 3-5, 7" and words.counters.en == "Counter: 3-5, 7"
    assert words.issued.vi == "Giờ lấy số: 08:15 ngày 21/05/2025"
    assert ticket_wording(_ticket(priority=None)).priority is None
    assert "xem màn hình" in ticket_wording(_ticket(counters=())).counters.vi
    assert set(PRIORITY_LABELS) == {"elderly", "pregnant", "disabled", "child", "merit"}


def test_the_shipped_font_has_every_vietnamese_letter() -> None:
    letters = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
    tones = ["", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323"]
    vowels = "aăâeêioôơuưy"
    every = set(letters + letters.upper())
    for vowel in vowels + vowels.upper():
        every.update(unicodedata.normalize("NFC", vowel + tone) for tone in tones)
    for bold in (False, True):
        face = font(24, bold)
        missing = bytes(face.getmask("\U0010fffd"))  # no font has this: the notdef box
        without_glyph = [ch for ch in sorted(every) if bytes(face.getmask(ch)) == missing]
        assert without_glyph == []


@pytest.mark.parametrize("width_mm", [58, 80])
def test_layout_is_paper_wide_with_the_number_big_near_the_top(width_mm: int) -> None:
    profile = PrinterProfile(width_mm=width_mm)  # type: ignore[arg-type]
    rendered = render_ticket(_ticket(), profile)
    image = rendered.image
    assert image.mode == "1" and image.width == profile.dots
    left, top, right, _bottom = rendered.number_box
    assert top < image.height * 0.3, "the number is in the top third"
    assert right - left > profile.dots * 0.6, "the number spans most of the width"
    assert _black_share(image, rendered.number_box) > 0.25
    assert _black_share(image, (0, 0, image.width, top)) > 0.02, "the site name is above it"
    # Thresholded, not dithered or grey: only paper and dots.
    assert set(image.convert("L").getextrema()) == {0, 255}


def test_priority_adds_a_highlighted_band() -> None:
    with_priority = render_ticket(_ticket(), PrinterProfile()).image
    without = render_ticket(_ticket(priority=None), PrinterProfile()).image
    assert with_priority.height > without.height + 40


def test_qr_code_encodes_the_status_url() -> None:
    ticket = _ticket(status_url="https://hcc.example.vn/t/bac-ninh/01HZX3Q9K2")
    rendered = render_ticket(ticket, PrinterProfile(width_mm=58))
    # No QR decoder is available offline: regenerate the code with the qrcode
    # library and compare it module by module with the printed image.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(ticket.status_url)
    code.make(fit=True)
    expected = code.get_matrix()
    left, top, right, bottom = rendered.qr_box
    module = rendered.qr_module_px
    assert (right - left) == (bottom - top) == module * len(expected)
    assert module >= 3
    image = rendered.image
    for row, cells in enumerate(expected):
        for col, dark in enumerate(cells):
            x, y = left + col * module + module // 2, top + row * module + module // 2
            assert (image.getpixel((x, y)) == 0) == dark, (row, col)


def test_a_number_that_returns_later_prints_when_and_a_qr_the_kiosk_reads_as_its_code() -> None:
    back = datetime(2025, 5, 21, 9, 5, tzinfo=VN)
    ticket = _ticket(priority=None, return_at=back, check_in="2015-K7QX9M", dossier="000.00.21.H29-241207-0001",
                     dossier_early=True)
    words = ticket_wording(ticket)
    assert words.come_back is not None and words.come_back.vi == "Mời quay lại lúc 09:05"
    assert words.come_back.en == "Please come back at 09:05"
    assert words.check_in is not None and "2015-K7QX9M" in words.check_in.vi
    assert words.dossier is not None and words.dossier.vi == "Hồ sơ: 000.00.21.H29-241207-0001 (trước ngày hẹn trả)"
    assert ticket.qr_text == f"{ticket.status_url}#2015-K7QX9M" == words.status_url
    plain = render_ticket(_ticket(priority=None), PrinterProfile()).image
    assert render_ticket(ticket, PrinterProfile()).image.height > plain.height + 100  # the time, the code, the file
    lines = [line.text for line in text_ticket_lines(ticket, 32)]
    assert "Moi quay lai luc 09:05" in lines and any("2015-K7QX9M" in line for line in lines)
    assert TicketPrint.from_payload(json.loads(json.dumps(ticket.as_payload()))) == ticket
    for change, message in [({"check_in": None}, "both"), ({"check_in": "2015-K7QX9I"}, "check_in"),
                            ({"return_at": datetime(2025, 5, 21, 9, 5)}, "timezone-aware"),
                            ({"dossier": "x y"}, "dossier")]:
        with pytest.raises(ValueError, match=message):
            dataclasses.replace(ticket, **change)


def test_long_names_wrap_instead_of_running_off_the_paper() -> None:
    long_name = ("Cấp đổi giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác "
                 "gắn liền với đất do bị ố, nhòe, rách, hư hỏng")
    short = render_ticket(_ticket(procedure_name="Cấp đổi"), PrinterProfile(width_mm=58))
    long = render_ticket(_ticket(procedure_name=long_name), PrinterProfile(width_mm=58))
    assert long.image.width == 384 and long.image.height >= short.image.height + 2 * 18
    # Nothing is drawn in the side margins: no line ran off the paper.
    for edge in ((0, 0, 6, long.image.height), (378, 0, 384, long.image.height)):
        assert _black_share(long.image, edge) == 0


def test_strip_diacritics_golden() -> None:
    assert strip_diacritics("Đường Lê Lợi") == "Duong Le Loi"
    assert strip_diacritics("Ưu tiên: người cao tuổi") == "Uu tien: nguoi cao tuoi"
    assert strip_diacritics("Quầy phục vụ – Sở Tư pháp") == "Quay phuc vu - So Tu phap"
    assert strip_diacritics("Giấy tờ “đủ”") == 'Giay to "du"'
    assert strip_diacritics("số 3 ✓") == "so 3 ?"


@given(st.text())
def test_strip_diacritics_always_gives_ascii(text: str) -> None:
    assert strip_diacritics(text).isascii()


@pytest.mark.parametrize("width_mm", [58, 80])
def test_text_fallback_is_ascii_fits_the_paper_and_has_the_number(width_mm: int) -> None:
    profile = PrinterProfile(width_mm=width_mm, raster=False)  # type: ignore[arg-type]
    lines = text_ticket_lines(_ticket(), profile.text_columns)
    assert all(line.text.isascii() for line in lines)
    assert all(len(line.text) <= profile.text_columns for line in lines)
    number_lines = [line.text for line in lines if line.style == "number"]
    assert number_lines == ["2015"]
    texts = [line.text for line in lines]
    assert "Uu tien: nguoi cao tuoi" in texts
    assert "Quay phuc vu: 3-5, 7" in texts
    assert "".join(texts).find("http://127.0.0.1:8000/t/bac-ninh/01HZX3Q9K2") >= 0


def test_issue_time_is_printed_in_the_tickets_own_zone() -> None:
    utc = datetime(2025, 5, 21, 1, 15, tzinfo=UTC)
    assert ticket_wording(_ticket(issued_at=utc)).issued.en == "Issued: 01:15 21/05/2025"
    assert ticket_wording(_ticket(issued_at=utc.astimezone(VN))).issued.en == (
        "Issued: 08:15 21/05/2025"
    )


_VIETNAMESE_WORDS = st.lists(
    st.sampled_from(["Sở", "Tư", "pháp", "Ủy", "ban", "nhân", "dân", "phường", "Đăng", "ký",
                     "hộ", "tịch", "khai", "sinh", "Lao", "động", "Thương", "binh", "xã", "hội",
                     "QUYỀN", "SỬ", "DỤNG", "ĐẤT", "Nguyễn", "Thị", "Bích", "Hằng", "1.000.000"]),
    min_size=1, max_size=30,
).map(" ".join)


@settings(max_examples=25, deadline=None)
@given(
    site=_VIETNAMESE_WORDS,
    agency=_VIETNAMESE_WORDS,
    procedure=_VIETNAMESE_WORDS,
    number=st.from_regex(r"[A-Z0-9][A-Z0-9-]{0,7}", fullmatch=True),
    counters=st.lists(st.integers(1, 99), unique=True, max_size=12).map(tuple),
    width_mm=st.sampled_from([58, 80]),
)
def test_any_valid_ticket_lays_out_inside_the_paper(
    site: str, agency: str, procedure: str, number: str, counters: tuple[int, ...],
    width_mm: int,
) -> None:
    ticket = _ticket(site_name=site, agency_name=agency, procedure_name=procedure,
                     number=number, counters=counters)
    profile = PrinterProfile(width_mm=width_mm)  # type: ignore[arg-type]
    rendered = render_ticket(ticket, profile)
    image = rendered.image
    assert image.width == profile.dots
    left, _top, right, _bottom = rendered.number_box
    assert 0 <= left < right <= image.width
    assert _black_share(image, rendered.number_box) > 0.05
    lines = text_ticket_lines(ticket, profile.text_columns)
    assert all(line.text.isascii() for line in lines)
