"""A request's Idempotency-Key and digest: what a store keeps to recognise a retry (README, "Idempotency-Key").

A client that lost an answer sends the same request again with the same key; the
server answers what the first one made (200, `Idempotent-Replayed: true`). The same key
with another body is a client's mistake (409 idempotency_conflict). To tell them apart
a store keeps, beside what the request made, a digest of its body: an HMAC, so a body
with personal data in it cannot be read back from it, under the store's own key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any, Final

from controller.core.errors import DomainError

__all__ = ["REQUEST_KEY", "check_replay", "idempotency_conflict", "request_digest"]

REQUEST_KEY: Final = r"^[A-Za-z0-9_.:-]{1,128}$"


def request_digest(key: bytes, site: str, request: Mapping[str, Any]) -> str:
    """A keyed digest of a request's body: the same body, the same digest; the body cannot be read back."""
    text = json.dumps({"site": site, **request}, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def idempotency_conflict() -> DomainError:
    """The same key with another request: the client's mistake, refused and nothing changed."""
    return DomainError("idempotency_conflict", "Khóa Idempotency-Key này đã dùng cho một yêu cầu khác / "
                                               "this Idempotency-Key was used for another request", 409)


def check_replay(kept: str, digest: str) -> None:
    """A retry's body must be the first request's: DomainError idempotency_conflict otherwise."""
    if not hmac.compare_digest(kept, digest):
        raise idempotency_conflict()
