"""Hostile mail never stops a run: every case of tests/hostile.py, with ordinary mail mixed in, through classify and audit."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

from conftest import BIN, ROOT
from hostile import write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.exceptions import MailParseError
from pipeline.mail.message import parse_bytes


def _mixed_box(tmp_path: Path) -> tuple[Path, list[str]]:
    box = tmp_path / "box"
    hostile = write(box / "hostile")
    ordinary = sorted((ROOT / "data" / "samples").glob("*.eml"))[:20]
    for path in ordinary:
        shutil.copy(path, box / path.name)
    return box, [p.name for p in ordinary] + hostile


def test_classify_goes_through_hostile_mail(tmp_path: Path, trained_model: Path) -> None:
    box, _ = _mixed_box(tmp_path)
    out = tmp_path / "out.csv"
    done = subprocess.run([BIN / "pitchsort", "classify", str(box), "--csv", str(out), "--model", str(trained_model)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    rows = {Path(r["source"]).name: r for r in csv.DictReader(out.open())}
    for path in sorted((ROOT / "data" / "samples").glob("*.eml"))[:20]:
        assert path.name in rows, path.name  # every ordinary message classified
    for name in ("eighty-three-thousand-recipients.eml", "encoded-word-subject.eml", "nested-divs.eml", "docx-bomb.eml",
                 "formula-subject.eml"):
        assert name in rows, name  # hostile but mail: classified from what could be read
    assert rows["formula-subject.eml"]["subject"].startswith("'=")
    assert rows["eighty-three-thousand-recipients.eml"]["to"].endswith("and 82950 more")
    for name in ("dangling-link.eml", "looping-link.eml", "device-link.eml", "fifo.eml"):
        assert name in done.stderr, name  # not mail: reported by name and skipped


def test_audit_goes_through_hostile_mail(tmp_path: Path, trained_model: Path) -> None:
    box, _ = _mixed_box(tmp_path)
    done = subprocess.run([BIN / "pitchsort", "audit", str(box), "--csv", str(tmp_path / "a.csv"), "--html",
                           str(tmp_path / "a.html"), "--model", str(trained_model)], capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert (tmp_path / "a.html").stat().st_size < 5_000_000


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200)
_HEADER = st.tuples(st.sampled_from(["Subject", "From", "To", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
                                     "MIME-Version", "Date", "Message-ID", "X-Junk"]), _TEXT)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headers=st.lists(_HEADER, max_size=8), boundary=st.text(max_size=20), charset=st.sampled_from(
    ["utf-8", "latin-1", "utf\xff8", "", "x-unknown", "iso-2022-jp", "utf-16"]),
       encoding=st.sampled_from(["base64", "quoted-printable", "8bit", "x-uuencode", "bogus"]), body=st.binary(max_size=400))
def test_fuzzed_mime_parses_or_fails_cleanly(headers: list[tuple[str, str]], boundary: str, charset: str, encoding: str,
                                             body: bytes) -> None:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers)
    head += f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n' if boundary else ""
    part = (f"--{boundary}\r\nContent-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n"
            if boundary else "")
    raw = head.encode("utf-8", "surrogateescape") + b"\r\n" + part.encode("utf-8", "surrogateescape") + body
    try:
        parse_bytes(raw, "fuzz")
    except MailParseError:
        pass  # reported and skipped by every command; anything else would stop a run
