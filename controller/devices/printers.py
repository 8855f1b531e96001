"""Kiosk ticket printing: ticket.issued from a kiosk -> that kiosk's printer, outcomes and health.

Which printer: the registry's printer whose `kiosk` is the ticket's kiosk
(`printer-k1` serves kiosk k1 by default). How it is reached:

    --devices sim    a FakePrinter per printer, through a PrintQueue (outcomes and
                     health as a real one), and the job published on MQTT too when
                     MQTT is on (a printer gateway emulator may listen)
    --devices real   a printer with transport = "network" (host, port), "serial"
                     (path, baud) or "usb" (path), or an older file's printer
                     whose `url` is tcp://HOST:9100, serial:PORT or file:PATH, is
                     driven from this host through a PrintQueue; any other
                     printer (transport = "mqtt") gets its job on
                     motcua/{site}/printer/{kiosk}/job (QoS 1) for its gateway, whose
                     own status topic reports its health

The ticket was committed before this runs; printing happens after, never in
the writer's way. Each ticket's print ends in the PrintBook (printing.py):
"pending" while queued, "printed" or "failed" with the reason (the kiosk then
tells the citizen to photograph the screen), "sent" when handed to a gateway; a
gateway whose printer last said it cannot print (offline, out of paper, cover
open) is not sent the job: the print is "failed" with that reason at once.

Health of the printers driven here is polled and reported to the device
router as device statuses, so it takes the same path as any other device:
coordinators, debounced device.changed, and the printer_problem alert.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Final

from controller.devices.printing import PrintBook, PrintRecord, PrintState, printer_refusal, ticket_print
from controller.devices.router import DeviceRouter
from controller.runtime.controller import Controller
from controller.runtime.site_runtime import Committed, SiteRuntime
from devices.payloads import DeviceStatus
from devices.printer.address import SERIAL_TIMEOUT_S, PrinterAddress, open_printer, parse_printer_url
from devices.printer.contract import TicketPrinter
from devices.printer.fake import FakePrinter
from devices.printer.profile import PrinterProfile
from devices.printer.queue import PrintOutcome, PrintQueue, RetryPolicy
from devices.printer.status import PrinterHealth
from devices.printer.ticket import TicketPrint
from devices.registry import DEFAULT_BAUD, DEFAULT_PRINTER_PORT, DeviceSpec
from devices.topics import SiteTopics
from firmware_bridge.mqtt_link import MqttLink

__all__ = ["HEALTH_POLL_MAX_S", "NETWORK_TIMEOUT_S", "KioskPrinter", "PrintService", "direct_address", "print_service"]

log = logging.getLogger(__name__)

HEALTH_POLL_MAX_S: Final = 5.0
HEALTH_POLL_MIN_S: Final = 0.25
# a citizen waits at the kiosk a few seconds at most: fail fast, the screen copy is there
RETRY: Final = RetryPolicy(attempts=2, first_delay_s=0.5)
JOB_DEADLINE_S: Final = 15.0
# a network printer answers a status byte in milliseconds: one silent this long is hung
NETWORK_TIMEOUT_S: Final = 5.0


@dataclass
class KioskPrinter:
    """One kiosk's printer: a queue driven from this host, or a gateway over MQTT."""

    site: str
    spec: DeviceSpec
    printer: TicketPrinter | None = None
    queue: PrintQueue | None = None
    last_health: PrinterHealth | None = None

    @property
    def kiosk(self) -> str:
        return self.spec.kiosk or ""


def _profile(spec: DeviceSpec) -> PrinterProfile:
    # the registry's `model` may say the paper width ("58" / "80"); 80 mm otherwise
    return PrinterProfile(width_mm=58) if spec.model is not None and "58" in spec.model else PrinterProfile()


def direct_address(spec: DeviceSpec) -> PrinterAddress | None:
    """Where this host reaches a printer it drives itself; None for a printer behind a gateway."""
    if spec.transport == "network" and spec.host is not None:
        return PrinterAddress("tcp", spec.host, port=spec.port or DEFAULT_PRINTER_PORT, timeout_s=NETWORK_TIMEOUT_S)
    if spec.transport == "serial" and spec.path is not None:
        return PrinterAddress("serial", spec.path, baudrate=spec.baud or DEFAULT_BAUD, timeout_s=SERIAL_TIMEOUT_S)
    if spec.transport == "usb" and spec.path is not None:
        return PrinterAddress("file", spec.path)
    if spec.url is None:  # transport = "mqtt": its gateway prints
        return None
    try:  # an older file's url
        address = parse_printer_url(spec.url)
    except ValueError:
        return None
    return address if address.kind in ("tcp", "serial", "file") else None


