"""Classify with forked worker processes that share the loaded model, rows still in input order.

This process reads the mail, keeps the one template index and classifies
batches too; each worker parses and fingerprints a batch, waits for the
batch's template families from the index, and predicts. Parsed messages
never cross between processes: only raw mail, fingerprints, families and rows.
"""

from __future__ import annotations

import gc
import multiprocessing
import queue
from collections.abc import Iterable, Iterator

from pipeline.features.fingerprint import Arrival, Fingerprint, TemplateIndex, TemplateMatch, fingerprint
from pipeline.features.nlp import forking, tools
from pipeline.lang import LANGUAGES
from pipeline.mail.message import Message
from pipeline.mail.sources import RawMail
from pipeline.model.batch import Failure, Row, attach_templates, parse_batch, predict_batch
from pipeline.model.classifier import Classifier


def classify_parallel(batches: Iterator[list[RawMail]], classifier: Classifier, threshold: float, jobs: int,
                      index: TemplateIndex) -> Iterator[Row | Failure]:
    """Classify in ``jobs`` processes: this one, which also reads the mail and keeps the template index, and ``jobs - 1`` forked workers."""
    global _shared
    _shared = classifier
    # Built before the fork, the spaCy pipelines of all six languages are shared by the workers instead of built
    # once in each of them (about 25 MB a worker).
    for code in LANGUAGES:
        tools(code)
    forking(True)
    # Objects alive now are left out of the workers' garbage collections, which
    # would otherwise write to (and so copy) every page of the shared model.
    gc.collect()
    gc.freeze()
    try:
        with _Workers(jobs - 1, threshold) as workers:
            yield from workers.classify(batches, index, classifier, threshold)
    finally:
        gc.unfreeze()
        forking(False)
        _shared = None


# The classifier of this process, set before worker processes are forked so
# that they share its memory copy-on-write instead of each loading the model
# (and spaCy) again.
_shared: Classifier | None = None
_IN_FLIGHT = 4  # batches per worker: enough queued that it never waits while this process classifies a batch of its own
_LOCAL = -1  # the owner of a batch this process classifies itself


def _headers_only(m: Message) -> Message:
    """What the template index reads of a message: its key, Message-ID and addresses, not its text."""
    return Message(source=m.source, message_id=m.message_id, sender=m.sender, recipients=m.recipients)


def _work(inbox: multiprocessing.Queue, outbox: multiprocessing.Queue, threshold: float) -> None:
    """A worker: parse and fingerprint a batch, hand the index what it needs, then predict once the families come.

    The parsed batch stays here between the two steps, so that only raw mail,
    fingerprints, families and rows cross between processes, never a parsed message.
    """
    assert _shared is not None, "workers are forked after the classifier is loaded"
    held: dict[int, list[Message | Failure]] = {}
    while (job := inbox.get()) is not None:
        step, k, payload = job
        try:
            if step == "parse":
                items = held[k] = parse_batch(payload)
                parsed = [m for m in items if isinstance(m, Message)]
                outbox.put(("parsed", k, ([_headers_only(m) for m in parsed], [fingerprint(m) for m in parsed])))
            else:
                outbox.put(("rows", k, predict_batch(_with_families(held.pop(k), payload), _shared, threshold)))
        except Exception as exc:  # noqa: BLE001 - handed to the parent, which raises it
            outbox.put(("error", k, f"{type(exc).__name__}: {exc}"))


def _with_families(items: list[Message | Failure], families: Iterable[TemplateMatch | None]) -> list[Arrival | Failure]:
    found = iter(families)
    return [item if isinstance(item, Failure) else Arrival(item, next(found)) for item in items]


