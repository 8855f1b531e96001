"""Print queue: tickets print one at a time in a worker thread, with bounded retries.

Issuing a ticket never waits for paper: `submit` returns at once with a future
of the outcome, and every job ends in exactly one outcome (printed, or failed
with a reason) so the kiosk can show the ticket and its QR on screen instead.
A job that cannot print before its deadline fails rather than printing
minutes later for a citizen who has already walked away with the screen copy,
and it fails at its deadline, not later: an attempt still blocked in the printer
then (a printer that took the connection and never answers) is left to end in its
thread, and the printer's health says it did not answer in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType

from devices.errors import DeviceError
from devices.printer.contract import TicketPrinter
from devices.printer.status import PrinterHealth
from devices.printer.ticket import TicketPrint

__all__ = ["OutcomeCallback", "PrintOutcome", "PrintQueue", "PrintStatus", "RetryPolicy"]

log = logging.getLogger(__name__)


class PrintStatus(StrEnum):
    """How a print job ended."""

    PRINTED = "printed"
    FAILED = "failed"


@dataclass(frozen=True)
class PrintOutcome:
    """The end of one print job; the ticket is carried intact either way."""

    ticket: TicketPrint
    status: PrintStatus
    attempts: int
    reason: str | None = None
    health: PrinterHealth | None = None

    @property
    def printed(self) -> bool:
        """True when the ticket came out of the printer."""
        return self.status is PrintStatus.PRINTED


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a job is retried; checked when made."""

    attempts: int = 3
    first_delay_s: float = 0.5
    factor: float = 2.0
    max_delay_s: float = 4.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.first_delay_s < 0 or self.max_delay_s < 0 or self.factor < 1:
            raise ValueError("delays must be >= 0 and factor >= 1")

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return float(min(self.max_delay_s, self.first_delay_s * self.factor ** (attempt - 1)))


OutcomeCallback = Callable[[PrintOutcome], object]


@dataclass
class _Job:
    ticket: TicketPrint
    deadline: float
    result: asyncio.Future[PrintOutcome]
    attempts: int = field(default=0)


