"""Classify a stream of raw mail: parse, predict, and yield rows or failures.

The core is a generator over :class:`~pipeline.sources.RawMail`, so memory
stays flat whatever the mailbox size. With ``jobs > 1`` batches go to
joblib workers, each of which loads the model once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from itertools import islice
from pathlib import Path

from joblib import Parallel, delayed

from pipeline.exceptions import MailParseError
from pipeline.mail import Message, parse_bytes
from pipeline.model import DEFAULT_THRESHOLD, Classifier
from pipeline.sources import RawMail

CSV_COLUMNS = ("source", "message_id", "date", "from", "to", "subject", "language", "label", "confidence", "reasons")
BATCH = 256


@dataclass(frozen=True)
class Row:
    source: str
    message_id: str
    date: str
    sender: str
    to: str
    subject: str
    language: str
    label: str
    confidence: float
    reasons: str

    def as_csv(self) -> list[str]:
        return [self.source, self.message_id, self.date, self.sender, self.to, self.subject, self.language, self.label,
                f"{self.confidence:.3f}", self.reasons]


@dataclass(frozen=True)
class Failure:
    source: str
    reason: str


def _row(m: Message, p) -> Row:
    return Row(
        source=m.source,
        message_id=m.message_id,
        date=m.date.isoformat() if m.date else "",
        sender=str(m.sender),
        to=", ".join(str(a) for a in m.recipients),
        subject=m.subject,
        language=p.language,
        label=p.label,
        confidence=p.confidence,
        reasons="; ".join(p.reasons),
    )


def classify_batch(batch: list[RawMail], classifier: Classifier, threshold: float) -> list[Row | Failure]:
    parsed: list[Message] = []
    out: list[Row | Failure | None] = []
    for raw in batch:
        try:
            parsed.append(parse_bytes(raw.data, raw.source))
            out.append(None)
        except MailParseError as exc:
            out.append(Failure(raw.source, str(exc).removeprefix(f"{raw.source}: ")))
    predictions = iter(classifier.predict(parsed, threshold))
    messages = iter(parsed)
    return [item if item is not None else _row(next(messages), next(predictions)) for item in out]


@cache
def _worker_classifier(model_dir: str) -> Classifier:
    return Classifier.load(Path(model_dir))


def _worker(batch: list[RawMail], model_dir: str, threshold: float) -> list[Row | Failure]:
    return classify_batch(batch, _worker_classifier(model_dir), threshold)


def _batches(items: Iterable[RawMail], size: int) -> Iterator[list[RawMail]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def classify_stream(mail: Iterable[RawMail], model_dir: Path, *, threshold: float = DEFAULT_THRESHOLD, jobs: int = 1,
                    classifier: Classifier | None = None) -> Iterator[Row | Failure]:
    """Yield a :class:`Row` or :class:`Failure` for every message, in input order."""
    if jobs == 1:
        clf = classifier or Classifier.load(model_dir)
        for batch in _batches(mail, BATCH):
            yield from classify_batch(batch, clf, threshold)
        return
    Classifier.load(model_dir)  # fail early, in this process, with the clear message
    parallel = Parallel(n_jobs=jobs, return_as="generator", pre_dispatch="2*n_jobs")
    for result in parallel(delayed(_worker)(b, str(model_dir), threshold) for b in _batches(mail, BATCH)):
        yield from result
