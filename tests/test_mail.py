"""Parsing edge cases: charsets, encodings, HTML, nesting, attachments, broken input."""

from __future__ import annotations

import io

import pytest
from conftest import eml

from pipeline.exceptions import MailParseError
from pipeline.mail import decode_payload, parse_bytes

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
    import pipeline.mail as mail

    def boom(text: str) -> None:
        raise RuntimeError("splitter bug")

    monkeypatch.setattr(mail, "split_reply", boom)
    with pytest.raises(MailParseError, match=r"bad\.eml: cannot be read \(RuntimeError: splitter bug\)"):
        parse_bytes(eml("Hi"), "bad.eml")
