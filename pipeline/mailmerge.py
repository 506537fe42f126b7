"""Public wrappers over the mail-merge helpers of :mod:`pipeline.features`.

The fingerprints and the Sent-mail audit read the same things the classifier
reads (who a greeting names, which company a domain stands for, whether a
merge field was left in), so they call the classifier's own helpers rather
than copies of them. Those helpers are private to ``features.py``; this
module is the one place that reaches into them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from pipeline import lang
from pipeline.features import _BLANK_NAME, _MERGE_BRACES, _company_token, _greeting, _merge_field_re, _name_parts
from pipeline.langid import OTHER, identify
from pipeline.mail import Address, Message
from pipeline.nlp import tools

# Local parts that name a mailbox, not a person: greeting "Hej HR" is not a name (features.py skips the same ones).
ROLE_MAILBOXES = frozenset({"info", "hr", "jobs", "job", "careers", "recruiting", "kontakt", "post", "mail"})
# ø and æ have no Unicode decomposition; domains spell them oe/ae (groennegade.dk for Grønnegade), å as aa.
_FOLD = str.maketrans({"ø": "oe", "æ": "ae", "å": "aa", "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
GREETING_KINDS = ("recipient", "other", "generic", "unverified", "none")


def fold(word: str) -> str:
    """Lower-case ``word`` and spell it the way a domain would: ``Grønnegade`` → ``groennegade``.

    >>> fold("Grønnegade"), fold("Müller"), fold("Café")
    ('groennegade', 'mueller', 'cafe')
    """
    low = word.lower().translate(_FOLD)
    return "".join(c for c in unicodedata.normalize("NFKD", low) if not unicodedata.combining(c))


def name_parts(addr: Address) -> set[str]:
    """Lower-case words that could greet this person (display name and address local part)."""
    return _name_parts(addr) - ROLE_MAILBOXES


def people_names(addresses: Iterable[Address]) -> set[str]:
    names: set[str] = set()
    for addr in addresses:
        names |= name_parts(addr)
    return names


def company_token(addr: Address) -> str:
    """The distinctive part of a company domain (``nordvik`` of ``hr.nordvik.se``); empty for freemail."""
    return _company_token(addr)


def has_merge_field(subject: str, text: str) -> bool:
    """A merge field left raw: ``{{first_name}}``, ``[Name]``, ``%FIRSTNAME%``, or a blank where a name was."""
    scan = f"{subject}\n{text}"
    return bool(_MERGE_BRACES.search(scan) or _merge_field_re().search(scan) or _BLANK_NAME.match(text[:60]))


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

    Uses the classifier's own rules (``features._greeting``): ``recipient`` greets one of ``names``,
    ``other`` greets someone else by name, ``generic`` greets no one ("Hi there", "Hej!"), ``none`` has no greeting.
    """
    code = language_of(message)
    t = tools(code)
    doc = t.nlp(message.text[:3000])
    matches = list(t.phrases(doc)) + (list(t.tokens(doc)) if len(t.tokens) else [])  # an empty Matcher warns (W036)
    spans = sorted(((t.nlp.vocab.strings[i], s, e) for i, s, e in matches), key=lambda x: (x[1], x[1] - x[2]))
    signal = next(iter(_greeting(doc, spans, names, lang.common().name_titles)))
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
