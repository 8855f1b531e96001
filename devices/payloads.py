"""JSON payloads of the device topics (CONTRACT.md section 4): checked values and codecs.

Values are checked when made. The `parse_*` functions are the edge where input
is read once; anything else raises ProtocolError with the reason. Device inputs that
change the floor (key and rating presses) are typed as strictly as the HTTP API:
a key is one of KEY_NAMES exactly, seq and score are JSON integers, `at` a JSON
number; "2", 7.0, "NEXT" or " Next " are refused (CONTRACT.md section 4). Display
states and announcements, which the controller makes, still read numbers as text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal, TypeVar, get_args

from devices.errors import ProtocolError

__all__ = [
    "KEY_NAMES",
    "MAX_PAYLOAD_BYTES",
    "DeviceStatus",
    "DisplayState",
    "KeyName",
    "KeyPress",
    "RatingAsk",
    "RatingPress",
    "ReasonsPress",
    "VoiceSay",
    "encode_device_status",
    "encode_display_state",
    "encode_key_press",
    "encode_rating_ask",
    "encode_rating_press",
    "encode_reasons_press",
    "encode_voice_say",
    "parse_device_status",
    "parse_display_state",
    "parse_key_press",
    "parse_rating_ask",
    "parse_rating_input",
    "parse_rating_press",
    "parse_voice_say",
]

KeyName = Literal["next", "recall", "no_show", "start", "finish", "pause", "transfer"]
KEY_NAMES: Final[tuple[KeyName, ...]] = get_args(KeyName)
MAX_SEQ: Final = 2**53  # what a JSON number holds exactly in every client
MAX_AT: Final = 2**33  # epoch seconds: past the year 2200, and exact to the millisecond in a double
MAX_SCORE: Final = 5
MAX_TEXT: Final = 200
MAX_SAY_TEXT: Final = 500  # a call and its English line, with room to spare
MAX_REPEAT: Final = 5
# a device input (press, status with its health) is a few dozen bytes; anything far larger is
# not one, and is refused before it is parsed (a broker may carry up to 256 MB)
MAX_PAYLOAD_BYTES: Final = 16 * 1024
VoiceKind = Literal["call", "recall"]

_T = TypeVar("_T")

_NUMBER = re.compile(r"[0-9A-Za-z]{1,16}")
_DIGITS = re.compile(r"[0-9]{1,12}")
_LEVEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")  # a topic level (zone) or a ticket id


def _check_int(name: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"{name} {value!r} must be an integer {lo}..{hi}")
    return value


@dataclass(frozen=True, slots=True)
class DisplayState:
    """What the LED display of a counter shows; number None means blank."""

    number: str | None
    counter: int
    blink: bool = False
    text: str = ""

    def __post_init__(self) -> None:
        if self.number is not None and (
            not isinstance(self.number, str) or not _NUMBER.fullmatch(self.number)
        ):
            raise ValueError(f"number {self.number!r} must be 1-16 ASCII letters or digits")
        _check_int("counter", self.counter, 1, 9999)
        if not isinstance(self.blink, bool):
            raise ValueError(f"blink {self.blink!r} must be true or false")
        if not isinstance(self.text, str) or len(self.text) > MAX_TEXT:
            raise ValueError(f"text must be a string of at most {MAX_TEXT} characters")


def _check_at(at: float | None) -> None:
    if at is None:
        return
    if isinstance(at, bool) or not isinstance(at, int | float) or not 0 <= at < MAX_AT:
        raise ValueError(f"at {at!r} must be epoch seconds (a JSON number)")


@dataclass(frozen=True, slots=True)
class KeyPress:
    """A staff keypad press; seq lets the controller drop repeats, at (the device's clock) late presses."""

    key: KeyName
    seq: int
    at: float | None = None

    def __post_init__(self) -> None:
        if self.key not in KEY_NAMES:
            raise ValueError(f"unknown key {self.key!r}; expected one of {', '.join(KEY_NAMES)}")
        _check_int("seq", self.seq, 0, MAX_SEQ)
        _check_at(self.at)


@dataclass(frozen=True, slots=True)
class RatingPress:
    """A rating keypad press: score 1..5 (the site decides how many levels it uses)."""

    score: int
    seq: int
    at: float | None = None

    def __post_init__(self) -> None:
        _check_int("score", self.score, 1, MAX_SCORE)
        _check_int("seq", self.seq, 0, MAX_SEQ)
        _check_at(self.at)


MAX_REASONS: Final = 8


@dataclass(frozen=True, slots=True)
class ReasonsPress:
    """A rating keypad's answer to a reasons ask: the keys (1..8) of the reasons chosen, in order."""

    reasons: tuple[int, ...]
    seq: int
    at: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.reasons, tuple) or not 1 <= len(self.reasons) <= MAX_REASONS:
            raise ValueError(f"reasons must list 1..{MAX_REASONS} keys")
        for key in self.reasons:
            _check_int("reason key", key, 1, MAX_REASONS)
        _check_int("seq", self.seq, 0, MAX_SEQ)
        _check_at(self.at)


