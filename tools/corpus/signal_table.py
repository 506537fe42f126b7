"""How often each named signal occurs per label in real and in written mail (the data card's table).

    python tools/corpus/signal_table.py data/labeled
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pipeline import LABELS  # noqa: E402
from pipeline.corpus.labelled import iter_corpus  # noqa: E402
from pipeline.features.analyzer import MailAnalyzer  # noqa: E402

SIGNALS = {
    "threading headers (In-Reply-To/References)": lambda m, s: bool(m.in_reply_to or m.references),
    "reply subject (Re:/SV:/AW:…)": lambda m, s: "subject_reply" in s,
    "quote found": lambda m, s: bool(m.quoted),
    "Outlook/Notes header block quote": lambda m, s: bool(m.quoted) and "|" in m.quote_header,
    "quotes the owner (by quote header)": lambda m, s: "quotes_owner" in s,
    "generic greeting": lambda m, s: "greet_generic" in s,
    "greets the recipient by name": lambda m, s: "greet_recipient_name" in s,
    "no greeting": lambda m, s: "greet_none" in s or not any(k.startswith("greet_") for k in s),
    "merge field left raw": lambda m, s: "merge_field" in s,
    "X-Mailer present": lambda m, s: bool(m.bulk.x_mailer),
    "List-Unsubscribe / list headers": lambda m, s: "list_unsubscribe" in s or "list_headers" in s,
    "attachment (real file)": lambda m, s: bool(m.attachments),
    "attachment stub line only": lambda m, s: "attachment_stub" in s and not m.attachments,
    "sender in the recipient's organisation": lambda m, s: "internal_sender" in s,
    "short (< 25 words)": lambda m, s: "short" in s,
}


def main() -> int:
    items = list(iter_corpus(Path(sys.argv[1])))
    signals = MailAnalyzer().fit_transform([i.message for i in items])
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for item, doc in zip(items, signals, strict=True):
        made = item.entry.made
        totals[(made, item.entry.label)] += 1
        for name, test in SIGNALS.items():
            if test(item.message, doc.signals):
                counts[(name, made, item.entry.label)] += 1
    labels = [lb for lb in LABELS if totals[("real", lb)] or totals[("written", lb)]]
    print("| signal | " + " | ".join(f"{lb} real / written" for lb in labels) + " |")
    print("| --- |" + " ---: |" * len(labels))
    for name in SIGNALS:
        cells = []
        for lb in labels:
            parts = []
            for made in ("real", "written"):
                n = totals[(made, lb)]
                parts.append(f"{100 * counts[(name, made, lb)] / n:.0f}%" if n else "–")
            cells.append(" / ".join(parts))
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("| messages | " + " | ".join(f"{totals[('real', lb)]} / {totals[('written', lb)]}" for lb in labels) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
