"""The Sent-mail audit: every finding in all six languages, answers, totals, the CSV, the CLI, and the report in Chromium."""

from __future__ import annotations

import csv
import secrets
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from conftest import ROOT, cli, eml
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from pipeline.audit.report import render
from pipeline.audit.sent import CSV_COLUMNS, FINDINGS, AuditResult, audit, read_mail
from pipeline.features.mailmerge import says
from pipeline.mail.sources import RawMail
from pipeline.model.classifier import Classifier

SOFIA = "Sofia Lindqvist <sofia.lindqvist@bryggatalent.se>"
KARIN = "Karin Berg <karin.berg@nordvik.se>"
ERIK = "Erik Holm <erik.holm@kvarnby.se>"
SAMPLE = ROOT / "data" / "sent_sample"

# What each language needs to show (and not show) every finding. Written per language, not translated by code.
L = {
    "en": dict(hi="Hi", generic="Hi there", merge="{{first_name}}", cv="Resume_candidate.pdf",
               pitch="I am recruiting a warehouse manager for a client in Umeå and your background looks like a great fit. "
                     "Would you have time for a short call next week?",
               stale="I think {company} could use our warehouse staff this autumn, we have twenty people ready to start.",
               no="Thanks, but we are not interested.", yes="Sounds interesting, please call me on Thursday.",
               nudge="I am just following up on my previous email about the role.",
               thanks="Thank you for letting me know, I will not write about this role again."),
    "sv": dict(hi="Hej", generic="Hej där", merge="[Förnamn]", cv="CV_kandidat.pdf",
               pitch="Jag söker en lagerchef till en kund i Umeå och din bakgrund ser ut att passa mycket bra. "
                     "Har du tid för ett kort samtal nästa vecka?",
               stale="Jag tror att {company} kan behöva vår lagerpersonal i höst, vi har tjugo personer redo att börja.",
               no="Nej tack, jag trivs bra där jag är.", yes="Det låter spännande, ring mig gärna på torsdag.",
               nudge="Jag ville bara följa upp mitt förra mejl om rollen.",
               thanks="Tack för beskedet, jag skriver inte mer om den här rollen."),
    "nl": dict(hi="Beste", generic="Beste lezer", merge="[Voornaam]", cv="cv-kandidaat.pdf",
               pitch="Ik zoek een magazijnmanager voor een klant in Utrecht en jouw achtergrond lijkt er heel goed bij te passen. "
                     "Heb je volgende week tijd voor een kort gesprek?",
               stale="Ik denk dat {company} dit najaar ons magazijnpersoneel kan gebruiken, we hebben twintig mensen klaar staan.",
               no="Bedankt, maar ik heb geen interesse.", yes="Klinkt interessant, bel me donderdag maar.",
               nudge="Ik wilde even checken of je mijn vorige mail over de rol hebt gezien.",
               thanks="Dank je voor je antwoord, ik schrijf je niet meer over deze rol."),
    "nb": dict(hi="Hei", generic="Til rette vedkommende", merge="%FORNAVN%", cv="CV_kandidat.pdf",
               pitch="Jeg ser etter en lagersjef til en kunde i Oslo, og bakgrunnen din ser ut til å passe veldig godt. "
                     "Har du tid til en kort samtale neste uke?",
               stale="Jeg tror {company} kan trenge lagerpersonalet vårt i høst, vi har tjue personer klare til å starte.",
               no="Nei takk, jeg trives godt der jeg er.", yes="Høres spennende ut, ring meg gjerne på torsdag.",
               nudge="Jeg følger opp min forrige e-post om stillingen.",
               thanks="Takk for svaret, jeg skriver ikke mer om denne stillingen."),
    "da": dict(hi="Hej", generic="Til rette vedkommende", merge="[Fornavn]", cv="CV_kandidat.pdf",
               pitch="Jeg søger en lagerchef til en kunde i Aarhus, og din baggrund ser ud til at passe rigtig godt. "
                     "Har du tid til en kort samtale i næste uge?",
               stale="Jeg tror, at {company} kan bruge vores lagerpersonale i efteråret, vi har tyve personer klar til at starte.",
               no="Nej tak, jeg er glad for mit job.", yes="Det lyder spændende, ring gerne til mig på torsdag.",
               nudge="Jeg ville bare følge op på min tidligere mail om stillingen.",
               thanks="Tak for svaret, jeg skriver ikke mere om denne stilling."),
    "de": dict(hi="Hallo", generic="Sehr geehrte Damen und Herren", merge="{{Vorname}}", cv="Lebenslauf_Kandidat.pdf",
               pitch="Ich suche einen Lagerleiter für einen Kunden in München, und Ihr Hintergrund scheint sehr gut zu passen. "
                     "Hätten Sie nächste Woche Zeit für ein kurzes Gespräch?",
               stale="Ich glaube, {company} könnte diesen Herbst unser Lagerpersonal brauchen, zwanzig Leute sind startklar.",
               no="Danke, aber ich habe kein Interesse.", yes="Klingt spannend, rufen Sie mich gerne am Donnerstag an.",
               nudge="Ich wollte nachhaken wegen meiner letzten E-Mail zur Stelle.",
               thanks="Danke für Ihre Antwort, ich schreibe Ihnen nicht mehr zu dieser Stelle."),
}
LANGS = tuple(L)


