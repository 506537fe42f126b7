"""How fast template fingerprints index and query at mailbox scale (100,000 messages by default).

The messages are varied from the real corpus in ``data/labeled``: each is one
corpus message with what a mail merge varies changed (the recipient's name
and address, the company domain, every number) and, one time in two, a
random sentence or two dropped, as a sender editing a template would. So the
index sees realistic families of every size next to one-off mail, not 100,000
copies of one text.

``run()`` returns a :class:`BenchResult`; ``markdown()`` renders it as a
section for ``BENCHMARKS.md``. ``make bench`` calls this file's ``main``::

    .venv/bin/python tools/bench_fingerprint.py --messages 100000
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.corpus.labelled import iter_corpus  # noqa: E402 - after the path set-up, so the script runs without installing
from pipeline.features.fingerprint import TemplateIndex, fingerprint  # noqa: E402
from pipeline.mail.message import Address, Message  # noqa: E402
from pipeline.model.classifier import python_info  # noqa: E402

FIRST = ["Karin", "Erik", "Anna", "Lars", "Sanne", "Pieter", "Ingrid", "Ole", "Mette", "Jonas", "Lena", "Tobias", "Eva",
         "Henrik", "Sofie", "Daan", "Kari", "Bjørn", "Maja", "Felix", "Greta", "Sven", "Noor", "Astrid", "Jens", "Lotte"]
LAST = ["Berg", "Lind", "de Vries", "Jansen", "Hansen", "Nielsen", "Johansen", "Müller", "Schmidt", "Ek", "Dahl", "Bakker",
        "Larsen", "Andersson", "Visser", "Olsen", "Weber", "Holm", "Strand", "Koch"]
COMPANIES = ["nordvik", "kvarnby", "havnegaard", "molenwerf", "fjellkraft", "rheinblick", "solberga", "dijkstra-bouw",
             "strandvejen", "bergmann-gruppe", "lindholmen", "vestfold-energi", "amstelhof", "skovlund", "elbtal", "norrsken"]
TLDS = ["se", "nl", "no", "dk", "de", "com"]
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class BenchResult:
    messages: int
    base_messages: int
    seconds_generate: float
    seconds_index: float
    query_ms: list[float]
    families: int
    largest_family: int
    index_bytes: int

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds_index

    @property
    def query_median_ms(self) -> float:
        return statistics.median(self.query_ms)

    @property
    def query_p95_ms(self) -> float:
        return statistics.quantiles(self.query_ms, n=20)[-1]


def _base_messages() -> list[Message]:
    return [item.message for item in iter_corpus(ROOT / "data" / "labeled") if len(item.message.text.split()) >= 8]


def vary(base: Message, rng: random.Random, n: int) -> Message:
    """One mail-merge sibling of ``base``: new recipient and company, new numbers, maybe a sentence or two dropped."""
    first, last, company = rng.choice(FIRST), rng.choice(LAST), rng.choice(COMPANIES)
    domain = f"{company}.{rng.choice(TLDS)}"
    text = base.text
    old = base.recipients[0] if base.recipients else Address("", "")
    for word in old.name.replace(",", " ").split():
        if len(word) > 2:
            text = text.replace(word, first)
    old_company = old.domain.split(".")[0] if old.domain else ""
    if len(old_company) >= 4:
        text = re.sub(re.escape(old_company), company.capitalize(), text, flags=re.I)
    text = _NUMBER.sub(lambda _: str(rng.randint(1, 999)), text)
    if rng.random() < 0.5:
        sentences = _SENTENCE.split(text)
        for _ in range(rng.randint(1, 2)):
            if len(sentences) > 3:
                sentences.pop(rng.randrange(1, len(sentences)))
        text = " ".join(sentences)
    recipient = Address(f"{first} {last}", f"{first.lower()}.{last.split()[-1].lower()}@{domain}")
    return replace(base, source=f"bench/{n}", message_id=f"<bench-{n}@bench.invalid>", recipients=(recipient,), text=text)


def run(messages: int = 100_000, queries: int = 1000, seed: int = 0, folder: Path | None = None) -> BenchResult:
    """Index ``messages`` varied messages into an on-disk index, then time ``queries`` single look-ups."""
    rng = random.Random(seed)
    bases = _base_messages()
    start = time.perf_counter()
    mail = [vary(rng.choice(bases), rng, n) for n in range(messages)]
    generated = time.perf_counter() - start
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        path = Path(tmp) / "templates.sqlite"
        index = TemplateIndex.open(path)
        start = time.perf_counter()
        for message in mail:
            index.add(message.source, message)
        index.flush()
        seconds = time.perf_counter() - start
        index.close()
        # A restart, as the nightly run has: the look-ups go to the file on disk.
        index = TemplateIndex.open(path)
        fingerprint(mail[0])  # warm the caches once, as a long-running process has them warm
        timings = []
        for n in range(queries):
            probe = vary(rng.choice(bases), rng, messages + n)
            t0 = time.perf_counter()
            index.match(probe)
            timings.append((time.perf_counter() - t0) * 1000)
        families = index.families()
        index.close()
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
    return BenchResult(messages, len(bases), generated, seconds, timings, len(families),
                       families[0].size if families else 1, size)


def markdown(result: BenchResult) -> str:
    """The figures as a Markdown section for BENCHMARKS.md."""
    return "\n".join([
        "## Template fingerprints",
        "",
        f"{result.messages:,} messages varied from {result.base_messages:,} corpus texts (new names, companies and numbers; "
        f"half with sentences dropped), indexed into one SQLite file; {python_info()}.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| indexing (fingerprint + LSH insert) | {result.per_second:,.0f} messages/s ({result.seconds_index:.1f} s in all) |",
        f"| one query after a restart, median | {result.query_median_ms:.2f} ms |",
        f"| one query after a restart, 95th percentile | {result.query_p95_ms:.2f} ms |",
        f"| families of two or more found | {result.families:,} (largest: {result.largest_family:,} messages) |",
        f"| index size on disk | {result.index_bytes / 1e6:.0f} MB |",
        "",
    ])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args(argv)
    print(markdown(run(args.messages, args.queries)))


if __name__ == "__main__":
    main()
