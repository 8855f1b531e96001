"""Feedback and complaints (phản ánh, kiến nghị): what a citizen writes, and how a manager answers. Pure.

A citizen sends a category (the site's short list), a short text and, optionally, a
phone number for the answer (the API keeps the number apart and deletes it once the
answer is sent or the item is closed). The item gets a code to look it up with: the
ticket page keeps it, and the answer is shown there. A manager assigns it to an agency,
answers it (saying whether the complaint is upheld) and closes it, within the site's
response deadline; past the deadline and not answered, it is overdue.

    open --assign--> assigned --answer--> answered --close--> closed
      \\________________answer_____________/       (open or assigned may also be closed)
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from controller.core.appointments import CODE_ALPHABET
from controller.core.errors import DomainError
from controller.core.feedback_settings import FeedbackSettings

__all__ = [
    "CHANNELS",
    "CODE_LENGTH",
    "MAX_ANSWER",
    "MAX_TEXT",
    "STATUSES",
    "Feedback",
    "answer",
    "assign",
    "clean_text",
    "close",
    "new_code",
    "normalise_code",
    "receive",
    "set_topic",
]

STATUSES = ("open", "assigned", "answered", "closed")
CHANNELS = ("ticket", "kiosk")
CODE_LENGTH = 8           # 31^8: a code cannot be guessed, unlike a ticket id (the day and the number)
MAX_TEXT = 1000           # a short text: a paragraph, as the reference systems take
MAX_ANSWER = 2000
Status = Literal["open", "assigned", "answered", "closed"]
# control characters (but the line break) and the bidi overrides that could turn a text around on screen
_UNSAFE = re.compile(r"[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str, what: str, most: int) -> str:
    """A citizen's or a manager's text as stored: NFC, control characters out, trimmed; 422 when empty or long."""
    cleaned = _UNSAFE.sub(" ", unicodedata.normalize("NFC", text)).strip()
    cleaned = re.sub(r"\n{3,}", "\n\n", cleaned)
    if not cleaned:
        raise DomainError(f"empty_{what}", f"Nội dung không được để trống / the {what} is empty", 422)
    if len(cleaned) > most:
        raise DomainError(f"{what}_too_long",
                          f"Nội dung quá dài (tối đa {most} ký tự) / the {what} is over {most} characters", 422)
    return cleaned


def new_code(draw: Callable[[str], str]) -> str:
    """A fresh code; `draw(alphabet)` picks one character (secrets.choice at the edge, a seeded one in tests)."""
    return "".join(draw(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """A code as typed (any case, spaces, dashes) in its stored form; 404 when it cannot be one."""
    code = "".join(ch for ch in text.upper() if ch not in " -")
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        raise DomainError("unknown_feedback", "Không tìm thấy phản ánh với mã này / no feedback with this code", 404)
    return code


@dataclass(frozen=True, slots=True)
class Feedback:
    """One item of feedback at a site. `has_phone`: a number waits (elsewhere) for the answer by text."""

    site: str
    code: str
    category: str
    text: str
    channel: str
    received_at: float
    due_at: float
    status: Status = "open"
    ticket: str | None = None      # the visit it is about, when sent from its ticket page
    agency: str | None = None      # the visit's agency, or the agency a manager assigned it to
    staff: str | None = None       # who served that visit (complaints upheld count in the evaluation)
    counter: int | None = None
    has_phone: bool = False
    answer: str | None = None
    answered_at: float | None = None
    answered_by: str | None = None
    upheld: bool | None = None
    assigned_by: str | None = None
    closed_at: float | None = None
    topic: str | None = None          # the comment's topic: a manager's correction (it stays)
    topic_by: str | None = None
    text_sent: bool | None = None     # the answer went out by text (None: none was asked for)

    def overdue(self, now: float) -> bool:
        """Not answered and past its response deadline."""
        return self.status in ("open", "assigned") and now > self.due_at

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> Feedback:
        return cls(**{k: body[k] for k in cls.__dataclass_fields__ if k in body})

    def public(self) -> dict[str, Any]:
        """What the citizen sees with the code: the text sent and the answer, nothing about staff."""
        return {"code": self.code, "category": self.category, "text": self.text, "status": self.status,
                "received_at": self.received_at, "due_at": self.due_at, "answer": self.answer,
                "answered_at": self.answered_at, "reply_by_text": self.has_phone or bool(self.text_sent)}


def receive(settings: FeedbackSettings, *, site: str, code: str, category: str, text: str, channel: str,
            now: float, has_phone: bool = False, visit: Mapping[str, Any] | None = None) -> Feedback:
    """A new item, checked: a known category, a short clean text; `visit` binds it to a ticket's service."""
    if not settings.is_category(category):
        raise DomainError("invalid_category", "Chủ đề không có trong danh sách / unknown category", 422)
    if channel not in CHANNELS:
        raise DomainError("invalid_channel", f"channel must be one of {', '.join(CHANNELS)}", 422)
    visit = visit or {}
    return Feedback(site=site, code=code, category=category, text=clean_text(text, "text", MAX_TEXT),
                    channel=channel, received_at=now, due_at=now + settings.response_s, has_phone=has_phone,
                    ticket=visit.get("ticket"), agency=visit.get("agency"), staff=visit.get("staff"),
                    counter=visit.get("counter"))


def assign(item: Feedback, agency: str, agencies: Mapping[str, Any], by: str) -> Feedback:
    """Give the item to an agency to answer."""
    if agency not in agencies:
        raise DomainError("unknown_agency", f"Không có cơ quan {agency[:40]!r} / no such agency", 422)
    if item.status in ("answered", "closed"):
        raise DomainError("feedback_answered", "Phản ánh đã được trả lời / already answered")
    return replace(item, status="assigned", agency=agency, assigned_by=by)


def answer(item: Feedback, text: str, upheld: bool, by: str, now: float) -> Feedback:
    """Answer the citizen; `upheld`: the complaint was justified (it counts against the service)."""
    if item.status in ("answered", "closed"):
        raise DomainError("feedback_answered", "Phản ánh đã được trả lời / already answered")
    return replace(item, status="answered", answer=clean_text(text, "answer", MAX_ANSWER), upheld=upheld,
                   answered_at=now, answered_by=by)


def set_topic(item: Feedback, topic: str, settings: FeedbackSettings, by: str) -> Feedback:
    """A manager's topic for the comment (one of the site's categories): kept over the automatic one."""
    if not settings.is_category(topic):
        raise DomainError("invalid_category", "Chủ đề không có trong danh sách / unknown category", 422)
    return replace(item, topic=topic, topic_by=by)


def close(item: Feedback, now: float) -> Feedback:
    """Close the item (answered, or not to be answered); closing twice changes nothing."""
    if item.status == "closed":
        return item
    return replace(item, status="closed", closed_at=now, has_phone=False)
