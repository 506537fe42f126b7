"""Hostile mail through the nightly run against a real Dovecot: nothing stops a night, poison mail is given up."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from pipeline.imap.run import GIVE_UP_RUNS, HANDLED
from pipeline.mail.message import parse_bytes

from .imaptest import decided_labels, imap_run, make_config

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile import cases  # noqa: E402

# Not mail at all: it cannot be parsed in any run. (NUL bytes are refused by IMAP APPEND without BINARY.)
POISON = b"\x01\x02 binary junk, no header at all " * 100


def _message_id(data: bytes) -> str:
    return parse_bytes(data).message_id


def test_hostile_mailbox_is_filed_and_poison_mail_given_up(mailbox, classifier, corpus, tmp_path):
    hostile = [data for name, data in sorted(cases().items()) if b"\x00" not in data]
    ordinary = corpus[:30]
    mailbox.append([*ordinary[:15], *hostile, POISON, *ordinary[15:]])
    config = make_config(mailbox, tmp_path)

    first = imap_run(config, classifier, csv=tmp_path / "night1.csv")
    assert first.exit_code == 1, first.line()  # something new went wrong tonight: the poison message
    assert first.unreadable >= 1 and first.gave_up == 0
    decided = decided_labels(config)
    assert {_message_id(m) for m in ordinary} <= set(decided)  # every ordinary message classified and filed
    failing = first.unreadable

    for night in range(2, GIVE_UP_RUNS):
        again = imap_run(config, classifier)
        assert again.exit_code == 0, again.line()  # the same failures as before: nothing new went wrong
        assert (again.unreadable, again.still_unreadable, again.new) == (0, failing, failing), (night, again.line())

    last = imap_run(config, classifier)
    assert (last.exit_code, last.gave_up, last.unreadable) == (0, failing, 0), last.line()
    assert "given up" in last.line()
    db = sqlite3.connect(config.state)
    given_up = [uid for (uid,) in db.execute("SELECT uid FROM messages WHERE action = 'gave_up' AND label = 'uncertain'")]
    db.close()
    assert len(given_up) == failing
    client = mailbox.client()
    client.select_folder("INBOX", readonly=True)
    flags = client.get_flags(given_up)
    client.logout()
    assert all({b"$pitchsort_uncertain", HANDLED.encode()} <= set(flags[uid]) for uid in given_up), flags

    quiet = imap_run(config, classifier)
    assert (quiet.new, quiet.exit_code) == (0, 0), quiet.line()  # not fetched again

    # The next night's ordinary mail is filed as on any night.
    mailbox.append(corpus[30:40])
    after = imap_run(config, classifier)
    assert (after.new, after.exit_code) == (10, 0), after.line()
    assert {_message_id(m) for m in corpus[30:40]} <= set(decided_labels(config))
