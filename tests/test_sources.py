"""Reading mail from disk: single files, folders, Maildirs and mbox, streamed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import cli, eml

from pipeline.exceptions import SourceError
from pipeline.mail import sources
from pipeline.mail.sources import _suffix, check_paths, iter_mail


def test_folder_recursive_and_maildir(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.eml").write_bytes(eml("one"))
    maildir = tmp_path / "box"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "cur" / "1700000000.M1.host:2,S").write_bytes(eml("two"))
    (maildir / "new" / "1700000001.M2.host").write_bytes(eml("three"))
    (maildir / "tmp" / "1700000002.M3.host").write_bytes(eml("half-delivered"))
    bodies = sorted(m.data.split(b"\n\n", 1)[1].strip() for m in iter_mail([tmp_path]))
    assert bodies == [b"one", b"three", b"two"]


def test_mbox_split_and_unquoted(tmp_path: Path) -> None:
    box = tmp_path / "sent.mbox"
    parts = []
    for i in range(3):
        parts.append(b"From sender@x.se Tue Oct 14 09:12:00 2026\n" + eml(f"message {i}\n>From the start\n"))
    box.write_bytes(b"\n".join(parts))
    got = list(iter_mail([box]))
    assert [g.source for g in got] == [f"{box}#1", f"{box}#2", f"{box}#3"]
    assert all(b"message" in g.data for g in got)


def test_iter_mail_is_lazy(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"{i}.eml").write_bytes(eml(str(i)))
    it = iter_mail([tmp_path])
    first = next(it)
    (tmp_path / "0.eml").unlink()  # a generator reads on demand, so removing a read file is harmless
    assert first.source.endswith("0.eml") and len(list(it)) == 2


def test_missing_path_and_not_mail(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        check_paths([tmp_path / "nope.eml"])
    png = tmp_path / "photo.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(SourceError, match="not a mail file"):
        check_paths([png])


def test_mbox_told_from_message_by_first_bytes(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(b"From: a@x.se\nSubject: t\n\nFrom here on\n")
    (tmp_path / "sent").write_bytes(b"From a@x.se Tue Oct 14 09:12:00 2026\n" + eml("in mbox"))
    (tmp_path / "c.eml").write_bytes(b"Fro")  # shorter than the mbox mark
    got = {Path(m.source).name: m.data for m in iter_mail([tmp_path])}
    assert got["a.eml"] == b"From: a@x.se\nSubject: t\n\nFrom here on\n"
    assert got["sent#1"].startswith(b"From: ") and got["c.eml"] == b"Fro"
    assert [m.data for m in iter_mail([tmp_path / "a.eml"])] == [got["a.eml"]]


@pytest.mark.parametrize("name", ["a.eml", "A.EML", "cv.", "cv.pdf", "noext", "x.tar.gz", "a.b.msg"])
def test_suffix_is_path_suffix(name: str) -> None:
    assert _suffix(name) == Path(name).suffix.lower()


def test_folder_sources_are_path_strings(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "one.eml").write_bytes(eml("one"))
    (tmp_path / "sub" / "cv.pdf").write_bytes(b"%PDF")
    assert [m.source for m in iter_mail([tmp_path])] == [str(Path(tmp_path, "sub", "one.eml"))]


def test_entries_that_are_not_mail_are_reported_and_skipped(tmp_path: Path) -> None:
    box = tmp_path / "box"
    box.mkdir()
    (box / "good.eml").write_bytes(b"From: a@x.se\nSubject: hi\n\nHello\n")
    (box / "dangling.eml").symlink_to(box / "nowhere.eml")
    (box / "loop.eml").symlink_to(box / "loop.eml")
    (box / "zero.eml").symlink_to("/dev/zero")
    os.mkfifo(box / "fifo.eml")
    (box / "huge.eml").write_bytes(b"From: a@x.se\n\n" + b"x" * (sources.MAX_FILE_BYTES + 1))
    got = {os.path.basename(r.source): r for r in iter_mail([box])}  # returns: a FIFO or /dev/zero would hang here
    assert got["good.eml"].data.startswith(b"From: a@x.se") and not got["good.eml"].problem
    assert "leads nowhere" in got["dangling.eml"].problem and "leads nowhere" in got["loop.eml"].problem
    assert "not a regular file" in got["zero.eml"].problem and "not a regular file" in got["fifo.eml"].problem
    assert "larger than" in got["huge.eml"].problem and got["huge.eml"].data == b""


def test_classify_reports_them_and_classifies_the_rest(tmp_path: Path, tiny_model: Path) -> None:
    box = tmp_path / "box"
    box.mkdir()
    (box / "good.eml").write_bytes(b"From: a@x.se\nTo: b@y.se\nSubject: hi\n\nHello, book a demo with us.\n")
    (box / "dangling.eml").symlink_to(box / "nowhere.eml")
    os.mkfifo(box / "fifo.eml")
    out = tmp_path / "out.csv"
    result = cli("classify", str(box), "--csv", str(out), "--model", str(tiny_model))
    assert result.exit_code == 1, result.output  # some entries could not be read: reported, the rest classified
    assert "dangling.eml" in result.output and "fifo.eml" in result.output
    assert len(out.read_text().splitlines()) == 2
