"""The command line: exit codes and one-line errors, never a traceback."""

from __future__ import annotations

import csv
import io
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import BIN, cli, eml

from pipeline.model.classify import CSV_COLUMNS

run = cli


def test_classify_writes_csv_and_summary(tmp_path: Path, tiny_model: Path) -> None:
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "a.eml").write_bytes(eml("Hi there,\nWe help companies hire faster. Book a demo today."))
    (tmp_path / "mail" / "b.eml").write_bytes(eml("Thanks Karin, Thursday works.", subject="Re: Interview"))
    out = tmp_path / "out.csv"
    result = run("classify", str(tmp_path / "mail"), "--csv", str(out), "--model", str(tiny_model), "--threshold", "0")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(out.open()))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 3
    assert {r[7] for r in rows[1:]} <= {"cold_pitch", "personalized_outreach", "unsolicited_cv", "genuine_reply"}
    assert "2 messages classified" in result.output


def test_malformed_message_is_reported_and_skipped(tmp_path: Path, tiny_model: Path) -> None:
    (tmp_path / "good.eml").write_bytes(eml("Hi there, book a demo."))
    (tmp_path / "empty.eml").write_bytes(b"")
    out = tmp_path / "out.csv"
    result = run("classify", str(tmp_path), "--csv", str(out), "--model", str(tiny_model))
    assert result.exit_code == 1
    assert "skipped" in result.output and "empty.eml" in result.output
    assert len(list(csv.reader(out.open()))) == 2


@pytest.mark.parametrize("case", ["missing path", "not mail", "no model"])
def test_usage_errors_exit_2_with_one_line(case: str, tmp_path: Path, tiny_model: Path) -> None:
    model = str(tiny_model)
    target = tmp_path / "mail"
    target.mkdir()
    (target / "a.eml").write_bytes(eml())
    if case == "missing path":
        target = tmp_path / "nope"
    elif case == "not mail":
        target = tmp_path / "photo.png"
        target.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    elif case == "no model":
        model = str(tmp_path / "no-model-here")
    result = run("classify", str(target), "--csv", str(tmp_path / "o.csv"), "--model", model)
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("pitchsort: "), result.output


def test_bad_option_is_usage_error() -> None:
    assert run("classify", "--threshold", "2").exit_code == 2


def test_help_lists_commands() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for command in ("classify", "train", "data"):
        assert command in result.output


@pytest.mark.parametrize("jobs", ["2", "3"])
def test_workers_give_the_same_rows(tmp_path: Path, tiny_model: Path, jobs: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.model.classify

    # Small batches, so that every worker fills up and this process classifies batches of its own as well.
    monkeypatch.setattr(pipeline.model.classify, "BATCH", 16)
    mail = tmp_path / "mail"
    mail.mkdir()
    bodies = ["Hi there,\nWe help companies hire faster.", "Thanks Karin, Thursday works.", "Open application, CV attached."]
    for i in range(600):
        (mail / f"{i:04d}.eml").write_bytes(eml(f"{bodies[i % 3]} ({i})", subject=f"s{i}"))
    (mail / "0300-broken.eml").write_bytes(b"")
    one, many = tmp_path / "one.csv", tmp_path / "many.csv"
    first = run("classify", str(mail), "--csv", str(one), "--model", str(tiny_model))
    second = run("classify", str(mail), "--csv", str(many), "--model", str(tiny_model), "--jobs", jobs)
    assert first.exit_code == second.exit_code == 1  # the broken file, reported by both
    assert one.read_text() == many.read_text()
    assert len(one.read_text().splitlines()) == 601


def test_a_worker_that_dies_stops_the_run_with_an_error(tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import pipeline.model.classify
    import pipeline.model.workers
    from pipeline.mail.sources import iter_mail
    from pipeline.model.classifier import Classifier

    def die(*args: object) -> None:
        os._exit(9)  # as the kernel's OOM killer would end it: no exception, no message

    monkeypatch.setattr(pipeline.model.workers, "_work", die)
    for i in range(40):
        (tmp_path / f"{i}.eml").write_bytes(eml(f"Thanks Karin, Thursday works ({i})."))
    monkeypatch.setattr(pipeline.model.classify, "BATCH", 4)
    with pytest.raises(RuntimeError, match="a worker process stopped"):
        list(pipeline.model.classify.classify_stream(iter_mail([tmp_path]), tiny_model, jobs=2, classifier=Classifier.load(tiny_model)))


def test_template_families_in_the_csv_and_across_runs(tmp_path: Path, tiny_model: Path) -> None:
    pitch = ("Hi {name},\nWe place senior engineers at fast growing companies like {company} within two weeks, "
             "with a six month guarantee and no fee unless you hire. Shall we book a short call next week?")
    people = [("Karin", "Nordvik", "nordvik.se"), ("Erik", "Kvarnby", "kvarnby.se"), ("Sofie", "Havn", "havn.dk"),
              ("Lars", "Fjell", "fjell.no")]
    for week, group in ((1, people[:3]), (2, people[3:])):
        folder = tmp_path / f"week{week}"
        folder.mkdir()
        for name, company, domain in group:
            (folder / f"{name}.eml").write_bytes(eml(pitch.format(name=name, company=company), subject="Engineers",
                                                     to=f"{name} <{name.lower()}@{domain}>"))
        (folder / "personal.eml").write_bytes(eml(f"Hi Karin, thanks for the coffee in week {week}; the Umeå plan looks good.",
                                                  subject=f"Coffee {week}"))
    index = tmp_path / "templates.sqlite"
    out1, out2 = tmp_path / "w1.csv", tmp_path / "w2.csv"
    args = ["--model", str(tiny_model), "--templates", str(index)]
    assert run("classify", str(tmp_path / "week1"), "--csv", str(out1), *args).exit_code == 0
    rows = {Path(r["source"]).stem: r for r in csv.DictReader(out1.open())}
    assert {rows[n]["template_size"] for n in ("Karin", "Erik", "Sofie")} == {"3"}
    assert len({rows[n]["template_id"] for n in ("Karin", "Erik", "Sofie")}) == 1
    assert rows["personal"]["template_size"] == "1"
    # A week later the same template reaches Lars: the index on disk remembers the first three.
    args = ["--model", str(tiny_model), "--templates", str(index)]
    assert run("classify", str(tmp_path / "week2"), "--csv", str(out2), *args).exit_code == 0
    later = {Path(r["source"]).stem: r for r in csv.DictReader(out2.open())}
    assert later["Lars"]["template_size"] == "4" and later["Lars"]["template_id"] == rows["Karin"]["template_id"]
    # Classifying the first week again counts nothing twice.
    run("classify", str(tmp_path / "week1"), "--csv", str(out1), "--model", str(tiny_model), "--templates", str(index))
    again = {Path(r["source"]).stem: r for r in csv.DictReader(out1.open())}
    assert again["Karin"]["template_size"] == "4"


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path: Path, tiny_model: Path) -> None:
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "a.eml").write_bytes(eml("Hi there, book a demo.", subject='=HYPERLINK("http://evil.example","x")',
                                                 sender="@SUM(1+1) <evil@evil.example>", to="-2+3 <hr@nordvik.se>"))
    out = tmp_path / "out.csv"
    assert run("classify", str(tmp_path / "mail"), "--csv", str(out), "--model", str(tiny_model)).exit_code == 0
    row = dict(zip(CSV_COLUMNS, list(csv.reader(out.open()))[1], strict=True))
    assert row["subject"].startswith("'=HYPERLINK(")
    for name, value in row.items():
        assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (name, value)


