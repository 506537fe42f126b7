"""The saved pipeline: dump, load, predict, and refuse what it should refuse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import tiny_corpus

from pipeline import LABELS, UNCERTAIN
from pipeline.exceptions import ModelError, ModelVersionError
from pipeline.model.classifier import META_FILE, MODEL_FILE, Classifier, train


def test_round_trip_predicts_the_same(tiny_model: Path) -> None:
    msgs, labels, _ = tiny_corpus()
    clf = Classifier.load(tiny_model)
    preds = clf.predict(msgs, threshold=0.0)
    assert [p.best_label for p in preds] == labels
    assert all(0.0 <= p.confidence <= 1.0 for p in preds)
    assert all(p.reasons for p in preds)
    assert set(clf.classes_) == set(LABELS)


def test_threshold_gives_uncertain(tiny_model: Path) -> None:
    msgs, _, _ = tiny_corpus()
    assert {p.label for p in Classifier.load(tiny_model).predict(msgs, threshold=1.0)} == {UNCERTAIN}


def test_no_model(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="make train"):
        Classifier.load(tmp_path)


def test_other_library_versions_refused(tiny_model: Path, tmp_path: Path) -> None:
    for name in (MODEL_FILE, META_FILE):
        (tmp_path / name).write_bytes((tiny_model / name).read_bytes())
    meta = json.loads((tmp_path / META_FILE).read_text())
    meta["versions"]["scikit-learn"] = "0.24.2"
    (tmp_path / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(ModelVersionError, match=r"scikit-learn 0\.24\.2.*make train"):
        Classifier.load(tmp_path)


def test_corrupt_model_file(tiny_model: Path, tmp_path: Path) -> None:
    (tmp_path / META_FILE).write_bytes((tiny_model / META_FILE).read_bytes())
    (tmp_path / MODEL_FILE).write_bytes(b"not a joblib file at all")
    with pytest.raises(ModelError, match="cannot load.*make train"):
        Classifier.load(tmp_path)


def test_train_compares_classifiers_with_grouped_folds() -> None:
    msgs, labels, groups = tiny_corpus()
    # Twice over, so each training fold still holds three of a class for the calibrator's inner folds.
    msgs, labels, groups = msgs * 2, labels * 2, groups + [g + "b" for g in groups]
    result = train(msgs, labels, groups, ["en"] * len(msgs), folds=2, classifiers=("logreg", "linear_svm"))
    assert {r.classifier for r in result.runs} == {"logreg", "linear_svm"}
    assert result.chosen == max(result.runs, key=lambda r: r.macro_f1).classifier
    assert len(result.best.predictions) == len(msgs)
    assert result.pipeline.predict(msgs[:1])[0] in LABELS


def test_real_mail_decides_and_is_scored_apart() -> None:
    msgs, labels, groups = tiny_corpus()
    msgs, labels, groups = msgs * 2, labels * 2, groups + [g + "b" for g in groups]
    made = ["written"] * (len(msgs) // 2) + ["real"] * (len(msgs) // 2)
    origins = ["written"] * (len(msgs) // 2) + ["enron"] * (len(msgs) // 4) + ["trec07p"] * (len(msgs) - 3 * len(msgs) // 4)
    result = train(msgs, labels, groups, ["en"] * len(msgs), folds=2, classifiers=("logreg", "stacked"), made=made,
                   origins=origins)
    assert result.chosen == max(result.runs, key=lambda r: (round(r.real_f1, 2), 0.0)).classifier
    assert set(result.extra["loso"]) == {"enron", "trec07p"}
    # Leave-one-source-out tests on that source's real mail only, never on what it trained on.
    enron = result.extra["loso"]["enron"]
    assert {origins[i] for i in enron.index} == {"enron"}
    assert len(result.extra["written_to_real"].index) == len(msgs) // 2
    assert Classifier(result.pipeline, {}).predict(msgs[:2], threshold=0.0)[0].label in LABELS


def test_reasons_carry_the_numbers_and_the_date() -> None:
    from pipeline.model.reasons import describe, message_context

    context = message_context(15, 14, 2, "3 Nov")
    assert describe("signals__template_copies", context) == "14 near copies"
    assert describe("signals__template_recipients", context) == "same text to 13 other recipients"
    assert describe("signals__replies_to_owner", context) == "replies to your message of 3 Nov"
    assert describe("signals__replies_to_owner", {}) == "replies to your message"
    assert describe("signals__lang_sv", context) is None
    assert describe("words__kandidat") == "“kandidat”" and describe("words__<recipient>") is None
    assert message_context(1, 1, 1, None) == {}


def test_context_signals_are_the_ones_message_context_words() -> None:
    # Reasons build the context only for these signals: one missing here would lose its specific words.
    from pipeline.model.reasons import CONTEXT_SIGNALS, message_context

    assert set(message_context(5, 3, 2, "3 Nov")) == CONTEXT_SIGNALS


def test_within_the_noise_of_real_mail_translated_mail_decides() -> None:
    import numpy as np

    from pipeline.model.classifier import CrossValidation, choice_key
    from pipeline.model.evaluate import Corpus, Split

    labels = np.asarray(["cold_pitch", "other", "cold_pitch", "other"], dtype=object)
    corpus = Corpus(labels, labels.copy(), np.asarray(["real", "real", "translated", "translated"], dtype=object),
                    labels.copy(), labels.copy())

    def run(name: str, pred: list[str], real_f1: float) -> CrossValidation:
        return CrossValidation(name, 0.0, pred, real_f1, Split(name, np.arange(4), pred, np.ones(4)))

    a = run("a", ["cold_pitch", "other", "other", "other"], 0.501)  # worse on translated mail
    b = run("b", ["cold_pitch", "other", "cold_pitch", "other"], 0.500)
    c = run("c", ["cold_pitch", "other", "cold_pitch", "other"], 0.480)  # clearly worse on real mail
    assert max((a, b, c), key=lambda r: choice_key(r, corpus)).classifier == "b"
    assert choice_key(c, corpus) < choice_key(a, corpus)
