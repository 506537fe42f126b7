"""The fast vectorizers give scikit-learn's matrices, value for value."""

from __future__ import annotations

import random

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.features.vectorize import CountingTfidfVectorizer, char_wb_3_4, word_ngrams

ALPHABET = "ab cdé\nÅø.,-'!?\t  1x"


def random_texts(n: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    texts = ["", " ", "a", "Hi Al", "Hej Karin!\n\nTack för\tsamtalet i Umeå.", "x" * 40, "A B C d e f"]
    texts += ["".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 80))) for _ in range(n)]
    return texts


def test_char_wb_3_4_gives_scikit_learns_ngrams() -> None:
    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4)).build_analyzer()
    for text in random_texts(3000):
        assert sorted(char_wb_3_4(text)) == sorted(reference(text)), text


@pytest.mark.parametrize("kind", ["chars", "words"])
def test_counting_vectorizer_gives_scikit_learns_matrix(kind: str) -> None:
    texts = random_texts(2000)
    if kind == "chars":
        ours = CountingTfidfVectorizer(analyzer=char_wb_3_4, min_df=2, sublinear_tf=True, max_features=500)
        theirs = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), min_df=2, sublinear_tf=True, max_features=500)
        train, test = texts[:1000], texts[1000:]
    else:
        docs = [t.lower().split() for t in texts]
        ours = CountingTfidfVectorizer(analyzer=word_ngrams, min_df=2, sublinear_tf=True)
        theirs = TfidfVectorizer(analyzer=word_ngrams, min_df=2, sublinear_tf=True)
        train, test = docs[:1000], docs[1000:]
    ours.fit(train)
    theirs.fit(train)
    assert ours.vocabulary_ == theirs.vocabulary_
    a, b = ours.transform(test), theirs.transform(test)
    assert type(a) is type(b) and a.shape == b.shape and a.dtype == b.dtype
    assert (a.indptr == b.indptr).all() and (a.indices == b.indices).all() and (a.data == b.data).all()
    assert a.nnz > 0


def test_a_string_is_not_a_list_of_documents() -> None:
    vec = CountingTfidfVectorizer(analyzer=char_wb_3_4).fit(["hello there"])
    with pytest.raises(ValueError, match="Iterable over raw text documents"):
        vec.transform("hello")


def test_the_word_cache_changes_nothing_and_is_not_saved(monkeypatch: pytest.MonkeyPatch) -> None:
    import pickle

    texts = random_texts(600, seed=5)
    theirs = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), min_df=2).fit(texts[:300])
    ours = CountingTfidfVectorizer(analyzer=char_wb_3_4, min_df=2).fit(texts[:300])
    expected = theirs.transform(texts[300:]).toarray()
    assert (ours.transform(texts[300:]).toarray() == expected).all()
    assert (ours.transform(texts[300:]).toarray() == expected).all()  # from the warm cache
    monkeypatch.setattr(CountingTfidfVectorizer, "CACHED_WORDS", 7)  # the cache is cleared again and again
    fresh = pickle.loads(pickle.dumps(ours))
    assert "_known_by_word" not in fresh.__dict__
    assert (fresh.transform(texts[300:]).toarray() == expected).all()
    assert len(fresh.__dict__["_known_by_word"]) <= 2 * 7