def test_an_empty_mailbox_is_not_an_error(tmp_path: Path, tiny_model: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty.mbox").write_bytes(b"")
    for target in ("empty", "empty.mbox"):
        result = run("classify", str(tmp_path / target), "--csv", str(tmp_path / "o.csv"), "--model", str(tiny_model))
        assert result.exit_code == 0, result.output
        assert "0 messages" in result.output
        assert list(csv.reader((tmp_path / "o.csv").open())) == [list(CSV_COLUMNS)]


def test_one_message_is_singular(tmp_path: Path, tiny_model: Path) -> None:
    (tmp_path / "a.eml").write_bytes(eml("Hi there, book a demo."))
    result = run("classify", str(tmp_path / "a.eml"), "--csv", str(tmp_path / "o.csv"), "--model", str(tiny_model))
    assert "1 message classified" in result.output and "1 messages" not in result.output


def test_csv_dash_writes_the_csv_to_stdout(tmp_path: Path, tiny_model: Path) -> None:
    (tmp_path / "a.eml").write_bytes(eml("Hi there, book a demo."))
    done = subprocess.run([BIN / "pitchsort", "classify", str(tmp_path / "a.eml"), "--csv", "-", "--model", str(tiny_model)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 2  # the CSV alone: the summary went to stderr
    assert "1 message classified" in done.stderr
    assert not (tmp_path / "-").exists()


def test_interrupted_classify_leaves_no_partial_csv(tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.model.classify

    real = pipeline.model.classify.classify_stream

    def interrupted(*args, **kwargs):
        for i, item in enumerate(real(*args, **kwargs)):
            if i == 2:
                raise KeyboardInterrupt
            yield item

    monkeypatch.setattr(pipeline.model.classify, "classify_stream", interrupted)
    for i in range(5):
        (tmp_path / f"{i}.eml").write_bytes(eml(f"Hi there, book demo number {i}."))
    out = tmp_path / "out" / "o.csv"
    result = run("classify", str(tmp_path), "--csv", str(out), "--model", str(tiny_model))
    assert result.exit_code == 130
    assert "interrupted: no CSV written" in result.output
    assert not out.exists() and list(out.parent.iterdir()) == []


def test_version_and_short_help() -> None:
    from pipeline import __version__

    assert run("--version").output.strip() == f"pitchsort {__version__}"
    result = run("classify", "-h")
    assert result.exit_code == 0 and "--csv" in result.output


def test_files_pitchsort_writes_are_private(tmp_path: Path, tiny_model: Path) -> None:
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "a.eml").write_bytes(eml("Hi there, book a demo."))
    out, templates = tmp_path / "new" / "o.csv", tmp_path / "t" / "templates.sqlite"
    done = subprocess.run([BIN / "pitchsort", "classify", str(tmp_path / "mail"), "--csv", str(out), "--model", str(tiny_model),
                           "--templates", str(templates)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for path in (out, templates):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700, path.parent
