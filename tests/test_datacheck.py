"""`pitchsort data check` finds what would make the corpus lie."""

from __future__ import annotations

import csv
from pathlib import Path

from conftest import eml
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.corpus import reserved
from pipeline.corpus.check import Minimums, check

NONE = Minimums(0, 0, 0, 0, 0, ())
PITCH = ("We help fast growing companies find senior engineers within two weeks, with a guarantee of six months and "
         "no fee unless you hire. Shall we book a short call next week?")


def corpus(tmp_path: Path, files: dict[str, tuple[str, str]], reserved: tuple[str, ...] = (),
           source: str = "tests/test_datacheck.py") -> Path:
    """files: relative path -> (label, body). The corpus is tmp_path/labeled, its reserved list tmp_path/reserved."""
    folder = tmp_path / "labeled"
    rows = []
    for i, (rel, (label, body)) in enumerate(files.items()):
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(eml(body, subject=f"s{i}"))
        rows.append([rel, label, "en", f"g{i}", "written", source, "MIT", "no", ""])
    with (folder / "MANIFEST.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "label", "language", "group", "made", "source", "licence", "mixed", "note"])
        w.writerows(rows)
    (tmp_path / "reserved").mkdir()
    (tmp_path / "reserved" / "reserved.txt").write_text("# digests\n" + "".join(d + "\n" for d in reserved))
    return folder


def test_clean_corpus_passes(tmp_path: Path) -> None:
    folder = corpus(tmp_path, {"cold_pitch/a.eml": ("cold_pitch", PITCH),
                               "genuine_reply/b.eml": ("genuine_reply", "Thursday at ten works well for me, see you then at your office.")})
    result = check(folder, NONE)
    assert result.ok, result.problems
    assert result.counts[("cold_pitch", "en")] == 1


def test_near_copy_across_labels(tmp_path: Path) -> None:
    folder = corpus(tmp_path, {"cold_pitch/a.eml": ("cold_pitch", PITCH),
                               "personalized_outreach/b.eml": ("personalized_outreach", PITCH.replace("two weeks", "three weeks"))})
    assert any("near copy" in p and "another label" in p for p in check(folder, NONE).problems)


def test_near_copies_within_personal_mail(tmp_path: Path) -> None:
    folder = corpus(tmp_path, {"personalized_outreach/a.eml": ("personalized_outreach", PITCH),
                               "personalized_outreach/b.eml": ("personalized_outreach", PITCH + " Thanks!")})
    assert any("written on their own" in p for p in check(folder, NONE).problems)


def test_cold_siblings_may_be_near_copies(tmp_path: Path) -> None:
    folder = corpus(tmp_path, {"cold_pitch/a.eml": ("cold_pitch", PITCH), "cold_pitch/b.eml": ("cold_pitch", PITCH + " Thanks!")})
    assert check(folder, NONE).ok


def test_unlisted_file_wrong_folder_and_minimums(tmp_path: Path) -> None:
    folder = corpus(tmp_path, {"cold_pitch/a.eml": ("genuine_reply", PITCH)})
    (folder / "cold_pitch" / "stray.eml").write_bytes(eml("stray"))
    problems = check(folder, Minimums(per_label=1, per_language=0, per_cell=0, total=0, real_total=0, real_per_label=())).problems
    assert any("stray.eml: not in MANIFEST.csv" in p for p in problems)
    assert any("in folder 'cold_pitch' but labelled 'genuine_reply'" in p for p in problems)
    assert any(p.startswith("cold_pitch: 0 messages") for p in problems)


def test_cli_exit_codes(tmp_path: Path) -> None:
    folder = corpus(tmp_path, {"cold_pitch/a.eml": ("cold_pitch", PITCH)})
    runner = CliRunner()
    ok = runner.invoke(app, ["data", "check", str(folder), "--min-per-label", "0", "--min-per-language", "0",
                             "--min-per-cell", "0", "--min-total", "0", "--min-real", "0"])
    assert ok.exit_code == 0 and "data check passed" in ok.output
    bad = runner.invoke(app, ["data", "check", str(folder)])
    assert bad.exit_code == 1 and "problem" in bad.output


# Digests of two fixed messages as the shared reference script (shared/reserved/reserved.py --digest) gives them.
QP_LATIN1 = (b"From: Ann <ann@example.org>\r\nTo: bo@example.com\r\nMessage-ID: < AbC.123@Example.ORG >\r\nSubject: hi\r\n"
             b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
             b"Hej Bo! Jag s=E5g din annons och skickar mitt CV. Erfarenhet: 12 =E5r som utvecklare i G=F6teborg, "
             b"senast p=E5 Volvo Cars. Utbildning: Chalmers 2009.\r\n")
HTML_ONLY = (b"From: a@x\r\nContent-Type: text/html\r\n\r\n<html><body><p>Dear Colleague,</p><p>Register now for the 2001 "
             b"Energy Risk conference in <b>Houston</b>: three days of talks on pricing and hedging.</p></body></html>\r\n")


def test_digests_match_the_shared_definition() -> None:
    assert reserved.digests(QP_LATIN1) == ["mid:037cab2a24d65c4e5ab83771458e95cc767137de8a3ec2b4545c6abaaf91f0c5",
                                           "body:a9c616aff2ee7ebb5ae60691f49f8e396f1f3b9f71b92b40d6c57e5109e10e5c"]
    assert reserved.digests(HTML_ONLY) == ["body:5ff4689231174b9ea09ec74c3325dfe0c7054eff4bf1ec2a0c9b95739527591e"]
    assert reserved.digests(b"Subject: short\r\n\r\ntoo short to digest\r\n") == []


def test_reserved_message_is_refused(tmp_path: Path) -> None:
    body_digest = next(d for d in reserved.digests(eml(PITCH, subject="s0")) if d.startswith("body:"))
    folder = corpus(tmp_path, {"cold_pitch/a.eml": ("cold_pitch", PITCH)}, reserved=(body_digest,))
    assert any("a.eml: reserved for evaluation" in p for p in check(folder, NONE).problems)


def test_reserved_repository_and_missing_provenance_are_refused(tmp_path: Path) -> None:
    folder = corpus(tmp_path, {"cold_pitch/a.eml": ("cold_pitch", PITCH)}, source="davified/email-classification@abc:x.eml")
    assert any("davified/email-classification, which is reserved" in p for p in check(folder, NONE).problems)
    (tmp_path / "reserved" / "reserved.txt").unlink()
    assert any("cannot read the reserved list" in p for p in check(folder, NONE).problems)
