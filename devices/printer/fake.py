"""A fake ticket printer for tests, the simulator and demos: a real TicketPrinter, no hardware.

FakeEscposDevice is an escpos Dummy that behaves like a printer on a two-way
link: it records job bytes, answers DLE EOT status requests from its state, and
can be switched off, run out of paper, open its cover or drop the link mid-job.
FakePrinter is the ordinary EscposTicketPrinter driving it, so the fake takes
exactly the code path of the real network and serial printers.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from escpos.printer import Dummy
from PIL import Image

from devices.printer.driver import EscposTicketPrinter
from devices.printer.encode import raster_image
from devices.printer.profile import PrinterProfile
from devices.printer.status import PaperLevel, encode_status_bytes

__all__ = ["FakeEscposDevice", "FakePrinter"]

_STATUS_PREFIX = b"\x10\x04"


class FakeEscposDevice(Dummy):  # type: ignore[misc]  # python-escpos ships no type hints
    """An escpos Dummy link that answers status requests and can be told to fail."""

    def __init__(self, latency_s: float = 0.0) -> None:
        super().__init__()
        self.latency_s = latency_s
        self.powered = True
        self.online = True
        self.paper = PaperLevel.OK
        self.cover_open = False
        self.error = False
        self.drop_after_bytes: int | None = None
        self._connected = False
        self._sent_this_session = 0
        self._answers: deque[int] = deque()
        # Tests and the simulator flip faults from other threads than the printing one.
        self._state_lock = threading.Lock()

    def open(self) -> None:
        """Connect, unless the printer is switched off."""
        with self._state_lock:
            if not self.powered:
                raise ConnectionRefusedError("fake printer is switched off")
            self._connected = True
            self._sent_this_session = 0
            self._answers.clear()

    def close(self) -> None:
        """Disconnect."""
        with self._state_lock:
            self._connected = False
            self._answers.clear()

    def _raw(self, msg: bytes) -> None:
        if self.latency_s:
            # Stands for the time a real link takes; blocks like real I/O does.
            time.sleep(self.latency_s)
        with self._state_lock:
            if not self._connected:
                raise BrokenPipeError("fake printer link is closed")
            if len(msg) == 3 and msg.startswith(_STATUS_PREFIX) and 1 <= msg[2] <= 4:
                answers = encode_status_bytes(self.online, self.paper, self.cover_open, self.error)
                self._answers.append(answers[msg[2]])
                return
            if self.drop_after_bytes is not None:
                room = max(0, self.drop_after_bytes - self._sent_this_session)
                if len(msg) > room:
                    self._output_list.append(msg[:room])
                    self._connected = False
                    raise ConnectionResetError("fake printer dropped the link mid-job")
            self._sent_this_session += len(msg)
            self._output_list.append(msg)

    def _read(self) -> bytes:
        with self._state_lock:
            if not self._connected or not self._answers:
                return b""
            return bytes((self._answers.popleft(),))


class FakePrinter(EscposTicketPrinter):
    """A shipped TicketPrinter that records what it prints and fails on request."""

    def __init__(
        self,
        profile: PrinterProfile | None = None,
        *,
        name: str = "fake-printer",
        latency_s: float = 0.0,
        device: FakeEscposDevice | None = None,
    ) -> None:
        # Pass a device to have several printers (say 58 and 80 mm profiles) share one.
        self.device = device or FakeEscposDevice(latency_s)
        self.jobs: list[bytes] = []
        super().__init__(self.device, profile or PrinterProfile(), bidirectional=True, name=name)

    def send_job(self, job: bytes) -> None:
        """Send a job; remember it as printed only if the printer confirmed it."""
        super().send_job(job)
        self.jobs.append(job)

    def received(self) -> bytes:
        """All job bytes that reached the printer, partial jobs included."""
        output: bytes = self.device.output
        return output

    def printed_images(self) -> list[Image.Image]:
        """The raster image of every completed job, as it came out of the printer."""
        return [raster_image(job) for job in self.jobs]

    def power_off(self) -> None:
        """Switch the printer off: connections are refused."""
        self.device.powered = False

    def power_on(self) -> None:
        """Switch the printer back on."""
        self.device.powered = True

    def set_online(self, online: bool) -> None:
        """Take the printer offline (paused, no cause given) or back online."""
        self.device.online = online

    def set_paper(self, level: PaperLevel) -> None:
        """Set what the paper sensors report."""
        self.device.paper = level

    def set_cover_open(self, cover_open: bool) -> None:
        """Open or close the paper cover (an open cover takes the printer offline)."""
        self.device.cover_open = cover_open

    def set_error(self, error: bool) -> None:
        """Put the printer into (or out of) a mechanism error."""
        self.device.error = error

    def drop_jobs_after(self, n_bytes: int | None) -> None:
        """Drop the link after n_bytes of every job from now on (None: stop dropping)."""
        self.device.drop_after_bytes = n_bytes

    def recover(self) -> None:
        """Clear every fault: powered, online, paper fine, cover shut, link holds."""
        self.device.powered = True
        self.device.online = True
        self.device.paper = PaperLevel.OK
        self.device.cover_open = False
        self.device.error = False
        self.device.drop_after_bytes = None

    def clear(self) -> None:
        """Forget recorded bytes and jobs."""
        self.device.clear()
        self.jobs.clear()
