"""Which of the six languages a message is in, from its words and its sender.

A weighted vote of frequent words (each language's ``markers.txt`` plus
spaCy's stop words), each word counting less the more languages share it.
It is tiny and fast; lingua was as accurate on this mail but costs 265 MB
and most of a second to build, too much for a nightly job. Danish and
Norwegian share most short words, so the sender's country domain breaks
near ties.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache
from importlib import import_module

from pipeline import lang

OTHER = "other"
_WORD = re.compile(r"[^\W\d_]+")
_MIN_SCORE = 1.5


@cache
def _weights() -> dict[str, tuple[tuple[str, float], ...]]:
    """Each telling word with the languages it votes for and its weight in each."""
    owners: dict[str, set[str]] = defaultdict(set)
    for code in lang.LANGUAGES:
        stop = import_module(f"spacy.lang.{code}.stop_words").STOP_WORDS
        for word in set(stop) | lang.load(code).markers:
            owners[word.lower()].add(code)
    return {w: tuple((c, 1.0 / len(cs)) for c in sorted(cs, key=lang.LANGUAGES.index))
            for w, cs in owners.items() if len(cs) < len(lang.LANGUAGES)}


@cache
def _tld_lang() -> dict[str, str]:
    out = {}
    for code in lang.LANGUAGES:
        for tld in lang.load(code).mail.tlds:
            out.setdefault(tld, code)
    return out


def identify(text: str, *domains: str, max_words: int = 300) -> str:
    """Return ``en``, ``sv``, ``nl``, ``nb``, ``da``, ``de`` or ``other``.

    >>> identify("Hej, tack för ditt svar! Jag återkommer i morgon.")
    'sv'
    """
    weights = _weights()
    scores: dict[str, float] = defaultdict(float)
    # Only the first max_words words count: when the start of the text holds more than that, they are the same
    # words as in the whole text (only the last one may be cut), so the rest need not be read.
    head = text[: max_words * 40]
    words = _WORD.findall(head.lower())
    if len(words) <= max_words and len(head) < len(text):
        words = _WORD.findall(text.lower())
    for word in words[:max_words]:
        for code, w in weights.get(word, ()):
            scores[code] += w
    # The sender's country domain first, then the recipient's: a Dane writing
    # from gmail.com to a .dk company is most likely writing Danish.
    tlds = _tld_lang()
    hint = next((tlds[t] for t in (d.rpartition(".")[2].lower() for d in domains) if t in tlds), "")
    if hint:
        scores[hint] += 0.75
    if not scores:
        return hint or OTHER
    # Fixed order, so that a tie never depends on set or hash order.
    best = max(lang.LANGUAGES, key=lambda code: (scores.get(code, 0.0), code == hint))
    return best if scores[best] >= _MIN_SCORE else (hint or OTHER)