def mail(body: str, *, mid: str, day: int, to: str = KARIN, sender: str = SOFIA, subject: str = "Lagerchef",
         reply_to: str = "", headers: dict[str, str] | None = None, attachments: list[tuple[str, str, bytes]] | None = None) -> bytes:
    """A message with its own Message-ID and date (eml() fixes both), threaded to ``reply_to`` when given."""
    extra = dict(headers or {})
    if reply_to:
        extra.update({"In-Reply-To": reply_to, "References": reply_to})
    raw = message_from_bytes(eml(body, subject=subject, sender=sender, to=to, headers=extra, attachments=attachments),
                             policy=policy.default)
    raw.replace_header("Date", f"{['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][(day + 3) % 7]}, {day} Sep 2026 09:00:00 +0200")
    raw.replace_header("Message-ID", mid)
    return bytes(raw)


def run(sent: list[bytes], inbox: list[bytes] | None, model: Path) -> AuditResult:
    sent_msgs, bad = read_mail(RawMail(f"sent/{i}", raw) for i, raw in enumerate(sent))
    inbox_msgs = read_mail(RawMail(f"inbox/{i}", raw) for i, raw in enumerate(inbox))[0] if inbox is not None else None
    assert not bad
    return audit(sent_msgs, inbox_msgs, Classifier.load(model), threshold=0.0)


def findings_of(result: AuditResult, mid: str) -> set[str]:
    return set(next(r for r in result.rows if r.message_id == mid).findings)


