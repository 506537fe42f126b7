"""`make bench`: whole-process throughput and peak memory of `pitchsort classify`.

Builds a 20,000-message mailbox from the labelled corpus and the samples in a
temporary directory. The messages are varied, not copies: each one gets a
new Message-ID, date and recipient, and a random share of its body lines is
dropped or reordered, so parsing, tokenizing and the vectorizers never see
the same bytes twice. Then it times the console script end to end (start-up,
parse, features, predict, CSV) on one core and on all cores, samples the
resident memory of the whole process tree, and appends the figures to
BENCHMARKS.md with the machine, the commit and the command. Last, it indexes
100,000 messages into the template index and times single queries
(tools/bench_fingerprint.py).
"""

from __future__ import annotations

import argparse
import csv
import email
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from email.policy import compat32
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FIRST = ["Anna", "Erik", "Sanne", "Pieter", "Ingrid", "Ola", "Mette", "Lars", "Jonas", "Lena", "Sofia", "Tom", "Priya", "Aisha"]
LAST = ["Berg", "Holm", "de Vries", "Jansen", "Hansen", "Nilsen", "Madsen", "Weber", "Müller", "Ek", "Smith", "Khan"]


def _vary(raw: bytes, n: int, rng: random.Random) -> bytes:
    msg = email.message_from_bytes(raw, policy=compat32)
    del msg["Message-ID"], msg["To"], msg["Date"]
    first, last = rng.choice(FIRST), rng.choice(LAST)
    msg["Message-ID"] = f"<bench{n}.{rng.getrandbits(40):x}@bench.example>"
    msg["To"] = f"{first} {last} <{first.lower()}.{n}@company{n % 977}.example>"
    msg["Date"] = email.utils.format_datetime(datetime(2026, 1, 1, tzinfo=UTC).replace(day=1 + n % 28, hour=n % 24))
    for part in msg.walk():
        if part.get_content_type() == "text/plain" and not part.get_filename():
            body = part.get_payload(decode=True) or b""
            lines = body.split(b"\n")
            keep = [ln for ln in lines if rng.random() > 0.15] or lines
            if len(keep) > 4 and rng.random() < 0.3:
                i = rng.randrange(1, len(keep) - 1)
                keep[i], keep[i + 1] = keep[i + 1], keep[i]
            keep.insert(min(2, len(keep)), f"Ref {rng.getrandbits(24):x}, {first} {last}.".encode())
            del part["Content-Transfer-Encoding"]
            part["Content-Transfer-Encoding"] = "8bit"
            part.set_payload(b"\n".join(keep).decode("ascii", "surrogateescape"))
            break
    return msg.as_bytes()


def build_mailbox(folder: Path, count: int, seed: int = 7) -> int:
    sources = sorted((ROOT / "data" / "labeled").rglob("*.eml")) + sorted((ROOT / "data" / "samples").glob("*.eml"))
    blobs = [p.read_bytes() for p in sources]
    rng = random.Random(seed)
    size = 0
    for n in range(count):
        data = _vary(blobs[n % len(blobs)], n, rng)
        sub = folder / f"{n // 1000:02d}"
        sub.mkdir(exist_ok=True)
        (sub / f"{n:06d}.eml").write_bytes(data)
        size += len(data)
    return size


