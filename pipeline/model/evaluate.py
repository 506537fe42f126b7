"""How a model does on real mail: grouped CV split by how mail was made, leave-one-source-out, written → real.

Every figure here is computed on held-out messages only. Real, written and
translated mail are scored apart, because a model can learn the texture of
mail written for the project and still fail on mail real people wrote.
Translations share their source message's group, so a source and its
translations never sit on both sides of a split.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline

from pipeline.mail.message import Message

REAL, WRITTEN, TRANSLATED = "real", "written", "translated"


def macro_f1(y: Sequence[str], pred: Sequence[str]) -> float:
    """Macro-F1 over the labels that occur in ``y``: a subset without `other` is not charged for it."""
    if not len(y):
        return float("nan")
    return float(f1_score(y, pred, labels=sorted(set(y)), average="macro", zero_division=0))


@dataclass
class Split:
    """What one kind of model predicted for held-out messages (``index`` into the corpus)."""

    name: str
    index: np.ndarray
    predictions: list[str]
    confidence: np.ndarray
    explain: list[tuple[str, ...]] = field(default_factory=list)


@dataclass
class Corpus:
    """The labelled messages as the evaluation sees them, one entry per message."""

    labels: np.ndarray
    groups: np.ndarray
    made: np.ndarray
    origins: np.ndarray
    languages: np.ndarray


def cross_validated(model: Any, X: Sequence[Any], corpus: Corpus, folds: int, seed: int,
                    explain: Callable[[Any, np.ndarray, np.ndarray], list[tuple[str, ...]]] | None = None,
                    name: str = "") -> Split:
    """Grouped k-fold predictions for every message; ``explain`` gives reasons for held-out rows."""
    cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    n = len(corpus.labels)
    pred = np.empty(n, dtype=object)
    conf = np.zeros(n)
    reasons: list[tuple[str, ...]] = [()] * n
    for train, test in cv.split(np.zeros(n), corpus.labels, corpus.groups):
        fitted = clone(model).fit([X[i] for i in train], corpus.labels[train])
        test_X = [X[i] for i in test]
        proba = fitted.predict_proba(test_X)
        k = proba.argmax(axis=1)
        pred[test] = np.asarray(fitted.classes_)[k]
        conf[test] = proba[np.arange(len(test)), k]
        if explain is not None:
            for i, r in zip(test, explain(fitted, test, k), strict=True):
                reasons[i] = r
    return Split(name, np.arange(n), list(pred), conf, reasons)


def held_out(model: Any, X: Sequence[Any], corpus: Corpus, train: np.ndarray, test: np.ndarray, name: str = "") -> Split:
    fitted = clone(model).fit([X[i] for i in train], corpus.labels[train])
    proba = fitted.predict_proba([X[i] for i in test])
    k = proba.argmax(axis=1)
    return Split(name, test, list(np.asarray(fitted.classes_)[k]), proba[np.arange(len(test)), k])


def leave_one_source_out(model: Any, X: Sequence[Any], corpus: Corpus, name: str = "") -> dict[str, Split]:
    """Per real source: train without its messages (and their translations), test on its real messages."""
    out = {}
    real = corpus.made == REAL
    for origin in sorted(set(corpus.origins[real])):
        test_mask = real & (corpus.origins == origin)
        left_out_groups = set(corpus.groups[test_mask])
        train_mask = ~np.isin(corpus.groups, list(left_out_groups)) & (corpus.origins != origin)
        out[origin] = held_out(model, X, corpus, np.flatnonzero(train_mask), np.flatnonzero(test_mask), name)
    return out


def written_to_real(model: Any, X: Sequence[Any], corpus: Corpus, name: str = "") -> Split:
    return held_out(model, X, corpus, np.flatnonzero(corpus.made == WRITTEN), np.flatnonzero(corpus.made == REAL), name)


def plain_text(m: Message) -> str:
    """What a bag-of-words baseline reads: subject and whole body, quotes and signature included."""
    return f"{m.subject}\n{m.text}\n{m.signature}\n{m.quoted}"


def baseline() -> Pipeline:
    """A plain TF-IDF and logistic regression, the figure any feature engineering must beat."""
    return Pipeline([("tfidf", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=100_000)),
                     ("clf", LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced"))])


def pick(split: Split, corpus: Corpus, mask: np.ndarray | None = None) -> tuple[list[str], list[str]]:
    """True labels and predictions of the split's messages that ``mask`` (over the corpus) keeps."""
    keep = np.ones(len(split.index), dtype=bool) if mask is None else mask[split.index]
    y = list(corpus.labels[split.index][keep])
    return y, [p for p, k in zip(split.predictions, keep, strict=True) if k]


def score(split: Split, corpus: Corpus, mask: np.ndarray | None = None) -> float:
    return macro_f1(*pick(split, corpus, mask))
