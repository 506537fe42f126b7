"""Audit a recruiter's own outgoing mail: how each message reads, which template it is, what slipped, who answered.

:func:`audit` takes the Sent mail (and, optionally, the Inbox) as parsed
messages and returns one :class:`AuditRow` per outgoing message plus the
:class:`Totals` the report charts. Each row carries:

- ``label``: the classifier's label, read as the recipient reads it (the
  message is classified as it is: its recipient is the "owner" whose name
  the greeting is checked against);
- ``personalization``: a 0-100 score and the parts it rests on
  (:class:`Personalization`);
- ``template_id``/``template_size``: its family among the Sent mail
  (:class:`~pipeline.features.fingerprint.TemplateIndex`); *templated* means the same
  text went to two or more people;
- ``findings``: codes from :data:`FINDINGS`;
- ``answered``: ``yes``/``no``, or ``unknown`` without an Inbox. An answer is
  an Inbox message (not an auto-reply) whose threading headers point at this
  message, or, for mail that lost its headers, one from a recipient in the
  same conversation (:mod:`pipeline.audit.threads`) before the next outgoing one.

A *nudge* is an outgoing message to someone already written to in the same
conversation with no answer from them in between; ``unanswered_nudge`` marks
every nudge, and the row's ``nudges`` says which one it is (1st, 2nd…).
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pipeline import lang
from pipeline.audit.threads import conversations, parent_ids, when
from pipeline.exceptions import MailParseError
from pipeline.features.fingerprint import TemplateIndex, masked_tokens, shingle_hashes
from pipeline.features.mailmerge import company_token, fold, greeting, has_merge_field, name_parts, says
from pipeline.mail.message import Address, Message, parse_bytes
from pipeline.mail.sources import RawMail
from pipeline.model import csvsafe
from pipeline.model.classifier import Classifier, Prediction

FINDINGS: tuple[str, ...] = ("merge_field", "wrong_name", "wrong_company", "generic_greeting", "cv_first_contact",
                             "nudge_after_no", "unanswered_nudge")
FINDING_TEXT = {
    "merge_field": "merge field left in",
    "wrong_name": "greets someone other than the recipient",
    "wrong_company": "names another recipient's company",
    "generic_greeting": "generic greeting on a first message",
    "cv_first_contact": "CV attached to a first contact",
    "nudge_after_no": "written to again after a no",
    "unanswered_nudge": "nudge without an answer",
}
CSV_COLUMNS: tuple[str, ...] = ("message_id", "date", "to", "subject", "label", "personalization", "template_id", "template_size",
                                "findings", "answered")
YES, NO, UNKNOWN = "yes", "no", "unknown"
NUDGE_BUCKETS = ("0", "1", "2", "3+")
_BATCH = 256
_AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}


@dataclass(frozen=True)
class Failure:
    source: str
    reason: str


@dataclass(frozen=True)
class Personalization:
    """A 0-100 score and the signed parts it adds up from, e.g. ``("+20 greets the recipient by name", ...)``."""

    score: int
    basis: tuple[str, ...]


@dataclass(frozen=True)
class AuditRow:
    source: str
    message_id: str
    date: str
    to: str
    subject: str
    label: str
    personalization: Personalization
    template_id: str
    template_size: int
    findings: tuple[str, ...]
    answered: str
    nudges: int = 0  # 0: not a nudge; n: the n-th message in a row without an answer in between
    language: str = ""

    @property
    def templated(self) -> bool:
        return self.template_size >= 2

    def as_csv(self) -> list[str]:
        return csvsafe.row([self.message_id, self.date, self.to, self.subject, self.label, str(self.personalization.score),
                            self.template_id, str(self.template_size), ";".join(self.findings), self.answered])


@dataclass(frozen=True)
class Rate:
    """Answered messages out of those whose answer is known; ``rate`` is None when none is known."""

    answered: int
    total: int

    @property
    def rate(self) -> float | None:
        return self.answered / self.total if self.total else None


@dataclass(frozen=True)
class FamilyRate:
    template_id: str
    size: int
    rate: Rate
    subject: str = ""  # of its first message, to name the family in the report


@dataclass
class Totals:
    messages: int
    templated: int
    personal: int
    inbox: bool
    families: list[FamilyRate] = field(default_factory=list)
    templated_rate: Rate = Rate(0, 0)
    personal_rate: Rate = Rate(0, 0)
    by_nudges: dict[str, Rate] = field(default_factory=dict)  # answer rate after "0", "1", "2", "3+" nudges
    nudge_messages: dict[str, int] = field(default_factory=dict)  # how many messages were the n-th nudge
    findings: dict[str, int] = field(default_factory=dict)
    other: int = 0  # messages the classifier calls `other` (internal, notices, private): left out of every figure above

    @property
    def templated_share(self) -> float:
        return self.templated / self.messages if self.messages else 0.0

    @property
    def personal_share(self) -> float:
        return self.personal / self.messages if self.messages else 0.0


@dataclass
class AuditResult:
    rows: list[AuditRow]
    totals: Totals
    failures: list[Failure] = field(default_factory=list)


def read_mail(raw: Iterable[RawMail]) -> tuple[list[Message], list[Failure]]:
    """Parse every message; a message that is not mail becomes a :class:`Failure`, not an exception."""
    messages, failures = [], []
    for item in raw:
        if item.problem:
            failures.append(Failure(item.source, item.problem))
            continue
        try:
            messages.append(parse_bytes(item.data, item.source))
        except MailParseError as exc:
            failures.append(Failure(item.source, str(exc).removeprefix(f"{item.source}: ")))
    return messages, failures


def _is_auto_reply(m: Message) -> bool:
    return m.bulk.auto_submitted not in ("", "no") or m.bulk.precedence in _AUTO_PRECEDENCE


def _has_cv(m: Message) -> bool:
    words = lang.common().cv_filename_words
    for att in m.attachments:
        name = att.filename.lower()
        if any(re.search(rf"(?<![a-zåäöæø]){re.escape(w)}(?![a-zåäöæø])", name) for w in words):
            return True
        if att.text and says("CV_HEADING", att.text[:3000]):
            return True
    return False


def _nth(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


class _Audit:
    """One audit run: the indexes over Sent and Inbox that the per-message checks share."""

    def __init__(self, sent: list[Message], inbox: list[Message] | None):
        self.sent = sorted(sent, key=lambda m: (when(m), m.source))
        self.inbox = sorted(inbox or [], key=lambda m: (when(m), m.source))
        self.has_inbox = inbox is not None
        self.replies = [m for m in self.inbox if not _is_auto_reply(m)]
        self.sent_ids = {m.message_id: m for m in self.sent if m.message_id}
        self.inbox_ids = {m.message_id: m for m in self.inbox if m.message_id}
        self.conv = conversations(self.sent, self.replies).of
        self.names = self._address_book()
        # Per address: the first mail to them and from them; per conversation and address: what went out, in order.
        self.first_sent: dict[str, datetime] = {}
        self.outgoing: dict[tuple[str, str], list[Message]] = defaultdict(list)
        for s in self.sent:
            for a in s.recipients:
                self.first_sent.setdefault(a.email, when(s))
                self.outgoing[(self.conv[s.source], a.email)].append(s)
        self.first_heard: dict[str, datetime] = {}
        for r in self.inbox:
            self.first_heard.setdefault(r.sender.email, when(r))

    # -- who is who ------------------------------------------------------------------------------------------------
    def _address_book(self) -> dict[str, set[str]]:
        """Display names seen for each address, in Sent headers and in the Inbox's From lines."""
        book: dict[str, set[str]] = defaultdict(set)
        for m in self.sent:
            for a in m.recipients:
                if a.name:
                    book[a.email].add(a.name)
        for m in self.inbox:
            if m.sender.name:
                book[m.sender.email].add(m.sender.name)
        return book

    def recipient_names(self, m: Message) -> set[str]:
        """Name words of the recipients, or nothing when no display name is known (a bare address proves little)."""
        names: set[str] = set()
        for a in m.recipients:
            for display in self.names.get(a.email, ()):
                names |= name_parts(Address(display, a.email))
        return names

    # -- answers ---------------------------------------------------------------------------------------------------
    def answers(self) -> set[str]:
        """Sources of the sent messages that got an answer."""
        answered: set[str] = set()
        for reply in self.replies:
            parent = next((self.sent_ids[i] for i in parent_ids(reply) if i in self.sent_ids), None)
            if parent is not None:
                answered.add(parent.source)
                continue
            if parent_ids(reply) and any(i in self.inbox_ids for i in parent_ids(reply)):
                continue  # part of a thread among other people; it answers none of ours
            # No usable threading headers: the latest mail to this sender in the same conversation, before the answer.
            before = [s for s in self.outgoing.get((self.conv[reply.source], reply.sender.email), []) if when(s) <= when(reply)]
            if before:
                answered.add(before[-1].source)
        return answered

    def nudge_numbers(self) -> dict[str, int]:
        """For each sent message, how many messages to the same person in that conversation went unanswered before it."""
        events: dict[tuple[str, str], list[tuple[datetime, int, Message]]] = defaultdict(list)
        for s in self.sent:
            for a in s.recipients:
                events[(self.conv[s.source], a.email)].append((when(s), 1, s))
        for r in self.replies:
            events[(self.conv[r.source], r.sender.email)].append((when(r), 0, r))
        nudges: dict[str, int] = defaultdict(int)
        for timeline in events.values():
            unanswered = 0
            for _, is_sent, m in sorted(timeline, key=lambda e: (e[0], e[1], e[2].source)):
                if not is_sent:
                    unanswered = 0
                    continue
                # Replying to something we did not send (their answer, even if it is missing from the Inbox) resets the count.
                if m.in_reply_to and not any(i in self.sent_ids for i in m.in_reply_to.split()):
                    unanswered = 0
                nudges[m.source] = max(nudges[m.source], unanswered)
                unanswered += 1
        return nudges

    def declined(self) -> dict[str, list[Message]]:
        """Inbox messages that say no (DECLINE phrases of all six languages), by the sender's address."""
        out: dict[str, list[Message]] = defaultdict(list)
        for r in self.replies:
            if says("DECLINE", r.text):
                out[r.sender.email].append(r)
        return out

    # -- per message -----------------------------------------------------------------------------------------------
    def after_no(self, s: Message, declines: dict[str, list[Message]]) -> bool:
        for a in s.recipients:
            for no in declines.get(a.email, ()):
                if when(no) >= when(s):
                    continue
                parent = self.inbox_ids.get(s.in_reply_to.split()[0]) if s.in_reply_to else None
                answers_them = parent is not None and parent.sender.email == a.email
                # Answering their message ("thanks, understood") is fine; a pitch or a nudge is not.
                if not answers_them or says("NUDGE", s.text):
                    return True
        return False

    def first_contact(self, s: Message) -> bool:
        if parent_ids(s):
            return False
        t = when(s)
        return all(self.first_sent[a.email] >= t and self.first_heard.get(a.email, t) >= t for a in s.recipients)


