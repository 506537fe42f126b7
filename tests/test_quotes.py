"""Quote, reply-header and signature splitting in all six languages."""

from __future__ import annotations

import random

import pytest

from pipeline.mail.quotes import _header_block, _notes_header_start, _quote_start, _Rules, _rules, split_reply

GMAIL_HEADERS = {
    "en": "On Tue, 14 Oct 2026 at 09:12, Karin Berg <karin@nordvik.se> wrote:",
    "sv": "Den tis 14 okt. 2026 kl 09:12 skrev Karin Berg <karin@nordvik.se>:",
    "nl": "Op di 14 okt. 2026 om 09:12 schreef Karin Berg <karin@nordvik.nl>:",
    "nb": "Den tir. 14. okt. 2026 kl. 09:12 skrev Karin Berg <karin@nordvik.no>:",
    "da": "Den tir. 14. okt. 2026 kl. 09.12 skrev Karin Berg <karin@nordvik.dk>:",
    "de": "Am Di., 14. Okt. 2026 um 09:12 Uhr schrieb Karin Berg <karin@nordvik.de>:",
}
OUTLOOK_BLOCKS = {
    "en": "From: Karin Berg\nSent: Tuesday, 14 October 2026 09:12\nTo: Anna\nSubject: Interview",
    "sv": "Från: Karin Berg\nSkickat: den 14 oktober 2026 09:12\nTill: Anna\nÄmne: Intervju",
    "nl": "Van: Karin Berg\nVerzonden: dinsdag 14 oktober 2026 09:12\nAan: Anna\nOnderwerp: Gesprek",
    "nb": "Fra: Karin Berg\nSendt: tirsdag 14. oktober 2026 09:12\nTil: Anna\nEmne: Intervju",
    "da": "Fra: Karin Berg\nSendt: 14. oktober 2026 09:12\nTil: Anna\nEmne: Samtale",
    "de": "Von: Karin Berg\nGesendet: Dienstag, 14. Oktober 2026 09:12\nAn: Anna\nBetreff: Gespräch",
}


@pytest.mark.parametrize("code", sorted(GMAIL_HEADERS))
def test_gmail_style_header_top_posted(code: str) -> None:
    text = f"Thursday works.\n\n{GMAIL_HEADERS[code]}\n> Does Thursday work?\n> Karin"
    s = split_reply(text)
    assert s.new == "Thursday works."
    assert s.quoted.startswith("Does Thursday work?")
    assert s.quote_header == GMAIL_HEADERS[code]


@pytest.mark.parametrize("code", sorted(GMAIL_HEADERS))
def test_gmail_header_wrapped_over_two_lines(code: str) -> None:
    header = GMAIL_HEADERS[code]
    cut = header.index("<")
    text = f"Yes.\n\n{header[:cut]}\n{header[cut:]}\n> Question?"
    s = split_reply(text)
    assert (s.new, s.quoted) == ("Yes.", "Question?")


@pytest.mark.parametrize("code", sorted(OUTLOOK_BLOCKS))
@pytest.mark.parametrize("separator", ["________________________________\n", ""])
def test_outlook_block(code: str, separator: str) -> None:
    text = f"See you then.\n\n{separator}{OUTLOOK_BLOCKS[code]}\n\nOld message text"
    s = split_reply(text)
    assert s.new == "See you then."
    assert s.quoted.endswith("Old message text")


@pytest.mark.parametrize("line", ["-----Original Message-----", "-----Ursprüngliche Nachricht-----",
                                  "-------- Oorspronkelijk bericht --------", "-----Opprinnelig melding-----"])
def test_original_message_separators(line: str) -> None:
    s = split_reply(f"Fine.\n\n{line}\nFrom: x\nold")
    assert s.new == "Fine." and "old" in s.quoted


def test_inline_reply_keeps_answers_as_new_text() -> None:
    s = split_reply("Hi Karin,\n> Can you start in May?\nYes, May 4.\n> Salary?\n45k is fine.")
    assert s.new == "Hi Karin,\nYes, May 4.\n45k is fine."
    assert s.quoted == "Can you start in May?\nSalary?"


