"""Classify a stream of raw mail: parse, predict, and yield rows or failures.

The core is a generator over :class:`~pipeline.sources.RawMail`, so memory
stays flat whatever the mailbox size. With ``jobs > 1`` batches go to
forked worker processes that share the loaded model.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from multiprocessing.pool import AsyncResult
from pathlib import Path

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


# The classifier of this process, set before worker processes are forked so
# that they share its memory copy-on-write instead of each loading the model
# (and spaCy) again.
_shared: Classifier | None = None


def _worker(batch: list[RawMail], threshold: float) -> list[Row | Failure]:
    assert _shared is not None, "workers are forked after the classifier is loaded"
    return classify_batch(batch, _shared, threshold)


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
    global _shared
    _shared = classifier or Classifier.load(model_dir)
    # Forked workers inherit the loaded model and share its memory
    # copy-on-write. joblib's loky workers would each load the model and spaCy
    # again (three processes of ~280 MB instead of one), and its
    # multiprocessing backend cannot stream results back in order.
    pool = multiprocessing.get_context("fork").Pool(jobs)
    try:
        pending: deque[AsyncResult] = deque()
        for batch in _batches(mail, BATCH):
            pending.append(pool.apply_async(_worker, (batch, threshold)))
            # Bounded: never read more of the mailbox than the workers can take.
            while len(pending) > 2 * jobs:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()
    finally:
        pool.terminate()
        _shared = None
