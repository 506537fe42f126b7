"""Rule and header features, per language, and the transformers' scikit-learn manners."""

from __future__ import annotations

import pickle

import pytest
from conftest import eml
from sklearn.base import clone
from sklearn.utils.estimator_checks import check_no_attributes_set_in_init

from pipeline.features.analyzer import Field, MailAnalyzer, build_features
from pipeline.mail.message import parse_bytes

TO = "Karin Berg <karin.berg@nordvik.se>"


def signals(body: str, **kw) -> dict[str, float]:
    m = parse_bytes(eml(body, to=kw.pop("to", TO), **kw))
    return MailAnalyzer().fit([m]).transform([m])[0].signals


GREETINGS = {
    # language: (by recipient's name, generic, by another name)
    "en": ("Hi Karin,\nThanks for the chat about the role.", "Hi there,\nWe help companies hire.", "Hi Sofia,\nWe help companies hire."),
    "sv": ("Hej Karin!\nTack för samtalet om tjänsten.", "Hej!\nVi hjälper företag att rekrytera.", "Hej Sofia!\nVi hjälper företag."),
    "nl": ("Hoi Karin,\nBedankt voor het gesprek.", "Beste lezer,\nWij helpen bedrijven.", "Hoi Sofie,\nWij helpen bedrijven."),
    "nb": ("Hei Karin,\nTakk for praten om stillingen.", "Hei,\nVi hjelper bedrifter.", "Hei Sofie,\nVi hjelper bedrifter."),
    "da": ("Hej Karin,\nTak for snakken om stillingen.", "Kære rekrutteringsansvarlige,\nVi hjælper virksomheder.",
           "Hej Sofie,\nVi hjælper virksomheder."),
    "de": ("Liebe Frau Berg,\nvielen Dank für das Gespräch.", "Sehr geehrte Damen und Herren,\nwir helfen Unternehmen.",
           "Hallo Sofia,\nwir helfen Unternehmen."),
}


@pytest.mark.parametrize("code", sorted(GREETINGS))
def test_greetings(code: str) -> None:
    personal, generic, wrong = GREETINGS[code]
    assert signals(personal).get("greet_recipient_name") == 1.0
    assert signals(generic).get("greet_generic") == 1.0
    got = signals(wrong)
    assert got.get("greet_other_name") == 1.0 and "greet_recipient_name" not in got


def test_english_template_with_swedish_greeting() -> None:
    s = signals("Hej!\nWe help fast-growing companies hire senior engineers within two weeks.")
    assert s.get("greet_generic") == 1.0 and s.get("lang_en") == 1.0


@pytest.mark.parametrize("body", ["Hi {{first_name}},\nWe help.", "Dear [Name],\nWe help.", "Hej %FIRSTNAME%!\nVi hjälper.",
                                  "Hallo *|FNAME|*,\nwir helfen.", "Hi ,\nWe help companies.", "Hoi [voornaam],\nWij helpen."])
def test_merge_field_leftovers(body: str) -> None:
    assert signals(body).get("merge_field") == 1.0


@pytest.mark.parametrize("body", ["Hi Karin,\nSee {the attached} plan.", "Hej Karin,\nPris: 100 % nöjd kund."])
def test_no_merge_field_in_ordinary_text(body: str) -> None:
    assert "merge_field" not in signals(body)


def test_company_named() -> None:
    assert signals("Hej Karin, jag såg att Nordvik växer i Umeå.").get("company_named") == 1.0
    assert "company_named" not in signals("Hej Karin, jag såg att ni växer i Umeå.")


def test_reply_to_owner_vs_fake_reply() -> None:
    real = signals("Tack, torsdag passar.\n\nDen tis 14 okt. 2026 kl 09:12 skrev Karin Berg <karin.berg@nordvik.se>:\n> Passar torsdag?",
                   subject="SV: Intervju", headers={"In-Reply-To": "<abc@nordvik.se>", "References": "<abc@nordvik.se>"})
    assert real.get("replies_to_owner") == 1.0 and real.get("quotes_owner") == 1.0 and "fake_reply_subject" not in real
    fake = signals("Hej!\nVi har kandidater lediga nu.", subject="SV: Kandidater")
    assert fake.get("fake_reply_subject") == 1.0 and "threaded" not in fake


