"""Who may do what: bearer tokens, kiosk keys and the checks of CONTRACT.md section 2."""

from __future__ import annotations

from fastapi import Request

from controller.accounts import AccountStore, Principal
from controller.api.errors import ApiError

__all__ = ["authenticate", "require_counter_actor", "require_issuer", "require_role"]


def _accounts(request: Request) -> AccountStore:
    accounts: AccountStore = request.app.state.accounts
    return accounts


def authenticate(request: Request) -> Principal | None:
    """The caller from `Authorization: Bearer`, `X-Kiosk-Key` or `X-Api-Key`; 401 for a bad credential."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "invalid_token", "use Authorization: Bearer TOKEN")
        principal = _accounts(request).principal(token.strip())
        if principal is None:
            raise ApiError(401, "invalid_token", "the token is unknown, expired or revoked")
        return principal
    for header, role in (("x-kiosk-key", "kiosk"), ("x-api-key", "ops")):
        key = request.headers.get(header)
        if key:
            principal = _accounts(request).key(key, role)
            if principal is None:
                raise ApiError(401, f"invalid_{header[2:].replace('-', '_')}", f"unknown {header}")
            return principal
    return None


def _need(principal: Principal | None) -> Principal:
    if principal is None:
        raise ApiError(401, "unauthenticated", "log in (Authorization: Bearer) or send X-Kiosk-Key")
    return principal


def require_role(request: Request, site: str | None, *roles: str) -> Principal:
    """A caller with one of the roles, scoped to the site."""
    principal = _need(authenticate(request))
    if principal.role not in roles:
        raise ApiError(403, "forbidden", f"this needs the role {' or '.join(roles)}")
    if site is not None and not principal.covers_site(site):
        raise ApiError(403, "forbidden", f"this account is not for site {site}")
    return principal


def require_issuer(request: Request, site: str) -> Principal:
    """Kiosks, staff and managers may issue tickets."""
    return require_role(request, site, "kiosk", "staff", "manager", "admin")


def require_counter_actor(request: Request, site: str, counter: int) -> Principal:
    """The staff of that counter, or a manager/admin."""
    principal = require_role(request, site, "staff", "manager", "admin")
    if principal.role == "staff" and principal.counter != counter:
        raise ApiError(403, "wrong_counter", f"this staff account is for counter {principal.counter}, not {counter}")
    return principal
