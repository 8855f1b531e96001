"""The site file's [feedback] table: reasons asked at a low rating, feedback categories, deadlines. Pure.

    [feedback]
    reasons_at = 2            # a rating at or below this asks for reasons; default: the lower half
                              # of the scale (levels // 2: 2 of 4 or 5, 1 of 3); 0 never asks
    reasons_timeout_s = 30    # how long the counter's rating screen (or a keypad's display) asks
    reasons_window_min = 30   # how long after the rating the citizen's ticket page may still answer
    response_days = 10        # a manager answers feedback within this many days of receiving it
    [[feedback.reason]]       # replaces the default list (REASONS); at most 8
    code = "waited_long"
    name = "Chờ quá lâu"
    name_en = "Waited too long"
    [[feedback.category]]     # replaces the default list (CATEGORIES); at most 12
    code = "wait"
    name = "Thời gian chờ"
    name_en = "Waiting time"

A bad table is refused like the rest of the file: SiteError with the field and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from controller.core.errors import SiteError

__all__ = ["CATEGORIES", "REASONS", "Choice", "FeedbackSettings", "parse_feedback"]

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_KEYS = frozenset({"reasons_at", "reasons_timeout_s", "reasons_window_min", "response_days", "reason", "category"})
_CHOICE_KEYS = frozenset({"code", "name", "name_en"})
MAX_REASONS = 8
MAX_CATEGORIES = 12


@dataclass(frozen=True, slots=True)
class Choice:
    """One entry of a short list shown to citizens: a stable code, Vietnamese and English names."""

    code: str
    name: str
    name_en: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name, "name_en": self.name_en}


# What the reference counter tablets (VNPT iQMS) and the province's survey ask after a low rating.
REASONS = (
    Choice("waited_long", "Chờ quá lâu", "Waited too long"),
    Choice("guidance_unclear", "Hướng dẫn không rõ ràng", "Guidance was unclear"),
    Choice("extra_papers", "Yêu cầu giấy tờ ngoài danh mục", "Asked for papers not on the list"),
    Choice("staff_attitude", "Thái độ cán bộ chưa tốt", "Staff attitude"),
    Choice("hall_conditions", "Cơ sở vật chất, phòng chờ", "Hall conditions"),
)

# Phản ánh, kiến nghị: what citizens write about.
CATEGORIES = (
    Choice("waiting", "Thời gian chờ", "Waiting time"),
    Choice("staff", "Thái độ, tác phong cán bộ", "Staff conduct"),
    Choice("procedure", "Thủ tục, giấy tờ", "Procedures and papers"),
    Choice("result", "Kết quả giải quyết, trễ hẹn", "Results and delays"),
    Choice("facilities", "Cơ sở vật chất", "Facilities"),
    Choice("suggestion", "Góp ý, kiến nghị", "Suggestion"),
    Choice("other", "Khác", "Other"),
)


@dataclass(frozen=True, slots=True)
class FeedbackSettings:
    """How a site asks for reasons and handles feedback."""

    reasons_at: int = 2
    reasons_timeout_s: float = 30.0
    reasons_window_s: float = 30 * 60.0
    response_s: float = 10 * 86400.0
    reasons: tuple[Choice, ...] = REASONS
    categories: tuple[Choice, ...] = CATEGORIES
    _reason_codes: frozenset[str] = field(init=False, repr=False, compare=False)
    _category_codes: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_reason_codes", frozenset(r.code for r in self.reasons))
        object.__setattr__(self, "_category_codes", frozenset(c.code for c in self.categories))

    def asks_reasons(self, score: int) -> bool:
        """Whether a rating of `score` asks the citizen why."""
        return bool(self.reasons) and score <= self.reasons_at

    def is_reason(self, code: str) -> bool:
        return code in self._reason_codes

    def is_category(self, code: str) -> bool:
        return code in self._category_codes

    def as_json(self) -> dict[str, Any]:
        """What screens need: the lists and the times (the catalogue carries it)."""
        return {
            "reasons_at": self.reasons_at,
            "reasons_timeout_s": self.reasons_timeout_s,
            "reasons_window_s": self.reasons_window_s,
            "response_days": self.response_s / 86400,
            "reasons": [r.as_json() for r in self.reasons],
            "categories": [c.as_json() for c in self.categories],
        }


def _number(table: Mapping[str, Any], key: str, source: str, default: float, low: float, high: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SiteError(source, f"feedback.{key}", f"must be a number, got {value!r}")
    if not low <= value <= high:
        raise SiteError(source, f"feedback.{key}", f"must be between {low:g} and {high:g}, got {value}")
    return float(value)


def _choices(table: Mapping[str, Any], key: str, source: str, default: tuple[Choice, ...],
             most: int) -> tuple[Choice, ...]:
    items = table.get(key)
    if items is None:
        return default
    if not isinstance(items, list) or not items or not all(isinstance(i, Mapping) for i in items):
        raise SiteError(source, f"feedback.{key}", "must be a non-empty array of tables")
    if len(items) > most:
        raise SiteError(source, f"feedback.{key}", f"at most {most} entries (a short list), got {len(items)}")
    out: list[Choice] = []
    for i, item in enumerate(items):
        where = f"feedback.{key}[{i}]"
        for unknown in sorted(set(item) - _CHOICE_KEYS, key=str):
            raise SiteError(source, f"{where}.{unknown}", "unknown field")
        code = item.get("code")
        if not isinstance(code, str) or not _CODE.match(code):
            raise SiteError(source, f"{where}.code", f"must be a code (a-z, 0-9, _), got {code!r}")
        if any(c.code == code for c in out):
            raise SiteError(source, f"{where}.code", f"duplicate {code!r}")
        names = []
        for name_key in ("name", "name_en"):
            name = item.get(name_key)
            if not isinstance(name, str) or not name.strip() or len(name) > 80:
                raise SiteError(source, f"{where}.{name_key}", "must be a non-empty string of at most 80 characters")
            names.append(name.strip())
        out.append(Choice(code, names[0], names[1]))
    return tuple(out)


def parse_feedback(data: Mapping[str, Any], source: str, rating_levels: int) -> FeedbackSettings:
    """The [feedback] table of a site file (absent: the defaults for its rating scale)."""
    table = data.get("feedback", {})
    if not isinstance(table, Mapping):
        raise SiteError(source, "feedback", "must be a table")
    for unknown in sorted(set(table) - _KEYS, key=str):
        raise SiteError(source, f"feedback.{unknown}", "unknown field")
    reasons_at = table.get("reasons_at", rating_levels // 2)
    if isinstance(reasons_at, bool) or not isinstance(reasons_at, int) or not 0 <= reasons_at < rating_levels:
        raise SiteError(source, "feedback.reasons_at",
                        f"must be an integer 0..{rating_levels - 1} (below the best rating), got {reasons_at!r}")
    return FeedbackSettings(
        reasons_at=reasons_at,
        reasons_timeout_s=_number(table, "reasons_timeout_s", source, 30, 5, 300),
        reasons_window_s=60 * _number(table, "reasons_window_min", source, 30, 1, 24 * 60),
        response_s=86400 * _number(table, "response_days", source, 10, 1, 90),
        reasons=_choices(table, "reason", source, REASONS, MAX_REASONS),
        categories=_choices(table, "category", source, CATEGORIES, MAX_CATEGORIES),
    )
