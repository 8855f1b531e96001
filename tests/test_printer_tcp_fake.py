"""A fake ESC/POS printer on a real link (TCP port 9100 on loopback, or a socat pty), and its tests.

Written independently of devices/printer: its own tokenizer and literal status
bytes, so the driver is checked against something it did not produce. Other
printer test modules import FakeTcpPrinter and FakeSerialPrinter from here.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import serial

from devices.printer.status import PaperLevel
from tests.services import wait_for_port

# Golden status bytes (ESC/POS DLE EOT n answers); 0x12 is "nothing to report".
_READY = 0x12
_OFFLINE = 0x08
_COVER_OPEN = 0x04  # n = 2
_PAPER_END_STOP = 0x20  # n = 2
_ERROR_OCCURRED = 0x40  # n = 2
_RECOVERABLE_ERROR = 0x04  # n = 3
_NEAR_END = 0x0C  # n = 4
_PAPER_OUT = 0x60  # n = 4

_THREE_BYTE_ESC = set(b"d t a E ! - J M".replace(b" ", b""))


class EscPosTokenizer:
    """Incremental ESC/POS reader that tells DLE EOT n requests from job bytes.

    It skips GS v 0 raster data by its header, as a printer does, so status
    request look-alikes inside image data are not taken for requests.
    """

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[str, bytes]]:
        """Add bytes; return complete tokens as ("status", bytes([n])) or ("data", bytes)."""
        self.buffer += data
        tokens: list[tuple[str, bytes]] = []
        while self.buffer:
            size = self._token_size()
            if size is None:
                break
            token = bytes(self.buffer[:size])
            del self.buffer[:size]
            if token[:2] == b"\x10\x04" and size == 3:
                tokens.append(("status", token[2:]))
            elif tokens and tokens[-1][0] == "data":
                tokens[-1] = ("data", tokens[-1][1] + token)
            else:
                tokens.append(("data", token))
        return tokens

    def _token_size(self) -> int | None:
        buf = self.buffer
        first = buf[0]
        if first == 0x10:
            if len(buf) < 2:
                return None
            if buf[1] != 0x04:
                return 1
            return 3 if len(buf) >= 3 else None
        if first == 0x1B:
            if len(buf) < 2:
                return None
            need = 3 if buf[1] in _THREE_BYTE_ESC else 2
            return need if len(buf) >= need else None
        if first == 0x1D:
            if len(buf) < 3:
                return None
            if buf[1:3] == b"v0":
                if len(buf) < 8:
                    return None
                width_bytes, height = struct.unpack_from("<HH", buf, 4)
                need = 8 + width_bytes * height
                return need if len(buf) >= need else None
            if buf[1] == ord("V") and buf[2] in (65, 66):
                return 4 if len(buf) >= 4 else None
            return 3
        return 1


class FakePeer:
    """The printer's side of a link: state, status answers, recorded job bytes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.paper = PaperLevel.OK
        self.cover_open = False
        self.error = False
        self.silent = False
        self.drop_after: int | None = None
        self.queries: list[int] = []
        self._received = bytearray()

    def answer(self, n: int) -> int:
        """The status byte for DLE EOT n in the current state (literal golden bits)."""
        out = self.paper is PaperLevel.OUT
        stopped = out or self.cover_open or self.error
        if n == 1:
            return _READY | (_OFFLINE if stopped else 0)
        if n == 2:
            return (_READY | (_COVER_OPEN if self.cover_open else 0)
                    | (_PAPER_END_STOP if out else 0) | (_ERROR_OCCURRED if self.error else 0))
        if n == 3:
            return _READY | (_RECOVERABLE_ERROR if self.error else 0)
        if self.paper is PaperLevel.OUT:
            return _READY | _NEAR_END | _PAPER_OUT
        return _READY | (_NEAR_END if self.paper is PaperLevel.NEAR_END else 0)

    def record(self, data: bytes, session_bytes: int) -> tuple[int, bool]:
        """Record job bytes; return (bytes taken, whether the link must drop now)."""
        with self.lock:
            if self.drop_after is not None and session_bytes + len(data) > self.drop_after:
                room = max(0, self.drop_after - session_bytes)
                self._received += data[:room]
                return room, True
            self._received += data
            return len(data), False

    # The same control names as devices.printer.FakePrinter, so contract tests drive both.
    def received(self) -> bytes:
        with self.lock:
            return bytes(self._received)

    def set_paper(self, level: PaperLevel) -> None:
        self.paper = level

    def set_cover_open(self, cover_open: bool) -> None:
        self.cover_open = cover_open

    def set_error(self, error: bool) -> None:
        self.error = error

    def drop_jobs_after(self, n_bytes: int | None) -> None:
        self.drop_after = n_bytes

    def recover(self) -> None:
        self.paper = PaperLevel.OK
        self.cover_open = False
        self.error = False
        self.drop_after = None
        self.power_on()

    def power_off(self) -> None:
        self.silent = True

    def power_on(self) -> None:
        self.silent = False

    def serve_stream(
        self,
        recv: Callable[[], bytes | None],
        send: Callable[[bytes], object],
        stop: threading.Event,
    ) -> str:
        """Run one connection until it closes; return why it ended ("eof", "drop", "stop")."""
        tokenizer = EscPosTokenizer()
        session = 0
        while not stop.is_set():
            data = recv()
            if data is None:
                continue
            if not data:
                return "eof"
            if self.silent:
                continue
            for kind, payload in tokenizer.feed(data):
                if kind == "status":
                    self.queries.append(payload[0])
                    if 1 <= payload[0] <= 4:
                        send(bytes((self.answer(payload[0]),)))
                    continue
                taken, drop = self.record(payload, session)
                session += taken
                if drop:
                    return "drop"
        return "stop"


