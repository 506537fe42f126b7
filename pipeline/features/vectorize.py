"""Character n-grams and TF-IDF counting without per-n-gram Python work, for the vectorizers of :mod:`pipeline.features.analyzer`.

Turning text into n-gram counts took longer than the classifier itself:
scikit-learn's ``char_wb`` analyzer and its counting loop handle every
n-gram in Python. Here the look-ups are ``map(vocabulary.get, …)`` and the
counting is scipy's, both in C, and the n-grams come out of one loop per
word. The matrices are the same, value for value: the tests compare them
with scikit-learn's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import repeat
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from pipeline.features.nlp import forked
from pipeline.features.recent import RecentTable


def char_wb_3_4(text: str) -> list[str]:
    """scikit-learn's ``analyzer="char_wb", ngram_range=(3, 4)``: n-grams inside words padded with a space, lower-cased.

    >>> sorted(char_wb_3_4("Hi Al"))
    [' al', ' al ', ' hi', ' hi ', 'al ', 'hi ']
    """
    out: list[str] = []
    add = out.append
    for word in text.lower().split():
        w = f" {word} "
        end = len(w) - 3
        for i in range(end):
            add(w[i : i + 3])
            add(w[i : i + 4])
        # The last trigram; a one-letter word (" a ") has only that one, as in scikit-learn.
        add(w[end:])
    return out


def word_ngrams(terms: list[str]) -> list[str]:
    """Unigrams and bigrams of the already lemmatized terms (picklable, unlike a lambda)."""
    return terms + [f"{a} {b}" for a, b in zip(terms, terms[1:], strict=False)]


class CountingTfidfVectorizer(TfidfVectorizer):
    """A :class:`~sklearn.feature_extraction.text.TfidfVectorizer` whose ``transform`` counts known n-grams in C.

    Fitting is scikit-learn's own; only counting against the fitted
    vocabulary differs, and it gives the same matrix.
    """

    # Words whose known n-grams are kept per generation (char_wb_3_4 only; two generations): enough for the words of a
    # mailbox's openings, a few MB; forked workers, which must stay under 400 MB together, keep fewer.
    CACHED_WORDS = 30_000
    CACHED_WORDS_FORKED = 10_000

    def transform(self, raw_documents: Iterable[Any]) -> Any:
        check_is_fitted(self, "vocabulary_")
        if isinstance(raw_documents, str):
            raise ValueError("Iterable over raw text documents expected, string object received.")
        # The batch's known n-grams go into one flat list, a column per occurrence (-1 for n-grams the model does
        # not know); scipy then drops, sorts and adds them up in C. Counting per document in Python cost more
        # than the rest of the transform.
        columns: list[int] = []
        ends = [0]
        for found in self._columns(raw_documents):
            columns += found
            ends.append(len(columns))
        cols = np.fromiter(columns, dtype=np.intc, count=len(columns))
        known = cols >= 0
        indptr = np.concatenate(([0], np.cumsum(known, dtype=np.intc)))[ends].astype(np.intc)
        cols = cols[known]
        X = sp.csr_matrix((np.ones(len(cols), dtype=self.dtype), cols, indptr), shape=(len(ends) - 1, len(self.vocabulary_)))
        X.sum_duplicates()
        if self.binary:
            X.data.fill(1)
        return self._tfidf.transform(X, copy=False)

    def _columns(self, raw_documents: Iterable[Any]) -> Iterator[Iterable[int]]:
        """Per document, the columns of its n-grams: -1 (words) or nothing (characters) where the model does not know one."""
        lookup = self.vocabulary_.get
        if self.analyzer is not char_wb_3_4:
            analyze = self.build_analyzer()
            for doc in raw_documents:
                yield map(lookup, analyze(doc), repeat(-1))
            return
        # char_wb n-grams never cross a word, and the same words open mail after mail: each word's known
        # n-grams are looked up once and kept, instead of slicing and hashing every n-gram of every opening.
        table: RecentTable[str, tuple[int, ...]] = self.__dict__.setdefault("_known_by_word", RecentTable(self.CACHED_WORDS))
        table.size = self.CACHED_WORDS_FORKED if forked() else self.CACHED_WORDS
        for doc in raw_documents:
            known = table.current.get
            columns: list[int] = []
            for word in doc.lower().split():
                found = known(word)
                if found is None:
                    found = table.fetch(word, lambda: tuple(c for c in map(lookup, char_wb_3_4(word)) if c is not None))  # noqa: B023
                    known = table.current.get  # fetch may have started a new generation
                columns += found
            yield columns

    def __getstate__(self) -> dict[str, Any]:
        # The word cache is a run's, not the model's: it is not saved with it.
        state = super().__getstate__()
        state.pop("_known_by_word", None)
        return state
