"""The nightly run: for each account and folder, classify the mail not handled before and file it on the server.

Order of work for one folder (:meth:`Runner._folder`):

1. SELECT it and compare its UIDVALIDITY with the state file. A folder seen
   for the first time is scanned from ``--since`` (default 30 days) and from
   the UIDNEXT of that moment; a renumbered folder (new UIDVALIDITY) is
   rescanned, and a message handled before is recognised by its header
   digest or Message-ID and not acted on again.
2. Settle what an earlier, interrupted run left ``pending`` (:meth:`Runner._recover`).
3. SEARCH the UIDs not yet handled (not in the state file, and not marked
   ``$pitchsort_handled`` on the server by any run), FETCH them in batches
   (BODY.PEEK), parse and classify them, and act per label: keywords first,
   then copies, then moves; what stays in the folder is then marked
   ``$pitchsort_handled``. Every copy or move is written to the state as ``pending`` (with
   the target's UIDNEXT) before the command is sent and as ``done`` after
   the server's OK, so whatever point a crash or a dropped connection hits,
   the next look at the server can tell whether the command took effect:
   the copy is in the target at or above the recorded UIDNEXT, with the
   same header bytes, or it is not.

A dropped connection is retried with exponential back-off; the folder is then
taken up again from step 1, which continues exactly where the state says the
run stopped. Exit codes: 0 all done, 1 some messages not handled (they are
retried next run), 2 configuration or authentication error.
"""

from __future__ import annotations

import csv
import logging
import logging.handlers
import os
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import IO
from urllib.parse import quote

from pipeline import NEVER_MOVED, UNCERTAIN
from pipeline.exceptions import AuthError, ConfigError, ImapConnectionLost, ImapError, PipelineError
from pipeline.features.fingerprint import TemplateIndex
from pipeline.imap.config import Account, Action, Config, default_keyword
from pipeline.imap.session import Fetched, ImapSession, RedactingFilter, Selected, open_session
from pipeline.imap.store import PENDING, FolderState, Handled, Store
from pipeline.mail.sources import RawMail
from pipeline.model.batch import CSV_COLUMNS, Failure, Row, classify_batch
from pipeline.model.classifier import Classifier

log = logging.getLogger(__name__)

ALL = "all"
MAX_DELAY = 300.0
_ORDER = {"none": 0, "keyword": 1, "copy": 2, "move": 3}  # moves last: a moved UID is gone from the folder
# Set on every message pitchsort has handled and left in a folder it scans: the server remembers what was done, so a
# second state file (a second install, a restored backup) or a lost one does not act on the message again.
HANDLED = "$pitchsort_handled"
# A message that cannot be read in this many runs in a row is given up: keyworded uncertain and not fetched again
# until it changes (a new UID), so that exit 1 keeps meaning that something new went wrong.
GIVE_UP_RUNS = 3
_PAST = {"none": "left as they were", "keyword": "keyworded", "copy": "copied", "move": "moved"}


@dataclass(frozen=True)
class Options:
    """What the command line adds to the config for one run."""

    dry_run: bool = False
    csv: Path | None = None
    since: date | str | None = None  # a date, ALL, or None for the config's since_days on a folder's first run


