"""Read the hand-written corpus sources described in FORMAT.md."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path

LANGS = ("en", "sv", "nl", "nb", "da", "de")
LABELS = ("cold_pitch", "personalized_outreach", "unsolicited_cv", "genuine_reply")
KEYS = {
    "from", "to", "cc", "subject", "date", "style", "charset", "encoding",
    "language", "mixed", "in_reply_to", "no_threading", "attachment",
    "list_unsubscribe", "x_mailer", "group", "note", "recipients", "nudge_of",
}
CHOICES = {
    "style": {"plain", "html", "html_only"},
    "charset": {"utf-8", "iso-8859-1", "windows-1252"},
    "encoding": {"qp", "base64", "8bit"},
    "language": set(LANGS),
    "mixed": {"yes", "no"},
    "no_threading": {"yes", "no"},
    "list_unsubscribe": {"yes", "no"},
}
SECTION = re.compile(r"^--- (quote|cv)\s*$")


@dataclass
class Record:
    id: str
    label: str
    lang: str
    path: Path
    line: int
    headers: dict[str, str]
    body: str
    quote: str = ""
    cv: str = ""

    @property
    def is_template(self) -> bool:
        return self.label == "cold_pitch"


@dataclass
class Recipient:
    first_name: str
    last_name: str
    company: str
    domain: str


@dataclass
class Problems:
    items: list[str] = field(default_factory=list)

    def add(self, path: Path, line: int, text: str) -> None:
        self.items.append(f"{path}:{line}: {text}")


def read_records(path: Path, label: str, lang: str, problems: Problems) -> list[Record]:
    records: list[Record] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("### "):
            if lines[i].strip():
                problems.add(path, i + 1, "text outside a record")
            i += 1
            continue
        start = i
        rid = lines[i][4:].strip()
        i += 1
        headers: dict[str, str] = {}
        while i < len(lines) and lines[i].strip():
            key, sep, value = lines[i].partition(":")
            key = key.strip().lower()
            if not sep or key not in KEYS:
                problems.add(path, i + 1, f"{rid}: unknown header line {lines[i]!r}")
            else:
                headers[key] = value.strip()
            i += 1
        parts: dict[str, list[str]] = {"body": [], "quote": [], "cv": []}
        current = "body"
        while i < len(lines) and not lines[i].startswith("### "):
            m = SECTION.match(lines[i])
            if m:
                current = m.group(1)
            else:
                parts[current].append(lines[i])
            i += 1
        rec = Record(
            id=rid, label=label, lang=lang, path=path, line=start + 1, headers=headers,
            body="\n".join(parts["body"]).strip("\n") + "\n",
            quote="\n".join(parts["quote"]).strip("\n"),
            cv="\n".join(parts["cv"]).strip("\n"),
        )
        _validate(rec, problems)
        records.append(rec)
    return records


def _validate(rec: Record, problems: Problems) -> None:
    h = rec.headers
    say = lambda text: problems.add(rec.path, rec.line, f"{rec.id}: {text}")  # noqa: E731
    if not re.fullmatch(rf"{rec.lang}-[cpvr]-\d+(-n\d+)?", rec.id):
        say("id should look like <lang>-<c|p|v|r>-<nnn>")
    required = ["subject", "date"]
    if "nudge_of" not in h:
        required.append("from")
    if not rec.is_template:
        required.append("to")
    for key in required:
        if not h.get(key):
            say(f"missing {key}")
    for key, allowed in CHOICES.items():
        if key in h and h[key] not in allowed:
            say(f"{key} must be one of {sorted(allowed)}")
    if "date" in h:
        try:
            datetime.strptime(h["date"], "%Y-%m-%d %H:%M")
        except ValueError:
            say("date must be YYYY-MM-DD HH:MM")
    for key in ("from", "to", "cc"):
        for part in filter(None, (p.strip() for p in h.get(key, "").split(";"))):
            if "@" not in parseaddr(part)[1]:
                say(f"{key} has no address: {part!r}")
    if rec.is_template:
        if "to" in h:
            say("a cold template has recipients: N, not to:")
        try:
            n = int(h.get("recipients", ""))
            if not 1 <= n <= 12:
                raise ValueError
        except ValueError:
            say("recipients must be a number from 1 to 12")
    elif "{" in rec.body and re.search(r"\{(first_name|last_name|company|sender_name)\}", rec.body):
        say("placeholders belong in cold templates only")
    if "attachment" in h:
        if not h["attachment"].lower().endswith((".pdf", ".docx")):
            say("attachment must end .pdf or .docx")
        if not rec.cv.strip():
            say("attachment without a --- cv section")
    if not rec.body.strip():
        say("empty body")


def read_recipients(path: Path, problems: Problems) -> list[Recipient]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) != 4 or not all(c.strip() for c in cols):
            problems.add(path, n, "need first_name<TAB>last_name<TAB>company<TAB>domain")
            continue
        out.append(Recipient(*(c.strip() for c in cols)))
    return out


def read_language(folder: Path, problems: Problems) -> tuple[list[Record], list[Recipient]]:
    lang = folder.name
    records: list[Record] = []
    for label in LABELS:
        path = folder / f"{label}.txt"
        if path.exists():
            records += read_records(path, label, lang, problems)
    recipients_path = folder / "recipients.tsv"
    recipients = read_recipients(recipients_path, problems) if recipients_path.exists() else []
    return records, recipients
