"""The labelled corpus on disk: ``data/labeled/<label>/*.eml`` and ``MANIFEST.csv``."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.exceptions import CorpusError, MailParseError
from pipeline.mail.message import Message, parse_bytes

MANIFEST = "MANIFEST.csv"
MANIFEST_COLUMNS = ("file", "label", "language", "group", "made", "source", "licence", "mixed", "note")
# How a message came to be: written by real people (stored byte for byte as its source holds it), written for the
# project, or translated from a real message (``source`` names that file).
MADE = ("real", "written", "translated")


@dataclass(frozen=True)
class Entry:
    file: str
    label: str
    language: str
    group: str
    made: str = ""
    source: str = ""
    licence: str = ""
    mixed: str = ""
    note: str = ""


# Which public corpus a real message's ``source`` names, for leave-one-source-out.
_ORIGINS = (("Enron-Spam-Classifier", "enron"), ("datasets-spam-assassin", "spamassassin"), ("Datos_IA", "trec07p"),
            ("CodEAlltag", "codealltag"))


def origin(entry: Entry) -> str:
    """``enron``, ``spamassassin``, ``trec07p`` or ``codealltag`` for real mail; else how it was made."""
    if entry.made != "real":
        return entry.made
    return next((name for key, name in _ORIGINS if key in entry.source), "real")


@dataclass(frozen=True)
class LabelledMail:
    entry: Entry
    message: Message


def read_manifest(folder: Path) -> list[Entry]:
    path = folder / MANIFEST
    if not path.is_file():
        raise CorpusError(f"no {MANIFEST} in {folder}")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = set(MANIFEST_COLUMNS[:4]) - set(reader.fieldnames or ())
        if missing:
            raise CorpusError(f"{path}: missing columns {', '.join(sorted(missing))}")
        return [Entry(**{k: row.get(k) or "" for k in MANIFEST_COLUMNS}) for row in reader]


def iter_corpus(folder: Path) -> Iterator[LabelledMail]:
    """Every manifest entry with its parsed message; raises on a file that does not parse."""
    for entry in read_manifest(folder):
        path = folder / entry.file
        try:
            yield LabelledMail(entry, parse_bytes(path.read_bytes(), str(path)))
        except OSError as exc:
            raise CorpusError(f"{path}: {exc.strerror}") from exc
        except MailParseError as exc:
            raise CorpusError(str(exc)) from exc


def fingerprint(folder: Path) -> str:
    """A hash of the manifest and every file it names: which data a model saw."""
    digest = hashlib.sha256()
    for entry in read_manifest(folder):
        digest.update(f"{entry.file}\t{entry.label}\n".encode())
        digest.update(hashlib.sha256((folder / entry.file).read_bytes()).digest())
    return digest.hexdigest()[:16]

