"""What a mail merge fills in, and how it slips: names, companies, greetings, merge fields.

The classifier's features, the template fingerprints and the Sent-mail audit
all read these same things (who a greeting names, which company a domain
stands for, whether a merge field was left in), so they live here once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from pipeline import lang
from pipeline.features.langid import OTHER, identify
from pipeline.features.nlp import tools
from pipeline.mail.message import Address, Message

# Local parts that name a mailbox, not a person: greeting "Hej HR" is not a name.
ROLE_MAILBOXES = frozenset({"info", "hr", "jobs", "job", "careers", "recruiting", "kontakt", "post", "mail"})
# ø and æ have no Unicode decomposition; domains spell them oe/ae (groennegade.dk for Grønnegade), å as aa.
_FOLD = str.maketrans({"ø": "oe", "æ": "ae", "å": "aa", "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
GREETING_KINDS = ("recipient", "other", "generic", "unverified", "none")
_MERGE_BRACES = re.compile(r"\{\{[^{}]{1,40}\}\}|\{[a-z_]{3,30}\}|%[A-Z_]{4,30}%|\*\|[A-Z_]{2,30}\|\*|<<[A-Za-z_ ]{3,30}>>")
_BLANK_NAME = re.compile(r"^\s*[^\W\d_]{2,12}\s+[,!]", re.M)
_NAME_WORD = re.compile(r"^[^\W\d_][^\W\d_'’-]*$")


def fold(word: str) -> str:
    """Lower-case ``word`` and spell it the way a domain would: ``Grønnegade`` → ``groennegade``.

    >>> fold("Grønnegade"), fold("Müller"), fold("Café")
    ('groennegade', 'mueller', 'cafe')
    """
    low = word.lower().translate(_FOLD)
    return "".join(c for c in unicodedata.normalize("NFKD", low) if not unicodedata.combining(c))


def name_parts(addr: Address) -> set[str]:
    """Lower-case words that could greet this person: display name and address local part, role mailboxes left out."""
    parts = set()
    name = addr.name
    if "," in name:  # "Berg, Karin"
        name = " ".join(reversed([p.strip() for p in name.split(",", 1)]))
    parts.update(w.lower() for w in re.findall(r"[^\W\d_]+", name))
    local = addr.email.partition("@")[0]
    parts.update(w.lower() for w in re.split(r"[._\-+]", local) if len(w) > 1)
    return parts - ROLE_MAILBOXES


def people_names(addresses: Iterable[Address]) -> set[str]:
    names: set[str] = set()
    for addr in addresses:
        names |= name_parts(addr)
    return names


def company_token(addr: Address) -> str:
    """The distinctive part of a company domain (``nordvik`` of ``hr.nordvik.se``); empty for freemail."""
    labels = addr.domain.split(".")
    if len(labels) < 2 or addr.domain in lang.common().freemail_domains:
        return ""
    head = labels[-2].split("-")[0]
    return head if len(head) >= 4 else ""


@cache
def _merge_field_re() -> re.Pattern[str]:
    names = "|".join(re.escape(n) for n in lang.common().merge_field_names)
    return re.compile(rf"\[\s*(?:{names})\s*\]", re.I)


def has_merge_field(subject: str, text: str) -> bool:
    """A merge field left raw: ``{{first_name}}``, ``[Name]``, ``%FIRSTNAME%``, or a blank where a name was."""
    scan = f"{subject}\n{text}"
    return bool(_MERGE_BRACES.search(scan) or _merge_field_re().search(scan) or _BLANK_NAME.match(text[:60]))


def _names_match(word: str, names: set[str]) -> bool:
    """``word`` is one of ``names``, or shares its first five letters with one (``Kaminski`` and ``vkamins@``)."""
    w, folded = fold(word), {fold(n) for n in names}
    if w in folded:
        return True
    return len(w) >= 5 and any(len(n) >= 5 and (w[:5] in n or n[:5] in w) for n in folded)


def greeting_signal(doc: Any, spans: list[tuple[str, int, int]], recipient_names: set[str], *,
                    names_known: bool = True) -> dict[str, float]:
    """Classify the opening of a spaCy ``doc`` from its rule ``spans`` (label, start, end), sorted by position.

    One signal: ``greet_generic``, ``greet_recipient_name``, ``greet_other_name``,
    ``greet_name_unverified`` (no recipient name to compare with) or ``greet_none``. When
    ``names_known`` is false the names come from an address alone (``vkamins@``, ``jobs2@``), which
    cannot prove a greeting wrong: a name that does not match it is unverified, not someone else's.
    """
    titles = lang.common().name_titles
    limit = 200
    for label, start, end in spans:
        if doc[start].idx > limit:
            break
        if label == "GENERIC_GREETING":
            return {"greet_generic": 1.0}
        if label != "GREETING":
            continue
        words = []
        for tok in doc[end : end + 4]:
            if tok.is_punct or tok.is_space or "\n" in tok.whitespace_:
                if "\n" in tok.whitespace_ and not tok.is_punct and _NAME_WORD.match(tok.text):
                    words.append(tok.text)
                break
            words.append(tok.text)
        words = [w for w in words if w.lower().rstrip(".") not in titles]
        if not words:
            return {"greet_generic": 1.0}
        names = [w for w in words if _NAME_WORD.match(w) and w[:1].isupper()]
        if not names:
            return {"greet_generic": 1.0}
        if not recipient_names:
            return {"greet_name_unverified": 1.0}
        if any(_names_match(n, recipient_names) for n in names):
            return {"greet_recipient_name": 1.0}
        return {"greet_other_name": 1.0} if names_known else {"greet_name_unverified": 1.0}
    return {"greet_none": 1.0}


def language_of(message: Message) -> str:
    """The message's language as the classifier identifies it (``other`` falls back to English rules)."""
    code = identify(f"{message.subject}\n{message.text}", message.sender.domain, *(a.domain for a in message.recipients[:1]))
    return code if code != OTHER else "en"


