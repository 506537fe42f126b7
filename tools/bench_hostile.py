"""The hostile mailbox (tests/hostile.py) with ordinary mail mixed in, through classify, audit and run.

    python tools/bench_hostile.py [--model models]     prints a Markdown section

Issue 17's targets are checked here, not by timed unit tests: every command exits 0 or 1, no message takes
more than 5 s, and the peak memory of each whole command (its process tree, PSS) stays under 600 MB.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tools")]

from dovecot import Dovecot  # noqa: E402
from hostile import write  # noqa: E402

ORDINARY = 50
MAX_SECONDS = 5.0
MAX_MB = 600
PASSWORD = "bench-password-not-secret"


@dataclass
class Measured:
    command: str
    exit_code: int
    seconds: float
    peak_mb: float
    note: str = ""


def measure(name: str, cmd: list[str], env: dict[str, str] | None = None) -> Measured:
    """Wall time, exit code and peak PSS of the process tree, sampled every 50 ms."""
    start = time.perf_counter()
    proc = psutil.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, sum(p.memory_full_info().pss for p in [proc, *proc.children(recursive=True)] if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    note = "traceback!" if "Traceback" in err else ""
    return Measured(name, proc.returncode, time.perf_counter() - start, peak / 2**20, note)


def box(folder: Path) -> tuple[list[Path], int]:
    """The hostile cases and ``ORDINARY`` sample messages; the mail files and how many are ordinary."""
    names = write(folder / "hostile")
    samples = sorted((ROOT / "data" / "samples").glob("*.eml"))[:ORDINARY]
    for path in samples:
        shutil.copy(path, folder / path.name)
    return [folder / "hostile" / n for n in names] + [folder / p.name for p in samples], len(samples)


def slowest_messages(files: list[Path], model: Path) -> list[tuple[float, str]]:
    """Each message classified on its own, as a run would (parse, template index, predict): seconds per message."""
    from pipeline.mail.sources import RawMail
    from pipeline.model.batch import classify_batch
    from pipeline.model.classifier import Classifier

    classifier = Classifier.load(model)
    classify_batch([RawMail("warm-up", (ROOT / "data" / "samples").glob("*.eml").__next__().read_bytes())], classifier, 0.6)
    out = []
    for path in files:
        data = path.read_bytes()
        start = time.perf_counter()
        classify_batch([RawMail(path.name, data)], classifier, 0.6)
        out.append((time.perf_counter() - start, path.name))
    return sorted(out, reverse=True)


def imap_run(files: list[Path], tmp: Path) -> Measured:
    with Dovecot() as server:
        server.add_user("hr", PASSWORD)
        client = server.client("hr", PASSWORD)
        for path in files:
            data = path.read_bytes()
            if b"\x00" not in data:  # IMAP APPEND without BINARY refuses NUL bytes
                client.append("INBOX", data)
        client.logout()
        config = tmp / "config.toml"
        config.write_text(f"""state = "{tmp / 'state.sqlite'}"
log = "{tmp / 'pitchsort.log'}"
csv = "{tmp / 'run.csv'}"

[[account]]
name = "bench"
host = "127.0.0.1"
port = {server.port}
tls = "insecure"
insecure = true
user = "hr"
password_env = "PITCHSORT_BENCH_PASSWORD"
folders = ["INBOX"]
""")
        env = {**os.environ, "PITCHSORT_BENCH_PASSWORD": PASSWORD}
        return measure("run (against a local Dovecot)", [str(BIN / "pitchsort"), "run", "--config", str(config)], env)


def run(model: Path) -> str:
    tmp = Path(tempfile.mkdtemp(prefix="pitchsort-hostile-"))
    try:
        folder = tmp / "box"
        folder.mkdir()
        files, ordinary = box(folder)
        pitchsort = str(BIN / "pitchsort")
        results = [
            measure("classify", [pitchsort, "classify", str(folder), "--csv", str(tmp / "c.csv"), "--model", str(model)]),
            measure("audit", [pitchsort, "audit", str(folder), "--csv", str(tmp / "a.csv"), "--html", str(tmp / "a.html"),
                              "--model", str(model)]),
            imap_run(files, tmp),
        ]
        with (tmp / "c.csv").open(newline="", encoding="utf-8") as fh:
            classified = {Path(r["source"]).name for r in csv.DictReader(fh)}
        ordinary_ok = sum(1 for f in files[-ordinary:] if f.name in classified)
        slow = slowest_messages(files, model)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ok = (all(r.exit_code in (0, 1) and not r.note for r in results) and slow[0][0] <= MAX_SECONDS
          and all(r.peak_mb < MAX_MB for r in results) and ordinary_ok == ordinary)
    lines = [
        "### Hostile mail (`tools/bench_hostile.py`)",
        "",
        f"The {len(files) - ordinary} hostile messages of `tests/hostile.py` (plus its links and FIFO, which are not mail) "
        f"with {ordinary} ordinary sample messages. Targets: exit 0 or 1, no message over {MAX_SECONDS:g} s, "
        f"peak memory of each whole command under {MAX_MB} MB. **{'All met' if ok else 'NOT MET'}.** "
        f"Ordinary messages classified by `classify`: {ordinary_ok} of {ordinary}.",
        "",
        "| command | exit code | seconds | peak memory (PSS), process tree |",
        "| --- | ---: | ---: | ---: |",
        *[f"| `{r.command}` | {r.exit_code}{' ' + r.note if r.note else ''} | {r.seconds:.1f} | {r.peak_mb:.0f} MB |"
          for r in results],
        "",
        "Slowest messages, each classified on its own (parse, template index, predict):",
        "",
        "| message | seconds |",
        "| --- | ---: |",
        *[f"| {name} | {s:.2f} |" for s, name in slow[:5]],
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=ROOT / "models")
    args = ap.parse_args()
    print(run(args.model))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
