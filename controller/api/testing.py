"""Test seam, mounted only by `serve --demo --test-clock`: move the controller's clock forward.

Browser tests of the monitor need a ticket to approach its deadline without
waiting 15 real minutes. The endpoint runs one enforcement tick after moving
the clock, as the tick loop would on its next beat.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from controller.api.security import require_role
from controller.core.clock import iso
from controller.runtime.clock import AdjustableClock
from controller.runtime.controller import Controller

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


class AdvanceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    advance_s: float = Field(gt=0, le=86400)


@router.post("/api/v1/_test/clock")
async def advance_clock(request: Request, body: AdvanceBody) -> dict[str, Any]:
    """Advance the clock (admin only, test mode only) and run the enforcement tick."""
    require_role(request, None, "admin")
    clock: AdjustableClock = request.app.state.test_clock
    now = clock.advance(body.advance_s)
    controller: Controller = request.app.state.controller
    committed = await controller.tick_all()
    return {"now": iso(now), "tick_events": committed}
