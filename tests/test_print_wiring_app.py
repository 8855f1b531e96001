"""Kiosk printing through the whole app (create_app + uvicorn in this process, a real mosquitto)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from controller.devices.service import DeviceService
from controller.settings import Settings
from devices.printer.status import PaperLevel
from devices.printer.ticket import TicketPrint
from devices.topics import SiteTopics
from tests.app_support import running_app
from tests.bridge_support import MqttRecorder
from tests.devices_support import COMMUNE
from tests.server import KIOSK
from tests.services import Mosquitto, free_port

pytestmark = pytest.mark.integration

T = SiteTopics("xa")


async def _issue(client: httpx.AsyncClient) -> dict[str, object]:
    response = await client.post("/api/v1/sites/xa/tickets", headers=KIOSK, json={"procedure": "ht-khai-sinh"})
    response.raise_for_status()
    body: dict[str, object] = response.json()
    return body


async def _print_status(client: httpx.AsyncClient, ticket: object) -> dict[str, object]:
    body = (await client.get(f"/api/v1/sites/xa/tickets/{ticket}")).json()
    status: dict[str, object] = body["print"]
    return status


async def _wait_print(client: httpx.AsyncClient, ticket: object, wanted: str) -> dict[str, object]:
    async with asyncio.timeout(15):
        while (status := await _print_status(client, ticket))["status"] != wanted:
            await asyncio.sleep(0.05)
    return status


def test_kiosk_ticket_prints_publishes_its_job_and_survives_a_dead_printer(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    settings = Settings(
        site_file=COMMUNE, data_dir=tmp_path, port=free_port(), mqtt=mosquitto.url, devices="sim", demo=True,
        device_hold_s=0.2, public_url="http://motcua.xa.example.vn",
    )

    async def scenario() -> None:
        with MqttRecorder(mosquitto.port, [T.subscription("printer_job")]) as watcher:
            async with running_app(settings) as (client, app):
                issued = await _issue(client)
                assert issued["print"] == {"status": "pending", "reason": None, "device": "printer-k1"}
                topic, payload = await watcher.wait_for(lambda t, p: True)
                assert topic == T.printer_job("k1")
                job = TicketPrint.from_payload(json.loads(payload))
                assert job.number == issued["number"] and job.site_name == "Trung tâm Phục vụ hành chính công xã"
                assert job.status_url == f"http://motcua.xa.example.vn/t/xa/{issued['id']}"
                assert (await _wait_print(client, issued["id"], "printed"))["reason"] is None

                devices: DeviceService = app.state.devices
                assert devices.printing is not None
                fake = devices.printing.fake("xa")
                fake.power_off()
                lost = await _issue(client)
                failed = await _wait_print(client, lost["id"], "failed")
                assert "switched off" in str(failed["reason"])
                # the ticket itself is fine: in line, with its place and its QR page
                ticket = (await client.get(f"/api/v1/sites/xa/tickets/{lost['id']}")).json()
                assert ticket["state"] == "waiting" and ticket["position"] == 2
                assert (await client.get(f"/t/xa/{lost['id']}")).status_code == 200

                # the powered-off printer is an alert on the monitor until it is back
                token = (await client.post("/api/v1/auth/login", json={"user": "quanly", "secret": "demo"})).json()
                manager = {"Authorization": f"Bearer {token['token']}"}

                async def printer_alerts() -> list[str]:
                    monitor = (await client.get("/api/v1/sites/xa/monitor", headers=manager)).json()
                    return [a["code"] for a in monitor["alerts"]]

                async with asyncio.timeout(10):
                    while "printer_problem" not in await printer_alerts():
                        await asyncio.sleep(0.05)
                fake.recover()
                fake.set_paper(PaperLevel.NEAR_END)  # still prints: not a problem
                async with asyncio.timeout(10):
                    while "printer_problem" in await printer_alerts():
                        await asyncio.sleep(0.05)
                fine = await _issue(client)
                await _wait_print(client, fine["id"], "printed")
                assert len(fake.jobs) == 2

    asyncio.run(scenario())


def test_a_gateway_printer_out_of_paper_gets_no_job_and_the_kiosk_is_told_at_once(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    settings = Settings(site_file=COMMUNE, data_dir=tmp_path, port=free_port(), mqtt=mosquitto.url, devices="real",
                        demo=True, device_hold_s=0.2)

    async def scenario() -> None:
        with MqttRecorder(mosquitto.port, [T.subscription("printer_job")]) as gateway:
            async with running_app(settings) as (client, _):
                issued = await _issue(client)  # a gateway not heard from yet: sent, as before
                assert issued["print"] == {"status": "sent", "reason": None, "device": "printer-k1"}
                await gateway.wait_for(lambda t, p: json.loads(p)["number"] == issued["number"])
                gateway.publish(T.device_status("printer-k1"), b'{"paper": "out", "can_print": false}', retain=True)
                async with asyncio.timeout(10):
                    while (refused := await _issue(client))["print"]["status"] != "failed":  # type: ignore[index]
                        await asyncio.sleep(0.05)
                assert refused["print"] == {"status": "failed", "reason": "hết giấy / paper out",
                                            "device": "printer-k1"}
                ticket = (await client.get(f"/api/v1/sites/xa/tickets/{refused['id']}")).json()
                assert ticket["state"] == "waiting"  # the ticket is fine: only its paper copy failed
                gateway.publish(T.device_status("printer-k1"), b'{"paper": "ok", "can_print": true}', retain=True)
                async with asyncio.timeout(10):
                    while (back := await _issue(client))["print"]["status"] != "sent":  # type: ignore[index]
                        await asyncio.sleep(0.05)
                await gateway.wait_for(lambda t, p: json.loads(p)["number"] == back["number"])
                numbers = {json.loads(p).get("number") for t, p, _ in gateway.drain() if t == T.printer_job("k1")}
                assert refused["number"] not in numbers  # the gateway never got the job it could not print

    asyncio.run(scenario())