# -- one scenario per finding: (sent, inbox, the message judged) for mail that shows it and mail that must not ----------
def scenario(finding: str, code: str, shows: bool) -> tuple[list[bytes], list[bytes] | None, str]:
    w = L[code]
    first = f"{w['hi']} Karin,\n\n{w['pitch']}"
    if finding == "merge_field":
        body = f"{w['hi']} {w['merge']},\n\n{w['pitch']}" if shows else first
        return [mail(body, mid="<s1@b.se>", day=1)], None, "<s1@b.se>"
    if finding == "wrong_name":
        body = f"{w['hi']} {'Erik' if shows else 'Karin'},\n\n{w['pitch']}"
        return [mail(body, mid="<s1@b.se>", day=1)], None, "<s1@b.se>"
    if finding == "generic_greeting":
        body = f"{w['generic']},\n\n{w['pitch']}" if shows else first
        return [mail(body, mid="<s1@b.se>", day=1)], None, "<s1@b.se>"
    if finding == "wrong_company":
        # Two copies of one template; Erik's still names Karin's company when it shows the slip.
        karin = mail(f"{w['hi']} Karin,\n\n{w['stale'].format(company='Nordvik')} {w['pitch']}", mid="<s1@b.se>", day=1)
        erik = mail(f"{w['hi']} Erik,\n\n{w['stale'].format(company='Nordvik' if shows else 'Kvarnby')} {w['pitch']}",
                    mid="<s2@b.se>", day=1, to=ERIK)
        return [karin, erik], None, "<s2@b.se>"
    if finding == "cv_first_contact":
        cv = [(w["cv"], "application/pdf", b"%PDF-1.4 not really a pdf")]
        if shows:
            return [mail(first, mid="<s1@b.se>", day=1, attachments=cv)], [], "<s1@b.se>"
        # Karin wrote first and asked for the profile: the CV answers her.
        asked = mail(w["yes"], mid="<k1@nordvik.se>", day=1, sender=KARIN, to=SOFIA)
        answer = mail(first, mid="<s1@b.se>", day=2, attachments=cv, reply_to="<k1@nordvik.se>", subject="Re: Lagerchef")
        return [answer], [asked], "<s1@b.se>"
    if finding == "nudge_after_no":
        pitch = mail(first, mid="<s1@b.se>", day=1)
        no = mail(w["no"], mid="<k1@nordvik.se>", day=2, sender=KARIN, to=SOFIA, reply_to="<s1@b.se>", subject="Re: Lagerchef")
        if shows:
            later = mail(f"{w['hi']} Karin,\n\n{w['nudge']}", mid="<s2@b.se>", day=9, reply_to="<s1@b.se>", subject="Re: Lagerchef")
        else:
            later = mail(f"{w['hi']} Karin,\n\n{w['thanks']}", mid="<s2@b.se>", day=3, reply_to="<k1@nordvik.se>", subject="Re: Lagerchef")
        return [pitch, later], [no], "<s2@b.se>"
    if finding == "unanswered_nudge":
        pitch = mail(first, mid="<s1@b.se>", day=1)
        if shows:
            nudge = mail(f"{w['hi']} Karin,\n\n{w['nudge']}", mid="<s2@b.se>", day=8, reply_to="<s1@b.se>", subject="Re: Lagerchef")
            return [pitch, nudge], [], "<s2@b.se>"
        answer = mail(w["yes"], mid="<k1@nordvik.se>", day=2, sender=KARIN, to=SOFIA, reply_to="<s1@b.se>", subject="Re: Lagerchef")
        follow = mail(f"{w['hi']} Karin,\n\n{w['thanks']}", mid="<s2@b.se>", day=3, reply_to="<k1@nordvik.se>", subject="Re: Lagerchef")
        return [pitch, follow], [answer], "<s2@b.se>"
    raise AssertionError(finding)


CASES = [(f, c, s) for f in FINDINGS for c in LANGS for s in (True, False)]


@pytest.mark.parametrize(("finding", "code", "shows"), CASES, ids=[f"{f}-{c}-{'shows' if s else 'not'}" for f, c, s in CASES])
def test_finding(finding: str, code: str, shows: bool, tiny_model: Path) -> None:
    sent, inbox, judged = scenario(finding, code, shows)
    found = findings_of(run(sent, inbox, tiny_model), judged)
    if shows:
        assert finding in found
    else:
        assert finding not in found
    assert found <= set(FINDINGS)


@pytest.mark.parametrize("phrase", ["nej tack", "geen interesse", "nei takk", "nej tak", "kein Interesse", "not interested"])
def test_the_issues_declines_are_recognised(phrase: str) -> None:
    assert says("DECLINE", f"Hej, {phrase.capitalize()}. Mvh")
    assert not says("DECLINE", "Hej, tack för ditt mejl, ring mig gärna på torsdag.")


def test_a_nudge_counts_up_until_an_answer(tiny_model: Path) -> None:
    w = L["sv"]
    sent = [mail(f"Hej Karin,\n\n{w['pitch']}", mid="<s1@b.se>", day=1),
            mail(f"Hej Karin,\n\n{w['nudge']}", mid="<s2@b.se>", day=5, reply_to="<s1@b.se>", subject="Re: Lagerchef"),
            mail(f"Hej Karin,\n\n{w['nudge']} Sista gången.", mid="<s3@b.se>", day=9, reply_to="<s2@b.se>", subject="Re: Lagerchef")]
    answer = mail(w["yes"], mid="<k1@nordvik.se>", day=10, sender=KARIN, to=SOFIA, reply_to="<s3@b.se>", subject="Re: Lagerchef")
    rows = {r.message_id: r for r in run(sent, [answer], tiny_model).rows}
    assert [rows[m].nudges for m in ("<s1@b.se>", "<s2@b.se>", "<s3@b.se>")] == [0, 1, 2]
    assert [rows[m].answered for m in ("<s1@b.se>", "<s2@b.se>", "<s3@b.se>")] == ["no", "no", "yes"]


