"""Parsing edge cases: charsets, encodings, HTML, nesting, attachments, broken input."""

from __future__ import annotations

import email
import io
import random
from email.message import Message as StdMessage
from email.policy import compat32
from email.utils import getaddresses

import pytest
from conftest import eml

from pipeline.exceptions import MailParseError
from pipeline.mail.message import _plain_addresses, decode_payload, parse_bytes
from pipeline.mail.mime import mime_tree

LATIN1_QP = (
    b"From: Anna <anna@kvarn.se>\nTo: karin@nordvik.se\nSubject: =?iso-8859-1?q?Ans=F6kan_till_tj=E4nsten?=\n"
    b"MIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
    b"Hej Karin, h=E4r =E4r mitt CV. V=E4nliga h=E4lsningar\n"
)


def test_latin1_quoted_printable_and_rfc2047_subject() -> None:
    m = parse_bytes(LATIN1_QP, "x")
    assert m.subject == "Ansökan till tjänsten"
    assert "här är mitt CV" in m.text


def test_windows_1252_base64() -> None:
    body = "Grüße – “Angebot” für 5 €".encode("windows-1252")
    import base64

    raw = (b"From: a@x.de\nTo: b@y.de\nSubject: t\nContent-Type: text/plain; charset=windows-1252\n"
           b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(body))
    assert parse_bytes(raw).text == "Grüße – “Angebot” für 5 €"


@pytest.mark.parametrize("charset", ["x-unknown-charset", "utf-8"])
def test_lying_or_unknown_charset_never_raises(charset: str) -> None:
    raw = f"From: a@x.se\nTo: b@y.se\nSubject: t\nContent-Type: text/plain; charset={charset}\n\n".encode() + b"Hej \xe5\xe4\xf6 \xff\n"
    text = parse_bytes(raw).text
    assert text.startswith("Hej ")


def test_decode_payload_falls_back_with_replacement() -> None:
    assert decode_payload(b"caf\xe9", "utf-8") == "café"  # windows-1252 fallback
    assert decode_payload("åäö".encode(), None) == "åäö"


def test_html_only_signals_and_text() -> None:
    html = ('<html><body><p>Hi there,</p><p>Book a <a href="https://x.example/demo">demo</a></p>'
            '<img src="https://t.example/open/abc.gif" width="1" height="1"><img src="logo.png"></body></html>')
    raw = (b"From: a@x.com\nTo: b@y.com\nSubject: t\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n"
           + html.encode())
    m = parse_bytes(raw)
    assert m.html_only
    assert m.text.startswith("Hi there,")
    assert (m.html.links, m.html.images, m.html.tracking_pixels) == (1, 2, 1)


def test_plain_preferred_over_html() -> None:
    m = parse_bytes(eml("Plain words here.\n", html="<p>HTML words</p>"))
    assert m.text == "Plain words here."
    assert not m.html_only


def test_nested_multipart_finds_body_and_attachment() -> None:
    raw = eml("Body text.\n", html="<p>Body text.</p>", attachments=[("notes.txt", "text/plain", b"attached words")])
    m = parse_bytes(raw)
    assert m.text == "Body text."
    assert [a.filename for a in m.attachments] == ["notes.txt"]


