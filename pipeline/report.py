"""``models/report.md``: what grouped cross-validation says about the model."""

from __future__ import annotations

from collections import Counter

from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from pipeline import LABELS
from pipeline.model import TrainResult


def _table(y: list[str], pred: list[str]) -> list[str]:
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=list(LABELS), zero_division=0)
    lines = ["| label | precision | recall | F1 | messages |", "| --- | ---: | ---: | ---: | ---: |"]
    for i, label in enumerate(LABELS):
        lines.append(f"| {label} | {p[i]:.3f} | {r[i]:.3f} | {f[i]:.3f} | {s[i]} |")
    macro = f1_score(y, pred, labels=list(LABELS), average="macro", zero_division=0)
    lines.append(f"| **macro** | | | **{macro:.3f}** | {len(y)} |")
    return lines


def _confusion(y: list[str], pred: list[str]) -> list[str]:
    m = confusion_matrix(y, pred, labels=list(LABELS))
    lines = ["| true \\ predicted | " + " | ".join(LABELS) + " |", "| --- |" + " ---: |" * len(LABELS)]
    for i, label in enumerate(LABELS):
        lines.append(f"| {label} | " + " | ".join(str(v) for v in m[i]) + " |")
    return lines


def _ablation_rows(result: TrainResult) -> list[str]:
    rows = []
    for name, run in (("with template features (the model)", result.best), ("without them", result.extra["without_templates"])):
        f = f1_score(result.labels, run.predictions, labels=list(LABELS), average=None, zero_division=0)
        rows.append(f"| {name} | {run.macro_f1:.3f} | {f[0]:.3f} | {f[1]:.3f} |")
    return rows


def render(result: TrainResult, metadata: dict) -> str:
    y, pred = result.labels, result.best.predictions
    folds_groups = len(set(result.groups))
    out = [
        "# pitchsort model report",
        "",
        f"Trained {metadata['trained_at']} on {len(y)} messages ({folds_groups} template/thread groups), "
        f"training data `{metadata['training_data']}`, language data `{metadata['language_data']}`, "
        f"in {result.seconds:.0f} s. Written by `make train`.",
        "",
        "All figures are from grouped 5-fold cross-validation (StratifiedGroupKFold): the mail-merged siblings "
        "of one template and the messages of one thread are always on the same side of a split.",
        "",
        "## Classifiers compared",
        "",
        "| classifier | macro-F1 |",
        "| --- | ---: |",
        *[f"| {r.classifier}{' (chosen)' if r.classifier == result.chosen else ''} | {r.macro_f1:.3f} |" for r in result.runs],
        "",
        "## What the template features change",
        "",
        "Each message carries the size of its template family (near copies of its masked new text, see "
        "`pipeline/fingerprint.py`) as it stood when the message arrived, in date order, plus the distinct "
        "recipients and senders of that family. The same classifier, cross-validated the same way:",
        "",
        "| features | macro-F1 | cold_pitch F1 | personalized_outreach F1 |",
        "| --- | ---: | ---: | ---: |",
        *_ablation_rows(result),
        "",
        f"## {result.chosen}: per class",
        "",
        *_table(y, pred),
        "",
        "## Confusion matrix",
        "",
        *_confusion(y, pred),
        "",
        "## Per language",
        "",
    ]
    counts = Counter(result.languages)
    for code in sorted(counts):
        idx = [i for i, lang in enumerate(result.languages) if lang == code]
        out += [f"### {code} ({counts[code]} messages)", "", *_table([y[i] for i in idx], [pred[i] for i in idx]), ""]
    out += ["## Versions", "", *[f"- {k} {v}" for k, v in sorted(metadata["versions"].items())], ""]
    return "\n".join(out)