def test_answered_by_threading_by_subject_never_by_auto_reply_and_unknown_without_inbox(tiny_model: Path) -> None:
    w = L["nl"]
    sent = [mail(f"Beste Karin,\n\n{w['pitch']}", mid="<s1@b.se>", day=1, subject="Magazijnmanager"),
            mail(f"Beste Erik,\n\n{w['pitch']}", mid="<s2@b.se>", day=1, to=ERIK, subject="Magazijnmanager"),
            mail(f"Beste Eva,\n\n{w['pitch']}", mid="<s3@b.se>", day=1, to="Eva Ek <eva.ek@amstelhof.nl>", subject="Magazijnmanager")]
    inbox = [
        mail(w["yes"], mid="<k1@nordvik.se>", day=2, sender=KARIN, to=SOFIA, reply_to="<s1@b.se>", subject="Re: Magazijnmanager"),
        # Erik's webmail dropped the threading headers: the subject and his address still tie it to Sofia's mail.
        mail(w["no"], mid="<e1@kvarnby.se>", day=3, sender=ERIK, to=SOFIA, subject="RE: Magazijnmanager"),
        mail("Ik ben met vakantie tot 4 oktober.", mid="<v1@amstelhof.nl>", day=1, sender="Eva Ek <eva.ek@amstelhof.nl>", to=SOFIA,
             reply_to="<s3@b.se>", subject="Automatisch antwoord: Magazijnmanager", headers={"Auto-Submitted": "auto-replied"}),
    ]
    answered = {r.message_id: r.answered for r in run(sent, inbox, tiny_model).rows}
    assert answered == {"<s1@b.se>": "yes", "<s2@b.se>": "yes", "<s3@b.se>": "no"}
    assert {r.answered for r in run(sent, None, tiny_model).rows} == {"unknown"}


def test_an_answer_to_someone_else_is_not_an_answer(tiny_model: Path) -> None:
    sent = [mail(f"Hej Karin,\n\n{L['sv']['pitch']}", mid="<s1@b.se>", day=1)]
    inbox = [mail(L["sv"]["yes"], mid="<x1@kvarnby.se>", day=2, sender=ERIK, to=SOFIA, subject="Re: Lagerchef")]
    assert run(sent, inbox, tiny_model).rows[0].answered == "no"


def test_totals_templated_share_and_answer_rates(tiny_model: Path) -> None:
    w = L["en"]
    template = [mail(f"Hi {n},\n\n{w['stale'].format(company='your team')} {w['pitch']}", mid=f"<t{i}@b.se>", day=1,
                     to=f"{n} X <{n.lower()}@firm{i}.se>", subject="Warehouse staff") for i, n in enumerate(["Anna", "Bo", "Cia", "Dan"])]
    personal = [mail("Hi Karin,\n\nI loved your post about the buddy week for new warehouse staff in Umeå. We tried the same at "
                     "a client in Sundsvall; shall I tell you what worked?", mid="<p1@b.se>", day=2, subject="Your buddy week")]
    inbox = [mail(w["yes"], mid="<a1@firm0.se>", day=3, sender="Anna X <anna@firm0.se>", to=SOFIA, reply_to="<t0@b.se>"),
             mail(w["yes"], mid="<k1@nordvik.se>", day=3, sender=KARIN, to=SOFIA, reply_to="<p1@b.se>")]
    result = run(template + personal, inbox, tiny_model)
    t = result.totals
    assert (t.messages, t.templated, t.personal) == (5, 4, 1)
    assert t.templated_share == pytest.approx(0.8)
    assert [(f.size, f.rate.answered, f.rate.total) for f in t.families] == [(4, 1, 4)]
    assert (t.personal_rate.answered, t.personal_rate.total) == (1, 1)
    assert (t.templated_rate.answered, t.templated_rate.total) == (1, 4)
    assert t.nudge_messages == {"0": 5}
    personal_row = next(r for r in result.rows if r.message_id == "<p1@b.se>")
    template_row = next(r for r in result.rows if r.message_id == "<t1@b.se>")
    assert personal_row.personalization.score > template_row.personalization.score
    assert any("no other message shares its text" in b for b in personal_row.personalization.basis)


