"""The event log's schema version: each stored event carries it, and an older event is upgraded when read.

Events are kept for years and replayed by releases that did not write them. The
store stamps every body it appends with `"v": EVENT_SCHEMA`; a body without `v`
was written before versions existed and is version 1. When a release changes
what an event means or holds, it raises EVENT_SCHEMA and adds the function that
turns a body of the old version into the new one to UPCASTERS; reading applies
them in turn, so the core only ever sees current events. A body from a newer
release than this one is refused: it cannot be understood, and guessing would
corrupt reports. tests/fixtures/ keeps a log written by an earlier release.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

__all__ = ["EVENT_SCHEMA", "UPCASTERS", "SchemaError", "stamp", "upgrade"]

EVENT_SCHEMA: Final = 1
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
# version n -> the function making a version n body into a version n + 1 body
UPCASTERS: Final[Mapping[int, Upcaster]] = {}


class SchemaError(ValueError):
    """A stored event whose version this release cannot read."""


def stamp(body: Mapping[str, Any]) -> dict[str, Any]:
    """The body as stored: with this release's schema version."""
    return {**body, "v": EVENT_SCHEMA}


def upgrade(
    body: Mapping[str, Any], current: int = EVENT_SCHEMA, upcasters: Mapping[int, Upcaster] = UPCASTERS
) -> dict[str, Any]:
    """A stored body as the current release's event (without `v`); SchemaError when it is from a newer one."""
    out = dict(body)
    version = out.pop("v", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SchemaError(f"event schema version {version!r} is not a version")
    if version > current:
        raise SchemaError(f"event written by a newer release (schema {version}, this release reads up to "
                          f"{current}): upgrade motcua before reading this log")
    while version < current:
        out = upcasters[version](out)
        version += 1
    return out