@pytest.mark.parametrize(("text", "new", "signature"), [
    ("Thanks!\n-- \nAnna Lind\n070-123 45 67", "Thanks!", "Anna Lind\n070-123 45 67"),
    ("Tack för igår.\n\nVänliga hälsningar\nAnna Lind\nKvarn AB", "Tack för igår.\n\nVänliga hälsningar", "Anna Lind\nKvarn AB"),
    ("Bedankt!\n\nMet vriendelijke groet,\nPieter", "Bedankt!\n\nMet vriendelijke groet,", "Pieter"),
    ("Takk!\n\nMed vennlig hilsen\nOla", "Takk!\n\nMed vennlig hilsen", "Ola"),
    ("Tak!\n\nMed venlig hilsen\nMette", "Tak!\n\nMed venlig hilsen", "Mette"),
    ("Danke!\n\nMit freundlichen Grüßen\nJonas Weber", "Danke!\n\nMit freundlichen Grüßen", "Jonas Weber"),
])
def test_signatures(text: str, new: str, signature: str) -> None:
    s = split_reply(text)
    assert (s.new, s.signature) == (new, signature)


def test_no_quote_leaves_text_alone() -> None:
    s = split_reply("Just a message with no quote.\nSecond line.")
    assert s.new == "Just a message with no quote.\nSecond line." and s.quoted == "" and s.quote_header == ""


def test_a_sentence_ending_in_wrote_is_not_a_header() -> None:
    s = split_reply("I read the article you wrote:\nit was great.")
    assert s.quoted == ""


@pytest.mark.parametrize("code", sorted(GMAIL_HEADERS))
def test_quoted_date_from_reply_headers(code: str) -> None:
    from pipeline.mail.quotes import quoted_date

    assert quoted_date(split_reply(f"Ok.\n\n{GMAIL_HEADERS[code]}\n> Passt es?")) == "14 Oct"
    assert quoted_date(split_reply(f"Ok.\n\n{OUTLOOK_BLOCKS[code]}\n\nOld text")) == "14 Oct"
    assert quoted_date(split_reply("Ok, no quote here on 14 October.")) is None


def _reference_quote_start(lines: list[str], rules: _Rules) -> tuple[int, int, str]:
    """_quote_start as it was before lines were screened for a colon or a leading dash: every rule on every line."""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if rules.separator.match(stripped):
            return i, 1, stripped
        for width in (1, 2):
            span = " ".join(ln.strip() for ln in lines[i : i + width])
            if rules.wrote_header.match(span.lstrip("> ")):
                return i, width, span
        if rules.wrote_tail.match(stripped) and len(stripped) < 200:
            return i, 1, stripped
        if rules.outlook_field.match(stripped):
            following = [ln for ln in lines[i + 1 : i + 5] if ln.strip()]
            if sum(1 for ln in following if rules.outlook_field.match(ln)) >= 2:
                start = _notes_header_start(lines, i, rules)
                return start, 0, _header_block(lines, start, rules)
    return len(lines), 0, ""


def test_screened_quote_start_finds_what_every_rule_on_every_line_finds() -> None:
    rng = random.Random(3)
    pieces = [*GMAIL_HEADERS.values(), *"\n".join(OUTLOOK_BLOCKS.values()).split("\n"), "Karin Berg <k@x.se> skrev:",
              "-----Original Message-----", "---- Forwarded by Ann/HOU/ECT on 01/29/2001 03:37 PM ----", "Begin forwarded message:",
              "ann@x.com on 03/02/2001 04:43:06 PM", "03/02/2001 04:43 PM", "Please respond to ann@x.com",
              "__________", "------------", "--", "> quoted", " > q", "Note:", ":", "a:", "x :\xa0",
              "Hej Karin,", "Thanks, see you!", "Best regards,", "", "\t", "\xa0", "On Tue wrote:", "wrote:", "Den 14 okt"]
    rules = _rules()
    for _ in range(5000):
        lines = []
        for _ in range(rng.randint(1, 12)):
            piece = rng.choice(pieces)
            if rng.random() < 0.3:  # wrap a header over two lines, or glue junk to it
                cut = rng.randrange(len(piece) + 1)
                lines += [piece[:cut], piece[cut:]] if rng.random() < 0.5 else [piece[:cut] + rng.choice(": -_>\xa0") + piece[cut:]]
            else:
                lines.append(piece)
        assert _quote_start(lines, rules) == _reference_quote_start(lines, rules), lines