@dataclass
class Summary:
    dry_run: bool = False
    folders: int = 0
    new: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    known: int = 0
    unreadable: int = 0  # new tonight: exit 1
    still_unreadable: int = 0  # unreadable in an earlier run too, already reported
    gave_up: int = 0
    not_handled: int = 0
    recovered: int = 0
    errors: list[str] = field(default_factory=list)  # configuration and authentication: exit 2
    problems: list[str] = field(default_factory=list)  # anything left for the next run: exit 1

    @property
    def exit_code(self) -> int:
        if self.errors:
            return 2
        return 1 if (self.unreadable or self.not_handled or self.problems) else 0

    def line(self) -> str:
        """The one line cron mails: what happened, and where to look when something did not."""
        done = ", ".join(f"{n} {'would be ' if self.dry_run else ''}{_PAST.get(kind, kind)}"
                         for kind, n in sorted(self.actions.items(), key=lambda kv: _ORDER.get(kv[0], 9)) if n)
        parts = [f"{self.new} new message{'s' * (self.new != 1)} in {self.folders} folder{'s' * (self.folders != 1)}"
                 + (f": {done}" if done else "")]
        if self.known:
            parts.append(f"{self.known} handled before under another UID")
        if self.recovered:
            parts.append(f"{self.recovered} settled from an interrupted run")
        if self.unreadable:
            parts.append(f"{self.unreadable} unreadable (left in place)")
        if self.still_unreadable:
            parts.append(f"{self.still_unreadable} still unreadable (reported before)")
        if self.gave_up:
            parts.append(f"{self.gave_up} given up after {GIVE_UP_RUNS} runs unreadable (keyworded uncertain, not fetched again)")
        if self.not_handled:
            parts.append(f"{self.not_handled} not handled (retried next run)")
        if self.problems or self.errors:
            parts.append(f"{len(self.problems) + len(self.errors)} error(s): {(self.errors + self.problems)[0]}")
        return "; ".join(parts) + (" [dry run: nothing changed]" if self.dry_run else "")


def imap_url(account: Account, folder: str, uid: int) -> str:
    """``imap://user@host/folder;UID=n`` (RFC 5092 escaping), the ``source`` column of the CSV."""
    return f"imap://{quote(account.user, safe='')}@{account.host}/{quote(folder, safe='/')};UID={uid}"


