"""Topics of citizens' comments (controller/core/topics.py): folding, the model, a manager's correction."""

from __future__ import annotations

import pytest

from controller.core import feedback as fb
from controller.core.errors import DomainError
from controller.core.feedback_settings import FeedbackSettings
from controller.core.topic_examples import EXAMPLES
from controller.core.topics import cross_validate, features, fold, train


def test_fold() -> None:
    assert fold("Chờ QUÁ lâu, Đợi mãi ở Phòng chờ") == "cho qua lau, doi mai o phong cho"
    assert fold("Thái độ cán bộ") == fold("thai do can bo") == "thai do can bo"


def test_the_same_comment_with_and_without_diacritics_is_one() -> None:
    assert features("Cán bộ quầy 3 nói chuyện cộc lốc") == features("can bo quay 3 noi chuyen coc loc")
    assert features("nv ko dc huong dan") == features("nhân không được hướng dẫn")  # chat short forms written out


@pytest.mark.parametrize(("text", "topic"), [
    ("Chờ hơn 2 tiếng mà chưa được gọi số", "waiting"),
    ("cho hon 2 tieng ma chua duoc goi so", "waiting"),
    ("Nhà vệ sinh bẩn quá, không có giấy", "facilities"),
    ("nha ve sinh ban qua", "facilities"),
    ("Hẹn trả kết quả thứ 2 mà giờ vẫn chưa có", "result"),
    ("Cán bộ thái độ hách dịch", "staff"),
    ("de nghi lam viec sang thu 7", "suggestion"),
])
def test_clear_comments(text: str, topic: str) -> None:
    assert train(EXAMPLES).predict(text) == topic


def test_nothing_to_go_on_and_the_sites_own_list() -> None:
    model = train(EXAMPLES)
    assert model.predict("zzzz qqqq") is None and model.predict("") is None
    # a site whose list lacks a topic: the guess is among its own categories only
    assert model.predict("Chờ hơn 2 tiếng mà chưa được gọi số", ["staff", "facilities"]) in ("staff", "facilities")
    assert model.predict("Chờ lâu", ["custom_only"]) is None
    scores = model.scores("phòng chờ nóng")
    assert abs(sum(p for _t, p in scores) - 1) < 1e-9 and scores[0][0] == "facilities"


def test_cross_validated_accuracy_floor() -> None:
    """The measured figure (docs/BENCHMARKS.md) must not silently fall: every fold's model on unseen comments."""
    predicted = cross_validate(EXAMPLES)
    accuracy = sum(p == t for p, (_x, t) in zip(predicted, EXAMPLES, strict=True)) / len(EXAMPLES)
    assert accuracy >= 0.65
    majority = max(sum(1 for _x, t in EXAMPLES if t == topic) for topic in {t for _x, t in EXAMPLES}) / len(EXAMPLES)
    assert accuracy > 4 * majority


def test_a_manager_corrects_the_topic() -> None:
    settings = FeedbackSettings()
    item = fb.receive(settings, site="xa", code="ABCDEFGH", category="other", text="Chờ lâu", channel="ticket",
                      now=0.0)
    corrected = fb.set_topic(item, "facilities", settings, "quanly")
    assert (corrected.topic, corrected.topic_by) == ("facilities", "quanly")
    assert fb.Feedback.from_dict(corrected.to_dict()) == corrected  # as feedback.db keeps it
    with pytest.raises(DomainError) as refused:
        fb.set_topic(item, "nope", settings, "quanly")
    assert refused.value.code == "invalid_category"
