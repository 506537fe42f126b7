"""Features of a mail message, as scikit-learn transformers.

:class:`MailAnalyzer` runs spaCy once per message and yields an
:class:`AnalyzedMail`: the lemmas of the new text (quotes and signature
removed, so a reply is not judged by the pitch it quotes) and named signals
from rule matches, headers and structure. The vectorizers after it read
those fields; :func:`build_features` wires them into one ``FeatureUnion``.
No words live here: they are in ``pipeline/lang/``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction import DictVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import MaxAbsScaler
from sklearn.utils.validation import check_is_fitted
from spacy.attrs import ORTH

from pipeline import lang
from pipeline.features.fingerprint import Arrival
from pipeline.features.langid import OTHER, identify
from pipeline.features.mailmerge import company_token, greeting_signal, has_merge_field, name_parts
from pipeline.features.nlp import LEMMATIZED, batch_zone, forked, lemma_table, tools
from pipeline.features.recent import RecentTable
from pipeline.features.vectorize import CountingTfidfVectorizer, char_wb_3_4, word_ngrams
from pipeline.mail.message import Address, Message

_QUESTION = re.compile(r"\?(?=\s|$)")


@dataclass
class AnalyzedMail:
    """What the analyzer read off one message; the input of the vectorizers."""

    language: str
    terms: list[str] = field(default_factory=list)
    head: str = ""
    signals: dict[str, float] = field(default_factory=dict)


def _msgid_domain(msgid: str) -> str:
    return msgid.strip("<> ").rpartition("@")[2].lower()


def _log(n: float) -> float:
    return math.log1p(n)


# What _terms makes of a word depends on the word alone (and its language), never on the message: per word (spaCy
# ORTH hash, salted with the language) its lower case if it is a content word, else one of these kinds.
_SKIP, _STOP, _URL, _EMAIL, _NUM = range(5)
_PLACEHOLDER_TERMS = {_URL: "<url>", _EMAIL: "<email>", _NUM: "<num>"}
# One table serves all languages: the salt keeps a word's kind in one language apart from the same word's in another.
_SALT = {code: np.uint64((i + 1) * 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF) for i, code in enumerate(lang.LANGUAGES)}
# Words kept per generation, all languages together (the table keeps two). A mailbox's openings hold some 30,000
# different words per 5,000 messages; one process keeps most of them (about 8 MB), forked workers, which must
# stay under 400 MB together, fewer.
MAX_KNOWN_WORDS = 40_000
MAX_KNOWN_WORDS_FORKED = 10_000
_kinds: RecentTable[int, int | str] = RecentTable(MAX_KNOWN_WORDS)


def _lexeme_kind(lex: Any) -> int | str:
    if lex.is_punct or lex.is_space:
        return _SKIP
    if lex.is_stop:
        return _STOP
    if lex.like_url:
        return _URL
    if lex.like_email:
        return _EMAIL
    if lex.like_num:
        return _NUM
    return str(lex.lower_)


def _word_kinds() -> RecentTable[int, int | str]:
    _kinds.size = MAX_KNOWN_WORDS_FORKED if forked() else MAX_KNOWN_WORDS
    return _kinds


def _terms(doc: Any, salt: np.uint64, lemmas: dict[int, str], masked: set[str]) -> tuple[list[str], int]:
    """Lemmas of the content words, with names, numbers, URLs and addresses masked; and the word count.

    This loop is the hot path of classification. Whether a word is
    punctuation, a stop word, a number… is a property of the word, not of
    the text it is in, so it is read once per word into a table and then
    looked up by the word's hash; the loop creates no Token objects.
    """
    table = _word_kinds()
    known = table.current.get
    unsalt = int(salt)
    terms: list[str] = []
    words = 0
    for key in (doc.to_array(ORTH) ^ salt).tolist():
        kind = known(key)
        if kind is None:
            kind = table.fetch(key, lambda: _lexeme_kind(doc.vocab[key ^ unsalt]))  # noqa: B023 - fetch calls it at once
            known = table.current.get  # fetch may have started a new generation
        if kind.__class__ is str:
            words += 1
            terms.append("<recipient>" if kind in masked else lemmas.get(key ^ unsalt, kind))  # type: ignore[arg-type]
        elif kind != _SKIP:
            words += 1
            if kind != _STOP:
                terms.append(_PLACEHOLDER_TERMS[kind])  # type: ignore[index]
    return terms, words


@cache
def _subject_prefixes() -> tuple[frozenset[str], frozenset[str]]:
    data = [lang.load(c).mail for c in lang.LANGUAGES]
    return (frozenset(p.lower() for d in data for p in d.reply_prefixes),
            frozenset(p.lower() for d in data for p in d.forward_prefixes))


@cache
def _cv_headings() -> frozenset[str]:
    return frozenset(p.pattern.lower() for code in lang.LANGUAGES for p in lang.load(code).patterns
                     if p.label == "CV_HEADING" and isinstance(p.pattern, str))


def organisation(domain: str) -> str:
    """The registrable part of a domain, roughly: ``hr.nordvik.se`` → ``nordvik.se``, ``mail.co.uk`` kept whole."""
    labels = domain.lower().strip(".").split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-2]) <= 3 and len(labels[-1]) == 2 else 2
    return ".".join(labels[-keep:]) if len(labels) >= 2 else ""


def _names_in(addr: Address, text: str) -> bool:
    """Whether ``text`` (a quote header) names this person: their address, or a name part of four letters or more."""
    if addr.email and addr.email in text:
        return True
    parts = [w for w in name_parts(addr) if len(w) >= 4]
    return any(re.search(rf"\b{re.escape(w)}\b", text) for w in parts)


@cache
def _attachment_stub() -> re.Pattern[str]:
    kinds = "|".join(lang.common().attachment_stub_extensions)
    return re.compile(rf"^[ \t]*(?:-[ \t]+|\(See attached file: ?)([^\n/\\]{{1,80}}\.(?:{kinds}))\)?[ \t]*$", re.I | re.M)


@cache
def _cv_name_re() -> re.Pattern[str]:
    words = "|".join(re.escape(w) for w in lang.common().cv_filename_words)
    return re.compile(rf"(?<![a-zåäöæø])(?:{words})(?![a-zåäöæø])")


def mailbox_owner(m: Message) -> Address:
    """Whose mailbox a message is in: the Delivered-To mailbox, else the first recipient who is not the sender.

    Bulk senders address a message to themselves and send the copies as Bcc; taking that first To as the
    owner would make every such mail look internal and every greeting look wrong.
    """
    if m.delivered_to:
        return next((a for a in m.recipients if a.email == m.delivered_to), Address("", m.delivered_to))
    return next((a for a in m.recipients if a.email != m.sender.email), Address("", ""))


class MailAnalyzer(TransformerMixin, BaseEstimator):
    """Turn parsed messages (:class:`~pipeline.features.fingerprint.Arrival`, or a bare ``Message``) into :class:`AnalyzedMail`.

    Parameters
    ----------
    max_chars : int, default=3000
        Only the first ``max_chars`` of the new text are analysed; what makes
        a message a pitch, a CV or a reply is said early.
    head_chars : int, default=200
        How much of the subject and opening feeds the character n-grams.
    owner_domains : tuple of str, default=()
        The mailbox owner's organisation (``owner_domains`` in the config);
        when empty, the first recipient's domain stands for it.

    Examples
    --------
    >>> from pipeline.mail.message import parse_bytes
    >>> m = parse_bytes(b"From: a@x.se\\nTo: Karin <karin@nordvik.se>\\nSubject: Hej\\n\\nHej Karin!\\n")
    >>> MailAnalyzer().fit([m]).transform([m])[0].signals["greet_recipient_name"]
    1.0
    """

    _parameter_constraints: dict[str, tuple[type, float, float]] = {
        "max_chars": (int, 100, 1_000_000),
        "head_chars": (int, 0, 10_000),
    }

    def __init__(self, *, max_chars: int = 3000, head_chars: int = 200, owner_domains: tuple[str, ...] = ()):
        self.max_chars = max_chars
        self.head_chars = head_chars
        self.owner_domains = owner_domains

    def _validate_params(self) -> None:
        for name, (kind, low, high) in self._parameter_constraints.items():
            value = getattr(self, name)
            if not isinstance(value, kind) or not low <= value <= high:
                raise ValueError(f"MailAnalyzer: {name} must be {kind.__name__} in [{low}, {high}], got {value!r}")

    def fit(self, X: list[Arrival | Message], y: Any = None) -> MailAnalyzer:
        self.fit_transform(X)
        return self

    def fit_transform(self, X: list[Arrival | Message], y: Any = None, **fit_params: Any) -> list[AnalyzedMail]:
        """Analyse ``X`` with the full lemma tables and keep the part of them that matters.

        Only words whose lemma occurred in training can map to a feature the
        model knows, so the fitted analyzer keeps just those entries
        (``lemmas_``): a few MB instead of 1.8 million entries and 7 s of
        loading per process. For any text it yields the same known terms.
        """
        self._validate_params()
        self.languages_ = lang.LANGUAGES
        self.lemmas_: dict[str, dict[int, str]] = {}
        full = {code: lemma_table(code) for code in LEMMATIZED}
        docs = [self._analyze(m, full) for m in X]
        seen = {t for d in docs for t in d.terms}
        self.lemmas_ = {code: {k: v for k, v in table.items() if v in seen} for code, table in full.items()}
        return docs

    def transform(self, X: list[Arrival | Message]) -> list[AnalyzedMail]:
        check_is_fitted(self, "languages_")
        with batch_zone():
            return [self._analyze(m, self.lemmas_) for m in X]

    def _analyze(self, item: Arrival | Message, lemmas: dict[str, dict[int, str]]) -> AnalyzedMail:
        m, template = (item.message, item.template) if isinstance(item, Arrival) else (item, None)
        text = m.text[: self.max_chars]
        code = identify(f"{m.subject}\n{text}", m.sender.domain, *(a.domain for a in m.recipients[:1]))
        t = tools(code if code != OTHER else "en")
        doc = t.nlp.make_doc(text)
        strings = t.nlp.vocab.strings
        spans = sorted(
            [(strings[i], s, e) for i, s, e in t.phrases(doc)]
            + ([(strings[i], s, e) for i, s, e in t.tokens(doc)] if len(t.tokens) else []),
            key=lambda x: (x[1], x[1] - x[2]),  # longest match first at a position
        )
        counts = Counter(label for label, _, _ in spans)
        owner = mailbox_owner(m)
        owner_names = name_parts(owner)
        company = company_token(owner)
        signals: dict[str, float] = {f"lang_{code}": 1.0}
        signals.update(greeting_signal(doc, spans, owner_names, names_known=bool(owner.name.strip())))
        # CV headings count only as headings: a short line that starts with one.
        heading_lines = 0
        for label, s, _ in spans:
            if label == "CV_HEADING":
                tok = doc[s]
                line_start = tok.i == 0 or "\n" in doc[tok.i - 1].whitespace_ or doc[tok.i - 1].is_space
                if line_start and len(text[tok.idx :].split("\n", 1)[0]) < 40:
                    heading_lines += 1
        signals["cv_headings"] = _log(heading_lines)
        for label in ("JOB_SEEKING", "CANDIDATE_OFFER", "NUDGE", "UNSUBSCRIBE", "SERVICE_PITCH", "PREVIOUS_CONTACT", "DECLINE"):
            if counts[label]:
                signals[label.lower()] = _log(counts[label])
        first, second = counts["FIRST_PERSON"], counts["SECOND_PERSON"]
        signals["you_share"] = second / (first + second + 1)
        signals["questions"] = _log(len(_QUESTION.findall(text)))
        if has_merge_field(m.subject, text):
            signals["merge_field"] = 1.0
        if company and company in text.lower():
            signals["company_named"] = 1.0
        self._headers(m, signals, owner)
        self._organisation(m, signals, owner)
        if "internal_sender" in signals:
            # A colleague answering the owner is a reply; a colleague's new message is `other`. A linear model
            # cannot make that AND of two signals itself.
            answers = any(k in signals for k in ("subject_reply", "quotes_owner", "replies_to_owner"))
            signals["internal_reply" if answers else "internal_new"] = 1.0
        self._attachments(m, signals, code)
        # Stubs stand after the signature, where archives appended them.
        stubs = _attachment_stub().findall(f"{text}\n{m.signature[:1000]}" if m.signature else text)
        if stubs:
            # Attachments a server or an archive stripped leave their names behind (" - resume.doc").
            signals["attachment_stub"] = 1.0
            if any(_cv_name_re().search(name.lower()) for name in stubs):
                signals["attach_cv_name"] = 1.0
        if template is not None and template.size > 1:
            # The same text reaching several people is what a template is, however personal its greeting.
            signals["template_copies"] = _log(template.size - 1)
            if template.recipients > 1:
                signals["template_recipients"] = _log(template.recipients - 1)
            if template.senders > 1:
                signals["template_senders"] = _log(template.senders - 1)
        masked = owner_names | ({company} if company else set())
        terms, words = _terms(doc, _SALT[t.nlp.lang], lemmas.get(code, {}), masked)
        signals["length"] = _log(words) / 6.0
        if words < 25:
            signals["short"] = 1.0
        terms += ["subj:" + w for w in re.findall(r"[^\W\d_]{3,}", m.subject.lower()) if w not in masked]
        head = f"{m.subject}\n{text[: self.head_chars]}"
        return AnalyzedMail(language=code, terms=terms, head=head, signals=signals)

    def _organisation(self, m: Message, signals: dict[str, float], owner: Address) -> None:
        """Mail from the owner's own organisation: the recipient's domain, or ``owner_domains`` from the config."""
        own = {organisation(d) for d in self.owner_domains} or {organisation(owner.domain)}
        sender = organisation(m.sender.domain)
        if sender and sender in own and sender not in lang.common().freemail_domains:
            signals["internal_sender"] = 1.0
            if all(organisation(a.domain) in own for a in m.recipients):
                signals["internal_only"] = 1.0

    @staticmethod
    def _headers(m: Message, signals: dict[str, float], owner: Address) -> None:
        prefixes, forwards = _subject_prefixes()
        first_word = m.subject.split(":", 1)[0].strip().lower() if ":" in m.subject[:8] else ""
        threaded = bool(m.in_reply_to or m.references)
        if first_word in prefixes:
            signals["subject_reply"] = 1.0
            if not threaded and not m.quoted:
                signals["fake_reply_subject"] = 1.0
        if first_word in forwards:
            signals["subject_forward"] = 1.0
        if threaded:
            signals["threaded"] = 1.0
            signals["references"] = _log(len(m.references))
            ids = [m.in_reply_to, *m.references]
            domains = {_msgid_domain(i) for i in ids if i}
            if owner.domain and owner.domain in domains:
                signals["replies_to_owner"] = 1.0
            if m.sender.domain and m.sender.domain in domains and owner.domain not in domains:
                signals["replies_to_self"] = 1.0
        if m.quoted:
            total = len(m.text) + len(m.quoted)
            signals["quoted_share"] = len(m.quoted) / total if total else 0.0
            # Whose words are quoted is read off the quote's own header (Gmail, Outlook and Notes name the author
            # there), not off threading headers, which many real clients leave out.
            header = m.quote_header.lower() or m.quoted[:300].lower()
            if _names_in(owner, header):
                signals["quotes_owner"] = 1.0
            elif _names_in(m.sender, header):
                signals["quotes_self"] = 1.0
            else:
                signals["quotes_other"] = 1.0
        bulk = m.bulk
        if bulk.list_unsubscribe:
            signals["list_unsubscribe"] = 1.0
        if bulk.list_id or bulk.precedence in ("bulk", "list", "junk"):
            signals["list_headers"] = 1.0
        mailer = bulk.x_mailer.lower()
        if mailer and any(name in mailer for name in lang.common().bulk_mailers):
            signals["bulk_mailer"] = 1.0
        if bulk.feedback_id or bulk.campaign:
            signals["campaign_headers"] = 1.0
        if m.html_only:
            signals["html_only"] = 1.0
        if m.html.links:
            signals["links"] = _log(m.html.links)
        if m.html.images:
            signals["images"] = _log(m.html.images)
        if m.html.tracking_pixels:
            signals["tracking_pixel"] = 1.0
        if m.sender.domain in lang.common().freemail_domains:
            signals["freemail_sender"] = 1.0
        if len(m.recipients) > 1:
            signals["many_recipients"] = 1.0
        if all(a.email == m.sender.email for a in m.recipients):
            # Addressed to the sender alone, or to no one visible: the readers were all in Bcc, as in bulk mail.
            signals["bcc_only"] = 1.0
        if m.signature:
            signals["signature"] = 1.0

    @staticmethod
    def _attachments(m: Message, signals: dict[str, float], code: str) -> None:
        if not m.attachments:
            return
        signals["attachments"] = _log(len(m.attachments))
        for att in m.attachments:
            signals[f"attach_{att.kind}"] = 1.0
            name = att.filename.lower()
            if _cv_name_re().search(name):
                signals["attach_cv_name"] = 1.0
            if att.text:
                # A CV's headings stand on lines of their own, in whatever language the CV is written.
                headings = _cv_headings()
                hits = sum(1 for line in att.text[:6000].splitlines()
                           if len(line) < 40 and line.strip(" :\t").lower() in headings)
                if hits:
                    signals["attach_cv_headings"] = _log(hits)


class Field(TransformerMixin, BaseEstimator):
    """Pick one attribute of each :class:`AnalyzedMail` (``terms``, ``head`` or ``signals``)."""

    def __init__(self, *, name: str = "terms"):
        self.name = name

    def fit(self, X: list[AnalyzedMail], y: Any = None) -> Field:
        if self.name not in AnalyzedMail.__dataclass_fields__:
            raise ValueError(f"Field: no attribute {self.name!r} on AnalyzedMail")
        self.fitted_ = True
        return self

    def transform(self, X: list[AnalyzedMail]) -> list[Any]:
        check_is_fitted(self, "fitted_")
        return [getattr(x, self.name) for x in X]

    def get_feature_names_out(self, input_features: Any = None) -> Any:
        import numpy as np

        return np.asarray([self.name], dtype=object)


def _text_parts(min_df: int) -> list[tuple[str, Pipeline]]:
    return [
        ("words", Pipeline([("pick", Field(name="terms")),
                            ("tfidf", CountingTfidfVectorizer(analyzer=word_ngrams, min_df=min_df, sublinear_tf=True,
                                                              max_features=60000))])),
        ("chars", Pipeline([("pick", Field(name="head")),
                            ("tfidf", CountingTfidfVectorizer(analyzer=char_wb_3_4, min_df=min_df, sublinear_tf=True,
                                                              max_features=60000))])),
    ]


def build_text_features(*, min_df: int = 2) -> FeatureUnion:
    """Word n-grams and character 3- and 4-grams of the opening: the text alone."""
    return FeatureUnion(_text_parts(min_df))


def build_features(*, min_df: int = 2) -> FeatureUnion:
    """The union of word n-grams, character 3- and 4-grams of the opening, and named signals."""
    return FeatureUnion([*_text_parts(min_df),
                         ("signals", Pipeline([("pick", Field(name="signals")), ("dict", DictVectorizer()),
                                               ("scale", MaxAbsScaler())]))])