class _Workers:
    """Forked worker processes fed through queues, and the bookkeeping that keeps their results in input order.

    This process classifies batches too whenever every worker has its fill,
    so ``jobs`` processes do the work, not ``jobs + 1``: each process copies
    the pages of the shared model it writes to, and one process fewer keeps
    the whole under the memory target. Queues rather than pipes: a queue's
    sender never blocks, so a parent sending mail and a worker sending rows
    cannot wait on each other. A pool would send each parsed message to this
    process and back again.
    """

    def __init__(self, workers: int, threshold: float):
        ctx = multiprocessing.get_context("fork")
        self._outbox: multiprocessing.Queue = ctx.Queue()
        self._inboxes = [ctx.Queue() for _ in range(workers)]
        self._procs = [ctx.Process(target=_work, args=(inbox, self._outbox, threshold), daemon=True) for inbox in self._inboxes]
        for proc in self._procs:
            proc.start()

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        for inbox, proc in zip(self._inboxes, self._procs, strict=True):
            if proc.is_alive() and not any(exc):
                inbox.put(None)
        for proc in self._procs:
            proc.join(timeout=5 if not any(exc) else 0)
            if proc.is_alive():
                proc.terminate()
                proc.join()
        self._outbox.close()

    def _receive(self, block: bool) -> tuple[str, int, object] | None:
        while True:
            try:
                return self._outbox.get(timeout=1.0) if block else self._outbox.get_nowait()
            except queue.Empty:
                if not block:
                    return None
                dead = [p for p in self._procs if not p.is_alive()]
                if dead:
                    raise RuntimeError(f"a worker process stopped (exit code {dead[0].exitcode})") from None

    def classify(self, batches: Iterator[list[RawMail]], index: TemplateIndex, classifier: Classifier,
                 threshold: float) -> Iterator[Row | Failure]:
        owner: dict[int, int] = {}  # batch number -> worker, or _LOCAL
        load = [0] * len(self._procs)
        # Parsed batches waiting for their turn in the index: messages (all of them when local, headers from a worker) and fingerprints.
        parsed: dict[int, tuple[list[Message | Failure], list[Fingerprint]]] = {}
        rows: dict[int, list[Row | Failure]] = {}
        sent = indexed = done = 0
        local_waiting = exhausted = False

        def take_turns() -> None:
            # Families depend on what came before: batches enter the index in input order.
            nonlocal indexed, local_waiting
            while indexed in parsed:
                items, fps = parsed.pop(indexed)
                heads = [m for m in items if isinstance(m, Message)]
                families = [a.template for a in attach_templates(heads, index, fps)]
                if owner[indexed] == _LOCAL:
                    rows[indexed] = predict_batch(_with_families(items, families), classifier, threshold)
                    local_waiting = False
                else:
                    self._inboxes[owner[indexed]].put(("predict", indexed, families))
                indexed += 1

        def handle(message: tuple[str, int, object]) -> None:
            step, k, payload = message
            if step == "error":
                raise RuntimeError(f"a worker failed on batch {k}: {payload}")
            if step == "parsed":
                parsed[k] = payload  # type: ignore[assignment]
                take_turns()
            else:
                rows[k] = payload  # type: ignore[assignment]
                load[owner[k]] -= 1

        while True:
            while not exhausted and load and min(load) < _IN_FLIGHT:
                batch = next(batches, None)
                if batch is None:
                    exhausted = True
                    break
                w = load.index(min(load))
                owner[sent], load[w] = w, load[w] + 1
                self._inboxes[w].put(("parse", sent, batch))
                sent += 1
            while (message := self._receive(block=False)) is not None:
                handle(message)
            while done in rows:
                yield from rows.pop(done)
                del owner[done]
                done += 1
            if exhausted and done == sent:
                break
            if not exhausted and not local_waiting:
                # Every worker has its fill: this process takes the next batch itself.
                batch = next(batches, None)
                if batch is None:
                    exhausted = True
                    continue
                owner[sent] = _LOCAL
                items = parse_batch(batch)
                parsed[sent] = (items, [fingerprint(m) for m in items if isinstance(m, Message)])
                local_waiting = True
                sent += 1
                take_turns()
            elif indexed < sent or any(load):
                message = self._receive(block=True)
                assert message is not None
                handle(message)
