"""``make demo``, IMAP part: the nightly run against a private Dovecot filled with the bundled sample mail.

Starts tools/dovecot.py's server on 127.0.0.1, APPENDs data/samples/*.eml to
a demo INBOX, writes a demo config (move, copy and keyword actions), runs the
real ``pitchsort run`` command twice (the second run has nothing to do),
shows the folders, keywords and the CSV, and stops the server.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))

from dovecot import Dovecot  # noqa: E402 - tools/ is not a package

PASSWORD = "demo-password-not-secret"
CONFIG = """\
# The demo config: a private Dovecot on 127.0.0.1, so clear text is allowed explicitly.
state = "state.sqlite"
log = "pitchsort.log"
csv = "imap.csv"

[[account]]
name = "demo"
host = "127.0.0.1"
port = {port}
tls = "insecure"
insecure = true
user = "hr"
password_env = "PITCHSORT_DEMO_PASSWORD"
folders = ["INBOX"]

[actions]
cold_pitch = {{ action = "move", folder = "Pitchsort/Cold pitch" }}
unsolicited_cv = {{ action = "copy", folder = "Pitchsort/CV" }}
personalized_outreach = {{ action = "keyword" }}
genuine_reply = {{ action = "none" }}
uncertain = {{ action = "keyword", keyword = "$pitchsort_uncertain" }}
"""


def show_mailbox(server: Dovecot) -> None:
    client = server.client("hr", PASSWORD)
    print("\nThe mailbox after the run:")
    for folder_flags, _delim, name in sorted(client.list_folders(), key=lambda f: f[2]):
        if {b"\\Noselect", b"\\NonExistent"} & set(folder_flags):
            continue
        info = client.select_folder(name, readonly=True)
        flags = client.fetch(client.search("ALL"), ["FLAGS"]) if info[b"EXISTS"] else {}
        keywords = Counter(f.decode() for item in flags.values() for f in item[b"FLAGS"] if f.startswith(b"$"))
        unseen = sum(1 for item in flags.values() if b"\\Seen" not in item[b"FLAGS"])
        kw = ", ".join(f"{k} x{n}" for k, n in sorted(keywords.items()))
        print(f"  {name:<24} {info[b'EXISTS']:>3} messages ({unseen} still unread){'; keywords: ' + kw if kw else ''}")
    client.logout()


def show_csv(path: Path, rows: int = 8) -> None:
    with path.open(newline="", encoding="utf-8") as fh:
        data = list(csv.DictReader(fh))
    print(f"\n{path} ({len(data)} rows; first {rows}):")
    for row in data[:rows]:
        print(f"  {row['source']:<52} {row['label']:<22} {row['confidence']}  {row['subject'][:40]}")


def main() -> int:
    out = REPO / "out" / "imap-demo"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    samples = sorted((REPO / "data" / "samples").glob("*.eml"))
    with Dovecot() as server:
        server.add_user("hr", PASSWORD)
        client = server.client("hr", PASSWORD)
        for path in samples:
            client.append("INBOX", path.read_bytes())
        client.logout()
        print(f"private Dovecot on {server.host}:{server.port}: {len(samples)} sample messages in INBOX")
        config = out / "config.toml"
        config.write_text(CONFIG.format(port=server.port))
        config.chmod(0o600)
        env = {**os.environ, "PITCHSORT_DEMO_PASSWORD": PASSWORD}
        pitchsort = str(REPO / ".venv" / "bin" / "pitchsort")
        for what in ("first run", "second run (nothing new)"):
            cmd = [pitchsort, "run", "--config", str(config), "--since", "all"]
            print(f"\n$ {' '.join(cmd[1:])}    # {what}")
            done = subprocess.run(cmd, env=env, check=False)
            if done.returncode != 0:
                print(f"pitchsort run exited with {done.returncode}", file=sys.stderr)
                return done.returncode
            if what == "first run":
                show_mailbox(server)
                show_csv(out / "imap.csv")
        log = (out / "pitchsort.log").read_text()
        assert PASSWORD not in log, "the password reached the log"
        print(f"\nlog: {out / 'pitchsort.log'} ({len(log.splitlines())} lines, no password in it)")
    print("private Dovecot stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