def test_personalization_rests_on_named_parts_and_penalises_slips(tiny_model: Path) -> None:
    w = L["de"]
    good = mail(f"Hallo Karin,\n\n{w['pitch']}", mid="<s1@b.se>", day=1)
    slip = mail(f"Hallo {w['merge']},\n\n{w['pitch']} Noch ein Satz.", mid="<s2@b.se>", day=1, to=ERIK)
    rows = {r.message_id: r for r in run([good, slip], None, tiny_model).rows}
    assert 0 <= rows["<s2@b.se>"].personalization.score < rows["<s1@b.se>"].personalization.score <= 100
    assert any(b.startswith("-40 merge field") for b in rows["<s2@b.se>"].personalization.basis)
    assert any(b.startswith("+20 greets the recipient") for b in rows["<s1@b.se>"].personalization.basis)


# -- the sample mailbox, the CSV and the command line -------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_audit(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("audit")
    result = cli("audit", str(SAMPLE / "sent"), "--inbox", str(SAMPLE / "inbox"), "--csv", str(out / "audit.csv"),
                 "--html", str(out / "audit.html"), "--model", str(tiny_model))
    assert result.exit_code == 0, result.output
    assert "38 outgoing messages audited" in result.output
    return out / "audit.csv", out / "audit.html"


def test_csv_columns_and_sample_findings(sample_audit: tuple[Path, Path]) -> None:
    rows = list(csv.reader(sample_audit[0].open(encoding="utf-8")))
    assert tuple(rows[0]) == CSV_COLUMNS == ("message_id", "date", "to", "subject", "label", "personalization", "template_id",
                                             "template_size", "findings", "answered")
    data = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert len(data) == len(list((SAMPLE / "sent").glob("*.eml")))
    by_id = {r["message_id"].split(".")[0].strip("<"): r for r in data}
    assert "merge_field" in by_id["sent-sv-a3"]["findings"]
    assert by_id["sent-sv-a4"]["findings"] == "wrong_name"
    assert "wrong_company" in by_id["sent-en-b3"]["findings"]
    assert by_id["sent-nl-d3"]["findings"] == "generic_greeting"
    assert {k for k, r in by_id.items() if "nudge_after_no" in r["findings"]} == {"sent-sv-a2-nudge1", "sent-de-c2-nudge1",
                                                                                    "sent-nb-e2-nudge1"}
    assert by_id["sent-da-reply-jens"]["findings"] == ""
    assert by_id["sent-nl-d2"]["answered"] == "yes"  # Daan's answer lost its threading headers
    assert by_id["sent-nl-d1"]["answered"] == "no"  # Sanne's out-of-office is no answer
    assert all(r["findings"] == "" for k, r in by_id.items() if k.endswith("-p1"))
    assert all(0 <= int(r["personalization"]) <= 100 for r in data)


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def dump_dom(html: Path, tmp: Path) -> HTMLParser:
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed: `make chromium` (make test does it)")
    done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp / 'profile'}",
                           "--dump-dom", html.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "<svg" in done.stdout
    return HTMLParser(done.stdout)


