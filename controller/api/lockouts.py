"""Log-in guessing over HTTP: the guarded log-in, and the waits a manager sees and lifts.

    GET  /api/v1/auth/lockouts          accounts and client addresses with failed log-ins on record
    POST /api/v1/auth/lockouts/lift     {"user": NAME} or {"address": IP}: forget their failures now

The counting rules are login_guard.py's. A refused try answers 429 with Retry-After
and the error JSON; every wait that starts and every lift is logged (logger "motcua").
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field

from controller.accounts import AccountStore, Principal
from controller.api.bodies import Strict
from controller.api.errors import ApiError
from controller.api.login_guard import Attempt, LoginGuard, Refusal
from controller.api.security import require_role
from controller.core.clock import iso

__all__ = ["checked_login", "client_address", "router"]

log = logging.getLogger("motcua")

router = APIRouter(prefix="/api/v1/auth")

_REFUSED = {
    "address": ("too_many_failures",
                "Đăng nhập sai quá nhiều lần từ thiết bị này; vui lòng thử lại sau {s} giây "
                "/ too many failed log-ins from this device, try again in {s} s"),
    "account": ("account_locked",
                "Tài khoản tạm khóa vì đăng nhập sai quá nhiều lần; thử lại sau {s} giây hoặc nhờ quản lý mở khóa "
                "/ this account is locked after too many failed log-ins: try again in {s} s or ask a manager "
                "to lift it"),
}


def client_address(request: Request) -> str:
    """The caller's address as the server sees it (uvicorn applies X-Forwarded-For from trusted proxies)."""
    return request.client.host if request.client else "unknown"


def _guard(request: Request) -> LoginGuard:
    guard: LoginGuard = request.app.state.login_guard
    return guard


def _refuse(refusal: Refusal) -> ApiError:
    seconds = max(1, round(refusal.retry_after_s))
    code, message = _REFUSED[refusal.scope]
    return ApiError(429, code, message.format(s=seconds), headers={"Retry-After": str(seconds)})


async def checked_login(request: Request, user: str, secret: str) -> tuple[str, Principal] | None:
    """The account store's login behind the guard: 429 while the address or account waits."""
    guard = _guard(request)
    address = client_address(request)
    counted = guard.attempt(user, address)
    if isinstance(counted, Refusal):
        raise _refuse(counted)
    accounts: AccountStore = request.app.state.accounts
    try:
        result = await asyncio.to_thread(accounts.login, user, secret)
    except BaseException:
        guard.succeeded(counted)  # not a wrong secret: the try is given back
        raise
    if result is not None:
        guard.succeeded(counted)
        return result
    _failed(guard, counted)
    return None


def _failed(guard: LoginGuard, attempt: Attempt) -> None:
    started = guard.failed(attempt)
    if started is not None:
        who = f"account {attempt.user}" if started.scope == "account" else f"address {attempt.address}"
        log.warning("log-in: %s must wait %d s after failed log-ins (last: user %r from %s)",
                    who, round(started.retry_after_s), attempt.user, attempt.address)


class LiftUser(Strict):
    user: str = Field(min_length=1, max_length=64)


class LiftAddress(Strict):
    address: str = Field(min_length=1, max_length=64)


def _account_sites(request: Request) -> dict[str, str]:
    accounts: AccountStore = request.app.state.accounts
    return {name: site for name, _role, site, _counter in accounts.list_accounts()}


def _covers(principal: Principal, sites: dict[str, str], user: str) -> bool:
    """A manager of one site deals with that site's accounts; a name that is no account, or an account of
    every site, is for a manager of every site."""
    return principal.covers_site(sites.get(user, "*"))


def _shown(entry: dict[str, object]) -> dict[str, object]:
    until = entry["wait_until"]
    return {**entry, "wait_until": iso(until) if isinstance(until, float) and until > 0 else None}


@router.get("/lockouts")
async def lockouts(request: Request) -> dict[str, Any]:
    """Accounts and client addresses with failed log-ins on record, and until when each waits (manager, admin)."""
    principal = require_role(request, None, "manager", "admin")
    sites = _account_sites(request)
    listed = _guard(request).lockouts()
    return {
        "accounts": [_shown(a) for a in listed["accounts"] if _covers(principal, sites, str(a["user"]))],
        "addresses": [_shown(a) for a in listed["addresses"]],
    }


@router.post("/lockouts/lift")
async def lift(request: Request, body: LiftUser | LiftAddress) -> dict[str, Any]:
    """Forget the failed log-ins of an account ({"user"}) or a client address ({"address"}): it may try again."""
    principal = require_role(request, None, "manager", "admin")
    user = body.user if isinstance(body, LiftUser) else None
    address = body.address if isinstance(body, LiftAddress) else None
    if user is not None and not _covers(principal, _account_sites(request), user):
        raise ApiError(403, "forbidden", f"this account is not for site {principal.site}")
    if address is not None and principal.site != "*":
        raise ApiError(403, "forbidden", "lifting an address's wait needs a manager of every site")
    lifted = _guard(request).lift(user=user, address=address)
    what = f"account {user}" if user is not None else f"address {address}"
    log.warning("log-in: %s lifted the failed log-ins of %s (%s)", principal.name, what,
                "there were some" if lifted else "none were on record")
    return {"user": user, "address": address, "lifted": lifted}
