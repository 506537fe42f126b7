"""Round 2: every message left in the Enron folders that round 1 capped, that mentions a CV, a job or a first contact.

Round 1 read all of Kaminski's resumes folder but only samples elsewhere; unsolicited CVs and personalized first
contacts (rare labels) may sit in the rest. Excludes reserved messages and body duplicates of round 1.

    python tools/corpus/select_round2.py RAW     RAW holds enron/ (the fetched maildirs), pool/ and pool.csv

The candidates are copied to RAW/pool/ and listed in RAW/round2_ids.txt, for reading and labelling by hand.
"""

import csv
import hashlib
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from pipeline.corpus.reserved import digests  # noqa: E402 - the same definition as shared/reserved/reserved.py

RAW = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/raw")
reserved = {line.strip() for line in (ROOT / "data/reserved/reserved.txt").open()
            if line.strip() and not line.startswith("#")}
ENRON = ("geo-lev/Enron-Spam-Classifier", "79cec2e0648299411a2494e7de98a360afa062ea",
         "GPL-3.0 repo; Enron corpus released by FERC, public record")
FOLDERS = ["kaminski-v/universities", "kaminski-v/personal", "kaminski-v/conferences", "kaminski-v/consultants",
           "farmer-d/resumes", "farmer-d/personal", "williams-w3/hr", "williams-w3/human_resources",
           "kitchen-l/_americas_hr", "kitchen-l/_americas_netco_hr"]
WORDS = re.compile(rb"(?i)(resume|r\xe9sum\xe9|curriculum vitae|\bc\.?v\.?\b|internship|\bintern\b|summer associate|"
                   rb"job|position|opportunit|employment|career|apply|applying|application|candidate|recruit|headhunt|"
                   rb"search firm|placement|hire|hiring|introduc|i am writing|my name is|would like to (meet|offer|invite|present)|"
                   rb"we would like|our firm|our company|services)")
rows = list(csv.DictReader(open(RAW / "pool.csv")))
taken_paths = {r["path"] for r in rows}
seen_body = set()
for p in (RAW / "pool").glob("*.eml"):
    try:
        seen_body |= {d for d in digests(p.read_bytes()) if d.startswith("body:")}
    except Exception:  # noqa: BLE001 - a pool file the digest cannot read holds no body to compare
        continue
new = []
for folder in FOLDERS:
    d = RAW / "enron" / folder
    files = sorted((p for p in d.rglob("*") if p.is_file()), key=lambda p: p.name)
    n = kept = 0
    for p in files:
        rel = p.relative_to(RAW / "enron").as_posix()
        if rel in taken_paths:
            continue
        data = p.read_bytes()
        if len(data) > 400_000:
            continue
        head, _, body = data.partition(b"\n\n")
        subject = re.search(rb"(?im)^subject:(.*)$", head)
        if not WORDS.search((subject.group(1) if subject else b"") + b"\n" + body[:6000]):
            continue
        try:
            ds = digests(data)
        except Exception:  # noqa: BLE001 - not mail the digest can read: not a candidate
            continue
        if reserved.intersection(ds):
            continue
        bk = next((x for x in ds if x.startswith("body:")), None)
        if bk is None or bk in seen_body:
            continue
        seen_body.add(bk)
        slug = re.sub(r"[^a-z0-9]+", "-", folder.lower()).strip("-")
        pid = f"enron-{slug}-r2-{n:03d}"
        shutil.copyfile(p, RAW / "pool" / f"{pid}.eml")
        new.append({"id": pid, "repo": ENRON[0], "commit": ENRON[1], "path": rel, "licence": ENRON[2], "folder": folder,
                    "sha256": hashlib.sha256(data).hexdigest()})
        n += 1
    print(folder, len(files), n)
rows += new
with open(RAW / "pool.csv", "w", newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
with open(RAW / "round2_ids.txt", "w") as fh:
    fh.write("\n".join(r["id"] for r in new) + "\n")
print(len(new), "new candidates")
