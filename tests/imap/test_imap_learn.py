"""``pitchsort learn`` against Dovecot: messages in the label folders join the corpus once, and only once."""

from __future__ import annotations

import csv
import shutil

from pipeline.corpus.labelled import MANIFEST_COLUMNS, read_manifest
from pipeline.imap.learn import MADE, learn
from pipeline.mail.message import parse_bytes

from .imaptest import LABELED, make_config


def test_learn_takes_user_filed_mail_once(mailbox, corpus, tmp_path):
    data = tmp_path / "labeled"
    data.mkdir()
    with (data / "MANIFEST.csv").open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerow(MANIFEST_COLUMNS)
    known = sorted((LABELED / "cold_pitch").glob("*.eml"))[0]  # already in the corpus: not learned again
    (data / "cold_pitch").mkdir()
    shutil.copy(known, data / "cold_pitch" / known.name)
    with (data / "MANIFEST.csv").open("a", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerow([f"cold_pitch/{known.name}", "cold_pitch", "da", "g", "written", "x", "MIT",
                                                              "no", ""])

    c = mailbox.client()
    for folder in ("Pitchsort/Cold pitch", "Pitchsort/CV"):
        c.create_folder(folder)
    c.logout()
    cvs, pitches = corpus[3:40:4], corpus[0:40:4]  # the corpus is interleaved by label: every fourth is one label
    mailbox.append(cvs, folder="Pitchsort/CV")
    mailbox.append(pitches, folder="Pitchsort/Cold pitch")
    mailbox.append([known.read_bytes()], folder="Pitchsort/Cold pitch")
    config = make_config(mailbox, tmp_path)
    assert config.learn_folders == {"cold_pitch": "Pitchsort/Cold pitch", "unsolicited_cv": "Pitchsort/CV"}

    dry = learn(config, data, dry_run=True)
    assert pitches[0] == known.read_bytes()
    assert sum(dry.added.values()) == 19 and len(read_manifest(data)) == 1  # nothing written

    summary = learn(config, data)
    assert summary.exit_code == 0, summary.line()
    assert summary.added == {"unsolicited_cv": 10, "cold_pitch": 9}  # the corpus already had one, twice in the folder
    entries = read_manifest(data)
    assert len(entries) == 20
    learned = [e for e in entries if e.made == MADE]
    assert {e.label for e in learned} == {"cold_pitch", "unsolicited_cv"}
    for e in learned:
        assert (data / e.file).is_file() and e.file.startswith(f"{e.label}/imap-")
        parse_bytes((data / e.file).read_bytes(), e.file)
    c = mailbox.client()
    c.select_folder("Pitchsort/CV", readonly=True)
    assert all(b"\\Seen" not in f[b"FLAGS"] for f in c.fetch(c.search("ALL"), ["FLAGS"]).values())
    c.logout()

    again = learn(config, data)
    assert sum(again.added.values()) == 0
    assert len(read_manifest(data)) == 20
    mailbox.append([corpus[41]], folder="Pitchsort/CV")  # the user files one more
    assert sum(learn(config, data).added.values()) == 1
