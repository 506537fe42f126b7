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
from importlib.util import find_spec, module_from_spec, spec_from_file_location
from itertools import repeat
from pathlib import Path

import numpy as np

from pipeline import lang

OTHER = "other"
_WORD = re.compile(r"[^\W\d_]+")
_MIN_SCORE = 1.5


# Weights are counted in sixtieths of the six languages' unit: a word shared by k languages gives each _UNIT / k,
# a whole number for any k up to 16, so sums are exact and ties do not depend on the order of addition.
_UNIT = 720720


@cache
def _columns() -> tuple[str, ...]:
    """The six languages, then the languages that only compete (their winning means `other`)."""
    return (*lang.LANGUAGES, *lang.common().other_languages)


def _stop_words(code: str) -> frozenset[str]:
    """spaCy's stop words of a language, read from its ``stop_words.py`` alone.

    Importing ``spacy.lang.fr.stop_words`` would run ``spacy.lang.fr``'s package first, whose tokenizer
    exceptions take seconds to compile: a cost every process would pay for words it only counts.
    """
    spec = find_spec(f"spacy.lang.{code}")
    if spec is None or not spec.submodule_search_locations:
        raise LookupError(f"spaCy has no language {code!r}")
    path = Path(next(iter(spec.submodule_search_locations))) / "stop_words.py"
    module = module_from_spec(spec_from_file_location(f"_pitchsort_stop_words_{code}", path))  # type: ignore[arg-type]
    module.__spec__.loader.exec_module(module)  # type: ignore[union-attr]
    return frozenset(module.STOP_WORDS)


@cache
def _weights() -> tuple[dict[str, int], np.ndarray]:
    """Each telling word's row, and per row its weight for each language column."""
    owners: dict[str, set[str]] = defaultdict(set)
    for code in _columns():
        stop = _stop_words(code)
        extra = lang.load(code).markers if code in lang.LANGUAGES else frozenset()
        for word in set(stop) | extra:
            owners[word.lower()].add(code)
    columns = _columns()
    telling = sorted(w for w, cs in owners.items() if len(cs) < len(lang.LANGUAGES))
    table = np.zeros((len(telling) + 1, len(columns)), dtype=np.int64)  # the last row: words that tell nothing
    for row, word in enumerate(telling):
        for code in owners[word]:
            table[row, columns.index(code)] = _UNIT // len(owners[word])
    return {w: row for row, w in enumerate(telling)}, table


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
    rows, table = _weights()
    # Only the first max_words words count: when the start of the text holds more than that, they are the same
    # words as in the whole text (only the last one may be cut), so the rest need not be read.
    head = text[: max_words * 40]
    words = _WORD.findall(head.lower())
    if len(words) <= max_words and len(head) < len(text):
        words = _WORD.findall(text.lower())
    # Looked up and added up in C: this runs on every message.
    found = np.fromiter(map(rows.get, words[:max_words], repeat(len(table) - 1)), dtype=np.intp, count=min(len(words), max_words))
    scores = table[found].sum(axis=0).tolist()
    # The sender's country domain first, then the recipient's: a Dane writing
    # from gmail.com to a .dk company is most likely writing Danish.
    tlds = _tld_lang()
    hint = next((tlds[t] for t in (d.rpartition(".")[2].lower() for d in domains) if t in tlds), "")
    if hint:
        scores[lang.LANGUAGES.index(hint)] += _UNIT * 3 // 4
    if not any(scores):
        return hint or OTHER
    columns = _columns()
    # Fixed order, so that a tie never depends on set or hash order.
    best = max(range(len(scores)), key=lambda i: (scores[i], columns[i] == hint))
    if best >= len(lang.LANGUAGES):
        return OTHER  # French, Spanish…: not routed to the nearest of the six
    return columns[best] if scores[best] >= _MIN_SCORE * _UNIT else (hint or OTHER)