def _pdf_bytes(text: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in text.splitlines():
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _docx_bytes(text: str) -> bytes:
    from docx import Document

    doc = Document()
    for line in text.splitlines():
        doc.add_paragraph(line)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def test_pdf_and_docx_text_extracted() -> None:
    cv = "Anna Lind\nErfarenhet\nLagerchef, Kvarn AB 2019-2024\nUtbildning\nLogistik, Jönköping"
    raw = eml("Hej, här är mitt CV.\n", attachments=[
        ("CV_Anna_Lind.pdf", "application/pdf", _pdf_bytes(cv)),
        ("CV_Anna_Lind.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", _docx_bytes(cv)),
    ])
    pdf, docx = parse_bytes(raw).attachments
    assert (pdf.kind, docx.kind) == ("pdf", "docx")
    assert "Erfarenhet" in pdf.text and "Utbildning" in pdf.text
    assert "Lagerchef, Kvarn AB" in docx.text


def test_broken_attachment_is_a_fact_not_an_error() -> None:
    raw = eml("See attached.\n", attachments=[("cv.pdf", "application/pdf", b"%PDF-1.4 garbage")])
    att = parse_bytes(raw).attachments[0]
    assert att.kind == "pdf" and att.text == ""


def test_rfc2231_filename_decoded() -> None:
    raw = (b"From: a@x.de\nTo: b@y.de\nSubject: t\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n"
           b"--B\nContent-Type: text/plain\n\nAnbei.\n--B\nContent-Type: application/pdf\n"
           b"Content-Disposition: attachment; filename*=utf-8''Lebenslauf%20M%C3%BCller.pdf\n"
           b"Content-Transfer-Encoding: base64\n\nJVBERg==\n--B--\n")
    assert parse_bytes(raw).attachments[0].filename == "Lebenslauf Müller.pdf"


def test_rfc2047_filename_decoded() -> None:
    raw = (b"From: a@x.se\nTo: b@y.se\nSubject: t\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n"
           b"--B\nContent-Type: text/plain\n\nCV.\n--B\nContent-Type: application/pdf\n"
           b"Content-Disposition: attachment; filename=\"=?utf-8?q?Ans=C3=B6kan.pdf?=\"\n\nx\n--B--\n")
    assert parse_bytes(raw).attachments[0].filename == "Ansökan.pdf"


def test_headers_addresses_threading_and_bulk() -> None:
    raw = eml("Hi\n", sender='"Berg, Karin" <Karin@Nordvik.SE>', headers={
        "In-Reply-To": "<a1@nordvik.se>", "References": "<a0@x.se> <a1@nordvik.se>",
        "List-Unsubscribe": "<https://x.example/u>", "X-Mailer": "lemlist", "Precedence": "Bulk"})
    m = parse_bytes(raw)
    assert m.sender.email == "karin@nordvik.se" and m.sender.name == "Berg, Karin"
    assert m.in_reply_to == "<a1@nordvik.se>"
    assert m.references == ("<a0@x.se>", "<a1@nordvik.se>")
    assert m.bulk.list_unsubscribe and m.bulk.x_mailer == "lemlist" and m.bulk.precedence == "bulk"


@pytest.mark.parametrize("raw", [b"", b"   \n", b"\x89PNG\r\n\x1a\n\x00\x00binary"])
def test_not_mail_raises_parse_error(raw: bytes) -> None:
    with pytest.raises(MailParseError):
        parse_bytes(raw, "bad.eml")


def test_mangled_header_charset_costs_characters_not_the_message() -> None:
    raw = (b"From: =?ut\xff-8?q?Anna_L=C3=B6f?= <anna@x.se>\nTo: b@y.se\nSubject: =?u\xfef-8?q?Ans=C3=B6kan?=\n"
           b"Content-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain\n\nHej!\n--B\n"
           b"Content-Type: application/pdf\nContent-Disposition: attachment; filename=\"CV \xe5.pdf\"\n\nx\n--B--\n")
    m = parse_bytes(raw, "x")
    assert m.sender.email == "anna@x.se" and "kan" in m.subject and m.text == "Hej!"
    assert len(m.attachments) == 1


def test_unexpected_failure_becomes_a_parse_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.mail.message as mail

    def boom(text: str) -> None:
        raise RuntimeError("splitter bug")

    monkeypatch.setattr(mail, "split_reply", boom)
    with pytest.raises(MailParseError, match=r"bad\.eml: cannot be read \(RuntimeError: splitter bug\)"):
        parse_bytes(eml("Hi"), "bad.eml")


# --- Fast paths: each must give exactly what the stdlib gives, or step aside. ---

COMMON_ADDRESS_FIELDS = [
    "Karin Berg <karin@nordvik.se>", "karin@nordvik.se", '"Berg, Karin" <k@x.se>', "<k@x.se>", '"" <k@x.se>',
    "Dr. K. Berg <k@x.se>", "Åsa Öberg <åsa@exämple.se>", "Karin <k@x.se>, Ola <o@y.no>", "a@b.se,c@d.se", "a@b.se,",
    '"Karin"<k@x.se>', 'Karin"Berg" <k@x.se>', '"k@x.se" <k@x.se>', " Karin \t Berg   <k@x.se>  ,  o@y.no ", "o'neil+tag@x.ie",
]
UNUSUAL_ADDRESS_FIELDS = [
    "k@x.se (Karin)", "Karin (work) <k@x.se>", "undisclosed-recipients:;", "Grp: a@b.se, c@d.se;", "Berg, Karin <k@x.se>",
    "=?utf-8?q?Berg=2C_Karin?= <k@x.se>", "a@b.se, ", ", a@b.se", "a@b.se,,c@d.se", "k@x.se <k@x.se>", "Karin <k@x.se> Berg",
    "Karin < k@x.se >", "Karin <@route:k@x.se>", "k@[10.0.0.1]", "a@b@c", "Karin\xa0Berg <k@x.se>", "\xa0@x.se", '"K\\"B" <k@x.se>',
    "K\\B <k@x.se>", '"un closed <k@x.se>', "Karin <k@x.se", "Karin", "<>", "a@b.se c@d.se", "a@b.se\n", "Karin <k@x.se>;",
]


@pytest.mark.parametrize("field", COMMON_ADDRESS_FIELDS)
def test_common_address_forms_take_the_fast_path_and_match_getaddresses(field: str) -> None:
    assert _plain_addresses(field) == getaddresses([field])


@pytest.mark.parametrize("field", UNUSUAL_ADDRESS_FIELDS)
def test_unusual_address_forms_match_getaddresses_or_fall_back(field: str) -> None:
    fast = _plain_addresses(field)
    assert fast is None or fast == getaddresses([field])


def test_random_address_fields_match_getaddresses() -> None:
    rng = random.Random(7)
    alphabet = list('abK\u00c5.@<>",;:()[]\\ \t\r\n\xa0\x00-=?') + ["k@x.se", "Karin", "<k@x.se>", '"Berg, K"', ", "]
    fast = 0
    for _ in range(20_000):
        field = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        got = _plain_addresses(field)
        if got is not None:
            fast += 1
            assert got == getaddresses([field]), field
    assert fast > 100  # the comparison did exercise the fast path


def test_addresses_with_fast_path_and_fallback() -> None:
    raw = eml("Hi\n", sender="k@x.se (Karin)", to='"Berg, Ola" <Ola@Y.no>, Anna <anna@z.se>')
    m = parse_bytes(raw)
    assert (m.sender.name, m.sender.email) == ("Karin", "k@x.se")
    assert [(a.name, a.email) for a in m.recipients] == [("Berg, Ola", "ola@y.no"), ("Anna", "anna@z.se")]


def _tree(m: StdMessage) -> tuple[object, ...]:
    payload = m.get_payload()
    # The raw header values and payload: get_payload() and items() would decode them first.
    return (list(m.raw_items()), m.get_unixfrom(), m.preamble, m.epilogue, m.get_default_type(), m.get_charset(),
            [_tree(p) for p in payload] if isinstance(payload, list) else m._payload)


MIXED = eml("Body text.\n", html="<p>Body text.</p>", attachments=[("cv.pdf", "application/pdf", b"%PDF-1.4 x" * 40)])
TRICKY_TREES = {
    "single part": eml("Hej\n"),
    "nested multipart": MIXED,
    "crlf": MIXED.replace(b"\n", b"\r\n"),
    "lone cr": MIXED.replace(b"\n", b"\r"),
    "no close boundary": MIXED.rsplit(b"--", 2)[0],
    "truncated in a part": MIXED[: len(MIXED) // 2],
    "preamble and epilogue": MIXED.replace(b"\n\n--", b"\n\nThis is a multi-part message.\n\n--", 1) + b"\nepilogue\n\n",
    "no newline after close": MIXED.rstrip(b"\n"),
    "blank line after close": MIXED + b"\n",
    "headers only": b"From: a@x.se\nTo: b@y.se\nSubject: t",
    "no blank line": b"From: a@x.se\nSubject: t\nbody starts here\nmore\n",
    "unixfrom": b"From a@x.se Tue Oct 14 09:12:00 2026\nFrom: a@x.se\nSubject: t\n\nHej\n",
    "misplaced From": b"From: a@x.se\nFrom a@x.se Tue\nSubject: t\n\nHej\n",
    "From as last header": b"From: a@x.se\nSubject: t\nFrom a@x.se Tue\n\nHej\n",
    "continuation first": b" folded\nFrom: a@x.se\nSubject: t\n\nHej\n",
    "colon first": b":x\nFrom: a@x.se\n\nHej\n",
    "message/rfc822": b"From: a@x.se\nContent-Type: message/rfc822\n\nFrom: b@y.se\nSubject: inner\n\nHej\n",
    "digest": b"From: a@x.se\nContent-Type: multipart/digest; boundary=B\n\n--B\n\nSubject: x\n\nHej\n--B--\n",
    "no boundary param": b"From: a@x.se\nContent-Type: multipart/mixed\n\n--B\n\nHej\n--B--\n",
    "no first boundary": b"From: a@x.se\nContent-Type: multipart/mixed; boundary=B\n\nHej\n",
    "close before open": b"From: a@x.se\nContent-Type: multipart/mixed; boundary=B\n\n--B--\nHej\n",
    "repeated boundaries": b"From: a@x.se\nContent-Type: multipart/mixed; boundary=B\n\n--B\n--B\n\nHej\n--B--\n",
    "boundary then close": b"From: a@x.se\nContent-Type: multipart/mixed; boundary=B\n\n--B\n--B--\n",
    "boundary whitespace": b"From: a@x.se\nContent-Type: multipart/mixed; boundary=B\n\n--B \t\n\nHej\n--B--  \n",
    "boundary-looking text": b"From: a@x.se\nContent-Type: multipart/mixed; boundary=B\n\n--B\n\n--Bx\n--B-\n-- B\n--B--\n",
    "header-like boundary": b"From: a@x.se\nContent-Type: multipart/mixed; boundary=\"B:\"\n\n--B:\n--B:\nX: y\n--B:--\n",
    "part without body": b"From: a@x.se\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain\n--B--\n",
    "outer boundary inside inner": (b"From: a@x.se\nContent-Type: multipart/mixed; boundary=O\n\n--O\n"
                                    b"Content-Type: multipart/alternative; boundary=I\n\n--I\n\nplain\n--O\n\nnext\n--O--\n"),
    "empty boundary": b"From: a@x.se\nContent-Type: multipart/mixed; boundary=\"\"\n\n--\n\nHej\n----\n",
    "8bit headers": "From: Åsa <a@x.se>\nSubject: Hälsningar\n\nHej då\n".encode("latin-1"),
}


@pytest.mark.parametrize("name", sorted(TRICKY_TREES))
def test_mime_tree_is_the_stdlib_tree(name: str) -> None:
    raw = TRICKY_TREES[name]
    assert _tree(mime_tree(raw)) == _tree(email.message_from_bytes(raw, policy=compat32))


def test_mime_tree_on_mutated_messages() -> None:
    rng = random.Random(11)
    junk = [b"\n", b"\r\n", b"--", b"-", b":", b" ", b"\t", b"From ", b"\xff", b"=", b"\r"]
    seeds = list(TRICKY_TREES.values())
    for _ in range(1500):
        raw = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(raw) + 1)
            if rng.random() < 0.3:
                del raw[at : at + rng.randint(1, 40)]
            else:
                raw[at:at] = rng.choice(junk)
        data = bytes(raw)
        assert _tree(mime_tree(data)) == _tree(email.message_from_bytes(data, policy=compat32)), data


def test_html_only_ignores_containers_and_sees_nested_plain() -> None:
    html_only = eml("x", html="<p>Hej</p>").replace(b"Content-Type: text/plain", b"Content-Type: text/x-other")
    assert parse_bytes(html_only).html_only
    assert not parse_bytes(TRICKY_TREES["nested multipart"]).html_only


@pytest.mark.parametrize("raw", [
    b"From: a@x.se\r\nTo: b@y.se\r\nSubject: " + b"=?utf-8?q?abc?= " * 120_000 + b"\r\n\r\nHello\r\n",
    b"From: a@x.se\r\nContent-Type: text/plain; " + b"a=b; " * 400_000 + b"charset=utf-8\r\n\r\nHello\r\n",
    b"From: a@x.se\rX: y\r\nContent-Type: text/plain; " + b"a=b; " * 400_000 + b"\r\n\r\nHello\r\n",  # the stdlib's path
    b"From: a@x.se\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; "
    + b"a=b; " * 400_000 + b"\r\n\r\nHello\r\n--b--\r\n",
    b"From: a@x.se\r\n" + b"X-A: b\r\n" * 200_000 + b"\r\nHello\r\n",
])
def test_hostile_headers_are_cut_to_the_budget_and_the_body_still_read(raw: bytes) -> None:
    # A 2 MB header of encoded words or parameters once took a minute to decode; cut, it takes milliseconds.
    from pipeline.mail import mime

    m = parse_bytes(raw, "hostile")
    assert m.text.startswith("Hello")
    assert len(m.subject) <= mime.MAX_FIELD_CHARS
