"""Every language's data files load, and every rule fires in every language."""

from __future__ import annotations

import pytest
import spacy
from spacy.matcher import Matcher

from pipeline import lang
from pipeline.features.nlp import tools


@pytest.mark.parametrize("code", lang.LANGUAGES)
def test_patterns_validate(code: str) -> None:
    data = lang.load(code)
    matcher = Matcher(spacy.blank(code).vocab, validate=True)
    token_patterns = [p for p in data.patterns if not isinstance(p.pattern, str)]
    for i, p in enumerate(token_patterns):
        matcher.add(f"{p.label}_{i}", [p.pattern])
    labels = {p.label for p in data.patterns}
    assert labels == set(lang.RULE_LABELS), f"{code} lacks {set(lang.RULE_LABELS) - labels}"
    assert data.mail.on and data.mail.wrote and data.mail.reply_prefixes and data.mail.sign_offs


def test_unknown_language_is_a_clear_error() -> None:
    with pytest.raises(lang.LanguageDataError, match="no language data"):
        lang.load("fr")


# One sentence per rule and language that must fire it.
RULE_CASES = {
    "JOB_SEEKING": {"en": "This is an open application for any role.", "sv": "Detta är en spontanansökan.",
                    "nl": "Dit is een open sollicitatie.", "nb": "Dette er en åpen søknad.",
                    "da": "Dette er en uopfordret ansøgning.", "de": "Dies ist eine Initiativbewerbung."},
    "NUDGE": {"en": "Just following up on my note.", "sv": "Har du hunnit titta på mitt förra mejl?",
              "nl": "Ik wilde even checken of je mijn vorige mail zag.", "nb": "Jeg følger opp min forrige e-post.",
              "da": "Jeg følger op på min tidligere mail.", "de": "Ich wollte nachhaken wegen meiner letzten E-Mail."},
    "UNSUBSCRIBE": {"en": "Click here to unsubscribe.", "sv": "Klicka här för att avregistrera dig.",
                    "nl": "Klik hier om af te melden of uitschrijven.", "nb": "Klikk her for å meld deg av.",
                    "da": "Klik her for at afmelde.", "de": "Hier abmelden."},
    "DECLINE": {"en": "We are not interested, thanks.", "sv": "Nej tack, vi är inte intresserade.",
                "nl": "Wij hebben geen interesse.", "nb": "Nei takk, ikke interessert.",
                "da": "Nej tak, ikke interesseret.", "de": "Wir haben kein Interesse."},
    "PREVIOUS_CONTACT": {"en": "As we discussed on the phone, here it is.", "sv": "Som vi pratade om i telefon.",
                         "nl": "Zoals besproken aan de telefoon.", "nb": "Som avtalt på telefon.",
                         "da": "Som aftalt i telefonen.", "de": "Wie telefonisch besprochen."},
    "CANDIDATE_OFFER": {"en": "We have a candidate for your role.", "sv": "Vi har en kandidat till er.",
                        "nl": "We hebben een kandidaat voor jullie.", "nb": "Vi har en kandidat til dere.",
                        "da": "Vi har en kandidat til jer.", "de": "Wir haben einen Kandidaten für Sie."},
    "GENERIC_GREETING": {"en": "Dear Sir/Madam,", "sv": "Hej där,", "nl": "Beste lezer,", "nb": "Til rette vedkommende,",
                         "da": "Kære rekrutteringsansvarlige,", "de": "Sehr geehrte Damen und Herren,"},
    "CV_HEADING": {"en": "Work experience", "sv": "Arbetslivserfarenhet", "nl": "Werkervaring", "nb": "Arbeidserfaring",
                   "da": "Erhvervserfaring", "de": "Berufserfahrung"},
}


def _labels(code: str, text: str) -> set[str]:
    t = tools(code)
    doc = t.nlp(text)
    matches = [*t.phrases(doc), *(t.tokens(doc) if len(t.tokens) else [])]
    return {t.nlp.vocab.strings[i] for i, _, _ in matches}


@pytest.mark.parametrize(("rule", "code"), [(r, c) for r in RULE_CASES for c in lang.LANGUAGES])
def test_rule_fires(rule: str, code: str) -> None:
    assert rule in _labels(code, RULE_CASES[rule][code])


@pytest.mark.parametrize("code", lang.LANGUAGES)
def test_neutral_text_fires_no_pitch_rules(code: str) -> None:
    neutral = {"en": "The weather was nice on Sunday.", "sv": "Vädret var fint på söndagen.",
               "nl": "Het weer was mooi op zondag.", "nb": "Været var fint på søndag.",
               "da": "Vejret var fint om søndagen.", "de": "Das Wetter war am Sonntag schön."}[code]
    assert not _labels(code, neutral) & {"NUDGE", "UNSUBSCRIBE", "JOB_SEEKING", "CANDIDATE_OFFER", "DECLINE"}
