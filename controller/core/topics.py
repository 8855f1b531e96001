"""The topic of a citizen's comment, offline: diacritics folded, words and word pairs, naive Bayes. Pure.

Vietnamese is typed with and without diacritics ("chờ lâu quá" and "cho lau qua"), often with
the short forms of chat ("ko", "k", "nv", "dc"). Folding every text to plain ASCII letters
(NFD, combining marks dropped, đ -> d) makes the two spellings one; the folding loses what
the marks told apart ("lâu"/"lầu" both "lau"), which the surrounding words mostly restore.
Features: folded words (Vietnamese words are syllables) and word pairs (the compounds: "can bo",
"ket qua", "ho so", "thoi gian"); chat short forms are written out first. Character 3- and
4-grams inside each word were measured too and lost accuracy on the labelled set (the bench
keeps them as an ablation). The classifier is multinomial naive Bayes with add-one smoothing,
trained on a labelled set (controller/core/topic_examples.py) whose labels are the default
feedback categories. Measured in docs/BENCHMARKS.md
(benchmarks/bench_feedback_topics.py); its limits are said there and in README.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

__all__ = ["TopicModel", "cross_validate", "features", "fold", "train"]

_WORD = re.compile(r"[a-z0-9]+")
# the short forms of chat, written out (after folding)
_SHORT = {"ko": "khong", "k": "khong", "kg": "khong", "hok": "khong", "dc": "duoc", "dk": "duoc", "nv": "nhan",
          "cb": "can", "j": "gi", "ng": "nguoi", "bt": "binh", "vs": "voi", "ntn": "nhu", "h": "gio"}


def fold(text: str) -> str:
    """Lower case, without diacritics: 'Chờ quá lâu, Đợi mãi' -> 'cho qua lau, doi mai'."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def features(text: str, folded: bool = True, ngrams: bool = False) -> Counter[str]:
    """Folded words ('w:') and word pairs ('p:'); `folded=False` and `ngrams=True` (character 3- and 4-grams
    of each word, 'c:') are the bench's ablations (docs/BENCHMARKS.md)."""
    words = ([_SHORT.get(w, w) for w in _WORD.findall(fold(text))] if folded
             else re.findall(r"\w+", unicodedata.normalize("NFC", text.lower())))
    out: Counter[str] = Counter()
    for i, word in enumerate(words):
        out["w:" + word] += 1
        if i:
            out[f"p:{words[i - 1]}_{word}"] += 1
        if not ngrams:
            continue
        padded = f"<{word}>"
        for n in (3, 4):
            for j in range(len(padded) - n + 1):
                out["c:" + padded[j:j + n]] += 1
    return out


@dataclass(frozen=True)
class TopicModel:
    """Naive Bayes over the features: log priors and per-topic log likelihoods, and one for unseen features."""

    topics: tuple[str, ...]
    log_prior: dict[str, float]
    log_likelihood: dict[str, dict[str, float]]
    log_unseen: dict[str, float]
    folded: bool = True
    ngrams: bool = False

    def _features(self, text: str) -> Counter[str]:
        return features(text, self.folded, self.ngrams)

    def scores(self, text: str, allowed: Iterable[str] | None = None) -> list[tuple[str, float]]:
        """Each topic's posterior probability, highest first; only `allowed` topics when given."""
        found = self._features(text)
        known = {f: n for f, n in found.items() if any(f in self.log_likelihood[t] for t in self.topics)}
        pool = [t for t in self.topics if allowed is None or t in set(allowed)]
        if not pool:
            return []
        logs = {}
        for topic in pool:
            table, unseen = self.log_likelihood[topic], self.log_unseen[topic]
            logs[topic] = self.log_prior[topic] + sum(n * table.get(f, unseen) for f, n in known.items())
        top = max(logs.values())
        total = sum(math.exp(v - top) for v in logs.values())
        return sorted(((t, math.exp(v - top) / total) for t, v in logs.items()), key=lambda tv: -tv[1])

    def predict(self, text: str, allowed: Iterable[str] | None = None) -> str | None:
        """The likeliest topic; None when no feature of the text was ever seen (nothing to go on)."""
        if not any(any(f in self.log_likelihood[t] for t in self.topics) for f in self._features(text)):
            return None
        ranked = self.scores(text, allowed)
        return ranked[0][0] if ranked else None


def train(examples: Sequence[tuple[str, str]], folded: bool = True, ngrams: bool = False) -> TopicModel:
    """A model from (text, topic) pairs."""
    counts: dict[str, Counter[str]] = {}
    docs: Counter[str] = Counter()
    for text, topic in examples:
        counts.setdefault(topic, Counter()).update(features(text, folded, ngrams))
        docs[topic] += 1
    vocabulary = set().union(*counts.values()) if counts else set()
    size = len(vocabulary) + 1
    topics = tuple(sorted(counts))
    log_likelihood: dict[str, dict[str, float]] = {}
    log_unseen: dict[str, float] = {}
    for topic in topics:
        total = sum(counts[topic].values()) + size
        log_likelihood[topic] = {f: math.log((n + 1) / total) for f, n in counts[topic].items()}
        log_unseen[topic] = math.log(1 / total)
    n_docs = sum(docs.values())
    return TopicModel(topics, {t: math.log(docs[t] / n_docs) for t in topics}, log_likelihood, log_unseen,
                      folded, ngrams)


def cross_validate(examples: Sequence[tuple[str, str]], folds: int = 5, folded: bool = True, ngrams: bool = False,
                   transform: Callable[[str], str] = str) -> list[str | None]:
    """Each example's topic as predicted by a model trained on the other folds (stratified: the i-th example
    of a topic goes to fold i mod `folds`); `transform` changes the held-out text before predicting."""
    seen: Counter[str] = Counter()
    fold_of = []
    for _text, topic in examples:
        fold_of.append(seen[topic] % folds)
        seen[topic] += 1
    predicted: list[str | None] = [None] * len(examples)
    for k in range(folds):
        model = train([e for e, f in zip(examples, fold_of, strict=True) if f != k], folded, ngrams)
        for i, (text, _topic) in enumerate(examples):
            if fold_of[i] == k:
                predicted[i] = model.predict(transform(text))
    return predicted
