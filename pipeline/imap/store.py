"""The run's memory: which messages were handled, in a SQLite file, plus the lock that keeps runs from overlapping.

State is keyed by (account, folder, UIDVALIDITY) as isbg keys its seen UIDs,
but lives in SQLite and every write is a transaction (:meth:`Store.atomic`),
so a crash leaves either the old or the new state, never half of one.
Schema changes are named migrations recorded in ``_migrations``, each applied
in the same transaction as its record (sqlite-utils' ``Migrations``).

A copy or move is written twice: first as ``pending`` with where the copy
will land (the target's UIDVALIDITY and UIDNEXT just before), then as
``done`` once the server said OK. A ``pending`` row found later means the
connection or the process died in between; the run then looks on the server
to see what really happened before it acts again (pipeline/imap/run.py).

A dry run works on an in-memory copy (:meth:`Store.open` with
``scratch=True``): it sees the real state and changes nothing on disk.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from pipeline.exceptions import LockedError, StateError

PENDING, DONE = "pending", "done"


@dataclass(frozen=True)
class Handled:
    """One message of one folder, and what pitchsort did (or set out to do) with it."""

    account: str
    folder: str
    uidvalidity: int
    uid: int
    message_id: str
    digest: str
    label: str
    confidence: float
    action: str
    target: str = ""
    state: str = DONE
    target_uidvalidity: int = 0
    target_uidnext: int = 0


@dataclass(frozen=True)
class FolderState:
    """Where the incremental scan of one folder starts: messages since ``since`` and every UID from ``start_uid``."""

    since: str  # ISO date, or "" for all mail
    start_uid: int


_COLUMNS = tuple(f.name for f in fields(Handled))
MIGRATIONS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = []


def migration(name: str) -> Callable[[Callable[[sqlite3.Connection], None]], Callable[[sqlite3.Connection], None]]:
    """Register a named schema change; they run in order, once each."""
    def register(fn: Callable[[sqlite3.Connection], None]) -> Callable[[sqlite3.Connection], None]:
        MIGRATIONS.append((name, fn))
        return fn
    return register


@migration("0001_initial")
def _initial(db: sqlite3.Connection) -> None:
    db.execute("""CREATE TABLE folders (
        account TEXT NOT NULL, folder TEXT NOT NULL, uidvalidity INTEGER NOT NULL,
        since TEXT NOT NULL, start_uid INTEGER NOT NULL, created TEXT NOT NULL,
        PRIMARY KEY (account, folder, uidvalidity))""")
    db.execute("""CREATE TABLE messages (
        account TEXT NOT NULL, folder TEXT NOT NULL, uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL,
        message_id TEXT NOT NULL, digest TEXT NOT NULL, label TEXT NOT NULL, confidence REAL NOT NULL,
        action TEXT NOT NULL, target TEXT NOT NULL, state TEXT NOT NULL,
        target_uidvalidity INTEGER NOT NULL, target_uidnext INTEGER NOT NULL, at TEXT NOT NULL,
        PRIMARY KEY (account, folder, uidvalidity, uid))""")
    db.execute("CREATE INDEX messages_message_id ON messages (account, folder, message_id)")
    db.execute("CREATE INDEX messages_digest ON messages (account, folder, digest)")
    db.execute("""CREATE TABLE learned (
        account TEXT NOT NULL, folder TEXT NOT NULL, uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL,
        digest TEXT NOT NULL, label TEXT NOT NULL, file TEXT NOT NULL, at TEXT NOT NULL,
        PRIMARY KEY (account, folder, uidvalidity, uid))""")
    db.execute("CREATE INDEX learned_digest ON learned (digest)")


@migration("0002_failures")
def _failures(db: sqlite3.Connection) -> None:
    # Messages that could not be read, and in how many runs in a row: a poison message is given up, not fetched forever.
    db.execute("""CREATE TABLE failures (
        account TEXT NOT NULL, folder TEXT NOT NULL, uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL,
        digest TEXT NOT NULL, reason TEXT NOT NULL, runs INTEGER NOT NULL, first_at TEXT NOT NULL, last_at TEXT NOT NULL,
        PRIMARY KEY (account, folder, uidvalidity, uid))""")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Store:
    """The state database. ``Store.open(path)`` for a run, ``Store.open(":memory:")`` in tests."""

    def __init__(self, db: sqlite3.Connection, path: str):
        self.db = db
        self.path = path
        self._depth = 0

    @classmethod
    def open(cls, path: Path | str, *, scratch: bool = False) -> Store:
        """Open (creating and migrating) the state file; with ``scratch``, an in-memory copy of it."""
        name = str(path)
        try:
            if scratch or name == ":memory:":
                db = sqlite3.connect(":memory:", isolation_level=None)
                if name != ":memory:" and Path(name).is_file():
                    source = sqlite3.connect(f"file:{name}?mode=ro", uri=True)
                    source.backup(db)
                    source.close()
            else:
                Path(name).parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(name, isolation_level=None, timeout=30)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
            store = cls(db, name)
            store.migrate()
        except sqlite3.DatabaseError as exc:
            raise StateError(f"state file {name}: {exc}") from None
        except OSError as exc:
            raise StateError(f"state file {name}: {exc.strerror}") from None
        return store

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def atomic(self) -> Iterator[sqlite3.Connection]:
        """One transaction (a savepoint when nested): all of it is written, or none."""
        outer = self._depth == 0
        self.db.execute("BEGIN IMMEDIATE" if outer else f"SAVEPOINT s{self._depth}")
        self._depth += 1
        try:
            yield self.db
        except BaseException:
            self._depth -= 1
            self.db.execute("ROLLBACK" if outer else f"ROLLBACK TO s{self._depth}")
            if not outer:
                self.db.execute(f"RELEASE s{self._depth}")
            raise
        self._depth -= 1
        self.db.execute("COMMIT" if outer else f"RELEASE s{self._depth}")

    # -- migrations ------------------------------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply the migrations not yet recorded, each in a transaction with its record; return their names."""
        self.db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = {row[0] for row in self.db.execute("SELECT name FROM _migrations")}
        known = {name for name, _ in MIGRATIONS}
        if done - known:
            raise StateError(f"state file {self.path} was written by a newer pitchsort ({', '.join(sorted(done - known))})")
        applied = []
        for name, fn in MIGRATIONS:
            if name in done:
                continue
            with self.atomic() as db:
                fn(db)
                db.execute("INSERT INTO _migrations VALUES (?, ?)", (name, _now()))
            applied.append(name)
        return applied

    def migrations(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT name FROM _migrations ORDER BY name")]

    # -- folders ---------------------------------------------------------------------------------------------------
    def folder_state(self, account: str, folder: str, uidvalidity: int) -> FolderState | None:
        row = self.db.execute("SELECT since, start_uid FROM folders WHERE account=? AND folder=? AND uidvalidity=?",
                              (account, folder, uidvalidity)).fetchone()
        return FolderState(*row) if row else None

    def earlier_scans(self, account: str, folder: str) -> list[tuple[int, FolderState]]:
        """Every UIDVALIDITY this folder was scanned under, oldest first."""
        rows = self.db.execute("SELECT uidvalidity, since, start_uid FROM folders WHERE account=? AND folder=? ORDER BY created",
                               (account, folder)).fetchall()
        return [(v, FolderState(s, u)) for v, s, u in rows]

    def start_folder(self, account: str, folder: str, uidvalidity: int, state: FolderState) -> None:
        with self.atomic() as db:
            db.execute("INSERT OR IGNORE INTO folders VALUES (?, ?, ?, ?, ?, ?)",
                       (account, folder, uidvalidity, state.since, state.start_uid, _now()))

    # -- messages --------------------------------------------------------------------------------------------------
    def _put(self, rows: Iterable[Handled]) -> None:
        with self.atomic() as db:
            db.executemany(f"INSERT OR REPLACE INTO messages ({', '.join(_COLUMNS)}, at) VALUES ({', '.join('?' * len(_COLUMNS))}, ?)",
                           [(*astuple(r), _now()) for r in rows])

    def record_intent(self, rows: Iterable[Handled]) -> None:
        """Write copies/moves as ``pending`` *before* asking the server to do them."""
        self._put(r if r.state == PENDING else _replace(r, state=PENDING) for r in rows)

    def record_done(self, rows: Iterable[Handled]) -> None:
        """Write messages as handled, in one transaction (after the server said OK)."""
        self._put(r if r.state == DONE else _replace(r, state=DONE) for r in rows)

    def forget(self, account: str, folder: str, uidvalidity: int, uids: Iterable[int]) -> None:
        """Drop pending rows whose action never reached the server: those messages are handled again."""
        with self.atomic() as db:
            db.executemany("DELETE FROM messages WHERE account=? AND folder=? AND uidvalidity=? AND uid=? AND state=?",
                           [(account, folder, uidvalidity, uid, PENDING) for uid in uids])

    def _rows(self, where: str, args: tuple[object, ...]) -> list[Handled]:
        cur = self.db.execute(f"SELECT {', '.join(_COLUMNS)} FROM messages WHERE {where} ORDER BY uid", args)
        return [Handled(*row) for row in cur]

    def pending(self, account: str, folder: str, uidvalidity: int | None = None) -> list[Handled]:
        if uidvalidity is None:
            return self._rows("account=? AND folder=? AND state=?", (account, folder, PENDING))
        return self._rows("account=? AND folder=? AND uidvalidity=? AND state=?", (account, folder, uidvalidity, PENDING))

    def handled(self, account: str, folder: str, uidvalidity: int) -> list[Handled]:
        return self._rows("account=? AND folder=? AND uidvalidity=?", (account, folder, uidvalidity))

    def handled_uids(self, account: str, folder: str, uidvalidity: int) -> set[int]:
        cur = self.db.execute("SELECT uid FROM messages WHERE account=? AND folder=? AND uidvalidity=?",
                              (account, folder, uidvalidity))
        return {row[0] for row in cur}

    def seen_before(self, account: str, folder: str, uidvalidity: int, message_id: str, digest: str) -> Handled | None:
        """The earlier handling of this very message under another UID, if any.

        The same headers (digest) anywhere in this folder's history: the user
        moved a message back, or the folder was rebuilt. The same Message-ID
        under another UIDVALIDITY: the folder was renumbered and the message
        may have been rewritten. Within one UIDVALIDITY a Message-ID alone
        is not enough, because two deliveries of one message are two messages.
        """
        rows = self._rows("account=? AND folder=? AND state=? AND digest=?", (account, folder, DONE, digest))
        if not rows and message_id:
            rows = self._rows("account=? AND folder=? AND state=? AND message_id=? AND uidvalidity<>?",
                              (account, folder, DONE, message_id, uidvalidity))
        return rows[0] if rows else None

    # -- learning --------------------------------------------------------------------------------------------------
    def record_failure(self, account: str, folder: str, uidvalidity: int, uid: int, digest: str, reason: str) -> int:
        """Count one more run in which this message could not be read; return how many in a row.

        A message whose bytes changed (another digest under the same UID) starts again at one.
        """
        with self.atomic() as db:
            row = db.execute("SELECT digest, runs FROM failures WHERE account=? AND folder=? AND uidvalidity=? AND uid=?",
                             (account, folder, uidvalidity, uid)).fetchone()
            runs = row[1] + 1 if row and row[0] == digest else 1
            now = _now()
            db.execute("INSERT INTO failures VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, folder, uidvalidity, uid) "
                       "DO UPDATE SET digest=excluded.digest, reason=excluded.reason, runs=excluded.runs, last_at=excluded.last_at",
                       (account, folder, uidvalidity, uid, digest, reason, runs, now, now))
        return runs

    def learned_uids(self, account: str, folder: str, uidvalidity: int) -> set[int]:
        cur = self.db.execute("SELECT uid FROM learned WHERE account=? AND folder=? AND uidvalidity=?",
                              (account, folder, uidvalidity))
        return {row[0] for row in cur}

    def learned_digests(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT digest FROM learned")}

    def record_learned(self, account: str, folder: str, uidvalidity: int, uid: int, digest: str, label: str, file: str) -> None:
        with self.atomic() as db:
            db.execute("INSERT OR REPLACE INTO learned VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (account, folder, uidvalidity, uid, digest, label, file, _now()))


def _replace(row: Handled, **changes: object) -> Handled:
    return replace(row, **changes)  # type: ignore[arg-type]


class RunLock:
    """An exclusive ``flock`` next to the state file: a second run exits at once instead of waiting.

    The kernel drops the lock when the process dies, so a crashed run never
    leaves a stale lock behind (a PID file would).
    """

    def __init__(self, state_path: Path):
        self.path = Path(f"{state_path}.lock")
        self._fh: IO[str] | None = None

    def __enter__(self) -> RunLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fh = self.path.open("a+")
        except OSError as exc:
            raise StateError(f"cannot create lock file {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip()
            fh.close()
            raise LockedError(f"another pitchsort run is still going{f' (pid {holder})' if holder else ''}; "
                              f"this one exits (lock: {self.path})") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