def _own_words(family: list[Message]) -> dict[str, float]:
    """For each member of a family, the share of its masked 3-shingles that no other member uses."""
    shingles = {m.source: set(shingle_hashes(masked_tokens(m)).tolist()) for m in family}
    used = Counter(h for hashes in shingles.values() for h in hashes)  # counting once keeps a family of thousands linear
    return {source: sum(used[h] == 1 for h in hashes) / len(hashes) if hashes else 0.0 for source, hashes in shingles.items()}


def personalization(m: Message, *, greeting_kind: str, template_size: int, own_words: float, label: str,
                    findings: tuple[str, ...]) -> Personalization:
    """Score how personal a message is, 0-100, from parts a recruiter can check by reading it."""
    parts: list[tuple[int, str]] = []
    greet = {"recipient": (20, "greets the recipient by name"), "unverified": (10, "greets someone by name (not checkable)"),
             "none": (5, "no greeting"), "generic": (0, "generic greeting"), "other": (0, "greets someone else")}[greeting_kind]
    parts.append(greet)
    if template_size <= 1:
        parts.append((40, "no other message shares its text"))
    else:
        parts.append((max(0, 40 - 10 * (template_size - 1)), f"same text as {template_size - 1} other message(s)"))
    parts.append((round(25 * own_words), f"{own_words:.0%} of its wording is its own"))
    if "?" in m.text:
        parts.append((5, "asks a question"))
    if label in ("personalized_outreach", "genuine_reply"):
        parts.append((10, f"reads as {label.replace('_', ' ')} to the classifier"))
    penalties = {"merge_field": 40, "wrong_name": 30, "wrong_company": 25}
    for code in findings:
        if code in penalties:
            parts.append((-penalties[code], FINDING_TEXT[code]))
    if m.bulk.list_unsubscribe or m.bulk.campaign:
        parts.append((-10, "bulk-mail headers"))
    score = max(0, min(100, sum(p for p, _ in parts)))
    return Personalization(score, tuple(f"{p:+d} {text}" for p, text in parts))