def test_nudge_following_its_own_message() -> None:
    s = signals("Just bumping this up.\n\nOn Mon, 3 Nov 2026, Anna Lind <anna@kvarn.se> wrote:\n> Hi there, we help.",
                subject="Re: Hiring", headers={"In-Reply-To": "<x1@kvarn.se>"})
    assert s.get("replies_to_self") == 1.0 and s.get("quotes_self") == 1.0 and "replies_to_owner" not in s


def test_bulk_headers_and_cv_attachment() -> None:
    s = signals("Hi there", headers={"List-Unsubscribe": "<https://x.example/u>", "X-Mailer": "lemlist"})
    assert s.get("list_unsubscribe") == 1.0 and s.get("bulk_mailer") == 1.0
    s = signals("Hej, här är mitt CV.", attachments=[("CV_Anna_Lind.pdf", "application/pdf", b"%PDF-1.4")])
    assert s.get("attach_pdf") == 1.0 and s.get("attach_cv_name") == 1.0


def test_cv_headings_only_count_as_headings() -> None:
    body = "Profil\nLagerchef med tio års erfarenhet.\nErfarenhet\nKvarn AB 2019-2024\nUtbildning\nLogistik"
    assert signals(body)["cv_headings"] > 1.0
    assert signals("Jag har lång erfarenhet av utbildning inom logistik.")["cv_headings"] == 0.0


def test_quoted_pitch_does_not_feed_the_words() -> None:
    m = parse_bytes(eml("Nej tack.\n\nOn Mon, 3 Nov 2026, Bo <bo@x.se> wrote:\n> Unique quotedword offer"))
    terms = MailAnalyzer().fit([m]).transform([m])[0].terms
    assert "quotedword" not in terms


def test_sklearn_conventions() -> None:
    for est in (MailAnalyzer(), Field(name="terms")):
        check_no_attributes_set_in_init(type(est).__name__, est)
        assert clone(est).get_params() == est.get_params()
    with pytest.raises(ValueError, match="max_chars"):
        MailAnalyzer(max_chars=1).fit([])
    with pytest.raises(ValueError, match="no attribute"):
        Field(name="nope").fit([])


def test_features_fit_transform_and_pickle() -> None:
    msgs = [parse_bytes(eml(b, subject=s)) for b, s in [("Hej Karin, tack!", "SV: a"), ("Hi there, we help.", "Offer"),
                                                           ("Hej Karin, tack igen!", "SV: b"), ("Hi there, we help you.", "Offer")]]
    docs = MailAnalyzer().fit(msgs).transform(msgs)
    union = build_features(min_df=1).fit(docs)
    X = union.transform(docs)
    assert X.shape[0] == 4 and X.shape[1] > 10
    again = pickle.loads(pickle.dumps(union)).transform(docs)
    assert (again != X).nnz == 0


def test_template_family_signals() -> None:
    from pipeline.features.fingerprint import Arrival, TemplateMatch

    m = parse_bytes(eml("Hi Karin,\nWe help companies hire."))
    alone = MailAnalyzer().fit([m]).transform([Arrival(m, TemplateMatch("t1", 1, 1, 1))])[0].signals
    assert not {"template_copies", "template_recipients", "template_senders"} & set(alone)
    family = MailAnalyzer().fit([m]).transform([Arrival(m, TemplateMatch("t1", 15, 14, 2))])[0].signals
    assert family["template_copies"] > family["template_recipients"] > family["template_senders"] > 0


