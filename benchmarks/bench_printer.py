"""Ticket print latency: layout + raster + ESC/POS bytes to a fake 9100 printer on loopback."""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable
from datetime import timedelta

from devices.printer import PrinterProfile, TicketPrint, open_printer, render_ticket, sample_ticket
from devices.printer.encode import encode_image_job
from tests.test_printer_tcp_fake import fake_tcp_printer

TICKETS = 200
GOAL_P95_MS = 150.0
WIDTHS = (58, 80)


def _tickets(count: int) -> list[TicketPrint]:
    base = sample_ticket()
    return [
        dataclasses.replace(
            base,
            number=f"{1000 + i}",
            people_ahead=i % 37,
            estimated_wait_s=60 * (i % 25),
            issued_at=base.issued_at + timedelta(minutes=i),
            status_url=f"{base.status_url[:-4]}{i:04d}",
        )
        for i in range(count)
    ]


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))] * 1000

    return {"p50": statistics.median(ordered) * 1000, "p95": pct(0.95), "p99": pct(0.99),
            "max": ordered[-1] * 1000}


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def run() -> str:
    """Measure end-to-end ticket printing for 58 and 80 mm, interleaved, and return markdown."""
    tickets = _tickets(TICKETS)
    profiles = {width: PrinterProfile(width_mm=width) for width in WIDTHS}  # type: ignore[arg-type]
    total: dict[int, list[float]] = {width: [] for width in WIDTHS}
    render: dict[int, list[float]] = {width: [] for width in WIDTHS}
    encode: dict[int, list[float]] = {width: [] for width in WIDTHS}
    job_bytes: dict[int, int] = {}
    with fake_tcp_printer() as server:
        printers = {width: open_printer(server.url, profiles[width]) for width in WIDTHS}
        for width in WIDTHS:  # warm-up: font loading, escpos capabilities, first connection
            printers[width].print_ticket(tickets[0])
        for ticket in tickets:
            # Interleaved so both widths see the same machine state.
            for width in WIDTHS:
                printer, profile = printers[width], profiles[width]
                total[width].append(_timed(lambda: printer.print_ticket(ticket)))  # noqa: B023
                started = time.perf_counter()
                image = render_ticket(ticket, profile).image
                render[width].append(time.perf_counter() - started)
                started = time.perf_counter()
                job = encode_image_job(image, profile)
                encode[width].append(time.perf_counter() - started)
                job_bytes[width] = len(job)
        received = len(server.received())

    rows = []
    for width in WIDTHS:
        figures = _ms(total[width])
        rows.append(
            f"| {width} mm ({profiles[width].dots} dots) | {figures['p50']:.1f} | "
            f"{figures['p95']:.1f} | {figures['p99']:.1f} | {figures['max']:.1f} | "
            f"{_ms(render[width])['p50']:.1f} | {_ms(encode[width])['p50']:.1f} | "
            f"{job_bytes[width] / 1024:.0f} KiB |"
        )
    worst_p95 = max(_ms(total[width])["p95"] for width in WIDTHS)
    ratio = _ms(total[80])["p50"] / _ms(total[58])["p50"]
    verdict = "met" if worst_p95 < GOAL_P95_MS else "MISSED"
    return "\n".join([
        "## Ticket printing (devices/printer)",
        "",
        f"Time to print one ticket end to end: Pillow layout with QR, 1-bit raster, ESC/POS "
        f"GS v 0 job, then a new TCP connection to a fake 9100 printer on loopback, DLE EOT "
        f"status before and after the job, and the job bytes ({TICKETS} different tickets "
        f"per width, 58 and 80 mm interleaved in one run). Render and encode columns time "
        f"those steps alone (medians).",
        "",
        f"Goal: p95 < {GOAL_P95_MS:.0f} ms. Result: worst p95 {worst_p95:.1f} ms, goal {verdict}; "
        f"80 mm takes {ratio:.2f}x the median time of 58 mm.",
        "",
        "| paper | p50 ms | p95 ms | p99 ms | max ms | render p50 ms | encode p50 ms | job |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"The fake printer received {received / 2**20:.1f} MiB in all.",
        "",
        "Reproduce: `python -m benchmarks.run bench_printer`",
    ])


if __name__ == "__main__":
    print(run())
