"""Parse raw RFC 5322 bytes into a :class:`Message`: pure functions, no I/O.

The stdlib parser runs with ``policy.compat32``: ``policy.default`` builds a
header object per header and was five times slower on a real-looking mailbox
(STACK-NOTES). Only the headers pitchsort uses are decoded.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.header import decode_header, make_header
from email.message import Message as StdMessage
from email.utils import getaddresses, parsedate_to_datetime

from pipeline.exceptions import MailParseError
from pipeline.mail import budget
from pipeline.mail.attachments import extract_text, kind_of
from pipeline.mail.html import HtmlSignals, html_to_text
from pipeline.mail.mime import mime_tree
from pipeline.mail.quotes import split_reply

# Bodies past this are cut before quote splitting and featurizing: a pitch or
# a reply says what it is in its first pages.
MAX_TEXT_CHARS = 20_000
_MSGID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True)
class Address:
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2].lower()


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    kind: str
    text: str = ""


@dataclass(frozen=True)
class BulkHeaders:
    """Headers that mailing-list and sequence tools add and people never do."""

    list_unsubscribe: str = ""
    list_id: str = ""
    precedence: str = ""
    auto_submitted: str = ""
    x_mailer: str = ""
    feedback_id: str = ""
    campaign: str = ""


@dataclass(frozen=True)
class Message:
    source: str
    message_id: str = ""
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    sender: Address = Address("", "")
    recipients: tuple[Address, ...] = ()
    # The mailbox the message was delivered to (Delivered-To, X-Original-To), when the server said.
    delivered_to: str = ""
    subject: str = ""
    date: datetime | None = None
    bulk: BulkHeaders = BulkHeaders()
    text: str = ""
    quoted: str = ""
    signature: str = ""
    quote_header: str = ""
    html_only: bool = False
    html: HtmlSignals = HtmlSignals()
    attachments: tuple[Attachment, ...] = field(default=())
    # Why only part of the message was read (over its time budget), or "" when it was read whole.
    partial: str = ""


Headers = dict[str, str]


def _header_map(msg: StdMessage) -> Headers:
    """Every header once, by lower-case name, first occurrence winning as with ``msg.get``.

    compat32's ``get`` scans all headers on each call; the parser asks for
    about twenty.
    """
    out: Headers = {}
    for name, value in msg.items():
        out.setdefault(name.lower(), str(value))
    return out


def _header(headers: Headers, name: str) -> str:
    raw = headers.get(name.lower())
    if raw is None:
        return ""
    if "=?" not in raw:  # no encoded words: nothing to decode
        return " ".join(raw.split()) if "\n" in raw else raw.strip()
    try:
        parts = decode_header(str(raw))
    except (ValueError, email.errors.MessageError):
        return str(raw).strip()
    try:
        return str(make_header(parts)).strip()
    except (LookupError, UnicodeDecodeError, email.errors.MessageError):
        # An unknown or mangled charset ("utf\ufffd8") costs replacement characters, not the header.
        return " ".join(v.strip() if isinstance(v, str) else decode_payload(v, c).strip() for v, c in parts).strip()


# An atom as email._parseaddr reads one in a display name: anything but its specials and white space
# (dots included). Control characters, backslashes and Unicode spaces (which its addr-spec reader
# drops with str.strip) are left to the stdlib parser.
_ATOM = r'[^\s\x00-\x1f()<>@,:;"\[\]\\\x7f]++'
_QUOTED = r'"[^"\\\x00-\x1f\x7f]*+"'
_ADDR_SPEC = rf"{_ATOM}@{_ATOM}"
# One list item in the forms nearly all mail uses: "a@x.se", "Name <a@x.se>", "\"Berg, Karin\" <a@x.se>".
_PLAIN_ITEM = re.compile(
    rf"[ \t]*+(?:(?P<bare>{_ADDR_SPEC})|(?P<phrase>(?:[ \t]*+(?:{_QUOTED}|{_ATOM}))*+)[ \t]*+<(?P<route>{_ADDR_SPEC})>)[ \t]*+(?:,|\Z)")
_WORD = re.compile(rf'"([^"\\\x00-\x1f\x7f]*+)"|({_ATOM})')


def _plain_addresses(field: str) -> list[tuple[str, str]] | None:
    """``getaddresses([field])`` for a list made only of the common forms, else ``None``.

    email.utils.getaddresses walks the field a character at a time in Python
    and was the parser's third-largest cost. Anything this does not mirror
    exactly (comments, groups, empty items, unquoted commas in names, escapes,
    source routes, white space inside an address) is left to it.
    """
    if "=?" in field:  # an encoded word left undecoded: rare, and the stdlib's reading is the reference
        return None
    out: list[tuple[str, str]] = []
    pos, end = 0, len(field)
    while pos < end:
        m = _PLAIN_ITEM.match(field, pos)
        if m is None:
            return None
        if m["bare"] is not None:
            out.append(("", m["bare"]))
        else:
            # getphraselist joins its words with one space, quotes taken off.
            out.append((" ".join(w[2] if w[1] is None else w[1] for w in _WORD.finditer(m["phrase"])), m["route"]))
        pos = m.end()
    return out


def _addresses(headers: Headers, *names: str) -> tuple[Address, ...]:
    values = [v for v in (_header(headers, n) for n in names) if v]
    if not values:
        return ()
    field = ", ".join(values)
    pairs = _plain_addresses(field)
    if pairs is None:
        pairs = getaddresses([field])
    return tuple(Address(name.strip(), addr.strip().lower()) for name, addr in pairs if addr)


def _delivered_to(headers: Headers) -> str:
    """The final mailbox: the top Delivered-To (qmail's "mailing list x@y" names a list, not a mailbox)."""
    for name in ("Delivered-To", "X-Original-To"):
        value = _header(headers, name).strip()
        if value and " " not in value:
            found = _addresses(headers, name)
            return found[0].email if found else ""
    return ""


def decode_payload(data: bytes, charset: str | None) -> str:
    """Decode body bytes; an unknown or lying charset falls back, never raises."""
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    # windows-1252 is what mislabelled Western European mail usually is.
    return data.decode("windows-1252", errors="replace")


def _filename(part: StdMessage, disposition: str) -> str:
    # get_filename parses the parameters of two headers, and most parts name no
    # file: without "name" in either ("filename", "name", "filename*0*") it finds none.
    if "name" not in disposition.lower() and "name" not in str(part.get("Content-Type") or "").lower():
        return ""
    name = part.get_filename() or ""
    if "=?" in name:
        try:
            name = str(make_header(decode_header(name)))
        except (LookupError, UnicodeDecodeError, ValueError, email.errors.MessageError):
            pass
    return name.strip()


def _date(headers: Headers) -> datetime | None:
    raw = headers.get("date")
    if not raw:
        return None
    try:
        return parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class _Body:
    plain: str
    html: str
    attachments: list[Attachment]
    has_plain_part: bool


def _walk(msg: StdMessage) -> _Body:
    plain, html = "", ""
    attachments: list[Attachment] = []
    has_plain_part = False
    for part in msg.walk():
        # A container is multipart/* or message/*, so no text/plain part is skipped here.
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        has_plain_part = has_plain_part or ctype == "text/plain"
        raw_disposition = str(part.get("Content-Disposition") or "")
        disposition = raw_disposition.split(";")[0].strip().lower()
        filename = _filename(part, raw_disposition)
        payload = part.get_payload(decode=True) or b""
        if disposition == "attachment" or (filename and not ctype.startswith("text/")):
            kind = kind_of(filename, ctype)
            attachments.append(Attachment(filename, ctype, len(payload), kind, extract_text(payload, kind)))
        elif ctype == "text/plain" and not plain:
            plain = decode_payload(payload, part.get_content_charset())
        elif ctype == "text/html" and not html:
            html = decode_payload(payload, part.get_content_charset())
    return _Body(plain, html, attachments, has_plain_part)


def parse_bytes(raw: bytes, source: str = "") -> Message:
    """Parse one message. Raises :class:`MailParseError` when ``raw`` is not mail.

    >>> m = parse_bytes(b"From: A <a@x.se>\\nTo: b@y.se\\nSubject: Hej\\n\\nHej Karin!\\n")
    >>> m.sender.email, m.text
    ('a@x.se', 'Hej Karin!')
    """
    if not raw.strip():
        raise MailParseError(f"{source}: empty file")
    try:
        try:
            with budget.time_limit(budget.PARSE_SECONDS):
                return _parse(raw, source)
        except budget.OverBudget as exc:
            # Classified from what can be read in time; the row says so.
            with budget.time_limit(budget.PARSE_SECONDS):
                return replace(_parse(_start_of(raw), source), partial=f"parsing took {exc}; read its header and start")
    except budget.OverBudget as exc:
        raise MailParseError(f"{source}: not read within its budget ({exc})") from exc
    except MailParseError:
        raise
    except Exception as exc:  # noqa: BLE001 - a malformed message is reported and skipped, never crashes a run
        raise MailParseError(f"{source}: cannot be read ({type(exc).__name__}: {exc})") from exc


# What is read of a message over its time budget: the start of its header and of its body.
START_HEADER_BYTES = 64 * 1024
START_BODY_BYTES = 8 * 1024


def _start_of(raw: bytes) -> bytes:
    end = min((i for i in (raw.find(b"\r\n\r\n", 0, START_HEADER_BYTES), raw.find(b"\n\n", 0, START_HEADER_BYTES)) if i >= 0),
              default=-1)
    if end < 0:  # a header longer than the budget: keep its whole lines, no body
        return raw[: raw.rfind(b"\n", 0, START_HEADER_BYTES) + 1] + b"\n"
    return raw[: end + START_BODY_BYTES]


def _parse(raw: bytes, source: str) -> Message:
    msg = mime_tree(raw)
    h = _header_map(msg)
    if not any(h.get(name) for name in ("from", "to", "subject", "message-id", "date")):
        raise MailParseError(f"{source}: no mail headers (From, To, Subject, Date or Message-ID)")
    body = _walk(msg)
    plain, html = body.plain, body.html
    signals = HtmlSignals()
    if html:
        html_text, signals = html_to_text(html)
        plain = plain or html_text
    split = split_reply(plain[:MAX_TEXT_CHARS])
    senders = _addresses(h, "From")
    return Message(
        source=source,
        message_id=_header(h, "Message-ID"),
        in_reply_to=" ".join(_MSGID.findall(_header(h, "In-Reply-To"))),
        references=tuple(_MSGID.findall(_header(h, "References"))),
        sender=senders[0] if senders else Address("", ""),
        recipients=_addresses(h, "To", "Cc"),
        delivered_to=_delivered_to(h),
        subject=_header(h, "Subject"),
        date=_date(h),
        bulk=BulkHeaders(
            list_unsubscribe=_header(h, "List-Unsubscribe"),
            list_id=_header(h, "List-Id"),
            precedence=_header(h, "Precedence").lower(),
            auto_submitted=_header(h, "Auto-Submitted").lower(),
            x_mailer=_header(h, "X-Mailer") or _header(h, "User-Agent"),
            feedback_id=_header(h, "Feedback-ID"),
            campaign=_header(h, "X-Campaign") or _header(h, "X-Mailgun-Campaign-Id") or _header(h, "X-HS-Campaign"),
        ),
        text=split.new,
        quoted=split.quoted,
        signature=split.signature,
        quote_header=split.quote_header,
        html_only=bool(html) and not body.has_plain_part,
        html=signals,
        attachments=tuple(body.attachments),
    )