def _wrong_company(m: Message, family: list[Message]) -> bool:
    """The text names the company of another recipient of the same template, and not this recipient's: a stale merge field.

    Judged only within a family: outreach to a candidate names the hiring client on purpose, which is not a slip.
    """
    own = {fold(t) for t in (company_token(a) for a in m.recipients) if t}
    others = {fold(t) for o in family if o is not m for t in (company_token(a) for a in o.recipients) if t} - own
    sender = fold(company_token(m.sender))
    others.discard(sender)
    if not others:
        return False
    words = {fold(w) for w in re.findall(r"[^\W\d_]+", f"{m.subject}\n{m.text}")}
    if own and any(w.startswith(c) for w in words for c in own):
        return False
    return any(w.startswith(c) for w in words for c in others)


def audit(sent: list[Message], inbox: list[Message] | None, classifier: Classifier, *, threshold: float = 0.6) -> AuditResult:
    """Audit ``sent`` (the owner's outgoing mail) against ``inbox`` (None: answers unknown).

    Examples
    --------
    >>> result = audit(sent_messages, inbox_messages, Classifier.load(Path("models")))  # doctest: +SKIP
    >>> result.totals.templated_share, [r.findings for r in result.rows]  # doctest: +SKIP
    """
    run = _Audit(sent, inbox)
    predictions: list[Prediction] = []
    for i in range(0, len(run.sent), _BATCH):
        predictions += classifier.predict(run.sent[i:i + _BATCH], threshold)
    index = TemplateIndex.open(None)
    try:
        for m in run.sent:
            index.add(m.source, m)
        family_of = {m.source: index.family_of(m.source) for m in run.sent}
    finally:
        index.close()
    members: dict[str, list[Message]] = defaultdict(list)
    for m in run.sent:
        members[family_of[m.source].template_id].append(m)  # type: ignore[union-attr]
    own_words: dict[str, float] = {}
    for family in members.values():
        own_words.update(_own_words(family) if len(family) > 1 else {family[0].source: 1.0})
    answered = run.answers() if run.has_inbox else set()
    nudges = run.nudge_numbers()
    declines = run.declined()
    rows = []
    for m, p in zip(run.sent, predictions, strict=True):
        fam = family_of[m.source]
        assert fam is not None  # every message was added above
        greet = greeting(m, run.recipient_names(m))
        found = []
        if has_merge_field(m.subject, m.text):
            found.append("merge_field")
        if greet.kind == "other":
            found.append("wrong_name")
        if _wrong_company(m, members[fam.template_id]):
            found.append("wrong_company")
        # Only a first message is judged by its greeting ("Hej igen," opens a follow-up), and a raw merge field
        # ("Hej [Förnamn],") is already the finding that explains the nameless greeting.
        if greet.kind == "generic" and nudges[m.source] == 0 and not parent_ids(m) and "merge_field" not in found:
            found.append("generic_greeting")
        if _has_cv(m) and run.first_contact(m):
            found.append("cv_first_contact")
        if run.after_no(m, declines):
            found.append("nudge_after_no")
        if nudges[m.source] >= 1:
            found.append("unanswered_nudge")
        findings = tuple(found)
        score = personalization(m, greeting_kind=greet.kind, template_size=fam.size, own_words=own_words[m.source],
                                label=p.label, findings=findings)
        rows.append(AuditRow(
            source=m.source, message_id=m.message_id, date=m.date.isoformat() if m.date else "",
            to=", ".join(str(a) for a in m.recipients), subject=m.subject, label=p.label, personalization=score,
            template_id=fam.template_id, template_size=fam.size, findings=findings,
            answered=UNKNOWN if not run.has_inbox else YES if m.source in answered else NO,
            nudges=nudges[m.source], language=greet.language,
        ))
    return AuditResult(rows, totals(rows, inbox=run.has_inbox))


