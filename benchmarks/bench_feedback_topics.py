"""Topics of feedback comments: accuracy by stratified 5-fold cross-validation on the labelled set, ablations."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable

from controller.core.topic_examples import EXAMPLES
from controller.core.topics import cross_validate, fold, train

FOLDS = 5


def _accuracy(predicted: list[str | None], indices: list[int]) -> str:
    right = sum(1 for i in indices if predicted[i] == EXAMPLES[i][1])
    return f"{100 * right / len(indices):.1f} % ({right}/{len(indices)})" if indices else "—"


def run() -> str:
    everyone = list(range(len(EXAMPLES)))
    marked = [i for i, (text, _t) in enumerate(EXAMPLES) if fold(text) != text.lower()]
    plain = [i for i in everyone if i not in marked]
    variants: list[tuple[str, dict[str, bool], Callable[[str], str]]] = [
        ("chosen: folded words + word pairs, naive Bayes", {}, str),
        ("the same, held-out comments stripped of their diacritics", {}, fold),
        ("+ character 3-4-grams of each word", {"ngrams": True}, str),
        ("without folding (words as typed)", {"folded": False}, str),
    ]
    rows = []
    chosen: list[str | None] = []
    for name, options, transform in variants:
        predicted = cross_validate(EXAMPLES, FOLDS, transform=transform, **options)
        chosen = chosen or predicted
        rows.append(f"| {name} | {_accuracy(predicted, everyone)} | {_accuracy(predicted, marked)} | "
                    f"{_accuracy(predicted, plain)} |")
    counts = Counter(topic for _text, topic in EXAMPLES)
    majority = max(counts.values())
    rows.append(f"| majority class (always one topic) | {100 * majority / len(EXAMPLES):.1f} % | | |")
    recall = []
    for topic in sorted(counts):
        mine = [i for i in everyone if EXAMPLES[i][1] == topic]
        recall.append(f"{topic} {_accuracy(chosen, mine).split(' (')[0]}")
    confusions = Counter((EXAMPLES[i][1], chosen[i]) for i in everyone if chosen[i] != EXAMPLES[i][1])
    worst = ", ".join(f"{a} taken for {b or 'no topic (no known word)'} ({n})"
                      for (a, b), n in confusions.most_common(4))
    started = time.perf_counter()
    model = train(EXAMPLES)
    train_ms = 1000 * (time.perf_counter() - started)
    times = []
    for text, _topic in EXAMPLES:
        began = time.perf_counter()
        model.predict(text)
        times.append(time.perf_counter() - began)
    return f"""## Feedback topics: offline, with and without diacritics

Command: `python -m benchmarks.run bench_feedback_topics`

The topic of a citizen's comment among the default feedback categories (controller/core/topics.py),
measured by stratified {FOLDS}-fold cross-validation on the labelled set
(controller/core/topic_examples.py: {len(EXAMPLES)} comments, {len(counts)} topics, {len(plain)} of them
typed without diacritics): each comment is classified by a model trained on the other folds.

| method | accuracy | typed with diacritics | typed without |
|---|---:|---:|---:|
{chr(10).join(rows)}

Recall per topic (chosen method): {", ".join(recall)}. Most frequent confusions: {worst}.
Training on the whole set: {train_ms:.1f} ms; one comment classified: median
{1e6 * statistics.median(times):.0f} µs (one process, the machine above).

Limits, plainly: the set is small and written for this project in the manner of real
comments, not collected from citizens, so the figure above is an estimate on text like
ours, with a wide margin (one comment is {100 / len(EXAMPLES):.1f} points); real comments will
differ in words and in mix. Folding merges words the diacritics told apart (chờ/chỗ/cho all
"cho"); a comment about two things gets one topic; irony, negation ("không chờ lâu") and
praise are read by their words; a site with its own categories gets guesses only among the
codes the set knows (waiting, staff, procedure, result, facilities, suggestion, other) and
none for its other codes. The guess is marked as one in the inbox; a manager's correction
replaces it for good. Character n-grams were expected to help with misspellings and lost
accuracy here (they outweigh the few telling words in naive Bayes); not folding loses the
comments typed without diacritics.
"""
