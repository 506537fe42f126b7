"""`pitchsort data check` finds what would make the corpus lie."""

from __future__ import annotations

import csv
from pathlib import Path

from conftest import eml
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.datacheck import Minimums, check

NONE = Minimums(0, 0, 0, 0)
PITCH = ("We help fast growing companies find senior engineers within two weeks, with a guarantee of six months and "
         "no fee unless you hire. Shall we book a short call next week?")


def corpus(tmp_path: Path, files: dict[str, tuple[str, str]]) -> Path:
    """files: relative path -> (label, body)."""
    rows = []
    for i, (rel, (label, body)) in enumerate(files.items()):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(eml(body, subject=f"s{i}"))
        rows.append([rel, label, "en", f"g{i}", "hand-written", "no", ""])
    with (tmp_path / "MANIFEST.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "label", "language", "group", "made", "mixed", "note"])
        w.writerows(rows)
    return tmp_path


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
    problems = check(folder, Minimums(per_label=1, per_language=0, per_cell=0, total=0)).problems
    assert any("stray.eml: not in MANIFEST.csv" in p for p in problems)
    assert any("in folder 'cold_pitch' but labelled 'genuine_reply'" in p for p in problems)
    assert any(p.startswith("cold_pitch: 0 messages") for p in problems)


def test_cli_exit_codes(tmp_path: Path) -> None:
    folder = corpus(tmp_path, {"cold_pitch/a.eml": ("cold_pitch", PITCH)})
    runner = CliRunner()
    ok = runner.invoke(app, ["data", "check", str(folder), "--min-per-label", "0", "--min-per-language", "0",
                             "--min-per-cell", "0", "--min-total", "0"])
    assert ok.exit_code == 0 and "data check passed" in ok.output
    bad = runner.invoke(app, ["data", "check", str(folder)])
    assert bad.exit_code == 1 and "problem" in bad.output