def test_report_in_chromium_agrees_with_the_csv(sample_audit: tuple[Path, Path], tmp_path: Path) -> None:
    csv_path, html_path = sample_audit
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    dom = dump_dom(html_path, tmp_path)

    def value(selector: str, attr: str = "data-value") -> str:
        node = dom.css_first(selector)
        assert node is not None, selector
        return node.attributes[attr] or ""

    templated = [r for r in rows if int(r["template_size"]) >= 2]
    personal = [r for r in rows if int(r["template_size"]) < 2]
    assert int(value("#n-messages")) == len(rows)
    assert int(value("#n-templated")) == len(templated)
    assert int(value("#n-personal")) == len(personal)
    assert float(value("#share-templated")) == pytest.approx(len(templated) / len(rows), abs=1e-4)
    for selector, group in (("#rate-templated", templated), ("#rate-personal", personal)):
        assert int(value(selector, "data-answered")) == sum(r["answered"] == "yes" for r in group)
        assert int(value(selector, "data-total")) == len(group)
    families = Counter(r["template_id"] for r in templated)
    shown = {n.attributes["data-template-id"]: n for n in dom.css("g.family")}
    assert set(shown) == set(families)
    for tid, node in shown.items():
        members = [r for r in templated if r["template_id"] == tid]
        assert int(node.attributes["data-size"]) == families[tid]
        assert int(node.attributes["data-answered"]) == sum(r["answered"] == "yes" for r in members)
    counts = Counter(code for r in rows for code in r["findings"].split(";") if code)
    for node in dom.css("g.finding"):
        assert int(node.attributes["data-count"]) == counts[node.attributes["data-finding"]]
    assert sum(int(n.attributes["data-messages"]) for n in dom.css("g.nudges")) == len(rows)
    nudged = sum(int(n.attributes["data-messages"]) for n in dom.css("g.nudges") if n.attributes["data-nudges"] != "0")
    assert nudged == counts["unanswered_nudge"]
    table = {n.attributes["data-message-id"]: n for n in dom.css("#findings-table tr[data-message-id]")}
    assert set(table) == {r["message_id"] for r in rows if r["findings"]}
    for r in rows:
        if r["findings"]:
            assert table[r["message_id"]].attributes["data-findings"] == r["findings"]
            link = table[r["message_id"]].css_first("a[href^='mid:']")
            assert link is not None and link.attributes["href"] == "mid:" + r["message_id"].strip("<>")


def test_report_needs_no_network(sample_audit: tuple[Path, Path]) -> None:
    html = sample_audit[1].read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert "<link" not in html and "@import" not in html


def test_report_without_inbox_says_answers_are_unknown(tiny_model: Path) -> None:
    result = run([mail(f"Hej Karin,\n\n{L['sv']['pitch']}", mid="<s1@b.se>", day=1)], None, tiny_model)
    html = render(result)
    assert 'id="rate-personal" data-value=""' in html and "answers unknown" in html


def test_cli_missing_path_is_one_line_exit_2(tmp_path: Path, tiny_model: Path) -> None:
    result = cli("audit", str(tmp_path / "nope"), "--csv", str(tmp_path / "a.csv"), "--html", str(tmp_path / "a.html"),
                 "--model", str(tiny_model))
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and result.output.startswith("pitchsort: no such file or folder")


@pytest.mark.parametrize("args", [
    [],  # neither SENT nor --folder
    ["SENT", "--folder", "Sent"],  # both
    ["SENT", "--config", "cfg.toml"],  # --config without a folder
    ["SENT", "--inbox", "INBOX", "--inbox-folder", "INBOX"],  # two inboxes
])
def test_cli_usage_errors_are_one_line_exit_2(args: list[str], tmp_path: Path, tiny_model: Path) -> None:
    args = [str(SAMPLE / "sent") if a == "SENT" else str(SAMPLE / "inbox") if a == "INBOX" else a for a in args]
    result = cli("audit", *args, "--csv", str(tmp_path / "a.csv"), "--html", str(tmp_path / "a.html"), "--model", str(tiny_model))
    assert result.exit_code == 2
    assert result.output.startswith("pitchsort: ") and result.output.strip().count("\n") == 0


def test_cli_missing_config_file_is_one_line_exit_2(tmp_path: Path, tiny_model: Path) -> None:
    result = cli("audit", "--config", str(tmp_path / "none.toml"), "--folder", "Sent", "--csv", str(tmp_path / "a.csv"),
                 "--html", str(tmp_path / "a.html"), "--model", str(tiny_model))
    assert result.exit_code == 2
    assert result.output.startswith("pitchsort: no config file") and result.output.strip().count("\n") == 0


