"""The state database: migrations, transactions, pending/done, recognising a message seen before, the lock."""

from __future__ import annotations

import sqlite3

import pytest

from pipeline.exceptions import LockedError, StateError
from pipeline.imap.store import DONE, PENDING, FolderState, Handled, RunLock, Store


@pytest.fixture
def store() -> Store:
    return Store.open(":memory:")


def row(uid: int, *, validity: int = 7, mid: str = "", digest: str = "", action: str = "move", state: str = DONE) -> Handled:
    return Handled("acct", "INBOX", validity, uid, mid or f"<{uid}@x>", digest or f"d{uid}", "cold_pitch", 0.9, action,
                   "Pitchsort/Cold pitch", state, 1, 100)


def test_migrations_are_recorded_once(tmp_path):
    path = tmp_path / "state.sqlite"
    first = Store.open(path)
    assert first.migrations() == ["0001_initial", "0002_failures"]
    first.close()
    again = Store.open(path)
    assert again.migrate() == []
    again.close()


def test_newer_state_file_is_refused(tmp_path):
    path = tmp_path / "state.sqlite"
    Store.open(path).close()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO _migrations VALUES ('9999_future', 'x')")
    db.commit()
    db.close()
    with pytest.raises(StateError, match="newer pitchsort"):
        Store.open(path)


def test_not_a_database(tmp_path):
    path = tmp_path / "state.sqlite"
    path.write_text("not sqlite at all " * 100)
    with pytest.raises(StateError, match="state file"):
        Store.open(path)


def test_atomic_rolls_back_everything(store):
    with pytest.raises(RuntimeError):
        with store.atomic():
            store.record_done([row(1)])
            raise RuntimeError("crash")
    assert store.handled_uids("acct", "INBOX", 7) == set()


def test_intent_then_done_then_forget(store):
    store.record_intent([row(1), row(2)])
    assert [r.state for r in store.pending("acct", "INBOX", 7)] == [PENDING, PENDING]
    assert store.handled_uids("acct", "INBOX", 7) == {1, 2}  # pending counts as taken until settled
    store.record_done([row(1, state=PENDING)])
    assert [r.uid for r in store.pending("acct", "INBOX")] == [2]
    store.forget("acct", "INBOX", 7, [1, 2])  # forget only drops pending rows
    assert store.handled_uids("acct", "INBOX", 7) == {1}


def test_seen_before_by_digest_or_message_id_across_uidvalidity(store):
    store.record_done([row(1, mid="<a@x>", digest="da")])
    assert store.seen_before("acct", "INBOX", 7, "<other@x>", "da").uid == 1  # same headers under another UID
    assert store.seen_before("acct", "INBOX", 7, "<a@x>", "changed") is None  # one validity: a second delivery
    assert store.seen_before("acct", "INBOX", 8, "<a@x>", "changed").uid == 1  # renumbered folder: by Message-ID
    assert store.seen_before("acct", "Other", 8, "<a@x>", "da") is None
    store.record_intent([row(2, mid="<b@x>", digest="db")])
    assert store.seen_before("acct", "INBOX", 8, "<b@x>", "db") is None  # a pending row is not proof of anything


def test_folder_scans(store):
    store.start_folder("acct", "INBOX", 7, FolderState("2024-01-01", 50))
    store.start_folder("acct", "INBOX", 9, FolderState("2024-01-01", 80))
    assert store.folder_state("acct", "INBOX", 7) == FolderState("2024-01-01", 50)
    assert [v for v, _ in store.earlier_scans("acct", "INBOX")] == [7, 9]


def test_scratch_copy_never_writes(tmp_path):
    path = tmp_path / "state.sqlite"
    real = Store.open(path)
    real.record_done([row(1)])
    real.close()
    before = path.read_bytes()
    scratch = Store.open(path, scratch=True)
    assert scratch.handled_uids("acct", "INBOX", 7) == {1}
    scratch.record_done([row(2)])
    scratch.close()
    assert path.read_bytes() == before
    assert not (tmp_path / "absent.sqlite").exists()
    Store.open(tmp_path / "absent.sqlite", scratch=True).close()
    assert not (tmp_path / "absent.sqlite").exists()


def test_lock_is_exclusive_and_released(tmp_path):
    state = tmp_path / "state.sqlite"
    with RunLock(state):
        with pytest.raises(LockedError, match="another pitchsort run is still going"):
            with RunLock(state):
                pass
    with RunLock(state):
        pass


def test_failures_count_runs_in_a_row_and_restart_when_the_message_changes(store):
    assert [store.record_failure("a", "INBOX", 7, 3, "d1", "no mail headers") for _ in range(3)] == [1, 2, 3]
    assert store.record_failure("a", "INBOX", 7, 3, "d2", "no mail headers") == 1  # other bytes: a new message
    assert store.record_failure("a", "INBOX", 7, 4, "d1", "no mail headers") == 1
