"""Print queue: outcomes, bounded retries with backoff, deadlines, closing, never blocking issue."""

from __future__ import annotations

import asyncio
import time

import pytest

from devices.printer import (
    FakePrinter,
    PaperLevel,
    PrinterProfile,
    PrintOutcome,
    PrintQueue,
    PrintStatus,
    RetryPolicy,
    encode_ticket,
    open_printer,
    sample_ticket,
)
from tests.test_printer_tcp_fake import fake_tcp_printer

FAST = RetryPolicy(attempts=3, first_delay_s=0.01, max_delay_s=0.02)


def test_a_printed_job_is_reported_once_through_future_and_callback() -> None:
    async def scenario() -> None:
        printer = FakePrinter()
        seen: list[PrintOutcome] = []
        async with PrintQueue(printer, retry=FAST, on_outcome=seen.append) as queue:
            outcome = await queue.print(sample_ticket())
        assert outcome.printed and outcome.status is PrintStatus.PRINTED
        assert outcome.attempts == 1 and outcome.reason is None
        assert seen == [outcome]
        assert printer.jobs == [encode_ticket(outcome.ticket, printer.profile)]

    asyncio.run(scenario())


def test_failure_mid_job_keeps_the_ticket_and_the_next_job_prints_after_recovery() -> None:
    async def scenario() -> None:
        printer = FakePrinter()
        ticket = sample_ticket()
        async with PrintQueue(printer, retry=FAST) as queue:
            printer.drop_jobs_after(2000)
            failed = await queue.print(ticket)
            assert failed.status is PrintStatus.FAILED and not failed.printed
            assert failed.ticket is ticket
            assert failed.attempts == 3 and "dropped the link mid-job" in (failed.reason or "")
            assert printer.jobs == [] and 0 < len(printer.received()) <= 3 * 2000

            printer.recover()
            printed = await queue.print(ticket)
            assert printed.printed and printed.attempts == 1
            assert printer.jobs == [encode_ticket(ticket, printer.profile)]

    asyncio.run(scenario())


def test_a_transient_fault_is_retried_after_the_backoff() -> None:
    async def scenario() -> None:
        printer = FakePrinter()
        delays: list[float] = []

        async def sleep(seconds: float) -> None:
            # The technician switches the printer back on during the backoff.
            delays.append(seconds)
            printer.power_on()

        async with PrintQueue(printer, retry=RetryPolicy(first_delay_s=0.5), sleep=sleep) as queue:
            printer.power_off()
            outcome = await queue.print(sample_ticket())
        assert outcome.printed and outcome.attempts == 2
        assert delays == [0.5]
        assert queue.health is not None and queue.health.can_print

    asyncio.run(scenario())


def test_backoff_grows_and_is_capped_and_failure_carries_health() -> None:
    async def scenario() -> None:
        printer = FakePrinter()
        printer.set_paper(PaperLevel.OUT)
        delays: list[float] = []

        async def sleep(seconds: float) -> None:
            delays.append(seconds)

        retry = RetryPolicy(attempts=4, first_delay_s=1.0, factor=3.0, max_delay_s=5.0)
        async with PrintQueue(printer, retry=retry, sleep=sleep) as queue:
            outcome = await queue.print(sample_ticket())
        assert delays == [1.0, 3.0, 5.0]
        assert outcome.attempts == 4 and "paper out" in (outcome.reason or "")
        assert outcome.health is not None and outcome.health.paper is PaperLevel.OUT
        assert printer.received() == b""

    asyncio.run(scenario())


def test_a_job_past_its_deadline_fails_instead_of_printing_late() -> None:
    async def scenario() -> None:
        printer = FakePrinter()
        now = [100.0]

        async def sleep(seconds: float) -> None:
            now[0] += seconds

        retry = RetryPolicy(attempts=10, first_delay_s=4.0, factor=1.0)
        async with PrintQueue(printer, retry=retry, job_deadline_s=10.0,
                              clock=lambda: now[0], sleep=sleep) as queue:
            printer.power_off()
            outcome = await queue.print(sample_ticket())
        # Attempts at t=0, 4 and 8; the backoff after the third is cut to the deadline.
        assert outcome.status is PrintStatus.FAILED and outcome.attempts == 3
        assert (outcome.reason or "").startswith("expired before printing")
        assert now[0] == pytest.approx(110.0)

    asyncio.run(scenario())


