"""Classify a stream of raw mail: parse, predict, and yield rows or failures.

The core is a generator over :class:`~pipeline.mail.sources.RawMail`, so memory
stays flat whatever the mailbox size. With ``jobs > 1`` batches go to
forked worker processes that share the loaded model (:mod:`pipeline.model.workers`).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

from pipeline.features.fingerprint import TemplateIndex
from pipeline.mail.sources import RawMail
from pipeline.model.batch import CSV_COLUMNS, Failure, Row, classify_batch
from pipeline.model.classifier import DEFAULT_THRESHOLD, Classifier
from pipeline.model.workers import classify_parallel

__all__ = ["CSV_COLUMNS", "Failure", "Row", "classify_batch", "classify_stream"]
BATCH = 256


def _batches(items: Iterable[RawMail], size: int) -> Iterator[list[RawMail]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def classify_stream(mail: Iterable[RawMail], model_dir: Path, *, threshold: float = DEFAULT_THRESHOLD, jobs: int = 1,
                    classifier: Classifier | None = None, index: TemplateIndex | None = None) -> Iterator[Row | Failure]:
    """Yield a :class:`Row` or :class:`Failure` for every message, in input order.

    ``index`` is the template index the mail is added to (an in-memory one
    when not given): a message's family is what the index has seen so far,
    including the rest of its batch.
    """
    own_index = index is None
    scratch = None
    if index is None:  # not `or`: an empty index has len() 0 and is falsy
        # A file, not memory: the index grows with the mailbox, memory must not. Next to forked workers its cache
        # is smaller, to keep the processes together under 400 MB; that costs about 1 s of look-ups per 20,000 messages.
        scratch = Path(tempfile.mkdtemp(prefix="pitchsort-templates-"))
        index = TemplateIndex.open(scratch / "templates.sqlite", cache_mb=16 if jobs == 1 else 4, mmap=False, scratch=True)
    try:
        if jobs == 1:
            clf = classifier or Classifier.load(model_dir)
            for batch in _batches(mail, BATCH):
                yield from classify_batch(batch, clf, threshold, index)
        else:
            yield from classify_parallel(_batches(mail, BATCH), classifier or Classifier.load(model_dir), threshold, jobs, index)
    finally:
        if own_index:
            index.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