class FakeTcpPrinter(FakePeer):
    """A raw TCP 9100 printer on 127.0.0.1 that records bytes and answers DLE EOT."""

    def __init__(self) -> None:
        super().__init__()
        self.port = 0
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._clients: list[socket.socket] = []

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}?timeout=2"

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(8)
        listener.settimeout(0.05)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._stop.clear()
        thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        thread.start()
        self._threads.append(thread)
        wait_for_port(self.port)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for client in self._clients:
            client.close()
        self._clients.clear()

    # A switched-off network printer refuses connections.
    def power_off(self) -> None:
        self.stop()

    def power_on(self) -> None:
        if self._listener is None:
            self.start()

    def _accept(self, listener: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(0.05)
            self._clients.append(client)
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, client: socket.socket) -> None:
        def recv() -> bytes | None:
            try:
                return client.recv(65536)
            except TimeoutError:
                return None
            except OSError:
                return b""

        def send(data: bytes) -> None:
            with contextlib.suppress(OSError):
                client.sendall(data)

        if self.serve_stream(recv, send, self._stop) == "drop":
            # RST rather than FIN: the printer vanished, it did not say goodbye.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            client.close()


class FakeSerialPrinter(FakePeer):
    """A printer on the device end of a socat pty pair. Off or dropped means silent."""

    def __init__(self, device_path: str) -> None:
        super().__init__()
        self._line = serial.Serial(device_path, timeout=0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._line.close()

    def _run(self) -> None:
        def recv() -> bytes | None:
            return self._line.read(65536) or None

        while not self._stop.is_set():
            if self.serve_stream(recv, self._line.write, self._stop) == "drop":
                # A serial printer that resets mid-job just stops answering.
                self.silent = True


@contextlib.contextmanager
def fake_tcp_printer() -> Iterator[FakeTcpPrinter]:
    """Run a FakeTcpPrinter on a free loopback port for the duration of the block."""
    server = FakeTcpPrinter()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _ask(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(request)
        return sock.recv(16)


def test_tokenizer_skips_status_lookalikes_inside_raster_data() -> None:
    raster = b"\x1dv0\x00\x01\x00\x03\x00" + b"\x10\x04\x01"  # 1 byte x 3 rows
    tokens = EscPosTokenizer().feed(b"\x1b@" + raster + b"\x10\x04\x04" + b"\x1dV\x01")
    assert tokens == [("data", b"\x1b@" + raster), ("status", b"\x04"), ("data", b"\x1dV\x01")]


def test_tokenizer_waits_for_split_commands() -> None:
    tokenizer = EscPosTokenizer()
    assert tokenizer.feed(b"\x1dv0\x00\x01\x00") == []
    assert tokenizer.feed(b"\x02\x00\xff") == []
    assert tokenizer.feed(b"\xff\x10") == [("data", b"\x1dv0\x00\x01\x00\x02\x00\xff\xff")]
    assert tokenizer.feed(b"\x04\x02") == [("status", b"\x02")]


@pytest.mark.integration
def test_fake_tcp_printer_answers_golden_status_bytes() -> None:
    with fake_tcp_printer() as printer:
        assert _ask(printer.port, b"\x10\x04\x01") == b"\x12"
        printer.set_paper(PaperLevel.OUT)
        assert _ask(printer.port, b"\x10\x04\x04") == b"\x7e"
        assert _ask(printer.port, b"\x10\x04\x01") == b"\x1a"
        printer.recover()
        printer.set_cover_open(True)
        assert _ask(printer.port, b"\x10\x04\x02") == b"\x16"
        assert printer.queries == [1, 4, 1, 2]
        assert printer.received() == b""


@pytest.mark.integration
def test_fake_tcp_printer_drops_the_connection_mid_job() -> None:
    with fake_tcp_printer() as printer:
        printer.drop_jobs_after(10)
        with socket.create_connection(("127.0.0.1", printer.port), timeout=2) as sock:
            sock.sendall(b"\x1b@" + b"A" * 20)
            with pytest.raises((ConnectionResetError, BrokenPipeError)):
                # Keep writing until the reset arrives; recv sees it even when sendall does not.
                deadline = time.monotonic() + 2
                while time.monotonic() < deadline:
                    if sock.recv(16) == b"":
                        raise ConnectionResetError("closed")
        assert printer.received() == b"\x1b@" + b"A" * 8


@pytest.mark.integration
def test_fake_tcp_printer_refuses_connections_when_off() -> None:
    with fake_tcp_printer() as printer:
        printer.power_off()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", printer.port), timeout=1).close()
        printer.power_on()
        assert _ask(printer.port, b"\x10\x04\x04") == b"\x12"
