"""Train, save, load and apply the one scikit-learn ``Pipeline`` pitchsort uses.

The pipeline is ``analyze → features → classifier`` and is saved and loaded
whole, so training and prediction cannot drift apart. Cross-validation is
grouped: mail-merged siblings of one template and the messages of one thread
never sit on both sides of a split, or the figures would flatter the model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from pipeline import LABELS, UNCERTAIN, __version__, lang
from pipeline.exceptions import ModelError, ModelVersionError
from pipeline.features.analyzer import AnalyzedMail, MailAnalyzer, build_features
from pipeline.features.fingerprint import Arrival, TemplateIndex, index_key
from pipeline.mail.message import Message
from pipeline.mail.quotes import SplitText, quoted_date
from pipeline.model.evaluate import (
    REAL,
    TRANSLATED,
    WRITTEN,
    Corpus,
    Split,
    baseline,
    cross_validated,
    leave_one_source_out,
    macro_f1,
    plain_text,
    score,
    written_to_real,
)
from pipeline.model.reasons import CONTEXT_SIGNALS, describe, message_context

log = logging.getLogger(__name__)

MODEL_FILE = "pitchsort.joblib"
META_FILE = "metadata.json"
DEFAULT_THRESHOLD = 0.6
_CHECKED_VERSIONS = ("scikit-learn", "spacy", "numpy", "scipy", "pitchsort")


def library_versions() -> dict[str, str]:
    import scipy
    import sklearn
    import spacy

    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "spacy": spacy.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "joblib": joblib.__version__,
        "pitchsort": __version__,
    }


def language_data_fingerprint() -> str:
    digest = hashlib.sha256()
    root = Path(lang.__file__).parent
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".jsonl", ".json", ".txt"):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def make_classifier(name: str) -> Any:
    """The linear classifiers compared by ``make train`` (the stacked kind is built by :func:`make_pipeline`)."""
    if name == "logreg":
        return LogisticRegression(C=8.0, max_iter=5000, class_weight="balanced")
    if name == "linear_svm":
        return CalibratedClassifierCV(LinearSVC(C=0.5, class_weight="balanced"), cv=3, method="sigmoid")
    raise ValueError(f"unknown classifier {name!r}; use one of {', '.join(CLASSIFIERS)}")


CLASSIFIERS = ("logreg", "linear_svm", "stacked")


def _stacked() -> Any:
    """Gradient boosting over the named signals, stacked with a linear model of the words, by a logistic regression."""
    from sklearn.ensemble import HistGradientBoostingClassifier, StackingClassifier

    from pipeline.features.analyzer import Field, build_text_features

    text = Pipeline([("features", build_text_features()), ("clf", make_classifier("logreg"))])
    signals = Pipeline([("pick", Field(name="signals")), ("dict", DictVectorizer(sparse=False)),
                        ("boost", HistGradientBoostingClassifier(max_iter=200, learning_rate=0.08, class_weight="balanced",
                                                                 random_state=0))])
    return StackingClassifier([("text", text), ("signals", signals)],
                              final_estimator=LogisticRegression(max_iter=2000, class_weight="balanced"), cv=3)


def make_pipeline(classifier: str = "logreg") -> Pipeline:
    if classifier == "stacked":
        return Pipeline([("analyze", MailAnalyzer()), ("clf", _stacked())])
    return Pipeline([("analyze", MailAnalyzer()), ("features", build_features()), ("clf", make_classifier(classifier))])


@dataclass
class CrossValidation:
    classifier: str
    macro_f1: float
    predictions: list[str]
    real_f1: float = float("nan")
    split: Split | None = None


@dataclass
class TrainResult:
    pipeline: Pipeline
    chosen: str
    runs: list[CrossValidation]
    labels: list[str]
    languages: list[str]
    groups: list[str]
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    corpus: Corpus | None = None
    files: list[str] = field(default_factory=list)

    @property
    def best(self) -> CrossValidation:
        return next(r for r in self.runs if r.classifier == self.chosen)


def train(messages: list[Message], labels: list[str], groups: list[str], languages: list[str], *, folds: int = 5,
          classifiers: tuple[str, ...] = CLASSIFIERS, seed: int = 0, made: list[str] | None = None,
          origins: list[str] | None = None, files: list[str] | None = None) -> TrainResult:
    """Compare the classifiers by grouped cross-validated macro-F1 on real mail, and fit the best on everything.

    Without real mail (``made``), the whole corpus's macro-F1 decides. The report's other figures (leave one
    source out, written → real, the plain baseline) are computed here too, on the same splits.
    """
    import time

    start = time.perf_counter()
    made = made or ["written"] * len(messages)
    origins = origins or ["written"] * len(messages)
    files = files or [str(i) for i in range(len(messages))]
    arrivals = chronological_templates(messages)
    analyzer = MailAnalyzer()
    # spaCy runs once; only the steps after it are refitted per fold.
    analyzed: list[AnalyzedMail] = analyzer.fit_transform(arrivals)
    corpus = Corpus(np.asarray(labels, dtype=object), np.asarray(groups, dtype=object), np.asarray(made, dtype=object),
                    np.asarray(origins, dtype=object), np.asarray(languages, dtype=object))
    real = corpus.made == REAL
    runs = []
    for name in classifiers:
        tail = Pipeline(make_pipeline(name).steps[1:])
        explain = _explainer(analyzer, arrivals, analyzed, real) if name != "stacked" else None
        split = cross_validated(tail, analyzed, corpus, folds, seed, explain, name)
        pred = split.predictions
        run = CrossValidation(name, macro_f1(labels, pred), pred, score(split, corpus, real) if real.any() else float("nan"), split)
        runs.append(run)
        log.info("%s: grouped %d-fold macro-F1 %.3f, on real mail %.3f", name, folds, run.macro_f1, run.real_f1)
    chosen = max(runs, key=lambda r: choice_key(r, corpus)).classifier
    chosen_tail = Pipeline(make_pipeline(chosen).steps[1:])
    extra: dict[str, Any] = {}
    texts = [plain_text(m) for m in messages]
    extra["baseline"] = cross_validated(baseline(), texts, corpus, folds, seed, name="baseline")
    if real.any():
        extra["loso"] = leave_one_source_out(chosen_tail, analyzed, corpus, chosen)
        extra["loso_baseline"] = leave_one_source_out(baseline(), texts, corpus, "baseline")
        if (corpus.made == WRITTEN).any():
            extra["written_to_real"] = written_to_real(chosen_tail, analyzed, corpus, chosen)
            extra["written_to_real_baseline"] = written_to_real(baseline(), texts, corpus, "baseline")
    fitted = chosen_tail.fit(analyzed, corpus.labels)
    pipeline = Pipeline([("analyze", analyzer), *fitted.steps])
    return TrainResult(pipeline, chosen, runs, list(labels), list(languages), list(groups), time.perf_counter() - start,
                       extra, corpus, list(files))


def choice_key(run: CrossValidation, corpus: Corpus) -> tuple[float, float]:
    """What decides between classifiers: real mail to two decimals, then, within that noise, translated mail.

    Without real mail, the whole corpus decides.
    """
    real = corpus.made == REAL
    if not real.any():
        return (run.macro_f1, 0.0)
    assert run.split is not None
    translated = corpus.made == TRANSLATED
    tie_break = score(run.split, corpus, translated) if translated.any() else 0.0
    return (round(run.real_f1, 2), tie_break)


def _explainer(analyzer: MailAnalyzer, messages: list[Arrival], analyzed: list[AnalyzedMail], real: np.ndarray) -> Any:
    """Reasons for the held-out real messages of a fold, as the saved model would give them."""

    def explain(fitted: Pipeline, test: np.ndarray, k: np.ndarray) -> list[tuple[str, ...]]:
        keep = [j for j, i in enumerate(test) if real[i]]
        if not keep:
            return [()] * len(test)
        clf = Classifier(Pipeline([("analyze", analyzer), *fitted.steps]), {})
        X = sp.csr_matrix(fitted.named_steps["features"].transform([analyzed[test[j]] for j in keep]))
        out: list[tuple[str, ...]] = [()] * len(test)
        for row, j in enumerate(keep):
            lo, hi = X.indptr[row], X.indptr[row + 1]
            out[j] = clf._reasons(X.data[lo:hi], X.indices[lo:hi], int(k[j]), 3, messages[test[j]])
        return out

    return explain


def chronological_templates(messages: list[Message]) -> list[Arrival]:
    """Give each message the template family it had when it arrived.

    Messages are indexed in date order and each keeps the family size it
    joined, as a nightly run sees them: the first mail of a template looks
    alone, its tenth sibling has nine near copies. Sizes counted over the
    whole corpus would teach the model a hindsight it never has.
    """
    order = sorted(range(len(messages)), key=lambda i: (messages[i].date is None,
                                                        messages[i].date.timestamp() if messages[i].date else 0.0, i))
    out: list[Arrival] = [Arrival(m) for m in messages]
    index = TemplateIndex.open(None)
    try:
        for i in order:
            out[i] = Arrival(messages[i], index.add(index_key(messages[i]), messages[i]))
    finally:
        index.close()
    return out


def save(pipeline: Pipeline, folder: Path, metadata: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (MODEL_FILE + ".tmp")
    joblib.dump(pipeline, tmp, compress=3)
    tmp.replace(folder / MODEL_FILE)
    (folder / META_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def build_metadata(result: TrainResult, data_fingerprint: str) -> dict[str, Any]:
    return {
        "labels": list(LABELS),
        "classifier": result.chosen,
        "versions": library_versions(),
        "language_data": language_data_fingerprint(),
        "training_data": data_fingerprint,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "messages": len(result.labels),
        "cross_validation": {r.classifier: round(r.macro_f1, 4) for r in result.runs},
    }


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float
    language: str
    reasons: tuple[str, ...]
    best_label: str


class Classifier:
    """A loaded model: ``Classifier.load(folder).predict(messages)``."""

    def __init__(self, pipeline: Pipeline, metadata: dict[str, Any]):
        self.pipeline = pipeline
        self.metadata = metadata
        self.classes_ = list(pipeline.classes_)
        steps = pipeline.named_steps
        self._stacked = "features" not in steps
        if self._stacked:  # the words' linear model says why, the stack decides
            text = steps["clf"].named_estimators_["text"]
            self._features, linear = text.named_steps["features"], text.named_steps["clf"]
        else:
            self._features, linear = steps["features"], steps["clf"]
        self._names = self._features.get_feature_names_out()
        self._coef = self._coefficients(linear)

    @staticmethod
    def _coefficients(clf: Any) -> np.ndarray:
        if hasattr(clf, "coef_"):
            return np.asarray(clf.coef_)
        # CalibratedClassifierCV: average the inner linear models.
        return np.mean([np.asarray(c.estimator.coef_) for c in clf.calibrated_classifiers_], axis=0)

    @classmethod
    def check(cls, folder: Path) -> dict[str, Any]:
        """The model's metadata, if ``folder`` holds a model these library versions can load; else :class:`ModelError`.

        Cheap (no unpickling): a night run checks it before it connects, so a missing model fails at once.
        """
        model_path, meta_path = folder / MODEL_FILE, folder / META_FILE
        if not model_path.is_file() or not meta_path.is_file():
            raise ModelError(f"no trained model in {folder}: run `make train`")
        try:
            metadata = json.loads(meta_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ModelError(f"{meta_path} is corrupt ({exc}): run `make train`") from exc
        have = library_versions()
        saved = metadata.get("versions", {})
        for name in _CHECKED_VERSIONS:
            if saved.get(name) != have[name]:
                raise ModelVersionError(
                    f"the model in {folder} was made with {name} {saved.get(name, '?')}, this is {have[name]}: run `make train`"
                )
        if metadata.get("language_data") != language_data_fingerprint():
            log.warning("language data changed since the model was trained; retrain with `make train`")
        return metadata

    @classmethod
    def load(cls, folder: Path, owner_domains: tuple[str, ...] = ()) -> Classifier:
        metadata = cls.check(folder)
        model_path = folder / MODEL_FILE
        try:
            pipeline = joblib.load(model_path)
        except Exception as exc:  # noqa: BLE001 - unpickling a damaged file raises anything
            raise ModelError(f"cannot load {model_path} ({type(exc).__name__}): run `make train`") from exc
        if not isinstance(pipeline, Pipeline) or list(getattr(pipeline, "classes_", [])) != sorted(LABELS):
            raise ModelError(f"{model_path} is not a pitchsort model: run `make train`")
        if owner_domains:
            pipeline.set_params(analyze__owner_domains=tuple(owner_domains))
        return cls(pipeline, metadata)

    def predict(self, messages: Sequence[Arrival | Message], threshold: float = DEFAULT_THRESHOLD,
                n_reasons: int = 3) -> list[Prediction]:
        """Label, confidence and reasons per message; a bare :class:`Message` is one with no template family known."""
        if not messages:
            return []
        messages = [m if isinstance(m, Arrival) else Arrival(m) for m in messages]
        steps = self.pipeline.named_steps
        analyzed = steps["analyze"].transform(messages)
        X = self._features.transform(analyzed)
        proba = steps["clf"].predict_proba(analyzed if self._stacked else X)
        # Rows are read straight off the CSR arrays: slicing a scipy row costs more than the prediction.
        X = sp.csr_matrix(X)
        out = []
        for i, doc in enumerate(analyzed):
            k = int(np.argmax(proba[i]))
            best, conf = self.classes_[k], float(proba[i, k])
            out.append(Prediction(
                label=best if conf >= threshold else UNCERTAIN,
                confidence=conf,
                language=doc.language,
                reasons=self._reasons(X.data[X.indptr[i]:X.indptr[i + 1]], X.indices[X.indptr[i]:X.indptr[i + 1]], k, n_reasons,
                                      messages[i]),
                best_label=best,
            ))
        return out

    def _reasons(self, values: np.ndarray, columns: np.ndarray, k: int, n: int, message: Arrival) -> tuple[str, ...]:
        """The features of one message (its non-zero ``values`` in ``columns``) that most raised class ``k``, in words."""
        contrib = values * self._coef[k, columns]
        words: list[str] = []
        context: dict[str, str] | None = None
        for j in np.argsort(-contrib):
            if contrib[j] <= 0 or len(words) >= n:
                break
            name = self._names[columns[j]]
            if context is None and name.partition("__")[2] in CONTEXT_SIGNALS:
                # Built only when a reason needs it: reading the quoted date is the dearest part of the reasons.
                context = _context(message)
            text = describe(name, context)
            if text and text not in words:
                words.append(text)
        return tuple(words)


def _context(arrival: Arrival) -> dict[str, str]:
    m, t = arrival.message, arrival.template
    quoted_on = quoted_date(SplitText(m.text, m.quoted, m.signature, m.quote_header)) if m.quoted else None
    return message_context(t.size if t else None, t.recipients if t else None, t.senders if t else None, quoted_on)


def python_info() -> str:
    return f"Python {sys.version.split()[0]} on {platform.machine()}"
