"""Kiosk printing in the controller: the ticket on paper, print outcomes, printer alerts (in-process)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from controller.core.commands import IssueTicket
from controller.core.events import Event
from controller.devices.printers import PrintService
from controller.devices.printing import PRINTER_ALERT_CODE, printer_alert_events, printer_alert_id, ticket_print
from devices.printer.status import PaperLevel
from tests.bridge_support import eventually
from tests.devices_support import device_floor, logged

BASE = "http://quay.example.vn:8000"


def _printer_change(status: str, **health: object) -> dict[str, object]:
    return {"device": "printer-k1", "kind": "printer", "counter": None, "transport": "mqtt",
            "status": status, "health": health}


def test_printer_alerts_are_raised_once_and_resolved_by_the_floor() -> None:
    out_of_paper = _printer_change("online", paper="out", can_print=False)
    [raised] = printer_alert_events([out_of_paper], {}, 10.0)
    assert raised.type == "alert.raised"
    assert raised.data == {"alert": "printer-printer-k1", "code": PRINTER_ALERT_CODE, "device": "printer-k1",
                           "reason": "hết giấy / paper out", "problems": ["paper_out"],
                           "message": "Máy in printer-k1: hết giấy / Printer printer-k1: paper out"}
    # still open: not raised again; a healthy or unknown printer raises nothing
    assert printer_alert_events([out_of_paper], {raised.data["alert"]: dict(raised.data)}, 11.0) == []
    assert printer_alert_events([_printer_change("online", paper="ok", can_print=True)], {}, 12.0) == []
    assert printer_alert_events([{**out_of_paper, "kind": "display"}], {}, 12.0) == []
    [offline] = printer_alert_events([_printer_change("offline")], {"printer-printer-k1": {"resolved": True}}, 13.0)
    assert offline.data["reason"] == "offline"
    assert (offline.data["problems"], offline.data["message"]) == (
        ["offline"], "Máy in printer-k1: mất kết nối / Printer printer-k1: offline")
    [jammed] = printer_alert_events([_printer_change("online", can_print=False, cover_open=True, error="cutter")],
                                    {}, 14.0)
    assert jammed.data["problems"] == ["cover_open", "error"]
    assert jammed.data["message"] == ("Máy in printer-k1: nắp mở, lỗi (cutter) / "
                                      "Printer printer-k1: cover open, error (cutter)")


def test_kiosk_ticket_is_printed_with_what_the_floor_says(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with device_floor(tmp_path, tickets=2) as f:
            printing = f.service.printing
            assert isinstance(printing, PrintService)
            committed = await f.runtime.execute(
                IssueTicket("ht-khai-sinh", priority="elderly", channel="kiosk", kiosk="k1", check_hours=False)
            )
            ticket_id = str(committed.events[0].data["ticket"])
            # recorded in the same commit, before any HTTP answer could be built
            assert printing.book.get("xa", ticket_id).status == "pending"
            await eventually(lambda: printing.book.get("xa", ticket_id).status == "printed")
            assert printing.book.get("xa", ticket_id).device == "printer-k1"
            fake = printing.fake("xa")
            assert len(fake.jobs) == 1 and len(fake.printed_images()) == 1

            ticket = f.runtime.floor.ticket(ticket_id)
            paper = ticket_print(f.runtime.floor, ticket_id, BASE, f.runtime.clock())
            assert paper.number == ticket.number and paper.priority == "elderly"
            assert paper.site_name == f.runtime.site.name
            assert paper.agency_name == f.runtime.site.agencies["HT"].name
            assert paper.counters == (1, 2, 3, 5)  # every counter serving HT, open or not
            assert paper.people_ahead == 0  # an elderly citizen goes first
            assert paper.status_url == f"{BASE}/t/xa/{ticket_id}"
            assert paper.issued_at.utcoffset() is not None
            assert paper.issued_at.utcoffset().total_seconds() == f.runtime.site.utc_offset_s  # type: ignore[union-attr]

            # tickets issued at a desk (no kiosk) are not printed
            staff = await f.runtime.execute(IssueTicket("ht-khai-sinh", channel="staff", check_hours=False))
            assert printing.book.get("xa", str(staff.events[0].data["ticket"])).status == "none"

    asyncio.run(scenario())


def test_a_dead_printer_fails_the_print_not_the_ticket(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with device_floor(tmp_path, tickets=0) as f:
            printing = f.service.printing
            assert printing is not None
            printing.fake("xa").power_off()
            committed = await f.runtime.execute(
                IssueTicket("ht-khai-sinh", channel="kiosk", kiosk="k1", check_hours=False)
            )
            ticket_id = str(committed.events[0].data["ticket"])
            await eventually(lambda: printing.book.get("xa", ticket_id).status == "failed", timeout_s=10)
            assert "switched off" in (printing.book.get("xa", ticket_id).reason or "")
            # the ticket is in the log and waiting in line all the same
            assert [e.data["ticket"] for e in await logged(f.runtime, "ticket.issued")] == [ticket_id]
            assert f.runtime.floor.position(f.runtime.floor.ticket(ticket_id)) == 1

    asyncio.run(scenario())


def test_paper_out_raises_the_printer_alert_and_new_paper_resolves_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with device_floor(tmp_path, tickets=0) as f:
            printing = f.service.printing
            assert printing is not None
            state = f.runtime.floor.state
            alert_id = printer_alert_id("printer-k1")
            await eventually(lambda: _device(f.runtime.device_view(), "printer-k1") == "online")
            printing.fake("xa").set_paper(PaperLevel.OUT)
            await eventually(lambda: alert_id in {a["alert"] for a in state.open_alerts()}, timeout_s=10)
            alert = state.alerts[alert_id]
            assert (alert["code"], alert["device"]) == ("printer_problem", "printer-k1")
            assert "paper out" in alert["reason"]

            printing.fake("xa").set_paper(PaperLevel.OK)
            await eventually(lambda: alert_id not in {a["alert"] for a in state.open_alerts()}, timeout_s=10)
            assert state.alerts[alert_id]["resolved"] is True
            changes = [e.data for e in await logged(f.runtime, "device.changed") if e.data["device"] == "printer-k1"]
            assert [c["health"].get("paper") for c in changes][-2:] == ["out", "ok"]
            assert len(await logged(f.runtime, "alert.raised")) == 1

    asyncio.run(scenario())


def _device(rows: list[dict[str, object]], device: str) -> object:
    return next((row["status"] for row in rows if row["device"] == device), None)


def test_a_resolved_printer_alert_is_raised_again_on_the_next_fault() -> None:
    from controller.core.floor import Floor
    from controller.sitefile import load_sites
    from tests.devices_support import COMMUNE

    floor = Floor(load_sites(COMMUNE)[0], "deadline")
    problem = _printer_change("offline")
    floor.apply(printer_alert_events([problem], floor.state.alerts, 1.0))
    assert [a["alert"] for a in floor.state.open_alerts()] == ["printer-printer-k1"]
    floor.apply([Event("device.changed", 2.0, _printer_change("online", paper="near_end", can_print=True))])
    assert floor.state.open_alerts() == []
    again = printer_alert_events([problem], floor.state.alerts, 3.0)
    floor.apply(again)
    assert len(again) == 1 and [a["alert"] for a in floor.state.open_alerts()] == ["printer-printer-k1"]