class PrintQueue:
    """Asynchronous print queue for one printer; use as `async with PrintQueue(printer) as q`."""

    def __init__(
        self,
        printer: TicketPrinter,
        *,
        retry: RetryPolicy | None = None,
        job_deadline_s: float = 30.0,
        capacity: int = 64,
        on_outcome: OutcomeCallback | None = None,
        close_timeout_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if job_deadline_s <= 0 or capacity < 1 or close_timeout_s < 0:
            raise ValueError("job_deadline_s and capacity must be positive")
        self._printer = printer
        self._retry = retry or RetryPolicy()
        self._job_deadline_s = job_deadline_s
        self._capacity = capacity
        self._on_outcome = on_outcome
        self._close_timeout_s = close_timeout_s
        self._clock = clock
        self._sleep = sleep
        self._jobs: asyncio.Queue[_Job | None] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._current: _Job | None = None
        self._closing = False
        self._health: PrinterHealth | None = None

    async def __aenter__(self) -> PrintQueue:
        if self._worker is not None:
            raise RuntimeError("PrintQueue is already running")
        self._jobs = asyncio.Queue()
        self._closing = False
        self._worker = asyncio.create_task(self._work(), name="print-queue")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def health(self) -> PrinterHealth | None:
        """The printer's health as last seen (None before the first job or check)."""
        return self._health

    @property
    def pending(self) -> int:
        """Jobs waiting or printing."""
        waiting = self._jobs.qsize() if self._jobs is not None else 0
        return waiting + (1 if self._current is not None else 0)

    def submit(self, ticket: TicketPrint) -> asyncio.Future[PrintOutcome]:
        """Queue a ticket and return at once; the future resolves to its PrintOutcome."""
        result: asyncio.Future[PrintOutcome] = asyncio.get_running_loop().create_future()
        if self._jobs is None or self._closing:
            self._settle(_Job(ticket, 0.0, result), PrintStatus.FAILED, "print queue is closed")
        elif self.pending >= self._capacity:
            # A full queue means the printer has been failing for a while: tell
            # the kiosk now rather than queue a ticket that would expire anyway.
            self._settle(_Job(ticket, 0.0, result), PrintStatus.FAILED, "print queue is full")
        else:
            self._jobs.put_nowait(_Job(ticket, self._clock() + self._job_deadline_s, result))
        return result

    async def print(self, ticket: TicketPrint) -> PrintOutcome:
        """Queue a ticket and wait for its outcome."""
        return await self.submit(ticket)

    async def check_health(self) -> PrinterHealth:
        """Ask the printer for its health (in a thread) and remember it."""
        self._health = await asyncio.to_thread(self._printer.status)
        return self._health

    async def aclose(self) -> None:
        """Stop taking jobs, let queued jobs finish within close_timeout_s, fail the rest."""
        if self._worker is None or self._jobs is None:
            return
        self._closing = True
        self._jobs.put_nowait(None)
        worker = self._worker
        try:
            await asyncio.wait_for(asyncio.shield(worker), self._close_timeout_s)
        except TimeoutError:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        finally:
            while not self._jobs.empty():
                job = self._jobs.get_nowait()
                if job is not None:
                    self._settle(job, PrintStatus.FAILED, "print queue is closed")
            self._worker = None
            self._jobs = None

    async def _work(self) -> None:
        assert self._jobs is not None
        while (job := await self._jobs.get()) is not None:
            self._current = job
            try:
                status, reason = await self._attempt_all(job)
                health = self._health if status is PrintStatus.FAILED else None
                self._settle(job, status, reason, health)
            except asyncio.CancelledError:
                self._settle(job, PrintStatus.FAILED, "print queue is closed")
                raise
            finally:
                self._current = None

    async def _attempt_all(self, job: _Job) -> tuple[PrintStatus, str | None]:
        reason = "no attempt was made"
        for attempt in range(1, self._retry.attempts + 1):
            if self._clock() >= job.deadline:
                return PrintStatus.FAILED, f"expired before printing ({reason})"
            job.attempts = attempt
            try:
                # Rendering and printer I/O both block; keep them off the event loop. The
                # thread cannot be stopped: at the deadline the job fails without it.
                await asyncio.wait_for(asyncio.to_thread(self._printer.print_ticket, job.ticket),
                                       job.deadline - self._clock())
            except TimeoutError:
                waited = self._job_deadline_s
                self._health = PrinterHealth(reachable=False, error=f"did not answer within {waited:g} s")
                log.warning("print attempt %d of ticket %s: no answer by the job's deadline",
                            attempt, job.ticket.number)
                return PrintStatus.FAILED, f"expired while printing (no answer within {waited:g} s; {reason})"
            except DeviceError as exc:
                reason = str(exc) or type(exc).__name__
                log.warning("print attempt %d of ticket %s failed: %s",
                            attempt, job.ticket.number, reason)
            except Exception as exc:
                # A bug in layout or encoding will not go away on retry.
                log.exception("printing ticket %s crashed", job.ticket.number)
                return PrintStatus.FAILED, f"internal error: {exc!r}"
            else:
                if self._health is not None and not self._health.can_print:
                    # The printer came back: do not keep reporting the old fault.
                    await self._refresh_health()
                return PrintStatus.PRINTED, None
            # a status query to a printer that hangs would hold the job past its deadline
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._refresh_health(), max(0.0, job.deadline - self._clock()))
            if attempt < self._retry.attempts:
                remaining = job.deadline - self._clock()
                await self._sleep(max(0.0, min(self._retry.delay_after(attempt), remaining)))
        return PrintStatus.FAILED, reason

    async def _refresh_health(self) -> None:
        try:
            self._health = await asyncio.to_thread(self._printer.status)
        except Exception:
            # status() promises not to raise; a driver that does must not stop the queue.
            log.exception("printer status check failed")

    def _settle(
        self,
        job: _Job,
        status: PrintStatus,
        reason: str | None,
        health: PrinterHealth | None = None,
    ) -> None:
        outcome = PrintOutcome(job.ticket, status, job.attempts, reason, health)
        if not job.result.done():
            job.result.set_result(outcome)
        if self._on_outcome is not None:
            try:
                self._on_outcome(outcome)
            except Exception:
                log.exception("print outcome callback failed")
