"""spaCy pipelines and matchers, built once per process and never pickled.

Official trained pipelines cannot be downloaded here, so each language is a
``spacy.blank`` tokenizer with stop words and lexical attributes, plus the
lookup lemmatizer where spacy-lookups-data has a real table (Norwegian's is
nearly empty, so nb goes without).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache

import spacy
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher

from pipeline import lang

log = logging.getLogger(__name__)

_LEMMATIZED = {"en", "sv", "nl", "da", "de"}
# Greetings are matched in every language: an English template often opens
# with "Hej!" or "Hoi", and the greeting is what tells a template apart.
_SHARED_LABELS = ("GREETING", "GENERIC_GREETING")


@dataclass(frozen=True)
class Tools:
    nlp: Language
    phrases: PhraseMatcher
    tokens: Matcher


@cache
def tools(code: str) -> Tools:
    """The spaCy pipeline and matchers for language ``code`` (``en``, ``sv``, …)."""
    nlp = spacy.blank(code if code != "nb" else "nb")
    if code in _LEMMATIZED:
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
    phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
    tokens = Matcher(nlp.vocab, validate=True)
    patterns = list(lang.load(code).patterns)
    for other in lang.LANGUAGES:
        if other != code:
            patterns += [p for p in lang.load(other).patterns if p.label in _SHARED_LABELS]
    grouped: dict[str, list] = {}
    token_groups: dict[str, list] = {}
    for p in patterns:
        if isinstance(p.pattern, str):
            grouped.setdefault(p.label, []).append(p.pattern)
        else:
            token_groups.setdefault(p.label, []).append(p.pattern)
    for label, texts in grouped.items():
        phrases.add(label, list(nlp.tokenizer.pipe(sorted(set(texts)))))
    for label, pats in token_groups.items():
        tokens.add(label, pats)
    return Tools(nlp=nlp, phrases=phrases, tokens=tokens)