@dataclass
class PrintService:
    """The commit listener and the printers it feeds."""

    controller: Controller
    router: DeviceRouter | None
    base_url: str
    link: MqttLink | None = None
    book: PrintBook = field(default_factory=PrintBook)
    printers: dict[tuple[str, str], KioskPrinter] = field(default_factory=dict)
    poll_s: float = HEALTH_POLL_MAX_S
    publish_all: bool = False  # sim: the fake prints it and a gateway emulator may get the job too
    check_code: Callable[[str, str], str] | None = None  # a number that returns later prints its check-in code
    jobs_sent: int = 0
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def attach(self) -> None:
        """Listen to the commits of every site written here and start polling the health of local printers."""
        self.controller.watch(self)
        if any(p.queue is not None for p in self.printers.values()):
            self._spawn(self._poll_health())

    async def detach(self) -> None:
        """Stop listening and polling."""
        self.controller.unwatch(self)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def site_added(self, runtime: SiteRuntime) -> None:
        """Print the site's kiosk tickets (SiteWatcher)."""
        runtime.listeners.append(self._on_committed)

    def site_removed(self, runtime: SiteRuntime) -> None:
        """Another process prints them now (SiteWatcher)."""
        with contextlib.suppress(ValueError):
            runtime.listeners.remove(self._on_committed)

    def fake(self, site: str, kiosk: str = "k1") -> FakePrinter:
        """The FakePrinter of a kiosk (--devices sim), for tests and demos."""
        printer = self.printers[(site, kiosk)].printer
        if not isinstance(printer, FakePrinter):
            raise LookupError(f"kiosk {kiosk} of {site} has no fake printer")
        return printer

    def _on_committed(self, site_id: str, committed: Committed) -> None:
        # inside the writer's commit: never raise into it (the ticket is already durable)
        for event in committed.events:
            if event.type != "ticket.issued" or not event.data.get("kiosk"):
                continue
            try:
                self._print(site_id, str(event.data["ticket"]), str(event.data["kiosk"]), event.at)
            except Exception:
                log.exception("site %s: could not print ticket %s", site_id, event.data.get("ticket"))
                self.book.set(site_id, str(event.data["ticket"]), PrintRecord("failed", "internal error"))

    def _print(self, site_id: str, ticket_id: str, kiosk: str, now: float) -> None:
        target = self.printers.get((site_id, kiosk))
        if target is None:
            return  # a kiosk without a printer: the screen is the ticket ("none")
        floor = self.controller.runtimes[site_id].floor
        ticket = ticket_print(floor, ticket_id, self.base_url, now, self.check_code)
        if target.queue is None:
            # a gateway whose printer says it cannot print would print this later, for someone else, or never:
            # the print fails now, and the kiosk shows the ticket on screen and asks for a photo of it
            known = self.router.device_now(site_id, target.spec.id) if self.router is not None else None
            refusal = None if known is None else printer_refusal(known)
            if refusal is not None:
                self.book.set(site_id, ticket_id, PrintRecord("failed", refusal, target.spec.id))
                return
        if self.link is not None and (self.publish_all or target.queue is None):
            payload = json.dumps(ticket.as_payload(), ensure_ascii=False, separators=(",", ":")).encode()
            self.link.publish(SiteTopics(site_id).printer_job(kiosk), payload, retain=False)
            self.jobs_sent += 1
        if target.queue is None:
            self.book.set(site_id, ticket_id, PrintRecord("sent", device=target.spec.id))
            return
        self.book.set(site_id, ticket_id, PrintRecord("pending", device=target.spec.id))
        future = target.queue.submit(ticket)
        future.add_done_callback(lambda done: self._settled(target, ticket_id, ticket, done))

    def _settled(
        self, target: KioskPrinter, ticket_id: str, ticket: TicketPrint, done: asyncio.Future[PrintOutcome]
    ) -> None:
        if done.cancelled():
            return
        outcome = done.result()
        status: PrintState = "printed" if outcome.printed else "failed"
        self.book.set(target.site, ticket_id, PrintRecord(status, outcome.reason, target.spec.id))
        if not outcome.printed:
            log.warning("site %s: ticket %s not printed on %s: %s", target.site, ticket.number,
                        target.spec.id, outcome.reason)
        if outcome.health is not None:
            self._report(target, outcome.health)

    def _report(self, target: KioskPrinter, health: PrinterHealth) -> None:
        target.last_health = health
        # the health of a site written by another process is that process's to record
        if self.router is not None and target.site in self.controller.runtimes:
            status = DeviceStatus(online=health.reachable, health=health.as_payload())
            self.router.status(target.site, target.spec.id, status)

    async def _poll_health(self) -> None:
        while True:
            for target in list(self.printers.values()):
                if target.queue is None:
                    continue
                try:
                    self._report(target, await target.queue.check_health())
                except Exception:  # status() promises not to raise; a driver that does must not stop this
                    log.exception("printer %s: health check failed", target.spec.id)
            await asyncio.sleep(self.poll_s)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro, name="motcua-printers")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


@contextlib.asynccontextmanager
async def print_service(
    controller: Controller, mode: str, router: DeviceRouter | None, link: MqttLink | None, base_url: str,
    *, poll_s: float = HEALTH_POLL_MAX_S, check_code: Callable[[str, str], str] | None = None,
) -> AsyncIterator[PrintService]:
    """Print kiosk tickets for the life of the context: mode "sim" or "real" (module docstring)."""
    service = PrintService(controller, router, base_url, link,
                           poll_s=min(HEALTH_POLL_MAX_S, max(HEALTH_POLL_MIN_S, poll_s)), publish_all=mode == "sim",
                           check_code=check_code)
    async with contextlib.AsyncExitStack() as stack:
        for site_id, site in controller.sites.items():
            for spec in site.devices:
                if not isinstance(spec, DeviceSpec) or spec.kind != "printer" or not spec.kiosk:
                    continue
                target = KioskPrinter(site_id, spec)
                address = direct_address(spec)
                if mode == "sim":
                    target.printer = FakePrinter(_profile(spec), name=spec.id)
                elif address is not None:
                    target.printer = open_printer(address, _profile(spec), name=spec.id)
                if target.printer is not None:
                    queue = PrintQueue(target.printer, retry=RETRY, job_deadline_s=JOB_DEADLINE_S)
                    target.queue = await stack.enter_async_context(queue)
                service.printers[(site_id, spec.kiosk)] = target
        service.attach()
        stack.push_async_callback(service.detach)
        log.info("printers: %d kiosks (%d driven from this host)", len(service.printers),
                 sum(p.queue is not None for p in service.printers.values()))
        yield service
