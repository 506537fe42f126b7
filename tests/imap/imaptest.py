"""Helpers for the IMAP tests (fixtures are in conftest.py): mailboxes, configs, runs and where mail ended up."""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from pipeline import UNCERTAIN
from pipeline.imap.config import Config, parse
from pipeline.imap.run import Options, Summary, run
from pipeline.mail.sources import RawMail
from pipeline.model.batch import classify_batch
from pipeline.model.classifier import Classifier

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
from dovecot import Dovecot  # noqa: E402 - tools/ is not a package

LABELED = REPO / "data" / "labeled"
MODELS = REPO / "models"
PASSWORD_ENV = "PITCHSORT_TEST_PASSWORD"
ACTIONS = {
    "cold_pitch": ("move", "Pitchsort/Cold pitch"),
    "unsolicited_cv": ("copy", "Pitchsort/CV"),
    "personalized_outreach": ("keyword", "$pitchsort_personalized_outreach"),
    "genuine_reply": ("none", ""),
    "other": ("none", ""),
    UNCERTAIN: ("keyword", "$pitchsort_uncertain"),
}


@dataclass
class Mailbox:
    """A fresh mail user on a server, with helpers to fill and inspect it."""

    server: Dovecot
    user: str
    password: str

    def client(self):
        return self.server.client(self.user, self.password)

    def append(self, messages: list[bytes], folder: str = "INBOX", flags: tuple[bytes, ...] = (), msg_time=None) -> None:
        c = self.client()
        for data in messages:
            c.append(folder, data, flags=flags, msg_time=msg_time)
        c.logout()

    def census(self) -> dict[str, Counter[str]]:
        """Message-ID -> how many copies in which folder (every message, \\Deleted or not)."""
        c = self.client()
        where: dict[str, Counter[str]] = defaultdict(Counter)
        for flags, _d, name in c.list_folders():
            if b"\\Noselect" in flags or b"\\NonExistent" in flags:
                continue
            c.select_folder(name, readonly=True)
            uids = c.search("ALL")
            for item in c.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]).values():
                mid = item[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].decode().split(":", 1)[1].strip()
                where[mid][name] += 1
        c.logout()
        return where

    def flags(self, folder: str = "INBOX") -> dict[str, set[bytes]]:
        """Message-ID -> flags, for one folder."""
        c = self.client()
        c.select_folder(folder, readonly=True)
        out = {}
        for item in c.fetch(c.search("ALL"), ["FLAGS", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]).values():
            mid = item[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].decode().split(":", 1)[1].strip()
            out[mid] = set(item[b"FLAGS"])
        c.logout()
        return out


def new_mailbox(server: Dovecot) -> Mailbox:
    user, password = f"u{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    server.add_user(user, password)
    return Mailbox(server, user, password)


def config_text(box: Mailbox, tmp: Path, *, folders: tuple[str, ...] = ("INBOX",), extra: str = "", account_extra: str = "",
                port: int | None = None, tls: str = "insecure") -> str:
    actions = "\n".join(
        f'{label} = {{ action = "{kind}", folder = "{arg}" }}' if kind in ("move", "copy") else
        f'{label} = {{ action = "{kind}", keyword = "{arg}" }}' if kind == "keyword" else f'{label} = {{ action = "{kind}" }}'
        for label, (kind, arg) in ACTIONS.items()
    )
    insecure = "insecure = true\n" if tls == "insecure" else ""
    return f"""\
state = "{tmp / 'state.sqlite'}"
log = "{tmp / 'pitchsort.log'}"
reconnect_delay = 0.05
reconnect_tries = 8
{extra}

[[account]]
name = "test"
host = "127.0.0.1"
port = {port or box.server.port}
tls = "{tls}"
{insecure}user = "{box.user}"
password_env = "{PASSWORD_ENV}"
folders = [{', '.join(f'"{f}"' for f in folders)}]
timeout = 10
{account_extra}

[actions]
{actions}
"""


def make_config(box: Mailbox, tmp: Path, **kwargs) -> Config:
    path = tmp / "config.toml"
    path.write_text(config_text(box, tmp, **kwargs))
    path.chmod(0o600)
    return parse(path.read_text(), path)


def imap_run(config: Config, classifier: Classifier, **options) -> Summary:
    return run(config, Options(**options), lambda: classifier)


def expected_labels(messages: list[bytes], classifier: Classifier, threshold: float = 0.6) -> dict[str, str]:
    """Message-ID -> the label the model gives the message offline (the IMAP run must file it by this)."""
    # Classify the bytes as the server hands them out (CRLF line ends), not as they lie on disk.
    crlf = [m.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") for m in messages]
    rows = classify_batch([RawMail(f"m{i}", m) for i, m in enumerate(crlf)], classifier, threshold)
    return {r.message_id: str(r.label) for r in rows}


def decided_labels(config: Config) -> dict[str, str]:
    """Message-ID -> the label the run recorded for it, which is where it must be filed.

    A message's label depends on the template families of the mail seen
    before it (and beside it in its batch), so after an interrupted run it is
    the run's own record, not an offline prediction, that says where the
    message belongs.
    """
    db = sqlite3.connect(config.state)
    try:
        return dict(db.execute("SELECT message_id, label FROM messages ORDER BY at"))
    finally:
        db.close()


def placement(label: str, nomove_separator: str = "/") -> Counter[str]:
    """Where a message of this label must be after a run, and how many times."""
    kind, arg = ACTIONS[label]
    target = arg.replace("/", nomove_separator)
    if kind == "move":
        return Counter({target: 1})
    if kind == "copy":
        return Counter({"INBOX": 1, target: 1})
    return Counter({"INBOX": 1})


def assert_exactly_once(box: Mailbox, labels: dict[str, str], separator: str = "/") -> None:
    """Every message exactly where its label sends it, once; nothing else anywhere."""
    census = box.census()
    assert set(census) == set(labels), (len(census), len(labels))
    wrong = {mid: (labels[mid], dict(census[mid])) for mid in labels if census[mid] != placement(labels[mid], separator)}
    assert not wrong, f"{len(wrong)} misplaced: {list(wrong.items())[:5]}"


PITCHSORT = str(Path(sys.executable).parent / "pitchsort")


def pitchsort(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PITCHSORT, *args], capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})


def write(tmp: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return path
