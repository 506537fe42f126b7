"""Render the hand-written sources in data/sources/ into RFC 5322 mail.

The words are the writers'; this script does what a mail client or a
sequence tool does with them: MIME structure, charsets, transfer encodings,
Message-IDs, threading headers, PDF/DOCX attachments, and for cold templates
only, the mail merge (with the slips real merges make). It also leaves the
traces real clients and archives leave, no more often than real mail shows
them: Outlook and Lotus Notes quote headers, replies without threading
headers, few client X-Mailers, List-Unsubscribe on only some campaigns, and
attachments stripped to stub lines (FORMAT.md, "What the renderer decides").

Usage:
    python tools/corpus/render.py --check data/sources/sv [more folders]
    python tools/corpus/render.py data/sources/* --out data/labeled
    python tools/corpus/render.py data/samples_src/* --out data/samples --flat
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import html
import io
import quopri
import random
import re
import sys
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from source import Problems, Recipient, Record, read_language  # noqa: E402

from pipeline.lang import load as language_data  # noqa: E402

ZONES = {"en": "Europe/London", "sv": "Europe/Stockholm", "nl": "Europe/Amsterdam",
         "nb": "Europe/Oslo", "da": "Europe/Copenhagen", "de": "Europe/Berlin"}
DOW = {"en": "Mon Tue Wed Thu Fri Sat Sun", "sv": "mån tis ons tors fre lör sön",
       "nl": "ma di wo do vr za zo", "nb": "man. tir. ons. tor. fre. lør. søn.",
       "da": "man. tir. ons. tor. fre. lør. søn.", "de": "Mo. Di. Mi. Do. Fr. Sa. So."}
MON = {"en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
       "sv": "jan. feb. mars apr. maj juni juli aug. sep. okt. nov. dec.",
       "nl": "jan feb mrt apr mei jun jul aug sep okt nov dec",
       "nb": "jan. feb. mar. apr. mai jun. jul. aug. sep. okt. nov. des.",
       "da": "jan. feb. mar. apr. maj jun. jul. aug. sep. okt. nov. dec.",
       "de": "Jan. Feb. März Apr. Mai Juni Juli Aug. Sept. Okt. Nov. Dez."}
WROTE = {"en": "On {dow}, {d} {mon} {y} at {hm}, {who} wrote:",
         "sv": "Den {dow} {d} {mon} {y} kl {hm} skrev {who}:",
         "nl": "Op {dow} {d} {mon} {y} om {hm} schreef {who}:",
         "nb": "Den {dow} {d}. {mon} {y} kl. {hm} skrev {who}:",
         "da": "Den {dow} {d}. {mon} {y} kl. {hm} skrev {who}:",
         "de": "Am {dow}, {d}. {mon} {y} um {hm} Uhr schrieb {who}:"}
# Ordinary clients stamp their name too: without these, "has an X-Mailer"
# would wrongly mean "bulk" in the corpus. Real business mail carries few such
# stamps, so an ordinary client's name (drawn here, or named by the source) is
# kept on about one message in seven; a bulk or sequence tool named by the
# source is always stamped.
CLIENTS = [("X-Mailer", "Microsoft Outlook 16.0"), ("X-Mailer", "Apple Mail (2.3774.300.61.1.2)"),
           ("User-Agent", "Mozilla Thunderbird"), ("X-Mailer", "iPhone Mail (21G93)"), None, None, None, None]
ORDINARY_CLIENTS = ("outlook", "apple mail", "thunderbird", "iphone mail", "lotus notes", "gmail")
CLIENT_STAMP_SHARE = 0.15
# Sequence tools add List-Unsubscribe only when set up to: it is sent for
# about half the campaigns (threads) whose source asks for it.
LIST_UNSUBSCRIBE_SHARE = 0.5
# Archives and servers strip attachments and leave their names (" - cv.pdf").
ATTACHMENT_STUB_SHARE = 1 / 3
# A reply's Gmail-style quote header is rendered as written, or as an
# Outlook "-----Original Message-----" block, or as a Lotus Notes header;
# Notes sent no threading headers, so those replies keep them less often.
QUOTE_STYLES = (("notes", 0.5), ("outlook", 0.3), ("as_written", 0.2))
THREADING_SHARE = {"notes": 0.25, "other": 0.7}
FULL_DOW = {"en": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
            "sv": "måndag tisdag onsdag torsdag fredag lördag söndag",
            "nl": "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag",
            "nb": "mandag tirsdag onsdag torsdag fredag lørdag søndag",
            "da": "mandag tirsdag onsdag torsdag fredag lørdag søndag",
            "de": "Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag"}
FULL_MON = {"en": "January February March April May June July August September October November December",
            "sv": "januari februari mars april maj juni juli augusti september oktober november december",
            "nl": "januari februari maart april mei juni juli augustus september oktober november december",
            "nb": "januar februar mars april mai juni juli august september oktober november desember",
            "da": "januar februar marts april maj juni juli august september oktober november december",
            "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember"}
# Notes' To/cc/Subject lines per client language; Outlook's separator and fields are the language data's own
# (pipeline/lang/<lang>/mail.json: the first original_message, and From/Sent/To/Subject, the first four header_fields).
NOTES_FIELDS = {"en": ("To", "cc", "Subject"), "sv": ("Till", "Kopia", "Ämne"), "nl": ("Aan", "CC", "Onderwerp"),
                "nb": ("Til", "Kopi", "Emne"), "da": ("Til", "Cc", "Emne"), "de": ("An", "Kopie", "Betreff")}
WROTE_WORDS = {"wrote": "en", "skrev": "", "schreef": "nl", "schrieb": "de"}
MONTH_NUMBER = {"jan": 1, "feb": 2, "mar": 3, "mrt": 3, "mär": 3, "apr": 4, "may": 5, "mai": 5, "maj": 5, "mei": 5,
                "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "okt": 10, "nov": 11, "dec": 12, "des": 12,
                "dez": 12}
REPLY_PREFIX = re.compile(r"^\s*(?:re|sv|aw|antw|vs|wg)\s*:\s*", re.I)
MERGE_SLIPS = ["{{first_name}}", "[Name]", "%FIRSTNAME%", "*|FNAME|*", "{{ contact.first_name }}", "[First Name]"]
PLACEHOLDER = re.compile(r"\{(first_name|last_name|company|sender_name|subject)\}")


@dataclass
class Rendered:
    file: str
    label: str
    language: str
    group: str
    made: str
    mixed: str
    note: str
    source: str
    message_id: str
    sender: str
    owner: str
    subject: str
    when: datetime
    body: str
    data: bytes = b""


def _hash(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode()).hexdigest()


def _msgid(key: str, addr: str) -> str:
    domain = addr.rpartition("@")[2] or "localhost"
    return f"<{_hash(key)[:20]}@{domain}>"


def _when(lang: str, text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(ZONES[lang]))


def _addr_header(value: str) -> str:
    out = []
    for part in filter(None, (p.strip() for p in value.split(";"))):
        name, addr = parseaddr(part)
        out.append(formataddr((name, addr), charset="utf-8"))
    return ", ".join(out)


def _encode_text(text: str, charset: str, encoding: str) -> tuple[str, str, str]:
    try:
        data = text.encode(charset)
    except UnicodeEncodeError:
        charset, data = "utf-8", text.encode("utf-8")
    if encoding == "8bit" and charset == "utf-8":
        return charset, "8bit", data.decode("utf-8")
    if encoding == "base64":
        return charset, "base64", base64.encodebytes(data).decode("ascii")
    return charset, "quoted-printable", quopri.encodestring(data).decode("ascii")


def _text_part(text: str, subtype: str, charset: str, encoding: str) -> str:
    charset, cte, payload = _encode_text(text, charset, encoding)
    return (f"Content-Type: text/{subtype}; charset=\"{charset}\"\n"
            f"Content-Transfer-Encoding: {cte}\n\n{payload.rstrip()}\n")


def _to_html(body: str, quote: str, bulk: bool, rng: random.Random, unsub: str, stub: str = "") -> str:
    paras = [p for p in re.split(r"\n\s*\n", body.strip()) if p.strip()]
    out = ["<html><head><meta charset=\"utf-8\"><style>p{margin:0 0 12px}</style></head><body>"]
    if bulk and rng.random() < 0.6:
        out.append(f"<img src=\"https://cdn.{_hash(unsub)[:6]}.example/logo.png\" alt=\"\" width=\"160\">")
    for p in paras:
        esc = html.escape(p).replace("\n", "<br>")
        esc = re.sub(r"(https?://[^\s<]+)", r'<a href="\1">\1</a>', esc)
        out.append(f"<p>{esc}</p>")
    if quote and not any(ln.strip() and not ln.startswith(">") for ln in quote.splitlines()[1:]):
        qlines = [ln[2:] if ln.startswith("> ") else ln.lstrip(">") for ln in quote.splitlines()]
        head, rest = (qlines[0], qlines[1:]) if qlines else ("", [])
        out.append(f"<div class=\"gmail_quote\"><div>{html.escape(head)}</div><blockquote>"
                   + "<br>".join(html.escape(x) for x in rest) + "</blockquote></div>")
    elif quote:
        # Outlook and Notes quote below a rule, their header lines first, without ">" marks.
        head, _, rest = quote.partition("\n\n")
        out.append("<div style=\"border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm\"><p>"
                   + "<br>".join(html.escape(x) for x in head.splitlines()) + "</p></div>"
                   + "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>"
                             for p in re.split(r"\n\s*\n", rest) if p.strip()))
    if stub:
        out.append(f"<p>{html.escape(stub)}</p>")
    if bulk:
        if unsub:
            out.append(f"<p style=\"font-size:11px;color:#888\"><a href=\"{unsub}\">{html.escape(unsub.split('/')[2])}</a></p>")
        out.append(f"<img src=\"https://t.{_hash(unsub)[:8]}.example/open/{_hash(unsub, 'px')[:12]}.gif\" "
                   "width=\"1\" height=\"1\" alt=\"\" style=\"display:none\">")
    out.append("</body></html>")
    return "\n".join(out)


def _pdf(text: str, when: datetime) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_creation_date(when)  # not the time of rendering: the same sources give the same bytes
    pdf.set_auto_page_break(True, 15)
    pdf.add_page()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        safe = line.replace("–", "-").replace("—", "-").replace("•", "-").replace("’", "'").replace("“", '"').replace("”", '"')
        safe = safe.encode("latin-1", "replace").decode("latin-1")
        heading = i == 0 or (line.strip() and len(line) < 30 and line == line.strip() and not line.startswith("-"))
        pdf.set_font("Helvetica", "B" if heading else "", 16 if i == 0 else 10)
        pdf.multi_cell(0, 6 if i else 9, safe or " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _docx(text: str, when: datetime) -> bytes:
    from docx import Document

    doc = Document()
    for i, line in enumerate(text.splitlines()):
        if i == 0:
            doc.add_heading(line, level=1)
        elif line.strip() and len(line) < 30 and not line.startswith(("-", "•")):
            doc.add_heading(line, level=2)
        else:
            doc.add_paragraph(line)
    buf = io.BytesIO()
    doc.save(buf)
    # python-docx stamps each zip member with the time of rendering: stamp them with the message's.
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6]), src.read(info.filename),
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _attachment(name: str, cv: str, rng: random.Random, written: datetime) -> str:
    if name.lower().endswith(".pdf"):
        data, ctype = _pdf(cv, written), "application/pdf"
    else:
        data, ctype = _docx(cv, written), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    try:
        name.encode("ascii")
        disp = f"attachment; filename=\"{name}\""
        ct = f"{ctype}; name=\"{name}\""
    except UnicodeEncodeError:
        if rng.random() < 0.5:
            from urllib.parse import quote
            disp = f"attachment; filename*=utf-8''{quote(name)}"
            ct = ctype
        else:
            enc = Header(name, "utf-8").encode()
            disp = f"attachment; filename=\"{enc}\""
            ct = f"{ctype}; name=\"{enc}\""
    return (f"Content-Type: {ct}\nContent-Disposition: {disp}\nContent-Transfer-Encoding: base64\n\n"
            + base64.encodebytes(data).decode("ascii"))


def _quote_block(lang: str, who: str, when: datetime, body: str, outlook: bool, subject: str, to: str) -> str:
    if outlook:
        fields = {"en": ("From", "Sent", "To", "Subject"), "sv": ("Från", "Skickat", "Till", "Ämne"),
                  "nl": ("Van", "Verzonden", "Aan", "Onderwerp"), "nb": ("Fra", "Sendt", "Til", "Emne"),
                  "da": ("Fra", "Sendt", "Til", "Emne"), "de": ("Von", "Gesendet", "An", "Betreff")}[lang]
        stamp = f"{DOW[lang].split()[when.weekday()]} {when.day} {MON[lang].split()[when.month - 1]} {when.year} {when:%H:%M}"
        return ("_" * 32 + f"\n{fields[0]}: {who}\n{fields[1]}: {stamp}\n{fields[2]}: {to}\n{fields[3]}: {subject}\n\n"
                + body.strip())
    head = WROTE[lang].format(dow=DOW[lang].split()[when.weekday()], d=when.day, mon=MON[lang].split()[when.month - 1],
                              y=when.year, hm=f"{when:%H:%M}", who=who)
    return head + "\n" + "\n".join("> " + ln if ln.strip() else ">" for ln in body.strip().splitlines())


@dataclass
class QuotedMail:
    """What a hand-written Gmail-style quote says: who wrote the quoted mail, when, its words and client language."""

    who: str
    when: datetime
    lines: list[str]
    lang: str


def _parse_gmail_quote(quote: str, lang: str, reply_when: datetime) -> QuotedMail | None:
    """Read a quote written as "On …, Name <addr> wrote:" and "> " lines; None for any other form."""
    lines = quote.splitlines()
    head: list[str] = []
    i = 0
    while i < len(lines) and not lines[i].startswith(">"):
        if lines[i].strip():
            head.append(lines[i].strip())
        i += 1
    body = lines[i:]
    header = " ".join(head)
    if not head or len(head) > 2 or not header.endswith(":") or not body:
        return None
    if any(ln.strip() and not ln.startswith(">") for ln in body):
        return None
    word = re.search(r"\b(wrote|skrev|schreef|schrieb)\b", header)
    time = re.search(r"(?<![\d.])(\d{1,2})[:.](\d{2})(?![.\d])(?:\s*([AP]M)\b)?", header)
    year = re.search(r"\b(20\d\d)\b", header)
    if not word or not time or not year:
        return None
    numeric = re.search(r"\b(\d{1,2})\.(\d{1,2})\.(20\d\d)\b", header)
    if numeric:
        day, month = int(numeric.group(1)), int(numeric.group(2))
    else:
        dm = re.search(r"\b(\d{1,2})\.?\s+([^\W\d_]{3,})", header[: time.start()])
        md = re.search(r"\b([^\W\d_]{3,})\.?\s+(\d{1,2}),", header[: time.start()])
        if dm and dm.group(2)[:3].lower() in MONTH_NUMBER:
            day, month = int(dm.group(1)), MONTH_NUMBER[dm.group(2)[:3].lower()]
        elif md and md.group(1)[:3].lower() in MONTH_NUMBER:
            day, month = int(md.group(2)), MONTH_NUMBER[md.group(1)[:3].lower()]
        else:
            return None
    hour = int(time.group(1)) % 12 + (12 if time.group(3) == "PM" else 0) if time.group(3) else int(time.group(1))
    try:
        when = reply_when.replace(year=int(year.group(1)), month=month, day=day, hour=hour, minute=int(time.group(2)))
    except ValueError:
        return None
    if not timedelta(0) < reply_when - when < timedelta(days=90):
        return None
    rest = header[time.end():]
    rest = re.sub(r"^[\s,]*(?:Uhr\s+)?(?:skrev|schreef|schrieb)?\s*", "", rest)
    rest = re.sub(r"\s*\bwrote\s*:$|\s*:$", "", rest).strip()
    name, addr = parseaddr(rest)
    if "@" not in addr:
        return None
    quoted_lang = WROTE_WORDS[word.group(1)] or lang
    unquoted = [ln[2:] if ln.startswith("> ") else ln[1:] for ln in body]
    return QuotedMail(who=_plain_addr(rest), when=when, lines=unquoted, lang=quoted_lang)


def _plain_addr(value: str) -> str:
    """``Name <addr>`` as a quote header shows it: unencoded, unlike a mail header."""
    name, addr = parseaddr(value)
    return f"{name} <{addr}>" if name else addr


def _original_subject(subject: str) -> str:
    return REPLY_PREFIX.sub("", subject, count=1)


def _outlook_quote(q: QuotedMail, to: str, subject: str, rng: random.Random) -> str:
    """Outlook's "-----Original Message-----" block, in the quoting client's language."""
    lang, w = q.lang, q.when
    dow, mon = FULL_DOW[lang].split()[w.weekday()], FULL_MON[lang].split()[w.month - 1]
    sent = {"en": f"{dow}, {mon} {w.day}, {w.year} {(w.hour % 12) or 12}:{w:%M} {'PM' if w.hour >= 12 else 'AM'}",
            "sv": f"den {w.day} {mon} {w.year} {w:%H:%M}",
            "nl": f"{dow} {w.day} {mon} {w.year} {w:%H:%M}",
            "nb": f"{dow} {w.day}. {mon} {w.year} {w:%H:%M}",
            "da": f"{w.day}. {mon} {w.year} {w:%H:%M}",
            "de": f"{dow}, {w.day}. {mon} {w.year} {w:%H:%M}"}[lang]
    name, addr = parseaddr(q.who)
    who = f"{name} [mailto:{addr}]" if name and rng.random() < 0.5 else q.who
    to_name, to_addr = parseaddr(to)
    mail = language_data(lang).mail
    fields = mail.header_fields[:4]
    return (f"-----{mail.original_message[0]}-----\n{fields[0]}: {who}\n{fields[1]}: {sent}\n"
            f"{fields[2]}: {to_name or to_addr}\n{fields[3]}: {_original_subject(subject)}\n\n" + "\n".join(q.lines))


def _notes_quote(q: QuotedMail, to: str, subject: str, rng: random.Random) -> str:
    """Lotus Notes' header: sender and date-time on one line, then To/cc/Subject, in the quoting client's language."""
    w = q.when.replace(second=rng.randint(0, 59))
    stamp = {"en": f"on {w:%m/%d/%Y} {(w.hour % 12) or 12:02d}:{w:%M:%S} {'PM' if w.hour >= 12 else 'AM'}",
             "de": f"am {w:%d.%m.%Y %H:%M:%S}", "nl": f"op {w:%d-%m-%Y %H:%M:%S}"}.get(q.lang, f"den {w:%Y-%m-%d %H:%M:%S}")
    fields = NOTES_FIELDS[q.lang]
    return (f"{q.who} {stamp}\n{fields[0]}: {_plain_addr(to.split(';')[0])}\n{fields[1]}:\n{fields[2]}: {_original_subject(subject)}\n\n"
            + "\n".join(q.lines))


def restyle_quote(rec: Record, when: datetime) -> tuple[str, str]:
    """The reply's quote as its client renders it, and that client's style ("notes", "outlook" or "as_written")."""
    if not rec.quote:
        return "", "as_written"
    q = _parse_gmail_quote(rec.quote, rec.lang, when)
    if q is None:
        return rec.quote, "as_written"
    rng = random.Random(_hash(rec.id, "quote"))
    pick, style = rng.random(), "as_written"
    for name, share in QUOTE_STYLES:
        if pick < share:
            style = name
            break
        pick -= share
    if style == "notes":
        return _notes_quote(q, rec.headers["from"], rec.headers["subject"], rng), style
    if style == "outlook":
        return _outlook_quote(q, rec.headers["from"], rec.headers["subject"], rng), style
    return rec.quote, style


def _is_bulk_tool(mailer: str) -> bool:
    return not any(name in mailer.lower() for name in ORDINARY_CLIENTS)


def build(r: Rendered, rec: Record, to: str, extra: list[tuple[str, str]], quote: str, rng: random.Random) -> bytes:
    h = rec.headers
    style = h.get("style", "plain")
    charset = h.get("charset", "utf-8")
    encoding = h.get("encoding") or rng.choice(["qp", "qp", "8bit", "base64"])
    bulk = h.get("list_unsubscribe") == "yes"
    # What a sequence tool, a client or an archive did to this message, decided per thread or message.
    send_list_unsubscribe = random.Random(_hash(r.group, "list-unsubscribe")).random() < LIST_UNSUBSCRIBE_SHARE
    stamp = random.Random(_hash(r.file, "x-mailer"))
    stub = ""
    if h.get("attachment") and random.Random(_hash(r.file, "attachment")).random() < ATTACHMENT_STUB_SHARE:
        stub = " - " + h["attachment"]
    sender_domain = parseaddr(r.sender)[1].rpartition("@")[2]
    unsub = f"https://{sender_domain}/unsubscribe?u={_hash(r.file)[:10]}" if bulk else ""
    headers = [("From", _addr_header(r.sender)), ("To", _addr_header(to))]
    if h.get("cc"):
        headers.append(("Cc", _addr_header(h["cc"])))
    try:
        r.subject.encode("ascii")
        subj = r.subject
    except UnicodeEncodeError:
        subj = Header(r.subject, "utf-8").encode()
    headers += [("Subject", subj), ("Date", format_datetime(r.when)), ("Message-ID", r.message_id), ("MIME-Version", "1.0")]
    headers += extra
    if bulk and send_list_unsubscribe:
        headers += [("List-Unsubscribe", f"<{unsub}>, <mailto:unsubscribe@{sender_domain}>"),
                    ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")]
    named = h.get("x_mailer", "")
    client = None if named else rng.choice(CLIENTS)
    if named and _is_bulk_tool(named):
        headers.append(("X-Mailer", named))
    elif stamp.random() < CLIENT_STAMP_SHARE:
        headers.append(("X-Mailer", named) if named else client or stamp.choice([c for c in CLIENTS if c]))
    text = r.body.rstrip() + "\n"
    if quote:
        text += "\n" + quote.rstrip() + "\n"
    if stub:
        text += "\n" + stub + "\n"
    if style == "html_only":
        body_part = _text_part(_to_html(r.body, quote, bulk, rng, unsub, stub), "html", charset, encoding)
    elif style == "html":
        boundary = "alt_" + _hash(r.file, "alt")[:16]
        body_part = (f"Content-Type: multipart/alternative; boundary=\"{boundary}\"\n\n--{boundary}\n"
                     + _text_part(text, "plain", charset, encoding)
                     + f"--{boundary}\n" + _text_part(_to_html(r.body, quote, bulk, rng, unsub, stub), "html", charset, encoding)
                     + f"--{boundary}--\n")
    else:
        body_part = _text_part(text, "plain", charset, encoding)
    if h.get("attachment") and not stub:
        dates = random.Random(_hash(r.file, "cv-file"))
        cv_saved = r.when - timedelta(days=dates.randint(1, 40), minutes=dates.randint(0, 900))
        boundary = "mix_" + _hash(r.file, "mix")[:16]
        body_part = (f"Content-Type: multipart/mixed; boundary=\"{boundary}\"\n\n--{boundary}\n" + body_part
                     + f"--{boundary}\n" + _attachment(h["attachment"], rec.cv, rng, cv_saved) + f"--{boundary}--\n")
    head = "".join(f"{k}: {v}\n" for k, v in headers)
    return (head + body_part).encode("utf-8")


def _fill(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


class Renderer:
    def __init__(self, records: list[Record], pools: dict[str, list[Recipient]], flat: bool):
        self.records = {r.id: r for r in records}
        self.pools = pools
        self.flat = flat
        self.done: dict[str, list[Rendered]] = {}

    def path(self, rec: Record, name: str) -> str:
        # Flat sample names must not give the label away (ids carry c/p/v/r).
        return f"{rec.lang}-{_hash(name)[:8]}.eml" if self.flat else f"{rec.label}/{name}.eml"

    def render(self, rid: str) -> list[Rendered]:
        if rid in self.done:
            return self.done[rid]
        rec = self.records[rid]
        if rec.is_template:
            out = self._nudge(rec) if "nudge_of" in rec.headers else self._merge(rec)
        else:
            out = [self._single(rec)]
        self.done[rid] = out
        return out

    def _common(self, rec: Record) -> dict[str, str]:
        h = rec.headers
        return {"label": rec.label, "language": h.get("language", rec.lang), "mixed": h.get("mixed", "no"),
                "note": h.get("note", ""), "source": f"data/sources/{rec.lang}/{rec.path.name}#{rec.id}"}

    def _single(self, rec: Record) -> Rendered:
        h = rec.headers
        rng = random.Random(_hash(rec.id))
        sender_addr = parseaddr(h["from"])[1]
        owner = h["to"].split(";")[0].strip()
        r = Rendered(file=self.path(rec, rec.id), group=h.get("group", rec.id), made="hand-written",
                     message_id=_msgid(rec.id, sender_addr), sender=h["from"], owner=owner, subject=h["subject"],
                     when=_when(rec.lang, h["date"]), body=rec.body, **self._common(rec))
        extra: list[tuple[str, str]] = []
        quote, quote_style = restyle_quote(rec, r.when)
        # Many clients (Lotus Notes, most of all) sent replies without threading headers.
        share = THREADING_SHARE["notes" if quote_style == "notes" else "other"]
        threaded = random.Random(_hash(rec.id, "threading")).random() < share
        target = h.get("in_reply_to")
        if target and h.get("no_threading") != "yes" and threaded:
            owner_addr = parseaddr(owner)[1]
            if target == "owner":
                owner_msg = _msgid(rec.id + "/owner", owner_addr)
                extra = [("In-Reply-To", owner_msg), ("References", owner_msg)]
            else:
                parent = self.render(target)[0]
                refs = self._references(parent) + [parent.message_id]
                owner_msg = _msgid(rec.id + "/owner", owner_addr)
                refs.append(owner_msg)
                extra = [("In-Reply-To", owner_msg), ("References", " ".join(refs))]
        r.data = build(r, rec, h["to"], extra, quote, rng)
        return r

    def _references(self, r: Rendered) -> list[str]:
        m = re.search(rb"^References: (.*)$", r.data, re.M)
        return m.group(1).decode().split() if m else []

    def _merge(self, rec: Record) -> list[Rendered]:
        h = rec.headers
        rng = random.Random(_hash(rec.id, "merge"))
        pool = list(self.pools[rec.lang])
        rng.shuffle(pool)
        n = int(h["recipients"])
        chosen = pool[:n]
        senders = [s.strip() for s in h["from"].split(";") if s.strip()]
        start = _when(rec.lang, h["date"])
        out = []
        for k, person in enumerate(chosen, 1):
            sender = senders[(k - 1) % len(senders)]
            values = {"first_name": person.first_name, "last_name": person.last_name, "company": person.company,
                      "sender_name": parseaddr(sender)[0] or parseaddr(sender)[1]}
            slip = rng.random()
            note = ""
            others = [p for p in self.pools[rec.lang] if p is not person]
            if slip < 0.10:
                values["first_name"] = rng.choice(MERGE_SLIPS)
                note = "merge field left raw"
            elif slip < 0.17:
                values["first_name"] = rng.choice(others).first_name
                note = "wrong name"
            elif slip < 0.23:
                values["company"] = rng.choice(others).company
                note = "stale company"
            elif slip < 0.27:
                values["first_name"] = ""
                note = "empty name"
            body = _fill(rec.body, values)
            if not values["first_name"]:
                body = re.sub(r"^(\S+) ([,!])", r"\1\2", body, count=1)
            local = f"{person.first_name}.{person.last_name}".lower().replace(" ", "")
            local = re.sub(r"[^a-z0-9.-]", "", local.translate(str.maketrans("åäöøæüéèß", "aaooaueeb")))
            to = f"{person.first_name} {person.last_name} <{local}@{person.domain}>"
            when = start + timedelta(days=rng.randint(0, 6), minutes=rng.randint(0, 600))
            key = f"{rec.id}/{k}"
            r = Rendered(file=self.path(rec, f"{rec.id}-{k:02d}"), group=h.get("group", rec.id),
                         made="template mail-merged" + (f" ({note})" if note else ""),
                         message_id=_msgid(key, parseaddr(sender)[1]), sender=sender, owner=to,
                         subject=_fill(h["subject"], values), when=when, body=body,
                         **{**self._common(rec), "note": h.get("note", note)})
            r.data = build(r, rec, to, [], "", rng)
            out.append(r)
        return out

    def _nudge(self, rec: Record) -> list[Rendered]:
        h = rec.headers
        rng = random.Random(_hash(rec.id, "nudge"))
        parents = self.render(h["nudge_of"])
        root = self.records[h["nudge_of"]]
        while "nudge_of" in root.headers:
            root = self.records[root.headers["nudge_of"]]
        n = min(int(h["recipients"]), len(parents))
        outlook = rng.random() < 0.3
        # A nudge is written in its template's language unless it says otherwise.
        for key in ("language", "mixed"):
            if key in root.headers and key not in h:
                h[key] = root.headers[key]
        out = []
        for k, parent in enumerate(parents[:n], 1):
            first = parseaddr(parent.owner)[0].split(" ")[0]
            values = {"first_name": first, "last_name": "", "company": "", "subject": parent.subject,
                      "sender_name": parseaddr(parent.sender)[0]}
            body = _fill(rec.body, values)
            quote = _quote_block(rec.lang if rec.headers.get("language") is None else rec.headers["language"],
                                 parent.sender, parent.when, parent.body, outlook, parent.subject, parent.owner)
            when = parent.when + timedelta(days=rng.randint(3, 9), minutes=rng.randint(0, 300))
            r = Rendered(file=self.path(rec, f"{rec.id}-{k:02d}"), group=root.headers.get("group", root.id),
                         made="template mail-merged (nudge)", message_id=_msgid(f"{rec.id}/{k}", parseaddr(parent.sender)[1]),
                         sender=parent.sender, owner=parent.owner, subject=_fill(h["subject"], values), when=when,
                         body=body, **self._common(rec))
            extra = [("In-Reply-To", parent.message_id), ("References", parent.message_id)] if rng.random() < 0.6 else []
            r.data = build(r, rec, parent.owner, extra, quote, rng)
            out.append(r)
        return out


def load(folders: list[Path]) -> tuple[list[Record], dict[str, list[Recipient]], Problems]:
    problems = Problems()
    records: list[Record] = []
    pools: dict[str, list[Recipient]] = {}
    for folder in folders:
        recs, recipients = read_language(folder, problems)
        records += recs
        pools[folder.name] = recipients
    ids = Counter(r.id for r in records)
    known = set(ids)
    for rec in records:
        if ids[rec.id] > 1:
            problems.add(rec.path, rec.line, f"{rec.id}: id used {ids[rec.id]} times")
        target = rec.headers.get("in_reply_to")
        if target and target != "owner" and target not in known:
            problems.add(rec.path, rec.line, f"{rec.id}: in_reply_to {target} is not in the corpus")
        parent = rec.headers.get("nudge_of")
        if parent and parent not in known:
            problems.add(rec.path, rec.line, f"{rec.id}: nudge_of {parent} is not in the corpus")
        wanted = int(rec.headers.get("recipients") or 0)
        if rec.is_template and "nudge_of" not in rec.headers and len(pools.get(rec.lang, [])) < wanted:
            problems.add(rec.path, rec.line, f"{rec.id}: {rec.lang}/recipients.tsv has fewer people than recipients")
    return records, pools, problems


def check(folders: list[Path]) -> int:
    records, _, problems = load(folders)
    for line in problems.items:
        print(line)
    counts = Counter((r.lang, r.label) for r in records if "nudge_of" not in r.headers)
    for (lang, label), n in sorted(counts.items()):
        print(f"{lang}\t{label}\t{n} records")
    print(f"{len(problems.items)} problems")
    return 1 if problems.items else 0


MANIFEST_COLUMNS = ["file", "label", "language", "group", "made", "source", "licence", "mixed", "note"]
WRITTEN_LICENCE = "MIT (written for pitchsort)"


def _not_rendered(manifest: Path) -> list[dict[str, str]]:
    """The manifest rows of real and translated mail, which rendering leaves as they are."""
    if not manifest.is_file():
        return []
    with manifest.open(newline="", encoding="utf-8") as fh:
        return [row for row in csv.DictReader(fh) if row.get("made") in ("real", "translated")]


def render_all(folders: list[Path], out: Path, flat: bool) -> int:
    records, pools, problems = load(folders)
    if problems.items:
        print("\n".join(problems.items))
        print(f"{len(problems.items)} problems: fix the sources first")
        return 1
    renderer = Renderer(records, pools, flat)
    rendered = [r for rec in records for r in renderer.render(rec.id)]
    # Real and translated mail shares the folder and the manifest: only what was rendered before is replaced.
    kept = _not_rendered(out / "MANIFEST.csv") if not flat else []
    kept_files = {row["file"] for row in kept}
    # Only messages are removed: the manifest is rewritten below, and other files (the data card,
    # SECOND_READER.csv) are not the renderer's.
    if out.exists():
        for child in out.rglob("*.eml"):
            rel = child.relative_to(out).as_posix()
            if child.is_file() and rel not in kept_files:
                child.unlink()
    for r in rendered:
        path = out / r.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(r.data)
    with (out / "MANIFEST.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(MANIFEST_COLUMNS)
        rows = [[r.file, r.label, r.language, r.group, "written", r.source, WRITTEN_LICENCE, r.mixed,
                 "; ".join(x for x in (r.made, r.note) if x)] for r in rendered]
        rows += [[row.get(k, "") for k in MANIFEST_COLUMNS] for row in kept]
        w.writerows(sorted(rows))
    counts = Counter((r.language, r.label) for r in rendered)
    print(f"{len(rendered)} messages written to {out}")
    for (lang, label), n in sorted(counts.items()):
        print(f"  {lang}\t{label}\t{n}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--flat", action="store_true", help="one folder, no label folders (for samples)")
    args = ap.parse_args()
    folders = [f for f in args.folders if f.is_dir()]
    if args.check:
        return check(folders)
    if not args.out:
        ap.error("--out is required to render")
    return render_all(folders, args.out, args.flat)


if __name__ == "__main__":
    raise SystemExit(main())
