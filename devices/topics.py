"""MQTT topics of CONTRACT.md section 4, built from checked parts and parsed back.

    motcua/{site}/display/{counter}/state    motcua/{site}/hall/state
    motcua/{site}/keypad/{counter}/press     motcua/{site}/rating/{counter}/press
    motcua/{site}/rating/{counter}/ask       (reasons asked after a low rating)
    motcua/{site}/printer/{kiosk}/job        motcua/{site}/voice/{zone}/say
    motcua/{site}/device/{device_id}/status
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal, get_args

from devices.errors import ProtocolError

__all__ = ["PREFIX", "SiteTopics", "TopicKind", "TopicMatch", "parse_topic"]

PREFIX: Final = "motcua"

TopicKind = Literal[
    "display_state", "hall_state", "keypad_press", "rating_press", "rating_ask", "printer_job",
    "voice_say", "device_status",
]

# a topic level we build ourselves: no MQTT separators or wildcards, no spaces
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")

# (first level, last level) -> kind, and whether the middle level is a counter number
_LAYOUT: Final[dict[tuple[str, str], tuple[TopicKind, bool]]] = {
    ("display", "state"): ("display_state", True),
    ("keypad", "press"): ("keypad_press", True),
    ("rating", "press"): ("rating_press", True),
    ("rating", "ask"): ("rating_ask", True),
    ("printer", "job"): ("printer_job", False),
    ("voice", "say"): ("voice_say", False),
    ("device", "status"): ("device_status", False),
}


def _name(kind: str, value: str) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValueError(f"{kind} {value!r} is not a valid topic level")
    return value


def _counter(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 9999:
        raise ValueError(f"counter {value!r} must be an integer 1..9999")
    return value


@dataclass(frozen=True, slots=True)
class SiteTopics:
    """Topic builder for one site; the site id is checked when made."""

    site: str

    def __post_init__(self) -> None:
        _name("site", self.site)

    @property
    def prefix(self) -> str:
        """motcua/{site}"""
        return f"{PREFIX}/{self.site}"

    def display_state(self, counter: int) -> str:
        """Retained state of the LED display of a counter."""
        return f"{self.prefix}/display/{_counter(counter)}/state"

    def hall_state(self) -> str:
        """Retained state of the hall displays."""
        return f"{self.prefix}/hall/state"

    def keypad_press(self, counter: int) -> str:
        """Staff keypad presses of a counter."""
        return f"{self.prefix}/keypad/{_counter(counter)}/press"

    def rating_press(self, counter: int) -> str:
        """Rating keypad presses of a counter."""
        return f"{self.prefix}/rating/{_counter(counter)}/press"

    def rating_ask(self, counter: int) -> str:
        """Reasons asked of a rating keypad that has a text display, after a low rating."""
        return f"{self.prefix}/rating/{_counter(counter)}/ask"

    def printer_job(self, kiosk: str) -> str:
        """Print jobs of the printer of a kiosk."""
        return f"{self.prefix}/printer/{_name('kiosk', kiosk)}/job"

    def voice_say(self, zone: str) -> str:
        """Announcements for the audio player of a zone."""
        return f"{self.prefix}/voice/{_name('zone', zone)}/say"

    def device_status(self, device_id: str) -> str:
        """Retained status of one device ("online"/"offline" or JSON health)."""
        return f"{self.prefix}/device/{_name('device id', device_id)}/status"

    def subscription(self, kind: TopicKind) -> str:
        """Wildcard filter matching every topic of kind on this site."""
        if kind == "hall_state":
            return self.hall_state()
        for (first, last), (layout_kind, _) in _LAYOUT.items():
            if layout_kind == kind:
                return f"{self.prefix}/{first}/+/{last}"
        raise ValueError(f"unknown topic kind {kind!r}")


@dataclass(frozen=True, slots=True)
class TopicMatch:
    """A parsed topic: its site, its kind, and the counter or name it is about."""

    site: str
    kind: TopicKind
    counter: int | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        _name("site", self.site)
        if self.kind not in get_args(TopicKind):
            raise ValueError(f"unknown topic kind {self.kind!r}")


def parse_topic(topic: str) -> TopicMatch:
    """Parse a motcua topic; ProtocolError for anything else."""
    levels = topic.split("/")
    try:
        if len(levels) == 4 and levels[0] == PREFIX and levels[2:] == ["hall", "state"]:
            return TopicMatch(site=levels[1], kind="hall_state")
        if len(levels) == 5 and levels[0] == PREFIX:
            layout = _LAYOUT.get((levels[2], levels[4]))
            if layout is not None:
                kind, numbered = layout
                if numbered:
                    if not levels[3].isdigit():
                        raise ValueError(f"counter {levels[3]!r} is not a number")
                    return TopicMatch(levels[1], kind, counter=_counter(int(levels[3])))
                return TopicMatch(levels[1], kind, name=_name("name", levels[3]))
    except ValueError as exc:
        raise ProtocolError(f"topic {topic!r}: {exc}") from exc
    raise ProtocolError(f"topic {topic!r} is not a motcua topic")
