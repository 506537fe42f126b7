"""Round 2: every message left in the Enron folders that round 1 capped, that mentions a CV, a job or a first contact.

Round 1 read all of Kaminski's resumes folder but only samples elsewhere; unsolicited CVs and personalized first
contacts (rare labels) may sit in the rest. Excludes reserved messages and body duplicates of round 1.
"""
import csv, hashlib, random, re, shutil, sys
from pathlib import Path
sys.path.insert(0, "/work/shared/reserved")
from reserved import digests

RAW = Path("/work/raw")
reserved = {l.strip() for l in open("/work/shared/reserved/reserved.txt") if l.strip() and not l.startswith("#")}
ENRON = ("geo-lev/Enron-Spam-Classifier", "79cec2e0648299411a2494e7de98a360afa062ea", "GPL-3.0 repo; Enron corpus released by FERC, public record")
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
    except Exception:
        pass
new = []
random.seed(29)
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
        except Exception:
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
    w = csv.DictWriter(fh, fieldnames=list(rows[0])); w.writeheader(); w.writerows(rows)
with open(RAW / "round2_ids.txt", "w") as fh:
    fh.write("\n".join(r["id"] for r in new) + "\n")
print(len(new), "new candidates")
