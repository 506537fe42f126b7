"""Language identification on short messages, with and without a domain hint."""

from __future__ import annotations

import pytest

from pipeline.features.langid import OTHER, identify

SENTENCES = [
    ("en", "Thanks for your reply, I would be happy to meet next week if that works for you."),
    ("sv", "Tack för ditt svar, jag kan gärna träffas nästa vecka om det passar dig."),
    ("nl", "Bedankt voor je reactie, ik wil graag volgende week afspreken als dat jou uitkomt."),
    ("nb", "Takk for svaret, jeg kan gjerne møtes neste uke hvis det passer for deg."),
    ("da", "Tak for dit svar, jeg vil gerne mødes i næste uge hvis det passer dig."),
    ("de", "Danke für Ihre Antwort, ich würde mich gerne nächste Woche mit Ihnen treffen."),
]


@pytest.mark.parametrize(("code", "text"), SENTENCES)
def test_six_languages(code: str, text: str) -> None:
    assert identify(text) == code


def test_domain_breaks_a_danish_norwegian_tie() -> None:
    assert identify("Hej, tak!", "firma.dk") == "da"
    assert identify("Hei, takk!", "firma.no") == "nb"


def test_other_language() -> None:
    assert identify("Merci beaucoup pour votre réponse rapide, à bientôt") == OTHER
