"""`motcua printer test --printer URL` and the printer addresses it accepts."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from controller.cli import main
from devices.printer import (
    PaperLevel,
    PrinterHealth,
    PrinterProfile,
    parse_printer_url,
    raster_image,
    sample_ticket,
)
from devices.printer.address import PrinterAddress, open_printer
from tests.services import free_port
from tests.test_printer_tcp_fake import fake_tcp_printer


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("tcp://10.0.0.5", PrinterAddress("tcp", "10.0.0.5", port=9100)),
        ("tcp://10.0.0.5:9101?timeout=3&status=off",
         PrinterAddress("tcp", "10.0.0.5", port=9101, timeout_s=3.0, status=False)),
        ("serial:/dev/ttyUSB0", PrinterAddress("serial", "/dev/ttyUSB0", timeout_s=2.0)),
        ("serial:/dev/ttyS1?baud=19200&timeout=0.5",
         PrinterAddress("serial", "/dev/ttyS1", baudrate=19200, timeout_s=0.5)),
        ("file:/dev/usb/lp0", PrinterAddress("file", "/dev/usb/lp0")),
        (" dummy ", PrinterAddress("dummy")),
    ],
)
def test_printer_urls_parse(url: str, address: PrinterAddress) -> None:
    assert parse_printer_url(url) == address


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("usb:0x04b8", "is not tcp://"),
        ("tcp://", "needs a host"),
        ("tcp://h:99999", "bad port"),
        ("tcp://h?colour=red", "unknown printer option"),
        ("serial:/dev/ttyS0?baud=12345", "baud rate"),
        ("serial:/dev/ttyS0?timeout=soon", "not a number"),
        ("tcp://h?status=maybe", "not on or off"),
        ("file:", "needs a host, port or path"),
    ],
)
def test_bad_printer_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_printer_url(url)


def test_file_printer_writes_the_job_and_is_one_way(tmp_path: Path) -> None:
    out = tmp_path / "lp0"
    printer = open_printer(f"file:{out}", PrinterProfile(width_mm=58))
    assert not printer.bidirectional
    assert printer.status().reachable and printer.status().paper is PaperLevel.UNKNOWN
    missing = open_printer(f"file:{tmp_path}/no/such/lp0", PrinterProfile())
    assert not missing.status().reachable


def test_cli_prints_a_sample_on_the_dummy_printer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["printer", "test", "--printer", "dummy", "--width-mm", "58"]) == 0
    out = capsys.readouterr().out
    assert "ready" in out and "Đã in vé mẫu số 2015" in out


def test_cli_prints_raster_to_a_device_file(tmp_path: Path) -> None:
    out = tmp_path / "lp0"
    assert main(["printer", "test", "--printer", f"file:{out}"]) == 0
    assert raster_image(out.read_bytes()).width == 576


def test_cli_text_only_writes_ascii(tmp_path: Path) -> None:
    out = tmp_path / "lp0"
    assert main(["printer", "test", "--printer", f"file:{out}", "--text-only"]) == 0
    data = out.read_bytes()
    assert data.isascii() and b"2015" in data


def test_cli_refuses_a_bad_address(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["printer", "test", "--printer", "lpt1"]) == 2
    assert "error: printer 'lpt1' is not" in capsys.readouterr().err


@pytest.mark.integration
def test_cli_reports_an_unreachable_printer(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    assert main(["printer", "test", "--printer", f"tcp://127.0.0.1:{port}"]) == 1
    err = capsys.readouterr().err
    assert "cannot reach the printer" in err and "refused" in err


@pytest.mark.integration
def test_cli_prints_on_a_network_printer(capsys: pytest.CaptureFixture[str]) -> None:
    with fake_tcp_printer() as server:
        assert main(["printer", "test", "--printer", server.url, "--width-mm", "58"]) == 0
        assert raster_image(server.received()).width == 384
    assert "sample ticket printed" in capsys.readouterr().out


@pytest.mark.integration
def test_printer_without_status_bytes_is_probed_by_connecting() -> None:
    with fake_tcp_printer() as server:
        printer = open_printer(f"tcp://127.0.0.1:{server.port}?status=off", PrinterProfile())
        assert printer.status() == PrinterHealth(reachable=True)
        printer.print_ticket(sample_ticket())
        # One-way: print_ticket returns once the bytes are sent, not once they arrive.
        deadline = time.monotonic() + 2
        while not server.received().endswith(b"\x1dV\x01") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.queries == [] and server.received().endswith(b"\x1dV\x01")
        server.power_off()
        assert not printer.status().reachable


@pytest.mark.integration
def test_cli_reports_paper_out(capsys: pytest.CaptureFixture[str]) -> None:
    with fake_tcp_printer() as server:
        server.set_paper(PaperLevel.OUT)
        assert main(["printer", "test", "--printer", server.url]) == 1
        assert server.received() == b""
    assert "cannot print now: paper out" in capsys.readouterr().err