def test_cli_folder_without_mail_is_exit_2(tmp_path: Path, tiny_model: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = cli("audit", str(tmp_path / "empty"), "--csv", str(tmp_path / "a.csv"), "--html", str(tmp_path / "a.html"),
                 "--model", str(tiny_model))
    assert result.exit_code == 2 and "no outgoing mail" in result.output


def test_cli_unparseable_message_is_skipped_with_exit_1(tmp_path: Path, tiny_model: Path) -> None:
    (tmp_path / "sent").mkdir()
    (tmp_path / "sent" / "a.eml").write_bytes(mail(f"Hej Karin,\n\n{L['sv']['pitch']}", mid="<s1@b.se>", day=1))
    (tmp_path / "sent" / "b.eml").write_bytes(b"\n\n\n")
    result = cli("audit", str(tmp_path / "sent"), "--csv", str(tmp_path / "a.csv"), "--html", str(tmp_path / "a.html"),
                 "--model", str(tiny_model))
    assert result.exit_code == 1
    assert "skipped" in result.output and "b.eml" in result.output


# -- the IMAP source: a private Dovecot (tools/dovecot.py), read through the nightly run's config and IMAP code ---------
@pytest.fixture(scope="module")
def imap_box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    if shutil.which("dovecot") is None:
        pytest.skip("dovecot is not installed: `make dovecot` (make test does it)")
    sys.path.insert(0, str(ROOT / "tools"))
    from dovecot import Dovecot  # tools/ is not a package

    with Dovecot() as server:
        user, password = "auditor", secrets.token_urlsafe(12)
        server.add_user(user, password)
        client = server.client(user, password)
        client.create_folder("Sent")
        for path in sorted((SAMPLE / "sent").glob("*.eml")):
            client.append("Sent", path.read_bytes())
        for path in sorted((SAMPLE / "inbox").glob("*.eml")):
            client.append("INBOX", path.read_bytes())
        client.logout()
        config = tmp_path_factory.mktemp("imap") / "config.toml"
        config.write_text(f'[[account]]\nname = "hr"\nhost = "127.0.0.1"\nport = {server.port}\ntls = "insecure"\ninsecure = true\n'
                          f'user = "{user}"\npassword_env = "PITCHSORT_AUDIT_PASSWORD"\nfolders = ["INBOX"]\ntimeout = 10\n')
        config.chmod(0o600)
        yield config, password


def test_cli_reads_sent_and_inbox_from_imap(imap_box: tuple[Path, str], tmp_path: Path, tiny_model: Path,
                                            sample_audit: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    config, password = imap_box
    monkeypatch.setenv("PITCHSORT_AUDIT_PASSWORD", password)
    result = cli("audit", "--config", str(config), "--folder", "Sent", "--inbox-folder", "INBOX", "--csv", str(tmp_path / "a.csv"),
                 "--html", str(tmp_path / "a.html"), "--model", str(tiny_model))
    assert result.exit_code == 0, result.output
    from_imap = {r["message_id"]: r for r in csv.DictReader((tmp_path / "a.csv").open(encoding="utf-8"))}
    from_disk = {r["message_id"]: r for r in csv.DictReader(sample_audit[0].open(encoding="utf-8"))}
    assert set(from_imap) == set(from_disk)
    for mid, row in from_disk.items():
        assert (from_imap[mid]["findings"], from_imap[mid]["answered"]) == (row["findings"], row["answered"]), mid


def test_cli_unknown_imap_folder_is_one_line_exit_2(imap_box: tuple[Path, str], tmp_path: Path, tiny_model: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    config, password = imap_box
    monkeypatch.setenv("PITCHSORT_AUDIT_PASSWORD", password)
    result = cli("audit", "--config", str(config), "--folder", "Gesendet", "--csv", str(tmp_path / "a.csv"),
                 "--html", str(tmp_path / "a.html"), "--model", str(tiny_model))
    assert result.exit_code == 2, result.output
    assert result.output.startswith("pitchsort: ") and "Gesendet" in result.output and result.output.strip().count("\n") == 0


def test_other_mail_is_counted_but_left_out_of_the_outreach_figures() -> None:
    from pipeline.audit.sent import AuditRow, Personalization, totals

    def row(label: str, size: int, answered: str) -> AuditRow:
        return AuditRow(source="s", message_id="m", date="", to="t", subject="s", label=label,
                        personalization=Personalization(50, ()), template_id="t1", template_size=size, findings=(),
                        answered=answered)

    rows = [row("cold_pitch", 3, "no"), row("cold_pitch", 3, "no"), row("other", 3, "yes"), row("other", 1, "yes")]
    t = totals(rows, inbox=True)
    assert (t.messages, t.other, t.templated) == (2, 2, 2)
    assert (t.templated_rate.answered, t.templated_rate.total) == (0, 2)
