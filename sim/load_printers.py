"""`motcua load --printer-out HH:MM-HH:MM`: the kiosks' printers stop for a while, mid-run.

The driver plays the gateways of the sites' MQTT printers (the default devices
have one, printer-k1 for kiosk k1): each says it is online with paper (its
retained status, as a gateway does) and counts the jobs the controller sends it.
In the window, simulated time of the first day, each says it is out of paper
(`{"paper": "out", "can_print": false}`), then that it has paper again.

Every ticket a kiosk is given carries its print's status: "sent" to the gateway,
or "failed" with the reason, for which the kiosk page shows the ticket (number
and QR) on screen and asks the citizen to photograph it. The report says, for
the tickets of those kiosks issued while their printer was stopped, what the
kiosk did, how many jobs still reached the gateway, whether any ticket is
missing from the event log (acked_not_in_event_log), how long the controller
took to stop sending jobs (noticed_after_s: from the status published to the
first ticket failed at once) and to send them again (recovered_after_s), and
when the floor's printer alert was raised and answered.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from controller.core.site import Site
from devices.errors import ProtocolError
from devices.registry import DeviceSpec
from devices.topics import SiteTopics, parse_topic
from firmware_bridge.mqtt_link import MqttLink, MqttMessage
from sim.load_actors import Timeline

__all__ = ["PAPER_OK", "PAPER_OUT", "PrinterFault", "gateway_printers", "parse_window"]

PAPER_OK = b'{"paper": "ok", "can_print": true}'
PAPER_OUT = b'{"paper": "out", "can_print": false}'
PRINTER_ALERT = "printer_problem"


def parse_window(text: str) -> tuple[float, float]:
    """HH:MM-HH:MM as seconds of the day; ValueError when it is not one, or ends before it starts."""
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"--printer-out must be HH:MM-HH:MM, got {text!r}")
    bounds = []
    for part in (start, end):
        hours, colon, minutes = part.strip().partition(":")
        if not (colon and hours.isdigit() and minutes.isdigit()) or int(hours) > 23 or int(minutes) > 59:
            raise ValueError(f"--printer-out must be HH:MM-HH:MM, got {text!r}")
        bounds.append(int(hours) * 3600.0 + int(minutes) * 60.0)
    if bounds[1] <= bounds[0]:
        raise ValueError(f"--printer-out must end after it starts, got {text!r}")
    return bounds[0], bounds[1]


def gateway_printers(sites: tuple[Site, ...] | list[Site]) -> list[tuple[str, str, str]]:
    """(site, device, kiosk) of every printer reached through an MQTT gateway."""
    return [(site.id, spec.id, spec.kiosk) for site in sites for spec in site.devices
            if isinstance(spec, DeviceSpec) and spec.kind == "printer" and spec.transport == "mqtt"
            and spec.kiosk and spec.url is None]


@dataclass
class PrinterFault:
    """The gateways of the sites' MQTT printers, stopped in `window`; what the kiosks and the floor did."""

    link: MqttLink
    printers: list[tuple[str, str, str]]
    window: tuple[float, float]  # simulated seconds of the first day
    jobs: Counter[str] = field(default_factory=Counter)  # by phase: before, stopped, after
    stopped_at: float | None = None    # wall (monotonic) time the statuses said paper out
    restarted_at: float | None = None  # ... and paper again
    # each ticket of a stopped printer's kiosk: (wall time, site, ticket id, print status, reason)
    prints: list[tuple[float, str, str, str, str | None]] = field(default_factory=list)
    raised_at: float | None = None
    answered_at: float | None = None

    @staticmethod
    def subscriptions(sites: list[str]) -> list[str]:
        return [SiteTopics(site).subscription("printer_job") for site in sites]

    def _say(self, payload: bytes) -> None:
        for site, device, _ in self.printers:
            self.link.publish(SiteTopics(site).device_status(device), payload, retain=True)

    def announce(self) -> None:
        """Each gateway says it is online with paper (before the run)."""
        self._say(PAPER_OK)

    def phase(self) -> str:
        if self.stopped_at is None:
            return "before"
        return "stopped" if self.restarted_at is None else "after"

    async def run(self, timeline: Timeline) -> None:
        """Paper out at the window's start, paper again at its end (run as a task)."""
        if not await timeline.until(self.window[0]):
            return
        self._say(PAPER_OUT)
        self.stopped_at = time.monotonic()
        if not await timeline.until(self.window[1]):
            return
        self._say(PAPER_OK)
        self.restarted_at = time.monotonic()

    def on_message(self, message: MqttMessage) -> None:
        """A job reached a gateway."""
        try:
            match = parse_topic(message.topic)
        except ProtocolError:
            return
        if match.kind == "printer_job" and not message.retain:
            self.jobs[self.phase()] += 1

    def issued(self, site: str, ticket: dict[str, Any]) -> None:
        """A kiosk got a ticket: what became of its print, if it is one of these printers'."""
        printed = ticket.get("print")
        if not isinstance(printed, dict):
            return
        if (site, printed.get("device")) not in {(s, d) for s, d, _ in self.printers}:
            return
        self.prints.append((time.monotonic(), site, str(ticket["id"]), str(printed.get("status")),
                            printed.get("reason")))

    def on_live(self, site: str, message: dict[str, Any]) -> None:
        """The floor's printer alert raised, and answered by the printer saying it prints again."""
        devices = {d for s, d, _ in self.printers if s == site}
        if message.get("device") not in devices:
            return
        if message.get("type") == "alert.raised" and message.get("code") == PRINTER_ALERT:
            self.raised_at = self.raised_at or time.monotonic()
        elif (message.get("type") == "device.changed" and self.raised_at is not None and self.answered_at is None
              and message.get("status") == "online"
              and (message.get("health") or {}).get("can_print") is not False):
            self.answered_at = time.monotonic()

    def report(self, lost: set[str] | None) -> dict[str, Any]:
        """What happened to the tickets of the stopped printers' kiosks; `lost`: ticket ids the log lacks."""
        stopped, restarted = self.stopped_at, self.restarted_at

        def during(at: float) -> bool:
            return stopped is not None and at >= stopped and (restarted is None or at < restarted)

        inside = [p for p in self.prints if during(p[0])]
        failed = [p for p in inside if p[3] == "failed"]
        first_failed = min((p[0] for p in failed), default=None)
        after = [p for p in self.prints if restarted is not None and p[0] >= restarted]
        back = [p[0] for p in after if p[3] == "sent"]

        def since(at: float | None, start: float | None) -> float | None:
            return None if at is None or start is None else round(at - start, 2)

        return {
            "printers": [f"{site}/{device}" for site, device, _ in self.printers],
            "window": [_hhmm(self.window[0]), _hhmm(self.window[1])],
            "stopped_for_s": since(restarted, stopped),
            "tickets_while_stopped": len(inside),
            # the kiosk showed these on screen and asked for a photo (kiosk.js, print_failed)
            "shown_on_screen": len(failed),
            "reasons": dict(Counter(str(p[4]) for p in failed)),
            "sent_while_stopped": sum(1 for p in inside if p[3] == "sent"),
            "jobs_received": dict(self.jobs),
            "acked_not_in_event_log": None if lost is None else sum(1 for p in inside if p[2] in lost),
            # the first ticket after the paper ran out whose print failed at once (bounded below by arrivals)
            "noticed_after_s": since(first_failed, stopped),
            # ... and the first after the paper came back whose job went to the printer again
            "recovered_after_s": since(min(back, default=None), restarted),
            "tickets_after": len(after),
            "failed_after": sum(1 for p in after if p[3] == "failed"),
            "alert_raised_after_s": since(self.raised_at, stopped),
            "alert_answered_after_s": since(self.answered_at, restarted),
        }


def _hhmm(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"

