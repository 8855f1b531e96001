"""What to announce, where, and whether it is still worth saying: derived from the floor. Pure.

    ticket.called / ticket.recalled  ->  one VoiceSay per zone of the counter

Zones: a speaker of the registry ([[device]] kind = "speaker") may name a
`zone` (default "hall") and a `counter`. A counter is announced in the zones
of the speakers that name it, else in the zones of the speakers that name no
counter, else in the site's default zone "hall" (a site without speakers
still publishes its calls for a third-party audio player).

Wording: the site's [voice] table (AnnouncementTemplate.from_mapping), the
defaults of AnnouncementTemplate otherwise.

Staleness: an announcement is keyed "TICKET@COUNTER" so that, just before it
plays, the announcer can check the ticket is still CALLED at that very counter
(a ticket already started, finished, sent away or called elsewhere is skipped).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from controller.core.events import Event
from controller.core.site import Site
from controller.core.state import SiteState
from controller.core.tickets import TicketState
from devices.payloads import VoiceKind, VoiceSay
from devices.registry import DeviceSpec
from devices.voice.numerals import digit_chunks, number_chunks, reading_style
from devices.voice.template import Announcement, AnnouncementTemplate

__all__ = [
    "DEFAULT_ZONE",
    "VoiceZones",
    "announcement_for",
    "announcement_key",
    "is_stale",
    "site_template",
    "speakers_by_zone",
    "speech_for",
    "voice_calls",
]

DEFAULT_ZONE: Final = "hall"
_KINDS: Final[dict[str, VoiceKind]] = {"ticket.called": "call", "ticket.recalled": "recall"}


def site_template(site: Site) -> AnnouncementTemplate:
    """The site's announcement template: its [voice] table, or the defaults (ValueError if bad)."""
    table = site.raw.get("voice", {})
    if not isinstance(table, Mapping):
        raise ValueError("voice: must be a table")
    return AnnouncementTemplate.from_mapping(table)


@dataclass(frozen=True, slots=True)
class VoiceZones:
    """Which zones announce which counter, and which zones the controller host plays itself."""

    by_counter: Mapping[int, tuple[str, ...]]
    default: tuple[str, ...]
    local: frozenset[str]

    @classmethod
    def of(cls, specs: Iterable[Any]) -> VoiceZones:
        """Zones from a site's registry (the defaults when it lists no speaker)."""
        by_counter: dict[int, list[str]] = {}
        default: list[str] = []
        local: set[str] = set()
        for spec in specs:
            if not isinstance(spec, DeviceSpec) or spec.kind != "speaker":
                continue
            zone = spec.zone or DEFAULT_ZONE
            wanted = default if spec.counter is None else by_counter.setdefault(spec.counter, [])
            if zone not in wanted:
                wanted.append(zone)
            if spec.local_speaker:
                local.add(zone)
        return cls(
            {c: tuple(z) for c, z in by_counter.items()}, tuple(default) or (DEFAULT_ZONE,), frozenset(local)
        )

    def zones(self, counter: int) -> tuple[str, ...]:
        """The zones a call to counter is announced in."""
        return self.by_counter.get(counter, self.default)


def speakers_by_zone(specs: Iterable[Any], *, local_only: bool) -> dict[str, tuple[str, ...]]:
    """zone -> ids of the registry's speakers there (only those this host plays, if local_only)."""
    out: dict[str, list[str]] = {}
    for spec in specs:
        if isinstance(spec, DeviceSpec) and spec.kind == "speaker" and (spec.local_speaker or not local_only):
            out.setdefault(spec.zone or DEFAULT_ZONE, []).append(spec.id)
    return {zone: tuple(ids) for zone, ids in out.items()}


def _words(number: int | str, template: AnnouncementTemplate, is_ticket: bool) -> str:
    if is_ticket and template.number_style == "digits":
        return " ".join(digit_chunks(str(number)))
    return " ".join(number_chunks(int(number), reading_style(template.southern)))


def speech_for(template: AnnouncementTemplate, kind: VoiceKind, number: str, counter: int) -> tuple[str, str]:
    """(text with digits, speech with the numbers in Vietnamese words) of one call."""
    wording = template.text_for(kind, english=False)
    assert wording is not None  # Vietnamese wording always exists
    text = wording.format(number=number, counter=counter)
    speech = wording.format(number=_words(number, template, True), counter=_words(counter, template, False))
    english = template.text_for(kind, english=True)
    if english is not None:
        # English reads numbers digit by digit, as its clips do; a TTS player reads digits right
        line = english.format(number=" ".join(number), counter=" ".join(str(counter)))
        text, speech = f"{text}. {english.format(number=number, counter=counter)}", f"{speech}. {line}"
    return text, speech


def voice_calls(
    events: Sequence[Event], state: SiteState, zones: VoiceZones, template: AnnouncementTemplate
) -> list[VoiceSay]:
    """The announcements committed events ask for, in commit order."""
    out: list[VoiceSay] = []
    for event in events:
        kind = _KINDS.get(event.type)
        if kind is None:
            continue
        counter = event.data.get("counter")
        ticket = str(event.data.get("ticket", ""))
        number = str(event.data.get("number", ""))
        if not isinstance(counter, int) or not number.isdigit():
            continue  # letters in a number (none today) cannot be read by the clip library
        text, speech = speech_for(template, kind, number, counter)
        for zone in zones.zones(counter):
            out.append(
                VoiceSay(
                    ticket=ticket, number=number, counter=counter, zone=zone, text=text, speech=speech,
                    kind=kind, repeat=template.repeat, chime=template.chime, at=event.at,
                )
            )
    return out


def announcement_key(ticket: str, counter: int) -> str:
    """The Announcement.ticket_id of a call: the ticket and the counter it was called to."""
    return f"{ticket}@{counter}"


def announcement_for(say: VoiceSay) -> Announcement:
    """The local announcer's form of a call."""
    return Announcement(announcement_key(say.ticket, say.counter), say.number, say.counter, say.zone, say.kind)


def is_stale(state: SiteState, key: str) -> bool:
    """Whether the call keyed "TICKET@COUNTER" is no longer worth saying: not CALLED there now."""
    ticket_id, _, counter = key.rpartition("@")
    ticket = state.tickets.get(ticket_id)
    if ticket is None or not counter.isdigit():
        return True
    return ticket.state != TicketState.CALLED or ticket.counter != int(counter)