@pytest.mark.parametrize("code", sorted(GREETINGS))
def test_tokens_are_spacys_own_without_the_special_cases_that_split_nothing(code: str) -> None:
    import spacy
    from spacy.attrs import IS_PUNCT, IS_SPACE, IS_STOP, LIKE_EMAIL, LIKE_NUM, LIKE_URL, LOWER, ORTH, SPACY

    from pipeline.features.nlp import tools

    stock_nlp = spacy.blank(code)
    ours_nlp = tools(code).nlp
    dropped = set(stock_nlp.tokenizer.rules) - set(ours_nlp.tokenizer.rules)
    assert "\n" in dropped and len(dropped) < len(stock_nlp.tokenizer.rules)
    # Every special case of the language, dropped or kept, alone and with punctuation and line breaks around it.
    cases = sorted(stock_nlp.tokenizer.rules)
    text = "\n\n".join(GREETINGS[code]) + "\n\tSee www.nordvik.se,\xa0mail karin@nordvik.se :) e.g. 12.5% ... t.ex. don't\n"
    text += " ".join(f"{c} ({c}) {c}, «{c}»\n{c}. x{c} {c}-{c}" for c in cases if not c.isspace())
    attrs = [ORTH, LOWER, IS_SPACE, IS_PUNCT, IS_STOP, LIKE_URL, LIKE_EMAIL, LIKE_NUM, SPACY]
    ours = ours_nlp.make_doc(text * 2)
    stock = stock_nlp.make_doc(text * 2)
    assert [t.text for t in ours] == [t.text for t in stock]
    assert (ours.to_array(attrs) == stock.to_array(attrs)).all()


