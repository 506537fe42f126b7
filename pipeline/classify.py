"""Classify a stream of raw mail: parse, predict, and yield rows or failures.

The core is a generator over :class:`~pipeline.sources.RawMail`, so memory
stays flat whatever the mailbox size. With ``jobs > 1`` batches go to
forked worker processes that share the loaded model (:mod:`pipeline.workers`).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path

from pipeline import csvsafe
from pipeline.exceptions import MailParseError
from pipeline.fingerprint import Fingerprint, TemplateIndex
from pipeline.mail import Message, parse_bytes
from pipeline.model import DEFAULT_THRESHOLD, Classifier
from pipeline.sources import RawMail

CSV_COLUMNS = ("source", "message_id", "date", "from", "to", "subject", "language", "label", "confidence", "template_id",
               "template_size", "reasons")
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
    template_id: str
    template_size: int
    reasons: str

    def as_csv(self) -> list[str]:
        return csvsafe.row([self.source, self.message_id, self.date, self.sender, self.to, self.subject, self.language, self.label,
                            f"{self.confidence:.3f}", self.template_id, str(self.template_size), self.reasons])


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
        to=_recipients_cell(m),
        subject=m.subject,
        language=p.language,
        label=p.label,
        confidence=p.confidence,
        template_id=m.template.template_id if m.template else "",
        template_size=m.template.size if m.template else 1,
        reasons="; ".join((f"read in part: {m.partial}", *p.reasons) if m.partial else p.reasons),
    )


# A blast to 40,000 people would make a megabyte cell no spreadsheet opens (Excel stops at 32,767 characters).
MAX_RECIPIENTS_LISTED = 50


def _recipients_cell(m: Message) -> str:
    listed = ", ".join(str(a) for a in m.recipients[:MAX_RECIPIENTS_LISTED])
    more = len(m.recipients) - MAX_RECIPIENTS_LISTED
    return f"{listed} and {more} more" if more > 0 else listed


def index_key(m: Message) -> str:
    """What a message is indexed under: its Message-ID, so that a message seen again is not counted twice."""
    return m.message_id or m.source


def attach_templates(messages: list[Message], index: TemplateIndex, fps: list[Fingerprint] | None = None) -> list[Message]:
    """Add ``messages`` to the index, then give each its family as it stands after the whole batch.

    Adding the batch first lets siblings that arrive together count each
    other, whatever their order in the batch. ``fps`` are the messages'
    fingerprints when a worker computed them already.
    """
    index.add_many([(index_key(m), m, fps[i] if fps else None) for i, m in enumerate(messages)])
    families = index.families_of([index_key(m) for m in messages])
    return [replace(m, template=families.get(index_key(m))) for m in messages]


def parse_batch(batch: list[RawMail]) -> list[Message | Failure]:
    out: list[Message | Failure] = []
    for raw in batch:
        if raw.problem:
            out.append(Failure(raw.source, raw.problem))
            continue
        try:
            out.append(parse_bytes(raw.data, raw.source))
        except MailParseError as exc:
            out.append(Failure(raw.source, str(exc).removeprefix(f"{raw.source}: ")))
    return out


def predict_batch(items: list[Message | Failure], classifier: Classifier, threshold: float) -> list[Row | Failure]:
    parsed = [m for m in items if isinstance(m, Message)]
    predictions = iter(classifier.predict(parsed, threshold))
    return [item if isinstance(item, Failure) else _row(item, next(predictions)) for item in items]


def classify_batch(batch: list[RawMail], classifier: Classifier, threshold: float,
                   index: TemplateIndex | None = None) -> list[Row | Failure]:
    """Parse, look up template families (when an index is given), and predict one batch."""
    items = parse_batch(batch)
    if index is not None:
        items = _with_templates(items, index)
    return predict_batch(items, classifier, threshold)


def _with_templates(items: list[Message | Failure], index: TemplateIndex) -> list[Message | Failure]:
    families = iter(attach_templates([m for m in items if isinstance(m, Message)], index))
    return [item if isinstance(item, Failure) else next(families) for item in items]


def _batches(items: Iterable[RawMail], size: int) -> Iterator[list[RawMail]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def classify_stream(mail: Iterable[RawMail], model_dir: Path, *, threshold: float = DEFAULT_THRESHOLD, jobs: int = 1,
                    classifier: Classifier | None = None, index: TemplateIndex | None = None) -> Iterator[Row | Failure]:
    """Yield a :class:`Row` or :class:`Failure` for every message, in input order.

    ``index`` is the template index the mail is added to (an in-memory one
    when not given): a message's family is what the index has seen so far,
    including the rest of its batch.
    """
    own_index = index is None
    scratch = None
    if index is None:  # not `or`: an empty index has len() 0 and is falsy
        # A file, not memory: the index grows with the mailbox, memory must not. Next to forked workers its cache
        # is smaller, to keep the processes together under 400 MB; that costs about 1 s of look-ups per 20,000 messages.
        scratch = Path(tempfile.mkdtemp(prefix="pitchsort-templates-"))
        index = TemplateIndex.open(scratch / "templates.sqlite", cache_mb=16 if jobs == 1 else 4, mmap=False, scratch=True)
    try:
        if jobs == 1:
            clf = classifier or Classifier.load(model_dir)
            for batch in _batches(mail, BATCH):
                yield from classify_batch(batch, clf, threshold, index)
        else:
            # Imported here: the workers build on this module's batch functions.
            from pipeline.workers import classify_parallel

            yield from classify_parallel(_batches(mail, BATCH), classifier or Classifier.load(model_dir), threshold, jobs, index)
    finally:
        if own_index:
            index.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
