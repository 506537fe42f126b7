"""One batch of raw mail to rows: parse each message, find its template family, predict.

Both ways of classifying build on these functions: one process
(:mod:`pipeline.model.classify`) and forked workers (:mod:`pipeline.model.workers`).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.exceptions import MailParseError
from pipeline.features.fingerprint import Arrival, Fingerprint, TemplateIndex, index_key
from pipeline.mail.message import Message, parse_bytes
from pipeline.mail.sources import RawMail
from pipeline.model import csvsafe
from pipeline.model.classifier import Classifier

CSV_COLUMNS = ("source", "message_id", "date", "from", "to", "subject", "language", "label", "confidence", "template_id",
               "template_size", "reasons")


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


def _row(arrival: Arrival, p) -> Row:
    m, template = arrival.message, arrival.template
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
        template_id=template.template_id if template else "",
        template_size=template.size if template else 1,
        reasons="; ".join((f"read in part: {m.partial}", *p.reasons) if m.partial else p.reasons),
    )


# A blast to 40,000 people would make a megabyte cell no spreadsheet opens (Excel stops at 32,767 characters).
MAX_RECIPIENTS_LISTED = 50


def _recipients_cell(m: Message) -> str:
    listed = ", ".join(str(a) for a in m.recipients[:MAX_RECIPIENTS_LISTED])
    more = len(m.recipients) - MAX_RECIPIENTS_LISTED
    return f"{listed} and {more} more" if more > 0 else listed


def attach_templates(messages: list[Message], index: TemplateIndex, fps: list[Fingerprint] | None = None) -> list[Arrival]:
    """Add ``messages`` to the index, then give each its family as it stands after the whole batch.

    Adding the batch first lets siblings that arrive together count each
    other, whatever their order in the batch. ``fps`` are the messages'
    fingerprints when a worker computed them already.
    """
    index.add_many([(index_key(m), m, fps[i] if fps else None) for i, m in enumerate(messages)])
    families = index.families_of([index_key(m) for m in messages])
    return [Arrival(m, families.get(index_key(m))) for m in messages]


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


def predict_batch(items: list[Arrival | Failure], classifier: Classifier, threshold: float) -> list[Row | Failure]:
    parsed = [m for m in items if isinstance(m, Arrival)]
    predictions = iter(classifier.predict(parsed, threshold))
    return [item if isinstance(item, Failure) else _row(item, next(predictions)) for item in items]


def classify_batch(batch: list[RawMail], classifier: Classifier, threshold: float,
                   index: TemplateIndex | None = None) -> list[Row | Failure]:
    """Parse, look up template families (when an index is given), and predict one batch."""
    parsed = parse_batch(batch)
    if index is not None:
        items = _with_templates(parsed, index)
    else:
        items = [item if isinstance(item, Failure) else Arrival(item) for item in parsed]
    return predict_batch(items, classifier, threshold)


def _with_templates(items: list[Message | Failure], index: TemplateIndex) -> list[Arrival | Failure]:
    families = iter(attach_templates([m for m in items if isinstance(m, Message)], index))
    return [item if isinstance(item, Failure) else next(families) for item in items]