@dataclass(frozen=True)
class Greeting:
    """How a message opens: ``kind`` is one of :data:`GREETING_KINDS`."""

    kind: str
    language: str


def greeting(message: Message, names: set[str]) -> Greeting:
    """Whom the opening greets, judged against ``names`` (lower-case words of the recipients' names).

    The classifier's own rules (:func:`greeting_signal`): ``recipient`` greets one of ``names``,
    ``other`` greets someone else by name, ``generic`` greets no one ("Hi there", "Hej!"), ``none`` has no greeting.
    """
    code = language_of(message)
    t = tools(code)
    doc = t.nlp(message.text[:3000])
    matches = list(t.phrases(doc)) + (list(t.tokens(doc)) if len(t.tokens) else [])  # an empty Matcher warns (W036)
    spans = sorted(((t.nlp.vocab.strings[i], s, e) for i, s, e in matches), key=lambda x: (x[1], x[1] - x[2]))
    signal = next(iter(greeting_signal(doc, spans, names)))
    kind = signal.removeprefix("greet_").replace("recipient_name", "recipient").replace("other_name", "other")
    kind = kind.replace("name_unverified", "unverified")
    return Greeting(kind=kind, language=code)


@cache
def _phrase_regex(label: str) -> re.Pattern[str]:
    """One regex over the string patterns of ``label`` in all six languages (a Swede may decline in English)."""
    # Token-pattern records (lists of dicts) are left out: DECLINE and NUDGE are plain phrases in every language.
    texts = {p.pattern.lower() for d in lang.all_languages() for p in d.patterns if p.label == label and isinstance(p.pattern, str)}
    phrases = sorted(texts, key=len, reverse=True)
    return re.compile(r"(?<![\w])(?:" + "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in phrases) + r")(?![\w])", re.I)


def says(label: str, text: str) -> bool:
    """Does ``text`` contain a phrase of rule ``label`` (``DECLINE``, ``NUDGE``) in any of the six languages?

    >>> says("DECLINE", "Hej Sofia, nej tack – jag trivs där jag är.")
    True
    """
    return bool(_phrase_regex(label).search(text))
