"""What the kiosk's scanner reads (controller/core/scan.py, id_card.py, receipt.py): pure, with hypothesis.

Whatever is typed, reading never crashes and never keeps more of a card than its number, name and date
of birth; a malformed or foreign code is refused with its own error code."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.core.errors import DomainError
from controller.core.id_card import IdCard, read_id_card
from controller.core.receipt import Receipt, read_receipt
from controller.core.scan import CHECK_CODE_ALPHABET, TicketCode, read_scan
from tests.kiosk_scan_support import ADDRESS, card_number, card_qr

TODAY = dt.date(2025, 1, 6)


BIRTHS = st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY)
NAMES = st.text(st.characters(codec="utf-8", exclude_categories=("C", "Z")), min_size=1, max_size=40).filter(
    lambda s: "|" not in s)


@settings(max_examples=200, deadline=None)
@given(birth=BIRTHS, male=st.booleans(), province=st.integers(1, 96), serial=st.integers(0, 999_999), name=NAMES)
def test_a_card_reads_back_its_number_name_and_birth_and_keeps_nothing_else(
    birth: dt.date, male: bool, province: int, serial: int, name: str,
) -> None:
    number = card_number(birth, male, province, serial)
    card = read_scan(card_qr(number, name, birth, issued=f"{max(birth, dt.date(2021, 8, 15)):%d%m%Y}"), TODAY)
    assert isinstance(card, IdCard)
    assert (card.number, card.birth) == (number, birth)
    assert {f.name for f in dataclasses.fields(IdCard)} == {"number", "name", "birth"}  # no address, no old number
    assert number not in repr(card) and ADDRESS not in repr(card)


def test_age_and_the_card_rules() -> None:
    birth = dt.date(1950, 2, 28)
    number = card_number(birth, male=False)
    card = read_id_card(card_qr(number, "Nguyễn Thị Lan", birth, old="012345678"), TODAY)
    assert card.age_on(dt.date(2025, 2, 27)) == 74 and card.age_on(dt.date(2025, 2, 28)) == 75
    leap = IdCard(card_number(dt.date(2000, 2, 29), True), "A", dt.date(2000, 2, 29))
    assert leap.age_on(dt.date(2075, 2, 28)) == 74 and leap.age_on(dt.date(2075, 3, 1)) == 75
    bad = [
        card_qr(number, "Lan", birth)[:-9],                          # a field missing
        card_qr(number, "Lan", dt.date(1951, 2, 28)),                # the number says 1950
        card_qr(number, "Lan", birth).replace("28021950", "31021950"),  # no such day
        card_qr(number, "Lan", birth, issued="01011940"),            # issued before birth
        card_qr(number, "Lan", birth, old="12ab"),                   # a wrong old number
        card_qr(number, "   ", birth),                               # no name
        card_qr(card_number(dt.date(2030, 1, 1), True), "Lan", dt.date(2030, 1, 1)),  # born in the future
    ]
    for text in bad:
        with pytest.raises(DomainError) as refused:
            read_scan(text, TODAY)
        assert refused.value.code == "invalid_card" and refused.value.message.startswith("Không đọc được thẻ")


DOSSIER = "000.00.21.H29-241207-0001"


@pytest.mark.parametrize("text", [
    json.dumps({"ma_ho_so": DOSSIER, "ma_thu_tuc": "1.001234", "ngay_hen_tra": "20/12/2024"}),
    json.dumps({"MaHoSo": DOSSIER.lower(), "MaTTHC": "1.001234", "NgayHenTra": "2024-12-20T16:00:00"}),
    f"{DOSSIER}|1.001234|20/12/2024",
    f"20/12/2024 16:00|{DOSSIER}|1.001234",
    f"https://dichvucong.example.gov.vn/tra-cuu?ma_ho_so={DOSSIER}&ma_thu_tuc=1.001234&ngay_hen_tra=20122024",
])
def test_every_form_of_the_receipt_reads_the_same(text: str) -> None:
    assert read_scan(text, TODAY) == Receipt(DOSSIER, "1.001234", dt.date(2024, 12, 20))


def test_a_receipt_needs_only_its_dossier_code_and_says_when_it_is_early() -> None:
    assert read_receipt(DOSSIER) == Receipt(DOSSIER)
    assert read_receipt(f"https://dvc.example.vn/ho-so/{DOSSIER}") == Receipt(DOSSIER)
    early = read_receipt(f"{DOSSIER}|1.001234|07/01/2025")
    assert early.early_on(TODAY) and not early.early_on(dt.date(2025, 1, 7)) and not Receipt(DOSSIER).early_on(TODAY)
    for text in ["{\"ma_ho_so\": \"HS-1\"}", "{not json", "[1, 2]", f"{{\"ma_ho_so\": \"{DOSSIER}\", "
                 "\"ngay_hen_tra\": \"31/02/2025\"}", "000.00.21.H29-241399-0001"]:
        with pytest.raises(DomainError) as refused:
            read_scan(text, TODAY)
        assert refused.value.code in ("invalid_receipt", "unreadable_code"), text


def test_a_ticket_qr_and_the_printed_ticket_address_read_as_its_check_in_code() -> None:
    assert read_scan("1005-K7QX9M", TODAY) == TicketCode("1005", "K7QX9M")
    assert read_scan("http://10.0.0.2:8000/t/xa/20250106-1005#1005-k7qx9m", TODAY) == TicketCode("1005", "K7QX9M")
    for foreign in ["http://10.0.0.2:8000/t/xa/20250106-1005", "00020101021138570010A000000727", "hello", ""]:
        with pytest.raises(DomainError) as refused:
            read_scan(foreign, TODAY)
        assert refused.value.code == "unreadable_code"


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.text(max_size=300),
    st.builds(lambda n, rest: f"{n}|{rest}", st.from_regex(r"[0-9]{12}", fullmatch=True), st.text(max_size=200)),
    st.builds(lambda parts: "|".join(parts), st.lists(st.sampled_from(
        [DOSSIER, "1.001234", "20/12/2024", "31/02/2024", "", "x", "001234567890", "28021950"]), max_size=8)),
    st.builds(lambda d: json.dumps(d), st.dictionaries(st.sampled_from(
        ["ma_ho_so", "ma_thu_tuc", "ngay_hen_tra", "code", "x"]), st.one_of(st.text(max_size=30), st.integers(),
                                                                         st.just(DOSSIER), st.none()))),
    st.builds(lambda code: f"{code[:4]}-{code[4:]}", st.text(CHECK_CODE_ALPHABET + "0123456789", min_size=10,
                                                            max_size=10)),
))
def test_reading_anything_never_crashes_and_refuses_with_a_known_code(text: str) -> None:
    try:
        read = read_scan(text, TODAY)
    except DomainError as refused:
        assert refused.code in ("unreadable_code", "invalid_card", "invalid_receipt") and refused.status == 422
        return
    assert isinstance(read, TicketCode | IdCard | Receipt)