def setup_logging(path: Path) -> logging.Handler:
    """Details go to a rotating log file; a filter strips any secret that might slip into a message."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    if path.stat().st_uid == os.geteuid():
        path.chmod(0o600)  # it names senders' Message-IDs: for its owner's eyes only
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("pipeline")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


class Runner:
    """One run over every account of a config. ``Runner(...).run()`` returns the :class:`Summary`."""

    def __init__(self, config: Config, store: Store, load_classifier: Callable[[], Classifier], options: Options = Options(),
                 *, session_factory: Callable[[Account], ImapSession] = open_session,
                 sleep: Callable[[float], None] = time.sleep, index: TemplateIndex | None = None):
        self.config = config
        self.index = index
        self.store = store
        self.options = options
        self.dry = options.dry_run
        self.summary = Summary(dry_run=options.dry_run)
        self._load_classifier = load_classifier
        self._classifier: Classifier | None = None
        self._session_factory = session_factory
        self._sleep = sleep
        self._progress = 0
        self._todo: dict[str, int] = {}
        self._seen_folders: set[tuple[str, str]] = set()
        self._marked: set[int] = set()  # UIDs of the folder at hand that another run marked handled
        self._csv: csv.writer | None = None  # type: ignore[valid-type]

    @property
    def classifier(self) -> Classifier:
        """Loaded on first need: a night with no new mail never pays for the model."""
        if self._classifier is None:
            self._classifier = self._load_classifier()
        return self._classifier

    def run(self) -> Summary:
        log.info("run started%s: %d account(s)", " (dry run)" if self.dry else "", len(self.config.accounts))
        csv_path = self.options.csv or self.config.csv
        fh: IO[str] | None = None
        try:
            if csv_path:
                csv_path.parent.mkdir(parents=True, exist_ok=True)
                fh = csv_path.open("w", newline="", encoding="utf-8")
                self._csv = csv.writer(fh)
                self._csv.writerow(CSV_COLUMNS)
            for account in self.config.accounts:
                self._account(account)
        except OSError as exc:
            raise PipelineError(f"{exc.filename or csv_path}: {exc.strerror}") from None
        finally:
            if fh:
                fh.close()
        log.info("run finished: %s", self.summary.line())
        for problem in self.summary.errors + self.summary.problems:
            log.error("%s", problem)
        return self.summary

    # -- accounts and reconnection ---------------------------------------------------------------------------------
    def _account(self, account: Account) -> None:
        remaining = list(account.folders)
        tries = 0
        session: ImapSession | None = None
        try:
            while remaining:
                progress = self._progress
                try:
                    if session is None:
                        try:
                            session = self._session_factory(account)
                        except ImapConnectionLost:
                            raise
                        except PipelineError as exc:
                            self.summary.errors.append(str(exc))
                            return
                        log.info("connected to %s:%d as %s", account.host, account.port, account.user)
                    self._folder(session, account, remaining[0])
                    remaining.pop(0)
                except ImapConnectionLost as exc:
                    if session is not None:
                        session.close()
                        session = None
                    tries = 1 if self._progress > progress else tries + 1
                    if tries > self.config.reconnect_tries:
                        self.summary.problems.append(f"{exc}; gave up after {tries - 1} reconnect(s)")
                        self.summary.not_handled += self._left_in(remaining)
                        return
                    delay = min(self.config.reconnect_delay * 2 ** (tries - 1), MAX_DELAY)
                    log.warning("%s; reconnecting in %.1f s (attempt %d of %d)", exc, delay, tries, self.config.reconnect_tries)
                    self._sleep(delay)
                except (ConfigError, AuthError) as exc:
                    self.summary.errors.append(str(exc))
                    remaining.pop(0)
                except ImapError as exc:  # a command refused (quota, permissions): this folder waits for the next run
                    self.summary.problems.append(str(exc))
                    log.error("%s: %s; the rest of this folder is left for the next run", remaining[0], exc)
                    remaining.pop(0)
        finally:
            if session is not None:
                session.close()

    def _left_in(self, folders: list[str]) -> int:
        """How many messages a give-up leaves for the next run (as far as the last look at the server knows)."""
        return max(1, sum(self._todo.get(f, 0) for f in folders))

    # -- one folder ------------------------------------------------------------------------------------------------
    def _folder(self, session: ImapSession, account: Account, folder: str) -> None:
        sel = session.select(folder, readonly=self.dry)
        validity = sel.uidvalidity
        scan = self.store.folder_state(account.name, folder, validity)
        if scan is None:
            earlier = self.store.earlier_scans(account.name, folder)
            if earlier:
                log.warning("%s: UIDVALIDITY changed (%d -> %d): rescanning; messages handled before are recognised "
                            "by Message-ID and not acted on again", folder, earlier[-1][0], validity)
                scan = FolderState(earlier[-1][1].since, sel.uidnext)
            else:
                scan = FolderState(self._first_since(), sel.uidnext)
            self.store.start_folder(account.name, folder, validity, scan)
        sel = self._recover(session, account, folder, sel)
        since = self._since(scan)
        found = set(session.search_since(since) if since else session.search_all())
        found |= set(session.search_from_uid(scan.start_uid))
        todo = sorted(found - self.store.handled_uids(account.name, folder, validity))
        # Marked on the server but not in this state file: handled by another run (another install, a lost state).
        self._marked = set(session.search_keyword(HANDLED)) & set(todo) if todo and sel.allows_keyword(HANDLED) else set()
        self._todo[folder] = len(todo)
        if (account.name, folder) not in self._seen_folders:
            self._seen_folders.add((account.name, folder))
            self.summary.folders += 1
        log.info("%s: UIDVALIDITY %d, %d message(s) to handle", folder, validity, len(todo))
        for batch in _chunks(todo, self.config.batch_size):
            self._batch(session, account, folder, sel, batch)
            self._todo[folder] -= len(batch)
            self._progress += 1

    def _first_since(self) -> str:
        since = self.options.since
        if since == ALL:
            return ""
        if isinstance(since, date):
            return since.isoformat()
        return (date.today() - timedelta(days=self.config.since_days)).isoformat()

    def _since(self, scan: FolderState) -> date | None:
        """An explicit ``--since`` widens or narrows this run; otherwise the folder's first-run date holds."""
        since = self.options.since
        if since == ALL:
            return None
        if isinstance(since, date):
            return since
        return date.fromisoformat(scan.since) if scan.since else None

    # -- one batch -------------------------------------------------------------------------------------------------
    def _batch(self, session: ImapSession, account: Account, folder: str, sel: Selected, uids: list[int]) -> None:
        fetched = session.fetch(uids, self.config.max_message_bytes)
        known: list[Handled] = []
        fresh: list[Fetched] = []
        for uid in uids:
            item = fetched.get(uid)
            if item is None:  # expunged between SEARCH and FETCH: nothing left to handle
                continue
            earlier = self.store.seen_before(account.name, folder, sel.uidvalidity, item.message_id, item.digest)
            if earlier is None and uid in self._marked:
                log.info("%s UID %d %s carries %s: handled by another run; not acted on again", folder, uid,
                         item.message_id or "(no Message-ID)", HANDLED)
                known.append(Handled(account.name, folder, sel.uidvalidity, uid, item.message_id, item.digest, "", 0.0, "known"))
            elif earlier:
                log.info("%s UID %d %s: handled before as UID %d (%s, %s); not acted on again", folder, uid,
                         item.message_id or "(no Message-ID)", earlier.uid, earlier.label, earlier.action)
                known.append(Handled(account.name, folder, sel.uidvalidity, uid, item.message_id, item.digest,
                                     earlier.label, earlier.confidence, "known"))
            else:
                fresh.append(item)
                if item.partial:
                    log.info("%s UID %d is %d bytes: classified from its header and the first %d KB of its body",
                             folder, uid, item.size, len(item.data) // 1024)
        self.summary.new += len(fresh) + len(known)
        self.summary.known += len(known)
        if known:
            self.store.record_done(known)
        if not fresh:
            return
        results = classify_batch([RawMail(imap_url(account, folder, f.uid), f.data) for f in fresh], self.classifier,
                                 self.config.threshold, self.index)
        plans: list[tuple[Fetched, Row]] = []
        for item, result in zip(fresh, results, strict=True):
            if isinstance(result, Failure):
                self._unreadable(session, account, folder, sel, item, result.reason)
                continue
            if self._csv is not None:
                self._csv.writerow(result.as_csv())
            plans.append((item, result))
        self._act(session, account, folder, sel, plans)

    def _unreadable(self, session: ImapSession, account: Account, folder: str, sel: Selected, item: Fetched,
                    reason: str) -> None:
        runs = self.store.record_failure(account.name, folder, sel.uidvalidity, item.uid, item.digest, reason)
        who = f"{folder} UID {item.uid} {item.message_id or '(no Message-ID)'}"
        if runs < GIVE_UP_RUNS:
            if runs == 1:
                self.summary.unreadable += 1
                log.warning("%s could not be parsed (%s); left untouched, tried again next run", who, reason)
            else:
                self.summary.still_unreadable += 1
                log.info("%s could not be parsed in %d runs in a row (%s); given up after %d", who, runs, reason, GIVE_UP_RUNS)
            return
        action = self.config.actions.get(UNCERTAIN, Action("none"))
        keyword = action.keyword if action.action == "keyword" else default_keyword(UNCERTAIN)
        self.summary.gave_up += 1
        log.warning("%s could not be parsed in %d runs in a row (%s); given up: keyword %s, not fetched again until it "
                    "changes", who, runs, reason, keyword)
        if self.dry:
            return
        row = Handled(account.name, folder, sel.uidvalidity, item.uid, item.message_id, item.digest, UNCERTAIN, 0.0, "gave_up")
        self.store.record_done([row])
        for flag in (keyword, HANDLED):
            if sel.allows_keyword(flag):
                session.add_keyword([item.uid], flag)

    def _action_for(self, label: str) -> Action:
        action = self.config.actions.get(label, Action("none"))
        if label in NEVER_MOVED and action.action in ("copy", "move"):
            return Action("none")  # never moved: the config forbids it too
        return action

    def _act(self, session: ImapSession, account: Account, folder: str, sel: Selected,
             plans: list[tuple[Fetched, Row]]) -> None:
        groups: dict[Action, list[Handled]] = defaultdict(list)
        for item, row in plans:
            action = self._action_for(str(row.label))
            groups[action].append(Handled(account.name, folder, sel.uidvalidity, item.uid, item.message_id, item.digest,
                                          str(row.label), float(row.confidence), action.action))
        for action, rows in sorted(groups.items(), key=lambda kv: _ORDER[kv[0].action]):
            uids = [r.uid for r in rows]
            kind = action.action
            if self.dry:
                what = {"keyword": f"add keyword {action.keyword}", "copy": f"copy to {action.folder}",
                        "move": f"move to {action.folder}", "none": "leave"}[kind]
                for r in rows:
                    log.info("dry run: would %s: %s UID %d %s (%s %.2f)", what, folder, r.uid, r.message_id, r.label, r.confidence)
                self.store.record_done(rows)  # the scratch copy only: keeps this run consistent, never written to disk
            elif kind == "none":
                self.store.record_done(rows)
            elif kind == "keyword":
                if sel.allows_keyword(action.keyword):
                    session.add_keyword(uids, action.keyword)
                    self.store.record_done(rows)
                else:
                    log.warning("%s does not allow the keyword %s (PERMANENTFLAGS %s); %d message(s) left without it",
                                folder, action.keyword, b" ".join(sel.permanent_flags).decode(errors="replace"), len(rows))
                    self.store.record_done([replace(r, action="none") for r in rows])
                    kind = "none"
            else:
                target = session.ensure_folder(action.folder)
                target_validity, target_next = session.status(target)
                rows = [replace(r, target=target, target_uidvalidity=target_validity, target_uidnext=target_next, state=PENDING)
                        for r in rows]
                self.store.record_intent(rows)
                (session.move if kind == "move" else session.copy)(uids, target)
                self.store.record_done(rows)
            self.summary.actions[kind] += len(rows)
            if not self.dry and kind != "move" and sel.allows_keyword(HANDLED):
                # After the state says done, so a crash here leaves nothing behind; a moved message is gone from the folder.
                session.add_keyword(uids, HANDLED)
            if not self.dry:
                for r in rows:
                    log.info("%s UID %d %s: %s %.2f -> %s%s", folder, r.uid, r.message_id or "(no Message-ID)", r.label,
                             r.confidence, kind, f" {r.target}" if r.target else f" {action.keyword}" if kind == "keyword" else "")

    # -- recovery --------------------------------------------------------------------------------------------------
    def _recover(self, session: ImapSession, account: Account, folder: str, sel: Selected) -> Selected:
        """Settle copies and moves an interrupted run left ``pending``, by looking at both folders.

        For each pending row: its copy is in the target (at or above the
        UIDNEXT recorded before the command, with the same header bytes) or
        it is not; the source UID is still there or it is not.

        ============  =========  ===============================================
        copy found    in source  then
        ============  =========  ===============================================
        yes           no         moved: done
        yes           yes        copied (a move cut before its EXPUNGE: expunge
                                 that UID now); done
        no            yes        never happened: forget it, handle it again
        no            no         the user removed it meanwhile: done, logged
        ============  =========  ===============================================

        Copies are counted per header digest, so two identical messages
        cannot both claim one copy.
        """
        pending = self.store.pending(account.name, folder)
        if not pending:
            return sel
        if self.dry:
            log.warning("%s: %d message(s) pending from an interrupted run; the next real run settles them", folder, len(pending))
            return sel
        log.warning("%s: settling %d message(s) an interrupted run left pending", folder, len(pending))
        current = [p for p in pending if p.uidvalidity == sel.uidvalidity]
        present = session.existing(p.uid for p in current) if current else set()
        groups: dict[tuple[str, int, int], list[Handled]] = defaultdict(list)
        for p in pending:
            groups[(p.target, p.target_uidvalidity, p.target_uidnext)].append(p)
        copies: dict[tuple[str, int, int], Counter[str]] = {}
        for key in groups:
            target, validity, uidnext = key
            if not session.folder_exists(target):
                copies[key] = Counter()
                continue
            tsel = session.select(target, readonly=True)
            uids = session.search_from_uid(uidnext) if tsel.uidvalidity == validity else session.search_all()
            copies[key] = Counter(session.header_digests(uids).values())
        sel = session.select(folder, readonly=False)
        done: list[Handled] = []
        expunge: list[Handled] = []
        redo: list[Handled] = []
        stale_moves: list[Handled] = []
        for key, rows in groups.items():
            found = copies[key]
            for row in sorted(rows, key=lambda r: r.uidvalidity == sel.uidvalidity and r.uid in present):
                in_source = row.uidvalidity == sel.uidvalidity and row.uid in present
                if found[row.digest] > 0:
                    found[row.digest] -= 1
                    done.append(row)
                    if row.action == "move" and in_source:
                        expunge.append(row)
                    elif row.action == "move" and row.uidvalidity != sel.uidvalidity:
                        stale_moves.append(row)
                elif in_source or row.uidvalidity != sel.uidvalidity:
                    redo.append(row)  # never reached the server; a renumbered folder's rescan finds it again
                else:
                    log.warning("%s UID %d %s: neither in %s nor in %s any more (removed by someone meanwhile)",
                                folder, row.uid, row.message_id, folder, row.target)
                    done.append(row)
        uids = [r.uid for r in expunge] + self._leftovers(session, stale_moves)
        if uids:
            log.warning("%s: removing %d message(s) already copied by a move that was cut short", folder, len(uids))
            session.expunge_uids(uids)
        self.store.record_done(done)
        for validity in {r.uidvalidity for r in redo}:
            self.store.forget(account.name, folder, validity, [r.uid for r in redo if r.uidvalidity == validity])
        self.summary.recovered += len(done) + len(redo)
        log.info("%s: %d settled as done, %d to handle again", folder, len(done), len(redo))
        return sel

    def _leftovers(self, session: ImapSession, rows: list[Handled]) -> list[int]:
        """Source copies of moves cut short just before the folder was renumbered, found by Message-ID and header."""
        out: list[int] = []
        for row in rows:
            if not row.message_id:
                continue
            uids = session.search_message_id(row.message_id)
            out += [u for u, d in session.header_digests(uids).items() if d == row.digest][:1]
        return out


def run(config: Config, options: Options, load_classifier: Callable[[], Classifier], *,
        session_factory: Callable[[Account], ImapSession] = open_session, sleep: Callable[[float], None] = time.sleep,
        store: Store | None = None) -> Summary:
    """Open the state (a scratch copy for a dry run) and do one run; the caller holds the lock."""
    own = store is None
    store = store or Store.open(config.state, scratch=options.dry_run)
    index, scratch = _open_templates(config.state, options.dry_run)
    try:
        return Runner(config, store, load_classifier, options, session_factory=session_factory, sleep=sleep,
                      index=index).run()
    finally:
        index.close()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        if own:
            store.close()


def templates_path(state: Path) -> Path:
    """The template index lives beside the state, so a template seen last month is still known."""
    return state.with_name("templates.sqlite")


def _open_templates(state: Path, dry_run: bool) -> tuple[TemplateIndex, Path | None]:
    """The template index; for a dry run a scratch copy, so that nothing on disk changes."""
    path = templates_path(state)
    if not dry_run:
        path.parent.mkdir(parents=True, exist_ok=True)
        return TemplateIndex.open(path), None
    scratch = Path(tempfile.mkdtemp(prefix="pitchsort-dry-"))
    copy = scratch / path.name
    if path.exists():
        shutil.copyfile(path, copy)
    return TemplateIndex.open(copy), scratch
