"""``models/report.md``: what held-out messages say about the model, real mail apart from written and translated."""

from __future__ import annotations

from collections import Counter

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from pipeline import LABELS
from pipeline.model.classifier import TrainResult
from pipeline.model.evaluate import REAL, TRANSLATED, WRITTEN, Corpus, Split, macro_f1, pick


def _table(y: list[str], pred: list[str]) -> list[str]:
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=list(LABELS), zero_division=0)
    lines = ["| label | precision | recall | F1 | messages |", "| --- | ---: | ---: | ---: | ---: |"]
    for i, label in enumerate(LABELS):
        if s[i]:
            lines.append(f"| {label} | {p[i]:.3f} | {r[i]:.3f} | {f[i]:.3f} | {s[i]} |")
    lines.append(f"| **macro** (labels present) | | | **{macro_f1(y, pred):.3f}** | {len(y)} |")
    return lines


def _confusion(y: list[str], pred: list[str]) -> list[str]:
    m = confusion_matrix(y, pred, labels=list(LABELS))
    lines = ["| true \\ predicted | " + " | ".join(LABELS) + " |", "| --- |" + " ---: |" * len(LABELS)]
    for i, label in enumerate(LABELS):
        lines.append(f"| {label} | " + " | ".join(str(v) for v in m[i]) + " |")
    return lines


def _f(split: Split, corpus: Corpus, mask: np.ndarray) -> str:
    y, pred = pick(split, corpus, mask)
    return f"{macro_f1(y, pred):.3f}" if y else "–"


# Below this many real messages a label's real-mail F1 is one or two messages right or wrong, not a measurement.
MIN_REAL_FOR_F1 = 30


def _f_common(split: Split, corpus: Corpus, mask: np.ndarray, labels: list[str]) -> str:
    y, pred = pick(split, corpus, mask)
    keep = [i for i, label in enumerate(y) if label in labels]
    return f"{f1_score([y[i] for i in keep], [pred[i] for i in keep], labels=labels, average='macro', zero_division=0):.3f}"


def render(result: TrainResult, metadata: dict) -> str:
    corpus = result.corpus
    assert corpus is not None, "a report needs the corpus the model was evaluated on"
    best, base = result.best.split, result.extra["baseline"]
    assert best is not None
    made = corpus.made
    real, written, translated = made == REAL, made == WRITTEN, made == TRANSLATED
    counts = Counter(made)
    per_label = Counter(corpus.labels[real])
    common = [label for label in LABELS if per_label[label] >= MIN_REAL_FOR_F1]
    out = [
        "# pitchsort model report",
        "",
        f"Trained {metadata['trained_at']} on {len(result.labels)} messages ({counts[REAL]} real, {counts[WRITTEN]} written, "
        f"{counts[TRANSLATED]} translated; {len(set(result.groups))} template/thread groups), training data "
        f"`{metadata['training_data']}`, language data `{metadata['language_data']}`, in {result.seconds:.0f} s. "
        "Written by `make train` (`pitchsort train data/labeled --model models`).",
        "",
        "Every figure is on held-out messages. Grouped 5-fold cross-validation (StratifiedGroupKFold) keeps the "
        "mail-merged siblings of one template, the messages of one thread, and a real message with its translations "
        "on one side of a split. Real, written and translated mail are scored apart; **real mail decides** which "
        "model is kept. Macro-F1 is averaged over the labels present in the scored set.",
        "",
        "## Summary",
        "",
        f"| figure | {result.chosen} (kept) | plain TF-IDF + logistic regression |",
        "| --- | ---: | ---: |",
        f"| grouped CV, real mail ({int(real.sum())}) | {_f(best, corpus, real)} | {_f(base, corpus, real)} |",
        f"| grouped CV, real mail, macro-F1 over the labels with ≥ {MIN_REAL_FOR_F1} real messages "
        f"({', '.join(common)}; {int(np.isin(corpus.labels, common)[real].sum())} messages) | "
        f"{_f_common(best, corpus, real, common)} | {_f_common(base, corpus, real, common)} |",
        f"| grouped CV, written mail ({int(written.sum())}) | {_f(best, corpus, written)} | {_f(base, corpus, written)} |",
    ]
    for code in sorted(set(corpus.languages[translated])):
        mask = translated & (corpus.languages == code)
        out.append(f"| grouped CV, translated into {code} ({int(mask.sum())}) | {_f(best, corpus, mask)} | {_f(base, corpus, mask)} |")
    everything = np.ones(len(made), dtype=bool)
    for origin, split in result.extra.get("loso", {}).items():
        b = result.extra["loso_baseline"][origin]
        out.append(f"| leave-one-source-out: trained without {origin}, tested on its {len(split.index)} real messages | "
                   f"{_f(split, corpus, everything)} | {_f(b, corpus, everything)} |")
    if "written_to_real" in result.extra:
        w, wb = result.extra["written_to_real"], result.extra["written_to_real_baseline"]
        out.append(f"| trained on written mail only, tested on real | {_f(w, corpus, everything)} | {_f(wb, corpus, everything)} |")
    out += [
        "",
        "## Classifiers compared (grouped CV)",
        "",
        "| classifier | real | written | translated | all |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for run in [*result.runs]:
        assert run.split is not None
        mark = " (kept)" if run.classifier == result.chosen else ""
        out.append(f"| {run.classifier}{mark} | {_f(run.split, corpus, real)} | {_f(run.split, corpus, written)} | "
                   f"{_f(run.split, corpus, translated)} | {run.macro_f1:.3f} |")
    out.append(f"| plain TF-IDF + logistic regression | {_f(base, corpus, real)} | {_f(base, corpus, written)} | "
               f"{_f(base, corpus, translated)} | {_f(base, corpus, everything)} |")
    for title, mask in (("real mail", real), ("written mail", written), ("translated mail", translated)):
        if not mask.any():
            continue
        y, pred = pick(best, corpus, mask)
        out += ["", f"## {result.chosen} on {title}: per class", "", *_table(y, pred), "", f"### Confusion matrix, {title}", "",
                *_confusion(y, pred)]
    out += ["", "## Per language (all held-out mail of that language)", ""]
    for code in sorted(set(corpus.languages)):
        mask = corpus.languages == code
        y, pred = pick(best, corpus, mask)
        out += [f"### {code} ({len(y)} messages: {int((mask & real).sum())} real, {int((mask & written).sum())} written, "
                f"{int((mask & translated).sum())} translated)", "", *_table(y, pred), ""]
    out += _mistakes(result, corpus, best)
    out += ["## Versions", "", *[f"- {k} {v}" for k, v in sorted(metadata["versions"].items())], ""]
    return "\n".join(out)


def _mistakes(result: TrainResult, corpus: Corpus, split: Split) -> list[str]:
    wrong = [i for i in split.index if corpus.made[i] == REAL and split.predictions[i] != corpus.labels[i]]
    wrong.sort(key=lambda i: -split.confidence[i])
    if not wrong:
        return []
    lines = ["## The twenty most confident mistakes on real mail", "",
             "| file | true | predicted | confidence | reasons |", "| --- | --- | --- | ---: | --- |"]
    for i in wrong[:20]:
        reasons = "; ".join(split.explain[i]) if split.explain else ""
        lines.append(f"| {result.files[i]} | {corpus.labels[i]} | {split.predictions[i]} | {split.confidence[i]:.2f} | "
                     f"{reasons.replace('|', '/')} |")
    return [*lines, ""]
