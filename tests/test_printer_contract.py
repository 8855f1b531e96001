"""One contract, three printers: the shipped FakePrinter (escpos Dummy), TCP 9100 and serial.

Every test here runs against each backend and must pass unchanged: the fake is
only trustworthy in the simulator if it behaves like the real links.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import pytest

from devices.errors import DeviceError, DeviceUnavailable
from devices.printer import (
    FakePrinter,
    PaperLevel,
    PrinterProfile,
    TicketPrinter,
    encode_ticket,
    open_printer,
    raster_image,
    render_ticket,
    sample_ticket,
)
from devices.printer.encode import raster_blocks
from devices.printer.fake import FakeEscposDevice
from tests.services import PtyPair
from tests.test_printer_tcp_fake import FakeSerialPrinter, fake_tcp_printer

INIT = b"\x1b@"
PART_CUT = b"\x1bd\x06\x1dV\x01"  # feed 6 lines, partial cut


class Controls(Protocol):
    """Fault switches every backend offers (FakePrinter and the link fakes share the names)."""

    def received(self) -> bytes: ...
    def set_paper(self, level: PaperLevel) -> None: ...
    def set_cover_open(self, cover_open: bool) -> None: ...
    def set_error(self, error: bool) -> None: ...
    def drop_jobs_after(self, n_bytes: int | None) -> None: ...
    def power_off(self) -> None: ...
    def power_on(self) -> None: ...
    def recover(self) -> None: ...


@dataclass
class Backend:
    name: str
    controls: Controls
    connect: Callable[[PrinterProfile], TicketPrinter]


@pytest.fixture(
    params=[
        "fake",
        pytest.param("network", marks=pytest.mark.integration),
        pytest.param("serial", marks=pytest.mark.integration),
    ]
)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "fake":
        device = FakeEscposDevice()
        yield Backend(
            "fake",
            FakePrinter(device=device),
            lambda profile: FakePrinter(profile, device=device),
        )
    elif request.param == "network":
        with fake_tcp_printer() as server:
            yield Backend("network", server, lambda profile: open_printer(server.url, profile))
    else:
        pair: PtyPair = request.getfixturevalue("pty_pair")
        peer = FakeSerialPrinter(pair.device_side)
        peer.start()
        url = f"serial:{pair.host_side}?timeout=0.3"
        try:
            yield Backend("serial", peer, lambda profile: open_printer(url, profile))
        finally:
            peer.stop()


def test_ready_printer_reports_health(backend: Backend) -> None:
    printer = backend.connect(PrinterProfile())
    assert isinstance(printer, TicketPrinter)
    health = printer.status()
    assert health.reachable and health.online is True
    assert health.paper is PaperLevel.OK and health.cover_open is False
    assert health.can_print and health.describe() == "ready"


@pytest.mark.parametrize("width_mm", [58, 80])
def test_prints_a_valid_raster_job(backend: Backend, width_mm: int) -> None:
    profile = PrinterProfile(width_mm=width_mm)  # type: ignore[arg-type]
    ticket = sample_ticket()
    backend.connect(profile).print_ticket(ticket)

    received = backend.controls.received()
    assert received == encode_ticket(ticket, profile)
    assert received.startswith(INIT) and received.endswith(PART_CUT)
    blocks = raster_blocks(received)
    rendered = render_ticket(ticket, profile).image
    assert {block.width_bytes for block in blocks} == {profile.dots // 8}
    assert sum(block.height for block in blocks) == rendered.height
    assert raster_image(received).tobytes() == rendered.tobytes()


def test_text_only_printer_gets_ascii(backend: Backend) -> None:
    profile = PrinterProfile(raster=False)
    backend.connect(profile).print_ticket(sample_ticket())
    received = backend.controls.received()
    assert received.startswith(INIT) and received.endswith(PART_CUT)
    assert received.isascii() and b"2015" in received and b"\x1dv0" not in received


def test_paper_near_end_warns_but_prints(backend: Backend) -> None:
    printer = backend.connect(PrinterProfile())
    backend.controls.set_paper(PaperLevel.NEAR_END)
    health = printer.status()
    assert health.paper is PaperLevel.NEAR_END and health.can_print
    printer.print_ticket(sample_ticket())
    assert backend.controls.received().endswith(PART_CUT)


def test_paper_out_refuses_the_job_and_sends_nothing(backend: Backend) -> None:
    printer = backend.connect(PrinterProfile())
    backend.controls.set_paper(PaperLevel.OUT)
    health = printer.status()
    assert health.paper is PaperLevel.OUT and health.online is False and not health.can_print
    with pytest.raises(DeviceUnavailable, match="paper out"):
        printer.print_ticket(sample_ticket())
    assert backend.controls.received() == b""


def test_open_cover_takes_the_printer_offline(backend: Backend) -> None:
    printer = backend.connect(PrinterProfile())
    backend.controls.set_cover_open(True)
    health = printer.status()
    assert health.cover_open is True and health.online is False and not health.can_print
    with pytest.raises(DeviceUnavailable, match="cover open"):
        printer.print_ticket(sample_ticket())


def test_mechanism_error_is_reported(backend: Backend) -> None:
    printer = backend.connect(PrinterProfile())
    backend.controls.set_error(True)
    health = printer.status()
    assert health.error == "mechanism error" and not health.can_print
    backend.controls.recover()
    assert printer.status().can_print


def test_switched_off_printer_is_unreachable_then_comes_back(backend: Backend) -> None:
    printer = backend.connect(PrinterProfile())
    backend.controls.power_off()
    health = printer.status()
    assert not health.reachable and health.error and not health.can_print
    with pytest.raises(DeviceError):
        printer.print_ticket(sample_ticket())
    backend.controls.power_on()
    printer.print_ticket(sample_ticket())
    assert backend.controls.received().endswith(PART_CUT)


def test_failure_mid_job_raises_and_the_next_job_prints_after_recovery(backend: Backend) -> None:
    profile = PrinterProfile()
    printer = backend.connect(profile)
    ticket = sample_ticket()
    job = encode_ticket(ticket, profile)
    backend.controls.drop_jobs_after(5000)
    with pytest.raises(DeviceError):
        printer.print_ticket(ticket)
    partial = backend.controls.received()
    assert job.startswith(partial) and 0 < len(partial) <= 5000

    backend.controls.recover()
    printer.print_ticket(ticket)
    assert backend.controls.received() == partial + job