def _rate(rows: Iterable[AuditRow]) -> Rate:
    known = [r for r in rows if r.answered != UNKNOWN]
    return Rate(sum(r.answered == YES for r in known), len(known))


def nudge_bucket(n: int) -> str:
    return str(n) if n < 3 else "3+"


def totals(rows: list[AuditRow], *, inbox: bool) -> Totals:
    """The figures the report shows, all computed from the rows (so they can be checked against the CSV).

    Mail the classifier calls `other` (to colleagues, private) is not outreach: it is counted, and left out.
    """
    other = sum(r.label == "other" for r in rows)
    rows = [r for r in rows if r.label != "other"]
    templated = [r for r in rows if r.templated]
    personal = [r for r in rows if not r.templated]
    by_family: dict[str, list[AuditRow]] = defaultdict(list)
    for r in templated:
        by_family[r.template_id].append(r)
    families = sorted((FamilyRate(tid, len(rs), _rate(rs), rs[0].subject) for tid, rs in by_family.items()),
                      key=lambda f: (-f.size, f.template_id))
    by_nudges: dict[str, list[AuditRow]] = defaultdict(list)
    for r in rows:
        by_nudges[nudge_bucket(r.nudges)].append(r)
    counts = Counter(code for r in rows for code in r.findings)
    return Totals(
        messages=len(rows), templated=len(templated), personal=len(personal), inbox=inbox, families=families,
        templated_rate=_rate(templated), personal_rate=_rate(personal),
        by_nudges={k: _rate(by_nudges[k]) for k in NUDGE_BUCKETS if by_nudges[k]},
        nudge_messages={k: len(by_nudges[k]) for k in NUDGE_BUCKETS if by_nudges[k]},
        findings={code: counts[code] for code in FINDINGS}, other=other,
    )


def nudge_text(n: int) -> str:
    return f"{_nth(n)} nudge without an answer"


def write_csv(rows: list[AuditRow], path: Path) -> None:
    """One row per outgoing message, columns :data:`CSV_COLUMNS` in that order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(r.as_csv() for r in rows)
