"""The nightly run against a real Dovecot: filing, incremental runs, UIDVALIDITY, no MOVE, dry run, big mail."""

from __future__ import annotations

import csv
import logging
from collections import Counter
from datetime import datetime, timedelta
from email.message import EmailMessage

import pytest

from pipeline.imap.store import Store
from pipeline.mail.message import parse_bytes

from .imaptest import ACTIONS, PASSWORD_ENV, assert_exactly_once, decided_labels, expected_labels, imap_run, make_config, new_mailbox


def test_first_run_files_every_message_second_does_nothing_new_mail_once(mailbox, classifier, corpus, tmp_path):
    messages = corpus[:120]
    assert set(expected_labels(messages, classifier).values()) >= {"cold_pitch", "unsolicited_cv", "personalized_outreach",
                                                                     "genuine_reply"}
    mailbox.append(messages)
    config = make_config(mailbox, tmp_path)

    summary = imap_run(config, classifier, csv=tmp_path / "out.csv")
    assert summary.exit_code == 0, summary.line()
    assert summary.new == 120
    labels = decided_labels(config)
    assert len(labels) == 120 and set(labels.values()) >= {"cold_pitch", "unsolicited_cv", "genuine_reply"}
    assert_exactly_once(mailbox, labels)
    flags = mailbox.flags()
    for mid, label in labels.items():
        kind, keyword = ACTIONS[label]
        if mid in flags:
            assert b"\\Seen" not in flags[mid], "BODY.PEEK must not mark mail read"
            ours = {f for f in flags[mid] if f.startswith(b"$pitchsort")}
            assert b"$pitchsort_handled" in ours, (label, ours)  # the server remembers what was handled
            assert ours - {b"$pitchsort_handled"} == ({keyword.encode()} if kind == "keyword" else set()), (label, ours)
    moved = Counter(a for a in labels.values())
    assert summary.actions["move"] == moved["cold_pitch"]
    assert summary.actions["copy"] == moved["unsolicited_cv"]
    with (tmp_path / "out.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 120
    assert {r["message_id"]: r["label"] for r in rows} == labels
    assert all(r["source"].startswith(f"imap://{mailbox.user}@127.0.0.1/INBOX;UID=") for r in rows)

    before = mailbox.census(), mailbox.flags()
    again = imap_run(config, classifier)
    assert (again.new, sum(again.actions.values()), again.exit_code) == (0, 0, 0)
    assert (mailbox.census(), mailbox.flags()) == before

    fresh = corpus[120:132]
    mailbox.append(fresh)
    third = imap_run(config, classifier)
    assert third.new == 12 and sum(third.actions.values()) == 12
    later = decided_labels(config)
    assert {m: lb for m, lb in later.items() if m in labels} == labels  # nothing decided twice
    labels = later
    assert len(labels) == 132
    assert_exactly_once(mailbox, labels)
    assert imap_run(config, classifier).new == 0
    assert_exactly_once(mailbox, labels)


def test_uidvalidity_change_acts_on_nothing_twice(mailbox, classifier, corpus, tmp_path):
    messages = corpus[200:240]
    c = mailbox.client()
    c.create_folder("Incoming")
    c.logout()
    mailbox.append(messages, folder="Incoming")
    config = make_config(mailbox, tmp_path, folders=("Incoming",))
    assert imap_run(config, classifier).exit_code == 0
    first = mailbox.census()

    # Rebuild the folder: the same messages come back under a new UIDVALIDITY and new UIDs.
    c = mailbox.client()
    old_validity = c.select_folder("Incoming")[b"UIDVALIDITY"]
    c.rename_folder("Incoming", "Old")
    c.create_folder("Incoming")
    c.select_folder("Old")
    c.move(c.search("ALL"), "Incoming")
    new_validity = c.select_folder("Incoming")[b"UIDVALIDITY"]
    c.delete_folder("Old")
    c.logout()
    assert new_validity != old_validity
    fresh = corpus[240:244]
    mailbox.append(fresh, folder="Incoming")

    summary = imap_run(config, classifier)
    assert summary.exit_code == 0
    stayed = sum(n for where in first.values() for folder, n in where.items() if folder == "Incoming")
    assert summary.known == stayed
    assert sum(summary.actions.values()) == 4
    census = mailbox.census()
    for mid in first:
        assert census[mid] == first[mid], mid  # not copied or moved again
    for mid in expected_labels(fresh, classifier):
        assert sum(census[mid].values()) >= 1
    assert imap_run(config, classifier).new == 0


def test_server_without_move_gives_the_same_result(dovecot_nomove, classifier, corpus, tmp_path, monkeypatch):
    box = new_mailbox(dovecot_nomove)
    monkeypatch.setenv(PASSWORD_ENV, box.password)
    c = box.client()
    assert not c.has_capability("MOVE") and c.has_capability("UIDPLUS")
    c.logout()
    messages = corpus[300:380]
    box.append(messages)
    # A message the user marked deleted but did not expunge (one that stays in INBOX): a plain EXPUNGE would take it.
    stays = expected_labels(corpus[900:960], classifier)
    keep = next(m for m in corpus[900:960] if stays[parse_bytes(m, "x").message_id] == "genuine_reply")
    box.append([keep], flags=(b"\\Deleted",))
    config = make_config(box, tmp_path)
    summary = imap_run(config, classifier, since="all")
    assert summary.exit_code == 0, summary.line()
    assert summary.actions["move"] > 0
    labels = decided_labels(config)
    assert len(labels) == 81 and labels[parse_bytes(keep, "x").message_id] == "genuine_reply"
    assert_exactly_once(box, labels, separator=".")
    assert "Pitchsort.Cold pitch" in box.census()[next(m for m, lb in labels.items() if lb == "cold_pitch")]


def test_dry_run_changes_nothing(mailbox, classifier, corpus, tmp_path):
    messages = corpus[400:440]
    mailbox.append(messages)
    config = make_config(mailbox, tmp_path)
    before = mailbox.census(), mailbox.flags()
    summary = imap_run(config, classifier, dry_run=True, csv=tmp_path / "dry.csv")
    assert summary.new == 40 and sum(summary.actions.values()) == 40
    assert (mailbox.census(), mailbox.flags()) == before
    assert not config.state.exists(), "a dry run must not create the state file"
    assert len((tmp_path / "dry.csv").read_text().splitlines()) == 41

    assert imap_run(config, classifier).exit_code == 0  # a real run, then new mail, then a dry run again
    mailbox.append(corpus[440:450])
    after_real = mailbox.census(), mailbox.flags()
    state = config.state.read_bytes()
    dry = imap_run(config, classifier, dry_run=True)
    assert dry.new == 10
    assert (mailbox.census(), mailbox.flags()) == after_real
    assert config.state.read_bytes() == state
    assert imap_run(config, classifier).new == 10  # the dry run did not mark them handled


def test_first_run_takes_only_since(mailbox, classifier, corpus, tmp_path):
    old, recent = corpus[500:510], corpus[510:515]
    mailbox.append(old, msg_time=datetime.now() - timedelta(days=90))
    mailbox.append(recent)
    config = make_config(mailbox, tmp_path)
    assert imap_run(config, classifier).new == 5
    later = corpus[515:518]
    mailbox.append(later, msg_time=datetime.now() - timedelta(days=400))  # new mail with an old date still counts
    assert imap_run(config, classifier).new == 3
    assert imap_run(config, classifier).new == 0


def test_large_message_is_classified_from_its_start_and_filed_whole(mailbox, classifier, corpus, tmp_path, caplog):
    text = parse_bytes(corpus[3], "x")  # an unsolicited CV's words, with a 600 KB attachment
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = str(text.sender), "hr@example.com", text.subject
    mail["Message-ID"] = "<big-message@example.com>"
    mail.set_content(text.text)
    mail.add_attachment(bytes(range(256)) * 2400, maintype="application", subtype="pdf", filename="CV.pdf")
    big = mail.as_bytes()
    assert len(big) > 600_000
    mailbox.append([big])
    config = make_config(mailbox, tmp_path, extra="max_message_bytes = 100000")
    with caplog.at_level(logging.INFO, logger="pipeline"):
        summary = imap_run(config, classifier, csv=tmp_path / "big.csv")
    assert summary.new == 1 and summary.exit_code == 0
    assert "classified from its header" in caplog.text
    row = next(csv.DictReader((tmp_path / "big.csv").open()))
    kind, target = ACTIONS[row["label"]]
    c = mailbox.client()
    c.select_folder(target if kind == "move" else "INBOX", readonly=True)
    sizes = [v[b"RFC822.SIZE"] for v in c.fetch(c.search("ALL"), ["RFC822.SIZE"]).values()]
    c.logout()
    assert sizes and max(sizes) >= len(big) - 100, "the message must be filed whole, not cut"


def test_state_records_every_action(mailbox, classifier, corpus, tmp_path):
    mailbox.append(corpus[600:630])
    config = make_config(mailbox, tmp_path)
    imap_run(config, classifier)
    store = Store.open(config.state)
    try:
        c = mailbox.client()
        validity = c.select_folder("INBOX")[b"UIDVALIDITY"]
        c.logout()
        rows = store.handled("test", "INBOX", validity)
        assert len(rows) == 30
        assert {r.state for r in rows} == {"done"}
        assert all(r.message_id.startswith("<") for r in rows)
        assert not store.pending("test", "INBOX")
    finally:
        store.close()


@pytest.mark.parametrize("bad", ["no-such-folder"])
def test_missing_folder_is_a_config_error(mailbox, classifier, tmp_path, bad):
    config = make_config(mailbox, tmp_path, folders=(bad,))
    summary = imap_run(config, classifier)
    assert summary.exit_code == 2
    assert f"folder '{bad}' does not exist" in summary.errors[0]


def test_a_second_state_file_or_a_lost_one_acts_on_nothing_twice(mailbox, classifier, corpus, tmp_path):
    mailbox.append(corpus[:40])
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = make_config(mailbox, tmp_path / "a")
    done = imap_run(first, classifier)
    assert done.exit_code == 0 and done.actions["copy"] > 0, done.line()
    before = mailbox.census(), mailbox.flags()

    second = make_config(mailbox, tmp_path / "b")  # a second install on the same mailbox: its own, empty state file
    again = imap_run(second, classifier)
    assert (again.exit_code, sum(again.actions.values())) == (0, 0), again.line()
    assert (mailbox.census(), mailbox.flags()) == before

    first.state.unlink()  # a lost state file
    lost = imap_run(first, classifier)
    assert (lost.exit_code, sum(lost.actions.values())) == (0, 0), lost.line()
    assert mailbox.census() == before[0]
