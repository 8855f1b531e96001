"""The texts a citizen receives, Vietnamese first with full marks, English second. Pure.

Each text is a template with named parameters (`Wording`): an SMS driver sends the
filled-in text, a template gateway (Zalo ZNS, devices/sms/zns.py) sends the template's
id and the parameters, and shows the citizen the same words from the template the
centre registered, so both channels say one thing. TEMPLATES is what a centre
registers with Zalo (`<name>` is Zalo's parameter syntax); README lists them.

Kept short: Vietnamese with marks goes out as Unicode SMS (70 characters a part),
so a long site name is cut rather than making a fourth part.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = [
    "MAX_TEXT",
    "TEMPLATES",
    "Wording",
    "ahead_text",
    "answer_text",
    "called_text",
    "code_text",
    "come_text",
    "render",
]

# three concatenated SMS of Unicode (UCS-2) text: Vietnamese with marks is never GSM-7
MAX_TEXT: Final = 201
SITE_NAME_MAX: Final = 60
_PARAM: Final = re.compile(r"<([a-z_]+)>")

TEMPLATES: Final[Mapping[str, str]] = {
    "code": "<site>: mã xác nhận lấy số của bạn là <code>, dùng trong <minutes> phút. "
            "/ Your code to take a number: <code> (<minutes> min).",
    "called": "<site>: mời số <number> đến quầy <counter>. / Number <number>, please go to counter <counter>.",
    "ahead": "<site>: số <number> còn <ahead> người trước bạn, mời quay lại gần quầy. "
             "/ Number <number>: <people> ahead of you.",
    "come": "<site>: số <number> sắp đến lượt (khoảng <minutes> phút), mời đến ngay và quét mã ở ki-ốt. "
            "/ Number <number>: your turn in about <minutes> min, come now and scan at the kiosk.",
    "come_ahead": "<site>: số <number> còn <ahead> người trước bạn, mời đến ngay và quét mã ở ki-ốt. "
                  "/ Number <number>: <people> ahead, come now and scan at the kiosk.",
    "answer": "<site>: phản ánh <code> đã được trả lời, xem tại <url> / Feedback <code> answered.",
}


def render(template: str, params: Mapping[str, str]) -> str:
    """A template with its `<name>` parameters filled in (KeyError for one not given)."""
    return _PARAM.sub(lambda m: params[m.group(1)], template)


@dataclass(frozen=True, slots=True)
class Wording:
    """One text as a template kind and its parameters; `text` is what an SMS carries."""

    kind: str
    params: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        template = TEMPLATES.get(self.kind)
        if template is None:
            raise ValueError(f"no text template {self.kind!r}")
        if set(_PARAM.findall(template)) != {name for name, _ in self.params}:
            raise ValueError(f"the {self.kind} text takes {sorted(set(_PARAM.findall(template)))}")

    @property
    def text(self) -> str:
        """The filled-in text, cut to what three SMS parts hold."""
        text = render(TEMPLATES[self.kind], dict(self.params))
        return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _words(kind: str, **params: object) -> Wording:
    return Wording(kind, tuple(sorted((name, str(value)) for name, value in params.items())))


def _site(name: str) -> str:
    name = " ".join(name.split())
    return name if len(name) <= SITE_NAME_MAX else name[: SITE_NAME_MAX - 1] + "…"


def _people(ahead: int) -> str:
    return "1 person" if ahead == 1 else f"{ahead} people"


def ahead_text(site_name: str, number: str, ahead: int) -> Wording:
    """'còn N người trước bạn': the citizen should come back near the counters."""
    return _words("ahead", site=_site(site_name), number=number, ahead=ahead, people=_people(ahead))


def called_text(site_name: str, number: str, counter: int) -> Wording:
    """'mời số X đến quầy Y': the ticket is called now."""
    return _words("called", site=_site(site_name), number=number, counter=counter)


def code_text(site_name: str, code: str, minutes: int) -> Wording:
    """The one-time code that proves the phone is the citizen's (numbers taken from a phone)."""
    return _words("code", site=_site(site_name), code=code, minutes=minutes)


def come_text(site_name: str, number: str, minutes: int, ahead: int | None) -> Wording:
    """'mời đến ngay': a number taken from a phone is about to be called; check in at the kiosk."""
    if ahead is not None and ahead <= 3:
        return _words("come_ahead", site=_site(site_name), number=number, ahead=ahead, people=_people(ahead))
    return _words("come", site=_site(site_name), number=number, minutes=minutes)


def answer_text(site_name: str, code: str, url: str) -> Wording:
    """A citizen's feedback was answered: the page at `url` has the answer."""
    return _words("answer", site=_site(site_name), code=code, url=url)
