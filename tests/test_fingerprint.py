"""Template fingerprints: mail-merge siblings match, other mail does not, and the index outlives a restart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import eml

from pipeline.exceptions import TemplateIndexError
from pipeline.features.fingerprint import MIN_WORDS, SIMILARITY, TemplateIndex, fingerprint, masked_tokens, template_id_for
from pipeline.mail.message import Message, parse_bytes

# One template per language, filled twice as a mail merge would: other name, company, date, number, phone, link.
TEMPLATES = {
    "en": ("Hi {name},\n\nI am writing because {company} is growing fast, and on {date} we placed {n} engineers with teams "
           "like yours. Our consultants start within two weeks and we handle contracts, payroll and insurance. Could we book "
           "twenty minutes next week? Call me on {phone} or book here: {url}\n\nKind regards"),
    "sv": ("Hej {name},\n\nJag hör av mig eftersom {company} växer snabbt, och den {date} placerade vi {n} utvecklare i team som "
           "ert. Våra konsulter kan börja inom två veckor och vi sköter avtal, lön och försäkringar. Kan vi ses tjugo minuter "
           "nästa vecka? Ring mig på {phone} eller boka här: {url}\n\nVänliga hälsningar"),
    "nl": ("Beste {name},\n\nIk neem contact op omdat {company} hard groeit, en op {date} plaatsten wij {n} ontwikkelaars bij "
           "teams zoals dat van jullie. Onze consultants starten binnen twee weken en wij regelen contracten, salaris en "
           "verzekering. Zullen we volgende week twintig minuten afspreken? Bel mij op {phone} of plan via {url}\n\n"
           "Met vriendelijke groet"),
    "nb": ("Hei {name},\n\nJeg tar kontakt fordi {company} vokser raskt, og {date} plasserte vi {n} utviklere i team som deres. "
           "Konsulentene våre kan starte innen to uker, og vi tar oss av kontrakter, lønn og forsikring. Kan vi ta tjue "
           "minutter neste uke? Ring meg på {phone} eller book her: {url}\n\nMed vennlig hilsen"),
    "da": ("Hej {name},\n\nJeg skriver, fordi {company} vokser hurtigt, og den {date} placerede vi {n} udviklere i teams som "
           "jeres. Vores konsulenter kan starte inden for to uger, og vi står for kontrakter, løn og forsikring. Kan vi tage "
           "tyve minutter i næste uge? Ring på {phone} eller book her: {url}\n\nVenlig hilsen"),
    "de": ("Hallo {name},\n\nich melde mich, weil {company} schnell wächst, und am {date} haben wir {n} Entwickler in Teams wie "
           "Ihrem vermittelt. Unsere Berater starten innerhalb von zwei Wochen, und wir kümmern uns um Verträge, Gehalt und "
           "Versicherung. Hätten Sie nächste Woche zwanzig Minuten? Rufen Sie mich an unter {phone} oder buchen Sie hier: "
           "{url}\n\nViele Grüße"),
}
FIRST = {"name": "Karin", "company": "Nordvik", "date": "3 March 2026", "n": "12", "phone": "+46 70 123 45 67",
         "url": "https://brygga.example/book?c=nordvik"}
SECOND = {"name": "Pieter", "company": "Molenwerf", "date": "14 October 2026", "n": "7", "phone": "+31 6 9876 5432",
          "url": "https://brygga.example/book?c=molenwerf"}
TO_FIRST = "Karin Berg <karin.berg@nordvik.se>"
TO_SECOND = "Pieter de Vries <pieter.devries@molenwerf.nl>"

# A personal mail and a light edit of it in another language: the same person writing twice, not a template.
PERSONAL_SV = ("Hej Karin,\n\njag läste ditt inlägg om hur ni introducerar nya lagerarbetare i Umeå med en fadder första "
               "veckan. Vi testade nästan samma sak hos en kund i Sundsvall och fick ner avhoppen kraftigt. Vill du höra vad som "
               "fungerade och vad vi skulle göra annorlunda?")
PERSONAL_DA = ("Hej Karin,\n\njeg læste dit opslag om, hvordan I introducerer nye lagerarbejdere i Umeå med en fadder den første "
               "uge. Vi prøvede næsten det samme hos en kunde i Sundsvall og fik frafaldet kraftigt ned. Vil du høre, hvad der "
               "virkede, og hvad vi ville gøre anderledes?")
UNRELATED = ("Thanks for the interview on Thursday, Karin. As promised, here are the two references from my last job and the "
             "portfolio link. I am available for a second round any day next week except Tuesday morning.")


def msg(body: str, *, to: str = TO_FIRST, sender: str = "Sofia Lindqvist <sofia@brygga.se>", subject: str = "Hej",
        source: str = "") -> Message:
    return parse_bytes(eml(body, to=to, sender=sender, subject=subject), source or f"{to}|{body[:30]}")


def siblings(code: str) -> tuple[Message, Message]:
    template = TEMPLATES[code]
    return (msg(template.format(**FIRST), to=TO_FIRST, source=f"{code}-1"),
            msg(template.format(**SECOND), to=TO_SECOND, source=f"{code}-2"))


@pytest.mark.parametrize("code", TEMPLATES)
def test_siblings_with_masked_differences_match(code: str) -> None:
    a, b = siblings(code)
    assert fingerprint(a).similarity(fingerprint(b)) >= 0.9
    index = TemplateIndex.open(None)
    first = index.add("a", a)
    second = index.add("b", b)
    assert second.template_id == first.template_id == template_id_for("a")
    assert (second.size, second.recipients, second.senders) == (2, 2, 1)


@pytest.mark.parametrize("code", TEMPLATES)
def test_masking_hides_names_companies_numbers_dates_and_links(code: str) -> None:
    a, b = siblings(code)
    assert masked_tokens(a) == masked_tokens(b)
    joined = " ".join(masked_tokens(a))
    for leaked in ("karin", "nordvik", "12", "march", "brygga.example"):
        assert leaked not in joined


@pytest.mark.parametrize("code", TEMPLATES)
def test_unrelated_mail_does_not_match(code: str) -> None:
    a, _ = siblings(code)
    index = TemplateIndex.open(None)
    family = index.add("a", a).template_id
    other = index.add("u", msg(UNRELATED))
    assert other.template_id != family and other.size == 1
    assert fingerprint(a).similarity(fingerprint(msg(UNRELATED))) < SIMILARITY


def test_different_templates_of_one_language_do_not_match() -> None:
    index = TemplateIndex.open(None)
    ids = {index.add(code, siblings(code)[0]).template_id for code in TEMPLATES}
    assert len(ids) == len(TEMPLATES)


def test_lightly_edited_personal_mail_in_another_language_does_not_match() -> None:
    index = TemplateIndex.open(None)
    sv = index.add("sv", msg(PERSONAL_SV))
    da = index.add("da", msg(PERSONAL_DA))
    assert sv.template_id != da.template_id
    assert da.size == 1


def test_a_sibling_with_a_sentence_dropped_still_matches() -> None:
    a, b = siblings("en")
    dropped = msg(TEMPLATES["en"].format(**SECOND).replace(" Our consultants start within two weeks and we handle contracts, "
                                                             "payroll and insurance.", ""), to=TO_SECOND)
    index = TemplateIndex.open(None)
    family = index.add("a", a).template_id
    assert index.add("d", dropped).template_id == family


def test_very_short_texts_form_no_family() -> None:
    index = TemplateIndex.open(None)
    short = "Thanks, see you Tuesday!"
    assert len(short.split()) < MIN_WORDS
    first = index.add("s1", msg(short))
    second = index.add("s2", msg(short, to=TO_SECOND))
    assert first.size == second.size == 1
    assert first.template_id != second.template_id
    assert fingerprint(msg(short)).too_short


def test_match_does_not_insert_and_counts_the_message_in() -> None:
    a, b = siblings("sv")
    index = TemplateIndex.open(None)
    first = index.add("a", a)
    probe = index.match(b)
    assert (probe.template_id, probe.size, probe.recipients) == (first.template_id, 2, 2)
    assert len(index) == 1
    assert index.match(a) == first  # already indexed (same Message-ID): its family as it stands


def test_adding_a_key_again_changes_nothing() -> None:
    a, _ = siblings("nl")
    index = TemplateIndex.open(None)
    assert index.add("a", a) == index.add("a", a)
    assert len(index) == 1


def test_distinct_recipients_and_senders_are_counted() -> None:
    template = TEMPLATES["de"]
    index = TemplateIndex.open(None)
    index.add("1", msg(template.format(**FIRST), to=TO_FIRST, sender="Anna <anna@kvarn.se>"))
    index.add("2", msg(template.format(**FIRST), to=TO_FIRST, sender="Bo <bo@kvarn.se>"))  # same recipient again
    last = index.add("3", msg(template.format(**SECOND), to=f"{TO_SECOND}, Eva Ek <eva@molenwerf.nl>",
                              sender="Anna <anna@kvarn.se>"))
    assert (last.size, last.recipients, last.senders) == (3, 3, 2)
    assert index.families() == [last]


def test_index_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state" / "templates.sqlite"
    index = TemplateIndex.open(path)
    before = {code: index.add(f"{code}-1", siblings(code)[0]) for code in TEMPLATES}
    index.close()
    index = TemplateIndex.open(path)
    assert len(index) == len(TEMPLATES)
    for code, first in before.items():
        assert index.family_of(f"{code}-1") == first
        joined = index.add(f"{code}-2", siblings(code)[1])
        assert (joined.template_id, joined.size) == (first.template_id, 2)
    index.close()
    again = TemplateIndex.open(path)
    assert [f.size for f in again.families()] == [2] * len(TEMPLATES)
    again.close()


def test_other_fingerprint_settings_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "templates.sqlite"
    TemplateIndex.open(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '64' WHERE name = 'num_perm'")
    with pytest.raises(TemplateIndexError, match="other fingerprint settings.*num_perm"):
        TemplateIndex.open(path)


def test_a_file_that_is_not_an_index_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "templates.sqlite"
    path.write_bytes(b"not a database at all, just text " * 100)
    with pytest.raises(TemplateIndexError, match="cannot open the template index"):
        TemplateIndex.open(path)


@pytest.mark.parametrize("code", TEMPLATES)
def test_signature_is_datasketchs_affine32_minhash(code: str) -> None:
    # Indexes on disk hold these signatures: computing them without datasketch must not change one value.
    from datasketch import MinHash

    from pipeline.features.fingerprint import NUM_PERM, SEED, minhash, shingle_hashes

    shingles = shingle_hashes(masked_tokens(siblings(code)[0]))
    reference = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=lambda v: v, scheme="affine32")
    reference.update_batch(shingles.tolist())
    assert minhash(shingles).tolist() == reference.hashvalues.tolist()


def test_words_in_punctuation_are_read_as_the_token_pattern_reads_them() -> None:
    m = msg('"Hej Karin," skrev hon (till Nordvik). Se www.brygga.se, ring 070-123 45 67 eller skriv: a.b@brygga.se!\n'
            "Don’t «wait»… it's 'now' — Nordviks-teamet.")
    assert masked_tokens(m) == ["hej", "<name>", "skrev", "hon", "till", "<org>", "se", "<url>", "ring", "<num>", "eller",
                                "skriv", "<email>", "don’t", "wait", "it's", "now", "<org>"]


def test_families_of_reads_many_keys_at_once() -> None:
    index = TemplateIndex.open(None)
    a, b = siblings("en")
    index.add("a", a)
    index.add("b", b)
    found = index.families_of(["a", "b", "missing", *[f"x{i}" for i in range(600)]])
    assert set(found) == {"a", "b"}
    assert found["a"] == found["b"] == index.family_of("a")
    assert found["a"].size == 2


def test_a_large_family_stays_one_and_no_bucket_holds_more_than_eight(tmp_path: Path) -> None:
    # Twelve copies share all 32 buckets: the first eight fill them, the rest join the family without a bucket row.
    path = tmp_path / "templates.sqlite"
    a, _ = siblings("en")
    index = TemplateIndex.open(path)
    index.add_many([(f"k{i}", a, None) for i in range(12)])
    found = index.families_of([f"k{i}" for i in range(12)])
    assert {f.template_id for f in found.values()} == {template_id_for("k0")}
    assert found["k11"].size == 12
    assert index.add("k12", a).size == 13
    index.close()
    with sqlite3.connect(path) as db:
        per_bucket = [n for (n,) in db.execute("SELECT COUNT(*) FROM buckets GROUP BY bucket")]
    assert len(per_bucket) == 32 and set(per_bucket) == {8}


def test_a_message_to_forty_thousand_recipients_is_indexed(tmp_path: Path) -> None:
    # One INSERT of every address once ran out of SQL variables and stopped every later run.
    to = ", ".join(f"hr{i}@firm{i % 97}.example" for i in range(40_000))
    # Written by hand: the stdlib's header folding takes a minute over such a list.
    raw = f"From: a@kvarn.se\r\nTo: {to}\r\nSubject: Hej\r\n\r\n{TEMPLATES['en'].format(**FIRST)}\r\n".encode()
    index = TemplateIndex.open(tmp_path / "t.sqlite")
    family = index.add("blast", parse_bytes(raw, "blast"))
    assert (family.size, family.recipients) == (1, 40_000)
    index.close()


def test_a_failure_half_way_leaves_nothing_of_the_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    a, b = siblings("sv")
    index = TemplateIndex.open(tmp_path / "t.sqlite")
    index.add("a", a)

    def broken(*args: object) -> tuple[int, int]:
        raise sqlite3.OperationalError("disk I/O error")

    with monkeypatch.context() as m:
        m.setattr(index, "_insert_addresses", broken)
        with pytest.raises(sqlite3.OperationalError):
            index.add("b", b)
    assert len(index) == 1 and index.family_of("b") is None
    assert index.add("b", b).size == 2  # the same message goes in cleanly on the next try
    index.flush()
    index.close()