def test_terms_are_the_same_when_the_word_table_starts_again(monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.features.analyzer

    m = parse_bytes(eml("Hi Karin,\nWe place 12 senior engineers, see www.brygga.se or mail jobs@brygga.se today.", to=TO))
    analyzer = MailAnalyzer().fit([m])
    before = analyzer.transform([m])[0].terms
    monkeypatch.setattr(pipeline.features.analyzer, "MAX_KNOWN_WORDS", 3)
    pipeline.features.analyzer._kinds.clear()
    assert analyzer.transform([m])[0].terms == analyzer.transform([m])[0].terms == before
    assert "<url>" in before and "<email>" in before and "<num>" in before and "<recipient>" in before
    assert 0 < len(pipeline.features.analyzer._kinds) <= 2 * 3


def test_past_the_string_limit_a_batch_is_read_in_a_memory_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.features.nlp
    from pipeline.features.nlp import tools

    bodies = ["Hi Karin,\nZorblax Quintavel offers 12 plonkfest engineers at www.zorblax.example today.",
              "Hej Karin!\nTack för samtalet, jag skickar mitt CV från Grumvik i morgon.",
              "Thanks Karin, Thursday works for the Vextrona interview."]
    messages = [parse_bytes(eml(b, to=TO)) for b in bodies]
    analyzer = MailAnalyzer().fit(messages)
    expected = analyzer.transform(messages)
    monkeypatch.setattr(pipeline.features.nlp, "MAX_STRINGS", 0)
    sizes = {code: len(tools(code).nlp.vocab.strings) for code in ("en", "sv")}
    fresh = [parse_bytes(eml(b.replace("Karin", "Karin Blorptastic"), to=TO)) for b in bodies]
    zoned = analyzer.transform(messages + fresh)
    assert zoned[: len(messages)] == expected
    assert all("blorptastic" in d.terms for d in zoned[len(messages) :])  # new words read in the zone still count
    assert {code: len(tools(code).nlp.vocab.strings) for code in ("en", "sv")} == sizes  # what the batch added is gone


def test_with_forked_workers_the_lower_string_limit_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.features.nlp
    from pipeline.features.nlp import forking, tools
    from pipeline.lang import LANGUAGES

    messages = [parse_bytes(eml("Hi Karin,\nWe place 12 senior engineers at Brygga today.", to=TO))]
    analyzer = MailAnalyzer().fit(messages)
    monkeypatch.setattr(pipeline.features.nlp, "MAX_STRINGS", 10**9)
    monkeypatch.setattr(pipeline.features.nlp, "MAX_STRINGS_FORKED", 0)

    def strings() -> int:
        return sum(len(tools(code).nlp.vocab.strings) for code in LANGUAGES)

    size = strings()
    forking(True)
    try:
        analyzer.transform([parse_bytes(eml("Hi Karin,\nZwindlecorp sends 3 snorfblat engineers.", to=TO))])
        assert strings() == size  # read in a memory zone: the new words are gone again
    finally:
        forking(False)
    analyzer.transform([parse_bytes(eml("Hi Karin,\nZwindlecorp sends 3 snorfblat engineers.", to=TO))])
    assert strings() > size  # one process: under MAX_STRINGS, the words stay


def test_forked_workers_keep_smaller_word_tables() -> None:
    from pipeline.features import analyzer
    from pipeline.features.nlp import forking
    from pipeline.features.vectorize import CountingTfidfVectorizer, char_wb_3_4

    vec = CountingTfidfVectorizer(analyzer=char_wb_3_4).fit(["Hej Karin, tack för samtalet", "Hi Erik, thanks for the call"])
    forking(True)
    try:
        vec.transform(["Hej Erik"])
        assert analyzer._word_kinds().size == analyzer.MAX_KNOWN_WORDS_FORKED
        assert vec.__dict__["_known_by_word"].size == CountingTfidfVectorizer.CACHED_WORDS_FORKED
    finally:
        forking(False)
    vec.transform(["Hej Erik"])
    assert analyzer._word_kinds().size == analyzer.MAX_KNOWN_WORDS > analyzer.MAX_KNOWN_WORDS_FORKED
    assert vec.__dict__["_known_by_word"].size == CountingTfidfVectorizer.CACHED_WORDS > CountingTfidfVectorizer.CACHED_WORDS_FORKED


def test_a_huge_docx_is_inflated_only_to_the_cap() -> None:
    import io
    import zipfile

    from pipeline.mail import attachments

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", b"<w:t>Experience</w:t>" + b" " * (attachments.MAX_XML_BYTES * 3))
    assert len(buf.getvalue()) < attachments.MAX_BYTES  # small on the wire, three times the cap inflated
    assert attachments.extract_text(buf.getvalue(), "docx").startswith("Experience")


def test_bulk_addressed_to_its_sender_is_not_internal() -> None:
    """Readers in Bcc: the To names the sender, who is not the mailbox owner."""
    got = signals("Dear Colleague,\nRegister now for the 2001 energy conference.", sender="events@iafe.org",
                  to="events@iafe.org")
    assert got.get("bcc_only") == 1.0
    assert "internal_sender" not in got and "internal_only" not in got


def test_delivered_to_names_the_owner() -> None:
    m = parse_bytes(eml("Hi,\nquick question about the budget.", sender="ola@nordvik.se", to="all-staff@lists.example",
                        headers={"Delivered-To": "karin.berg@nordvik.se"}))
    assert m.delivered_to == "karin.berg@nordvik.se"
    got = MailAnalyzer().fit([m]).transform([m])[0].signals
    assert got.get("internal_sender") == 1.0 and got.get("internal_new") == 1.0 and "bcc_only" not in got


def test_colleague_answering_is_an_internal_reply() -> None:
    got = signals("Sure, Thursday works.", sender="Ola Nord <ola@nordvik.se>", subject="Re: Interview with Sofia")
    assert got.get("internal_reply") == 1.0 and "internal_new" not in got


@pytest.mark.parametrize(("to", "expected"), [
    # The address alone cannot prove a name wrong: someone else's name is unverified, not a slip.
    ("vkamins@enron.com", "greet_recipient_name"),  # Kaminski: the address holds the name's first five letters
    ("jobs2@enron.com", "greet_name_unverified"),
    ("Vince Kaminski <vkamins@enron.com>", "greet_recipient_name"),
    ("Sofia Lund <sofia.lund@enron.com>", "greet_other_name"),
])
def test_greeting_judged_against_what_the_recipient_is_called(to: str, expected: str) -> None:
    got = signals("Dear Dr. Kaminski,\nI am sending my resume.", to=to)
    assert got.get(expected) == 1.0, got