# Quote headers as real clients wrote them (Enron mail of 2000-2001, from the labelled corpus's sources).
REAL_NOTES = ('Jeff,\n\nI cannot interview Howard on Tue (business trip).\n\nVince\n\n\n\n\n'
              '"$$$$$$$$$$$$$$$$$$$$$$$$$$$" <jjw@ziplip.com> on 02/16/2001 03:02:36 PM\n'
              'Please respond to "$$$$$$$$$$$$$$$$$$$$$$$$$$$" <jjw@ziplip.com>\n'
              'To: Vince.J.Kaminski@enron.com\ncc:  \nSubject: Howard Confirmation\n\n\nHi Vince, I\'m on vacation from Friday')
REAL_NOTES_FORWARD = ("Vince - \n\nThis is the resume I told you about \n\nP\n"
                      "----- Forwarded by Paula Corey/Enron Communications on 01/29/01 03:37 PM -----\n\n"
                      "\tmateog@gofree.indigo.ie\n\t01/29/01 02:58 PM\n\t\t \n"
                      "\t\t To: Paula Corey/Enron Communications@Enron Communications\n\t\t cc: \n"
                      "\t\t Subject: Resume Forwarded at Request of Brian Mihura\n\n\n\nDear Paula:")
REAL_OUTLOOK = ('From: "Bailey, James W" <bailejw@texaco.com>, on 11/14/2000 9:41 AM:\n\n\n\n'
                "-----Original Message-----\nFrom: Bob Byars [mailto:bbyars@eplweb.com]\n"
                "Sent: Tuesday, November 14, 2000 9:14 AM\nTo: Barry Groff (E-mail); Dave Hackney (E-mail)\n"
                "Subject: FW: Fwd: Picture worth a thousand words\n\nOld text")
REAL_FORWARD_INTRO = ("\n\n-------- Begin forwarded message ----------\n"
                      'From: "Ram Tackett" <rtackett@abacustech.net>\nTo: <rtackett@abacustech.net>\nSubject: pictures\n')


def test_real_lotus_notes_header_is_the_quote_start_and_names_its_author() -> None:
    s = split_reply(REAL_NOTES)
    assert s.new.startswith("Jeff,") and "vacation" not in s.new and "ziplip" not in s.new
    assert "jjw@ziplip.com" in s.quote_header and "Howard Confirmation" in s.quote_header
    assert "vacation from Friday" in s.quoted


def test_real_notes_forward_line_and_outlook_block() -> None:
    s = split_reply(REAL_NOTES_FORWARD)
    assert s.new.endswith("resume I told you about \n\nP".strip()) and "Dear Paula" in s.quoted
    assert s.quote_header.startswith("----- Forwarded by Paula Corey")
    o = split_reply(REAL_OUTLOOK)
    assert "Old text" in o.quoted and "Original Message" not in o.new
    assert split_reply(REAL_FORWARD_INTRO).quote_header.startswith("-------- Begin forwarded message")


@pytest.mark.parametrize(("header", "fields"), [
    ("Anna Lind <anna@kvarn.se> den 2001-03-02 16:43:06", ("Till", "Kopia", "Ämne")),
    ("Anna Lind <anna@kvarn.de> am 02.03.2001 16:43:06", ("An", "Kopie", "Betreff")),
    ("Anna Lind <anna@kvarn.nl> op 02-03-2001 16:43:06", ("Aan", "CC", "Onderwerp")),
    ("Anna Lind <anna@kvarn.dk> den 02.03.2001 16.43.06", ("Til", "Cc", "Emne")),
    ("Anna Lind <anna@kvarn.no> den 02.03.2001 16:43:06", ("Til", "Kopi", "Emne")),
])
def test_localised_notes_headers(header: str, fields: tuple[str, str, str]) -> None:
    text = f"Ja, gerne.\n\n{header}\n{fields[0]}: Karin Berg\n{fields[1]}:\n{fields[2]}: Intervju\n\nAlter Text"
    s = split_reply(text)
    assert s.new == "Ja, gerne." and "anna@kvarn" in s.quote_header and "Alter Text" in s.quoted