def timed(cmd: list[str]) -> float:
    """Wall seconds of one run, with nothing else watching it."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(cmd)} failed: {proc.stderr.decode()[-500:]}")
    return wall


def peak_memory(cmd: list[str]) -> tuple[float, float]:
    """Peak memory of the process tree and of its largest process, in MB, sampled every 50 ms.

    The tree's figure adds up PSS (proportional set size): forked workers
    share the parent's pages, and adding their RSS would count those pages
    once per process. Reading PSS costs the kernel a walk of every mapping,
    which on two cores slows the run being measured; so memory is measured
    in a run of its own, and speed in runs that nothing samples.
    """
    proc = psutil.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_tree = peak_one = 0
    while proc.poll() is None:
        try:
            procs = [proc, *proc.children(recursive=True)]
            rss = [p.memory_full_info().pss for p in procs if p.is_running()]
        except psutil.Error:
            rss = []
        if rss:
            peak_tree, peak_one = max(peak_tree, sum(rss)), max(peak_one, max(rss))
        time.sleep(0.05)
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(cmd)} failed: {proc.stderr.read().decode()[-500:]}")
    return peak_tree / 2**20, peak_one / 2**20


def reference_seconds() -> float:
    """Seconds for a fixed pure-Python loop, best of three: how fast this machine is running right now.

    The machine is shared and its speed drifts by 10% and more within an hour;
    this figure lets two sections be compared.
    """
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        sum(i * i for i in range(10**7))
        best = min(best, time.perf_counter() - start)
    return best


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    return f"{cpu}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    ap.add_argument("--model", type=Path, default=ROOT / "models")
    ap.add_argument("--index-messages", type=int, default=100_000, help="messages for the template-index benchmark (0: skip)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per job count; the median is reported")
    ap.add_argument("--no-hostile", dest="hostile", action="store_false", help="skip the hostile-mail section")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pitchsort-bench-"))
    try:
        box = tmp / "mailbox"
        box.mkdir()
        t0 = time.perf_counter()
        size = build_mailbox(box, args.messages)
        print(f"built {args.messages} messages ({size / 2**20:.0f} MB) in {time.perf_counter() - t0:.0f} s", flush=True)
        rows = []
        reference = reference_seconds()
        for jobs in (1, os.cpu_count() or 1):
            cmd = [str(BIN / "pitchsort"), "classify", str(box), "--csv", str(tmp / f"out{jobs}.csv"), "--model", str(args.model),
                   "--jobs", str(jobs)]
            walls = sorted(timed(cmd) for _ in range(args.repeat))
            wall = statistics.median(walls)
            tree, one = peak_memory(cmd)
            with (tmp / f"out{jobs}.csv").open(newline="", encoding="utf-8") as fh:
                lines = sum(1 for _ in csv.reader(fh)) - 1
            rows.append((jobs, wall, lines / wall, tree, one, lines, walls))
            print(f"jobs={jobs}: {lines} messages in {wall:.1f} s (runs: {', '.join(f'{w:.1f}' for w in walls)}) = "
                  f"{lines / wall:.0f} msg/s; peak PSS {tree:.0f} MB (largest process {one:.0f} MB)", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                           cwd=ROOT).stdout.strip()
    lines = [
        f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}{' (with uncommitted changes)' if dirty else ''}",
        "",
        f"Machine: {machine()}. Command: `make bench` (`python tools/bench.py --messages {args.messages} "
        f"--index-messages {args.index_messages} --repeat {args.repeat}`), "
        f"which runs `pitchsort classify MAILBOX --csv OUT --jobs N` on a {args.messages}-message varied mailbox: "
        f"{args.repeat} timed runs per N (median shown), then one run that samples memory. "
        f"Reference loop (`sum(i * i for i in range(10**7))`, best of 3) before the runs: {reference:.2f} s.",
        "",
        "| jobs | messages | seconds (median) | runs | messages/s | peak memory (PSS), process tree | peak PSS, largest process |",
        "| ---: | ---: | ---: | --- | ---: | ---: | ---: |",
        *[f"| {j} | {n} | {w:.1f} | {', '.join(f'{x:.1f}' for x in ws)} | {r:.0f} | {t:.0f} MB | {o:.0f} MB |"
          for j, w, r, t, o, n, ws in rows],
        "",
    ]
    if args.index_messages:
        import bench_fingerprint

        print(f"template index: indexing {args.index_messages} messages", flush=True)
        section = bench_fingerprint.markdown(bench_fingerprint.run(args.index_messages))
        print(section, flush=True)
        lines += [section.replace("## Template fingerprints", "### Template index (`tools/bench_fingerprint.py`)", 1)]
    if args.hostile:
        import bench_hostile

        print("hostile mail: classify, audit and run", flush=True)
        section = bench_hostile.run(args.model)
        print(section, flush=True)
        lines += [section]
    if not args.out.exists():
        args.out.write_text("# Benchmarks\n\nEach section is appended by `make bench`; nothing here is edited by hand.\n")
    with args.out.open("a") as fh:
        fh.write("\n".join(lines))
    print(f"appended to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