def test_printing_runs_off_the_event_loop_and_submit_returns_at_once() -> None:
    async def scenario() -> None:
        printer = FakePrinter(latency_s=0.05)  # each write blocks like slow serial I/O
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        async with PrintQueue(printer, retry=FAST) as queue:
            tick_task = asyncio.create_task(ticker())
            started = time.perf_counter()
            futures = [queue.submit(sample_ticket()) for _ in range(2)]
            assert time.perf_counter() - started < 0.05
            assert queue.pending == 2
            outcomes = await asyncio.gather(*futures)
            tick_task.cancel()
        assert all(outcome.printed for outcome in outcomes)
        # Two jobs of at least 5 blocking writes each: the loop kept ticking meanwhile.
        assert ticks >= 20

    asyncio.run(scenario())


def test_a_full_queue_fails_new_jobs_at_once() -> None:
    async def scenario() -> None:
        printer = FakePrinter(latency_s=0.05)
        async with PrintQueue(printer, retry=FAST, capacity=2) as queue:
            first, second = queue.submit(sample_ticket()), queue.submit(sample_ticket())
            third = queue.submit(sample_ticket())
            assert third.done()
            assert third.result().reason == "print queue is full"
            assert (await first).printed and (await second).printed

    asyncio.run(scenario())


def test_closing_drains_queued_jobs() -> None:
    async def scenario() -> None:
        printer = FakePrinter()
        async with PrintQueue(printer, retry=FAST) as queue:
            futures = [queue.submit(sample_ticket()) for _ in range(3)]
        assert all(future.result().printed for future in futures)
        assert len(printer.jobs) == 3
        late = queue.submit(sample_ticket())
        assert late.result().status is PrintStatus.FAILED
        assert late.result().reason == "print queue is closed"

    asyncio.run(scenario())


def test_closing_with_a_stuck_printer_fails_what_is_left() -> None:
    async def scenario() -> None:
        printer = FakePrinter()
        printer.power_off()
        retry = RetryPolicy(attempts=5, first_delay_s=10.0)
        queue = PrintQueue(printer, retry=retry, close_timeout_s=0.1)
        tickets = [sample_ticket(), sample_ticket()]
        async with queue:
            futures = [queue.submit(ticket) for ticket in tickets]
            await asyncio.sleep(0.05)
        outcomes = [future.result() for future in futures]
        assert [outcome.reason for outcome in outcomes] == ["print queue is closed"] * 2
        assert [outcome.ticket for outcome in outcomes] == tickets
        assert all(outcome.ticket is ticket for outcome, ticket in zip(outcomes, tickets, strict=True))

    asyncio.run(scenario())


def test_a_failing_callback_does_not_stop_the_queue() -> None:
    async def scenario() -> None:
        def explode(outcome: PrintOutcome) -> None:
            raise RuntimeError("kiosk screen went away")

        printer = FakePrinter()
        async with PrintQueue(printer, retry=FAST, on_outcome=explode) as queue:
            assert (await queue.print(sample_ticket())).printed
            assert (await queue.print(sample_ticket())).printed

    asyncio.run(scenario())


def test_check_health_asks_the_printer() -> None:
    async def scenario() -> None:
        printer = FakePrinter()
        printer.set_paper(PaperLevel.NEAR_END)
        async with PrintQueue(printer) as queue:
            assert queue.health is None
            health = await queue.check_health()
        assert health.paper is PaperLevel.NEAR_END and queue.health == health

    asyncio.run(scenario())


def test_an_offline_fake_printer_fails_the_job_with_the_reason() -> None:
    async def scenario() -> None:
        printer = FakePrinter()
        printer.set_online(False)
        async with PrintQueue(printer, retry=FAST) as queue:
            outcome = await queue.print(sample_ticket())
            assert not outcome.printed and outcome.reason == "fake-printer cannot print: offline"
            printer.set_online(True)
            assert (await queue.print(sample_ticket())).printed

    asyncio.run(scenario())


def test_retry_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(factor=0.5)


@pytest.mark.integration
def test_network_printer_dropping_mid_job_then_recovering() -> None:
    async def scenario() -> None:
        with fake_tcp_printer() as server:
            printer = open_printer(server.url, PrinterProfile(width_mm=58))
            ticket = sample_ticket()
            async with PrintQueue(printer, retry=FAST) as queue:
                server.drop_jobs_after(3000)
                failed = await queue.print(ticket)
                assert not failed.printed and failed.ticket is ticket and failed.attempts == 3
                server.recover()
                printed = await queue.print(ticket)
            assert printed.printed
            assert server.received().endswith(encode_ticket(ticket, printer.profile))

    asyncio.run(scenario())
