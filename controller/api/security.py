"""Who may do what: bearer tokens, kiosk keys and the checks of CONTRACT.md section 2."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from starlette.requests import HTTPConnection

from controller.accounts import AccountStore, Principal
from controller.api.errors import ApiError

__all__ = [
    "MONITOR_READERS",
    "Credential",
    "authenticate",
    "presented",
    "require_counter_actor",
    "require_issuer",
    "require_role",
    "resolve",
    "unknown_credential",
]

KEY_HEADERS = (("x-kiosk-key", "kiosk"), ("x-api-key", "ops"))
# who may read a site's monitor (GET /monitor, and the snapshots on its live stream)
MONITOR_READERS = ("manager", "admin", "ops")


@dataclass(frozen=True)
class Credential:
    """What a caller presented: a bearer token, or a machine key of a role (kiosk, ops)."""

    kind: str  # "bearer", "kiosk" or "ops"
    secret: str


def _accounts(connection: HTTPConnection) -> AccountStore:
    accounts: AccountStore = connection.app.state.accounts
    return accounts


def presented(connection: HTTPConnection) -> Credential | None:
    """The credential in `Authorization: Bearer`, `X-Kiosk-Key` or `X-Api-Key`, unchecked; None when there is none."""
    header = connection.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "invalid_token", "use Authorization: Bearer TOKEN")
        return Credential("bearer", token.strip())
    for name, role in KEY_HEADERS:
        key = connection.headers.get(name)
        if key:
            return Credential(role, key)
    return None


def resolve(accounts: AccountStore, credential: Credential) -> Principal | None:
    """Who a credential stands for now; None when it is unknown (or, for a token, expired or revoked)."""
    if credential.kind == "bearer":
        return accounts.principal(credential.secret)
    return accounts.key(credential.secret, credential.kind)


def unknown_credential(credential: Credential) -> ApiError:
    """The 401 for a credential that stands for nobody."""
    if credential.kind == "bearer":
        return ApiError(401, "invalid_token", "the token is unknown, expired or revoked")
    header = next(name for name, role in KEY_HEADERS if role == credential.kind)
    return ApiError(401, f"invalid_{header[2:].replace('-', '_')}", f"unknown {header}")


def authenticate(connection: HTTPConnection) -> Principal | None:
    """The caller from `Authorization: Bearer`, `X-Kiosk-Key` or `X-Api-Key`; 401 for a bad credential."""
    credential = presented(connection)
    if credential is None:
        return None
    principal = resolve(_accounts(connection), credential)
    if principal is None:
        raise unknown_credential(credential)
    return principal


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