@dataclass(frozen=True, slots=True)
class RatingAsk:
    """Reasons asked of a rating keypad with a text display after a low rating (rating/{counter}/ask).

    `reasons` are (code, text) in the order of their keys 1, 2, ...; the keypad shows the texts
    for `timeout_s` and answers with a ReasonsPress, or not at all.
    """

    ticket: str
    timeout_s: float
    reasons: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        if not isinstance(self.ticket, str) or not _LEVEL.fullmatch(self.ticket):
            raise ValueError(f"ticket {self.ticket!r} must be 1-64 letters, digits, '_', '.' or '-'")
        timeout = self.timeout_s
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 600:
            raise ValueError(f"timeout_s {self.timeout_s!r} must be a number of seconds 0..600")
        if not 1 <= len(self.reasons) <= MAX_REASONS:
            raise ValueError(f"reasons must list 1..{MAX_REASONS} entries")
        for code, text in self.reasons:
            if not isinstance(code, str) or not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
                raise ValueError(f"reason {code!r}: text must be 1..{MAX_TEXT} characters")


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """Availability of a device, with optional health details (paper, errors, firmware)."""

    online: bool
    health: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if "status" in self.health:
            raise ValueError("health must not repeat the 'status' field")


@dataclass(frozen=True, slots=True)
class VoiceSay:
    """One announcement for a zone's audio player (motcua/{site}/voice/{zone}/say).

    `text` is what the template says, numbers in digits, for a screen or a log;
    `speech` is the same with every number already in Vietnamese words, so a
    third-party TTS player never reads "1024" its own (often wrong) way. `at`
    is when the ticket was called (epoch seconds): a player that comes back
    after an outage can drop calls that are minutes old.
    """

    ticket: str
    number: str
    counter: int
    zone: str
    text: str
    speech: str
    kind: VoiceKind = "call"
    repeat: int = 1
    chime: bool = True
    at: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.ticket, str) or not _LEVEL.fullmatch(self.ticket):
            raise ValueError(f"ticket {self.ticket!r} must be 1-64 letters, digits, '_', '.' or '-'")
        if not isinstance(self.number, str) or not _DIGITS.fullmatch(self.number):
            raise ValueError(f"number {self.number!r} must be 1-12 ASCII digits")
        _check_int("counter", self.counter, 1, 9999)
        if not isinstance(self.zone, str) or not _LEVEL.fullmatch(self.zone):
            raise ValueError(f"zone {self.zone!r} is not a valid topic level")
        for name in ("text", "speech"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip() or len(value) > MAX_SAY_TEXT:
                raise ValueError(f"{name} must be 1..{MAX_SAY_TEXT} characters")
        if self.kind not in get_args(VoiceKind):
            raise ValueError(f"kind {self.kind!r} must be 'call' or 'recall'")
        _check_int("repeat", self.repeat, 1, MAX_REPEAT)
        if not isinstance(self.chime, bool):
            raise ValueError(f"chime {self.chime!r} must be true or false")
        if isinstance(self.at, bool) or not isinstance(self.at, int | float) or self.at < 0:
            raise ValueError(f"at {self.at!r} must be epoch seconds")


def _dumps(value: Mapping[str, object]) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def encode_display_state(state: DisplayState) -> bytes:
    """UTF-8 JSON of a display state."""
    return _dumps(
        {"number": state.number, "counter": state.counter, "blink": state.blink, "text": state.text}
    )


def _stamped(body: dict[str, object], at: float | None) -> dict[str, object]:
    return body if at is None else {**body, "at": round(at, 3)}


def encode_key_press(press: KeyPress) -> bytes:
    """UTF-8 JSON of a keypad press ("at" only when the press carries one)."""
    return _dumps(_stamped({"key": press.key, "seq": press.seq}, press.at))


def encode_rating_press(press: RatingPress) -> bytes:
    """UTF-8 JSON of a rating press ("at" only when the press carries one)."""
    return _dumps(_stamped({"score": press.score, "seq": press.seq}, press.at))


def encode_device_status(status: DeviceStatus) -> bytes:
    """b"online"/b"offline", or a JSON object with "status" and the health fields."""
    word = "online" if status.online else "offline"
    if not status.health:
        return word.encode("ascii")
    return _dumps({"status": word, **status.health})


def encode_voice_say(say: VoiceSay) -> bytes:
    """UTF-8 JSON of an announcement for an audio player."""
    return _dumps(
        {
            "ticket": say.ticket, "number": say.number, "counter": say.counter, "zone": say.zone,
            "kind": say.kind, "text": say.text, "speech": say.speech, "repeat": say.repeat,
            "chime": say.chime, "at": say.at,
        }
    )


# parsing: the edge where loose input is accepted


def _text(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"payload is not UTF-8 ({exc.reason} at byte {exc.start})") from exc


def _object(data: bytes | str, what: str) -> dict[str, object]:
    if len(data) > MAX_PAYLOAD_BYTES:
        raise ProtocolError(f"{what} payload of {len(data)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:
        value = json.loads(_text(data))
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"{what} payload is not JSON ({exc.msg})") from exc
    except RecursionError:
        # json raises this, not JSONDecodeError, on arrays or objects nested a few thousand deep
        raise ProtocolError(f"{what} payload is nested too deeply") from None
    if not isinstance(value, dict):
        raise ProtocolError(f"{what} payload must be a JSON object, not {type(value).__name__}")
    return value


def _loose_int(obj: Mapping[str, object], name: str, what: str) -> int:
    if name not in obj:
        raise ProtocolError(f"{what} payload lacks {name!r}")
    value = obj[name]
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ProtocolError(f"{what} {name} {value!r} is not an integer")


def _strict_int(obj: Mapping[str, object], name: str, what: str) -> int:
    """A JSON integer, as the HTTP API takes it: not "4", not 4.0, not true."""
    if name not in obj:
        raise ProtocolError(f"{what} payload lacks {name!r}")
    value = obj[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(f"{what} {name} {value!r} is not an integer")
    return value


def _strict_at(obj: Mapping[str, object], what: str) -> float | None:
    """The optional "at": a JSON number (epoch seconds), or absent / null."""
    value = obj.get("at")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProtocolError(f"{what} at {value!r} is not a number of epoch seconds")
    return float(value)


def _build(what: str, make: type[_T], **kwargs: object) -> _T:
    try:
        return make(**kwargs)
    except ValueError as exc:
        raise ProtocolError(f"{what}: {exc}") from exc


def parse_display_state(data: bytes | str) -> DisplayState:
    """Parse a display state; number may be a JSON number, null or "" (blank)."""
    obj = _object(data, "display state")
    number = obj.get("number")
    if isinstance(number, int) and not isinstance(number, bool):
        number = str(number)
    elif number == "":
        number = None
    elif number is not None and not isinstance(number, str):
        raise ProtocolError(f"display state number {number!r} is not a string")
    blink = obj.get("blink", False)
    if not isinstance(blink, bool):
        raise ProtocolError(f"display state blink {blink!r} is not true/false")
    text = obj.get("text") or ""
    if not isinstance(text, str):
        raise ProtocolError(f"display state text {text!r} is not a string")
    counter = _loose_int(obj, "counter", "display state")
    return _build(
        "display state", DisplayState, number=number, counter=counter, blink=blink, text=text
    )


def parse_key_press(data: bytes | str) -> KeyPress:
    """Parse a keypad press: key exactly one of KEY_NAMES, seq a JSON integer, at optional."""
    obj = _object(data, "key press")
    key = obj.get("key")
    if not isinstance(key, str):
        raise ProtocolError(f"key press key {key!r} is not a string")
    if key not in KEY_NAMES:
        expected = ", ".join(KEY_NAMES)
        raise ProtocolError(f"key press: unknown key {key!r}; expected one of {expected}")
    seq = _strict_int(obj, "seq", "key press")
    return _build("key press", KeyPress, key=key, seq=seq, at=_strict_at(obj, "key press"))


def encode_reasons_press(press: ReasonsPress) -> bytes:
    """UTF-8 JSON of a reasons press ("at" only when the press carries one)."""
    return _dumps(_stamped({"reasons": list(press.reasons), "seq": press.seq}, press.at))


def encode_rating_ask(ask: RatingAsk) -> bytes:
    """UTF-8 JSON of a reasons ask: the keys a keypad sends back are 1, 2, ... in this order."""
    return _dumps({"ticket": ask.ticket, "timeout_s": ask.timeout_s,
                   "reasons": [{"key": i, "code": code, "text": text}
                               for i, (code, text) in enumerate(ask.reasons, start=1)]})


def parse_rating_ask(data: bytes | str) -> RatingAsk:
    """Parse a reasons ask (what a keypad with a display reads)."""
    obj = _object(data, "rating ask")
    items = obj.get("reasons")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ProtocolError("rating ask reasons must be an array of objects")
    reasons = tuple((str(i.get("code", "")), i.get("text")) for i in items)
    timeout = obj.get("timeout_s")
    return _build("rating ask", RatingAsk, ticket=obj.get("ticket"), timeout_s=timeout, reasons=reasons)


def parse_rating_input(data: bytes | str, levels: int = MAX_SCORE) -> RatingPress | ReasonsPress:
    """Parse what a rating keypad sends: a score, or (a keypad with a display) the reasons asked of it."""
    obj = _object(data, "rating press")
    if "reasons" not in obj or "score" in obj:
        return _rating_press(obj, levels)
    keys = obj["reasons"]
    if not isinstance(keys, list) or any(isinstance(k, bool) or not isinstance(k, int) for k in keys):
        raise ProtocolError(f"reasons press reasons {keys!r} is not an array of integers")
    seq = _strict_int(obj, "seq", "reasons press")
    return _build("reasons press", ReasonsPress, reasons=tuple(keys), seq=seq, at=_strict_at(obj, "reasons press"))


def parse_rating_press(data: bytes | str, levels: int = MAX_SCORE) -> RatingPress:
    """Parse a rating press, refusing scores above the site's number of levels."""
    return _rating_press(_object(data, "rating press"), levels)


def _rating_press(obj: Mapping[str, object], levels: int) -> RatingPress:
    score = _strict_int(obj, "score", "rating press")
    if not 1 <= score <= levels:
        raise ProtocolError(f"rating press: score {score} outside 1..{levels}")
    seq = _strict_int(obj, "seq", "rating press")
    return _build("rating press", RatingPress, score=score, seq=seq, at=_strict_at(obj, "rating press"))


def parse_device_status(data: bytes | str) -> DeviceStatus:
    """Parse "online"/"offline" (bare or JSON string) or a JSON object of health.

    CONTRACT.md allows "JSON with health (paper, errors)": an object without "status"
    is a device reporting its health, so it is online; a "status" it does give must be
    "online" or "offline".
    """
    text = _text(data).strip()
    word = text.strip('"').lower()
    if word in ("online", "offline") and not text.startswith("{"):
        return DeviceStatus(online=word == "online")
    obj = _object(text, "device status")
    status = obj.pop("status", "online")
    if not isinstance(status, str) or status.lower() not in ("online", "offline"):
        raise ProtocolError(f"device status {status!r} must be 'online' or 'offline'")
    return DeviceStatus(online=status.lower() == "online", health=obj)


def parse_voice_say(data: bytes | str) -> VoiceSay:
    """Parse an announcement; number may be a JSON number, speech defaults to text."""
    obj = _object(data, "voice say")
    number = obj.get("number")
    if isinstance(number, int) and not isinstance(number, bool):
        number = str(number)
    text = obj.get("text")
    values: dict[str, object] = {
        "ticket": obj.get("ticket"),
        "number": number,
        "counter": _loose_int(obj, "counter", "voice say"),
        "zone": obj.get("zone"),
        "text": text,
        "speech": obj.get("speech") or text,
        "kind": obj.get("kind", "call"),
        "repeat": _loose_int(obj, "repeat", "voice say") if "repeat" in obj else 1,
        "chime": obj.get("chime", True),
        "at": obj.get("at", 0.0),
    }
    return _build("voice say", VoiceSay, **values)
