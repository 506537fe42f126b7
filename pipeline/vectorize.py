"""Character n-grams and TF-IDF counting without per-n-gram Python work, for the vectorizers of :mod:`pipeline.features`.

Turning text into n-gram counts took longer than the classifier itself:
scikit-learn's ``char_wb`` analyzer and its counting loop handle every
n-gram in Python. Here the counting is ``Counter(map(vocabulary.get, …))``,
both in C, and the n-grams come out of one loop per word. The matrices are
the same, value for value: the tests compare them with scikit-learn's.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted


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

    # Words whose known n-grams are kept (char_wb_3_4 only): enough for the words of a mailbox's openings, a few MB.
    CACHED_WORDS = 20_000

    def transform(self, raw_documents: Iterable[Any]) -> Any:
        check_is_fitted(self, "vocabulary_")
        if isinstance(raw_documents, str):
            raise ValueError("Iterable over raw text documents expected, string object received.")
        indices = array("i")
        values = array("i")
        indptr = array("i", [0])
        for counts in self._counts(raw_documents):
            indices.extend(counts.keys())
            values.extend(counts.values())
            indptr.append(len(indices))
        data, columns, rows = (np.frombuffer(a, dtype=np.intc) for a in (values, indices, indptr))
        X = sp.csr_matrix((data, columns, rows), shape=(len(indptr) - 1, len(self.vocabulary_)), dtype=self.dtype)
        X.sort_indices()
        if self.binary:
            X.data.fill(1)
        return self._tfidf.transform(X, copy=False)

    def _counts(self, raw_documents: Iterable[Any]) -> Iterator[Counter[int]]:
        """Per document, how often each known n-gram occurs, by column."""
        lookup = self.vocabulary_.get
        if self.analyzer is not char_wb_3_4:
            analyze = self.build_analyzer()
            for doc in raw_documents:
                counts = Counter(map(lookup, analyze(doc)))
                counts.pop(None, None)  # n-grams the model does not know
                yield counts
            return
        # char_wb n-grams never cross a word, and the same words open mail after mail: each word's known
        # n-grams are looked up once and kept, instead of slicing and hashing every n-gram of every opening.
        known: dict[str, tuple[int, ...]] = self.__dict__.setdefault("_known_by_word", {})
        for doc in raw_documents:
            columns: list[int] = []
            for word in doc.lower().split():
                found = known.get(word)
                if found is None:
                    if len(known) >= self.CACHED_WORDS:
                        known.clear()
                    found = known[word] = tuple(c for c in map(lookup, char_wb_3_4(word)) if c is not None)
                columns += found
            yield Counter(columns)

    def __getstate__(self) -> dict[str, Any]:
        # The word cache is a run's, not the model's: it is not saved with it.
        state = super().__getstate__()
        state.pop("_known_by_word", None)
        return state
