"""Reasons at a low rating over HTTP: from the counter's rating screen, and from the citizen's ticket page.

The rating screen (a tablet at the counter, with a kiosk key) or the counter's staff send the
reasons for the counter's last rating; the ticket page (public: the QR on the ticket) sends them
for its own ticket, limited per client address like code look-ups. The core decides whether the
rating asks for reasons and binds them to its ticket and staff member (commands.GiveReasons).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field

from controller.api.bodies import Strict
from controller.api.errors import ApiError
from controller.api.ratelimit import RateLimits
from controller.api.routes import take_tokens
from controller.api.security import require_role
from controller.core import commands as cmd
from controller.runtime.controller import Controller
from controller.runtime.site_runtime import SiteRuntime

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")

class CounterReasonsBody(Strict):
    counter: int = Field(ge=1, le=999)
    reasons: list[str] = Field(min_length=1, max_length=8)


class TicketReasonsBody(Strict):
    reasons: list[str] = Field(min_length=1, max_length=8)


def _runtime(request: Request, site: str) -> SiteRuntime:
    controller: Controller = request.app.state.controller
    return controller.runtime(site)


@router.post("/sites/{site}/ratings/reasons", status_code=201)
async def counter_reasons(request: Request, site: str, body: CounterReasonsBody) -> dict[str, Any]:
    """Why the counter's last rating was low (its rating screen, or its staff)."""
    runtime = _runtime(request, site)
    principal = require_role(request, site, "kiosk", "staff", "manager", "admin")
    if principal.role == "staff" and principal.counter != body.counter:
        raise ApiError(403, "wrong_counter", "staff may record reasons only at their counter")
    command = cmd.GiveReasons(reasons=tuple(body.reasons), counter=body.counter, by=principal.name)
    events = (await runtime.execute(command)).events
    return dict(events[-1].data)


@router.post("/sites/{site}/tickets/{ticket_id}/reasons", status_code=201)
async def ticket_reasons(request: Request, site: str, ticket_id: str, body: TicketReasonsBody) -> dict[str, Any]:
    """Why the ticket's last rating was low, from the citizen's ticket page (public, limited per address)."""
    runtime = _runtime(request, site)
    limits: RateLimits = request.app.state.rate_limits
    address = request.client.host if request.client else "unknown"
    take_tokens(request, runtime, [("lookup", address, limits.lookup_per_minute, limits.lookup_burst)])
    command = cmd.GiveReasons(reasons=tuple(body.reasons), ticket=ticket_id)
    events = (await runtime.execute(command)).events
    data = events[-1].data
    return {"ticket": data["ticket"], "reasons": data["reasons"]}  # the citizen's own answer, nothing about staff
