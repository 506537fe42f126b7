"""spaCy pipelines and matchers, built once per process and never pickled.

Official trained pipelines cannot be downloaded here, so each language is a
``spacy.blank`` tokenizer with stop words and lexical attributes. Lemmas come
from spacy-lookups-data's lookup tables, read the way spaCy's lookup
lemmatizer reads them (``table.get(token.text, token.text)``); Norwegian's
table is nearly empty, so nb goes without. The full tables take seconds and
hundreds of MB to load, so only training reads them (:func:`lemma_table`);
a fitted model carries the part of each table that can matter to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

import spacy
from spacy import util
from spacy.attrs import NORM, ORTH
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokenizer import Tokenizer

from pipeline import lang

log = logging.getLogger(__name__)

LEMMATIZED = ("en", "sv", "nl", "da", "de")
# Greetings are matched in every language: an English template often opens
# with "Hej!" or "Hoi", and the greeting is what tells a template apart.
_SHARED_LABELS = ("GREETING", "GENERIC_GREETING")


@spacy.registry.tokenizers("pitchsort.Tokenizer.v1")
def create_tokenizer() -> Callable[[Language], Tokenizer]:
    """spaCy's own tokenizer of the language, without the special cases that split nothing.

    spaCy caches how it split each chunk of text, but not for the rest of a
    document once a special case was seen in it (spaCy #1250). Line breaks
    are special cases, and so are words such as "Ref" or "kr" that come out
    as one token anyway: every mail went uncached past its first line. A
    special case is left out when the affix rules give the same tokens for
    its text and it sets nothing but the text and its NORM, which pitchsort
    never reads; the tokens, their case and their flags stay the same
    (tests/test_features.py compares them with stock spaCy), and tokenizing
    takes half the time. Built here rather than changed after
    ``spacy.blank``, because loading the special cases twice cost 70 ms a language.
    """

    def make(nlp: Language) -> Tokenizer:
        defaults = nlp.Defaults
        affixes: dict[str, Any] = {
            "prefix_search": util.compile_prefix_regex(defaults.prefixes).search if defaults.prefixes else None,
            "suffix_search": util.compile_suffix_regex(defaults.suffixes).search if defaults.suffixes else None,
            "infix_finditer": util.compile_infix_regex(defaults.infixes).finditer if defaults.infixes else None,
            "token_match": defaults.token_match,
            "url_match": defaults.url_match,
        }
        plain = Tokenizer(nlp.vocab, rules={}, **affixes)
        rules = defaults.tokenizer_exceptions
        dropped = {text for text, case in rules.items() if _splits_nothing(text, case, plain)}
        tokenizer = Tokenizer(nlp.vocab, rules={t: case for t, case in rules.items() if t not in dropped}, **affixes)
        while True:
            # A special case that stays can match inside one that was dropped ("c." in "°c."): those come back.
            wrong = {t for t in dropped if not t.isspace() and [x.text for x in tokenizer(t)] != [c[ORTH] for c in rules[t]]}
            if not wrong:
                return tokenizer
            dropped -= wrong
            for text in sorted(wrong):
                tokenizer.add_special_case(text, rules[text])

    return make


def _splits_nothing(text: str, case: list[dict[int, str]], plain: Tokenizer) -> bool:
    if text.isspace():
        return True
    return all(set(token) <= {ORTH, NORM} for token in case) and [t.text for t in plain(text)] == [t[ORTH] for t in case]


@dataclass(frozen=True)
class Tools:
    nlp: Language
    phrases: PhraseMatcher
    tokens: Matcher


# spaCy's string store only grows: every unseen word of every message stays, about 400 bytes each. Past this many
# strings, mail is read in spaCy memory zones (batch_zone): what a batch adds is freed after it, so memory stays
# flat however large the mailbox, while the words learnt before, and the tokenizer's cache of them, stay. The six
# pipelines start with about 21,000 strings.
MAX_STRINGS = 100_000
# With forked workers each process grows a vocabulary of its own past the strings they share, so each keeps less:
# 45,000 is what holds two processes under 400 MB together on any mailbox size (BENCHMARKS.md).
MAX_STRINGS_FORKED = 45_000
_forked = False


def forking(forked: bool) -> None:
    """Tell :func:`batch_zone` whether this process's pipelines are shared with forked workers (set before the fork)."""
    global _forked
    _forked = forked


def forked() -> bool:
    """Whether this process's pipelines are shared with forked workers, who must keep their caches smaller."""
    return _forked


@contextmanager
def batch_zone(limit: int | None = None) -> Iterator[None]:
    """Read one batch of mail in memory zones of the built pipelines once their vocabularies have ``limit`` strings.

    ``limit`` is :data:`MAX_STRINGS` when not given, :data:`MAX_STRINGS_FORKED` in a run with forked workers.

    Docs made inside must not be used after it; strings read off them are ordinary Python strings and stay valid.
    Rebuilding the pipelines instead would make forked workers' shared pipelines private and cost seconds each time.
    """
    built = [tools(code) for code in lang.LANGUAGES if code in _built]
    if limit is None:
        limit = MAX_STRINGS_FORKED if _forked else MAX_STRINGS
    if sum(len(t.nlp.vocab.strings) for t in built) < limit:
        yield
        return
    with ExitStack() as stack:
        for t in built:
            stack.enter_context(t.nlp.memory_zone())
        yield


_built: set[str] = set()


@cache
def tools(code: str) -> Tools:
    """The spaCy pipeline and matchers for language ``code`` (``en``, ``sv``, …)."""
    _built.add(code)
    nlp = spacy.blank(code, config={"nlp": {"tokenizer": {"@tokenizers": "pitchsort.Tokenizer.v1"}}})
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


@cache
def lemma_table(code: str) -> dict[int, str]:
    """The full lookup table of ``code``, keyed by spaCy string hash (``token.orth``), lemmas in lower case."""
    if code not in LEMMATIZED:
        return {}
    from spacy.lookups import load_lookups

    return {k: v.lower() for k, v in load_lookups(lang=code, tables=["lemma_lookup"]).get_table("lemma_lookup").items()}
