"""``pitchsort learn``: take the mail users filed into the label folders back into the labelled corpus.

When someone moves a misfiled message into the folder of its true label, that
folder now says what the message is. Learning copies every message of every
label folder (the copy/move folders of the config, plus ``[learn]``) into
``data/labeled/<label>/imap-<hash>.eml`` and appends it to ``MANIFEST.csv``
with ``made = "real"`` and ``source = "imap: <folder>"``; ``make train`` then retrains.

Nothing is learned twice: the state file records each (account, folder,
UIDVALIDITY, UID) taken, the file name is a hash of the bytes (a message in
two folders, or already in the corpus, is one file), and a file already
listed in the manifest is not listed again. The order (file, manifest,
state) makes an interrupted learn safe to run again. Folders are only
EXAMINEd: learning changes nothing on the server.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import lang
from pipeline.corpus.labelled import MANIFEST, MANIFEST_COLUMNS, read_manifest
from pipeline.exceptions import ConfigError, CorpusError, MailParseError, PipelineError
from pipeline.features import langid
from pipeline.imap.config import Account, Config
from pipeline.imap.session import ImapSession, open_session
from pipeline.imap.store import Store
from pipeline.mail.message import parse_bytes

log = logging.getLogger(__name__)

# A person filed it: real mail, by the corpus's definition (its `source` says which folder).
MADE = "real"
# The corpus wants whole messages; one larger than this is cut to its header and first part by the fetch, so skip it.
MAX_BYTES = 5_000_000


@dataclass
class LearnSummary:
    added: Counter[str] = field(default_factory=Counter)
    already: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 2 if self.errors else 0

    def line(self) -> str:
        added = sum(self.added.values())
        per = ", ".join(f"{n} {label}" for label, n in sorted(self.added.items()))
        text = f"learned {added} message{'s' * (added != 1)}" + (f" ({per})" if per else "")
        text += f"; {self.already} taken before" if self.already else ""
        text += f"; {self.skipped} skipped (see the log)" if self.skipped else ""
        return text + (f"; error: {self.errors[0]}" if self.errors else "")


def _lf(data: bytes) -> bytes:
    """Line ends as in the corpus files: IMAP servers hand out CRLF, the corpus is stored with LF."""
    return data.replace(b"\r\n", b"\n")


def _sha(data: bytes) -> str:
    """A hash that does not care about line ends, so a corpus file comes back from the server as the same message."""
    return hashlib.sha256(_lf(data)).hexdigest()


class Learner:
    def __init__(self, config: Config, store: Store, data: Path, *, dry_run: bool = False,
                 session_factory: Callable[[Account], ImapSession] = open_session):
        self.config = config
        self.store = store
        self.data = data
        self.dry_run = dry_run
        self.summary = LearnSummary()
        self._session_factory = session_factory
        try:
            self._listed = {e.file for e in read_manifest(data)}
        except CorpusError as exc:
            raise ConfigError(str(exc)) from None
        self._corpus = {_sha(p.read_bytes()) for p in data.rglob("*.eml")}

    def learn(self) -> LearnSummary:
        if not self.config.learn_folders:
            raise ConfigError(f"{self.config.path.name}: no label folders to learn from: give a label a copy/move folder "
                              "or list folders under [learn]")
        for account in self.config.accounts:
            try:
                with self._session_factory(account) as session:
                    for label, folder in sorted(self.config.learn_folders.items()):
                        self._folder(session, account, label, folder)
            except PipelineError as exc:
                self.summary.errors.append(str(exc))
        return self.summary

    def _folder(self, session: ImapSession, account: Account, label: str, folder: str) -> None:
        if not session.folder_exists(folder):
            log.info("learn: %s has no folder %s yet", account.name, folder)
            return
        sel = session.select(folder, readonly=True)
        taken = self.store.learned_uids(account.name, sel.name, sel.uidvalidity)
        todo = sorted(set(session.search_all()) - taken)
        self.summary.already += len(taken)
        for i in range(0, len(todo), self.config.batch_size):
            fetched = session.fetch(todo[i:i + self.config.batch_size], MAX_BYTES)
            for uid, item in sorted(fetched.items()):
                file = self._take(label, item.data, f"{account.name}:{folder}") if not item.partial else None
                if item.partial:
                    log.warning("learn: %s UID %d is %d bytes; not learned", folder, uid, item.size)
                if not self.dry_run:
                    self.store.record_learned(account.name, sel.name, sel.uidvalidity, uid, _sha(item.data), label, file or "")

    def _take(self, label: str, data: bytes, where: str) -> str | None:
        digest = _sha(data)
        name = f"{label}/imap-{digest[:16]}.eml"
        if digest in self._corpus or name in self._listed:
            self.summary.already += 1
            return None
        try:
            message = parse_bytes(data, name)
        except MailParseError as exc:
            log.warning("learn: %s: %s; not learned", where, exc)
            self.summary.skipped += 1
            return None
        language = langid.identify(f"{message.subject}\n{message.text}", message.sender.domain,
                                   *(a.domain for a in message.recipients))
        if language not in lang.LANGUAGES:
            log.warning("learn: %s %s is in none of the corpus languages; not learned", where, message.message_id)
            self.summary.skipped += 1
            return None
        self.summary.added[label] += 1
        self._corpus.add(digest)
        self._listed.add(name)
        if self.dry_run:
            log.info("learn (dry run): would add %s (%s)", name, language)
            return name
        path = self.data / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(_lf(data))
        tmp.replace(path)
        manifest = self.data / MANIFEST
        with manifest.open("rb") as fh:
            fh.seek(max(0, manifest.stat().st_size - 1))
            needs_newline = fh.read(1) not in (b"\n", b"")
        with manifest.open("a", newline="", encoding="utf-8") as fh:
            if needs_newline:
                fh.write("\n")
            row = {"file": name, "label": label, "language": language, "group": f"imap-{digest[:16]}", "made": MADE,
                   "source": f"imap: {where}", "licence": "the mailbox owner's own mail (private: never publish)",
                   "mixed": "no", "note": where}
            csv.writer(fh, lineterminator="\n").writerow([row[c] for c in MANIFEST_COLUMNS])
        log.info("learn: added %s (%s, %s)", name, language, where)
        return name


def learn(config: Config, data: Path, *, dry_run: bool = False, store: Store | None = None,
          session_factory: Callable[[Account], ImapSession] = open_session) -> LearnSummary:
    own = store is None
    store = store or Store.open(config.state, scratch=dry_run)
    try:
        return Learner(config, store, data, dry_run=dry_run, session_factory=session_factory).learn()
    finally:
        if own:
            store.close()
