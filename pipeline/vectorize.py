"""Character n-grams and TF-IDF counting without per-n-gram Python work, for the vectorizers of :mod:`pipeline.features`.

Turning text into n-gram counts took longer than the classifier itself:
scikit-learn's ``char_wb`` analyzer and its counting loop handle every
n-gram in Python. Here the counting is ``Counter(map(vocabulary.get, …))``,
both in C, and the n-grams come out of one loop per word. The matrices are
the same, value for value: the tests compare them with scikit-learn's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
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

    def transform(self, raw_documents: Iterable[Any]) -> Any:
        check_is_fitted(self, "vocabulary_")
        if isinstance(raw_documents, str):
            raise ValueError("Iterable over raw text documents expected, string object received.")
        lookup = self.vocabulary_.get
        analyze = self.build_analyzer()
        indices: list[int] = []
        values: list[int] = []
        indptr = [0]
        for doc in raw_documents:
            counts = Counter(map(lookup, analyze(doc)))
            counts.pop(None, None)  # n-grams the model does not know
            indices += counts.keys()
            values += counts.values()
            indptr.append(len(indices))
        X = sp.csr_matrix((np.asarray(values, dtype=np.intc), np.asarray(indices, dtype=np.int32), np.asarray(indptr, dtype=np.int32)),
                          shape=(len(indptr) - 1, len(self.vocabulary_)), dtype=self.dtype)
        X.sort_indices()
        if self.binary:
            X.data.fill(1)
        return self._tfidf.transform(X, copy=False)
