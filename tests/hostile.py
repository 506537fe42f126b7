"""A hostile mailbox: every kind of message that once stopped a run, written into a folder (never committed).

    python tests/hostile.py DIR        writes the cases into DIR

Each case is named for what it does. ``write(folder)`` returns the names of the mail files it wrote; the
entries that are not mail (links, a FIFO) are reported by name, not classified.
"""

from __future__ import annotations

import io
import os
import random
import sys
import zipfile
from email.message import EmailMessage
from pathlib import Path


def _mail(subject: str, body: str = "Hello, a short note.", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = headers.pop("sender", "Anna Lind <anna@kvarn.se>")
    msg["To"] = headers.pop("to", "Karin Berg <karin.berg@nordvik.se>")
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{abs(hash(subject))}@kvarn.se>"
    for k, v in headers.items():
        msg[k] = v
    msg.set_content(body)
    return bytes(msg)


def _docx(text_bytes: int) -> bytes:
    """A DOCX whose document.xml inflates to ``text_bytes``, written in chunks (1 GB never sits in memory)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("word/document.xml", "w", force_zip64=True) as fh:
        fh.write(b"<w:t>Experience</w:t>")
        chunk = b" " * (1 << 24)
        for start in range(0, text_bytes, len(chunk)):
            fh.write(chunk[: text_bytes - start])
    return buf.getvalue()


def _attachment(subject: str, name: str, ctype: str, data: bytes) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "Jo <jo@x.se>", "hr@nordvik.se", subject
    msg["Message-ID"] = f"<{abs(hash(subject))}@x.se>"
    msg.set_content("Please see the attachment.")
    maintype, subtype = ctype.split("/")
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(msg)


# Ways a real sender's client, a broken gateway or an attacker mangles MIME.
_CHARSETS = ["utf-8", "latin-1", "utf\xff8", "", "x-unknown", "iso-2022-jp", "utf-16", "us-ascii", "windows-1252"]
_ENCODINGS = ["base64", "quoted-printable", "8bit", "7bit", "x-uuencode", "bogus", ""]


def fuzzed(n: int, seed: int = 17) -> dict[str, bytes]:
    """``n`` seeded random mutations of MIME: boundaries, charsets, encodings, truncation, duplicated and junk headers."""
    rng = random.Random(seed)
    out = {}
    for i in range(n):
        boundary = rng.choice(["b1", "", "=_x", "a" * rng.randint(1, 200), "\"quoted\"", "sp ace"])
        head = [f"From: {rng.choice(['a@x.se', '<>', 'Ü <ü@ü.se>', '=?utf-8?b?w7w=?= <u@x.se>', ''])}",
                f"To: {rng.choice(['b@y.se', 'undisclosed-recipients:;', ', '.join(['c@z.se'] * rng.randint(1, 50))])}",
                f"Subject: {rng.choice(['Hej', '=?utf-8?q?=E5=E4=F6?=', '=?bogus?x?zz?=', 'Re: ' * rng.randint(1, 30)])}",
                f"Message-ID: <fuzz-{seed}-{i}@x.se>"]
        head += [f"X-Junk-{k}: {'y' * rng.randint(0, 3000)}" for k in range(rng.randint(0, 5))]
        if rng.random() < 0.3:
            head.append(head[rng.randrange(len(head))])
        parts = []
        for _ in range(rng.randint(1, 4)):
            body = rng.choice([b"Hello, a short note.", bytes(rng.randrange(256) for _ in range(rng.randint(0, 600))),
                               b"<html><body>" + b"<div>" * rng.randint(0, 5000) + b"Hi</body>", b"=?=\r\n=" * 50])
            parts.append(f"--{boundary}\r\nContent-Type: {rng.choice(['text/plain', 'text/html', 'application/pdf', 'message/rfc822'])}; "
                         f"charset={rng.choice(_CHARSETS)}\r\nContent-Transfer-Encoding: {rng.choice(_ENCODINGS)}\r\n\r\n"
                         .encode("utf-8", "surrogateescape") + body)
        raw = ("\r\n".join(head) + f'\r\nContent-Type: multipart/{rng.choice(["mixed", "alternative", "weird"])}; '
               f'boundary="{boundary}"\r\n\r\n').encode("utf-8", "surrogateescape") + b"\r\n".join(parts)
        if rng.random() < 0.5:
            raw += f"\r\n--{boundary}--\r\n".encode()
        if rng.random() < 0.2:
            raw = raw[: rng.randint(1, len(raw))]
        out[f"fuzz-{i:03d}.eml"] = raw
    return out


FUZZED = 300


def cases() -> dict[str, bytes]:
    """Every case of issue 17 at the sizes it names, and ``FUZZED`` fuzzed messages."""
    many = ", ".join(f"hr{i}@firm{i % 97}.example" for i in range(83_000))
    return {
        **fuzzed(FUZZED),
        # Written by hand: the stdlib's header folding takes a minute over such a list.
        "eighty-three-thousand-recipients.eml": f"From: a@kvarn.se\r\nTo: {many}\r\nSubject: Our offer\r\n\r\nHello all\r\n".encode(),
        "encoded-word-subject.eml": b"From: a@x.se\r\nTo: b@y.se\r\nSubject: " + b"=?utf-8?q?abc?= " * 640_000 + b"\r\n\r\nHi\r\n",
        "content-type-parameters.eml": b"From: a@x.se\r\nContent-Type: text/plain; " + b"a=b; " * 2_000_000 + b"\r\n\r\nHi\r\n",
        "nested-divs.eml": _mail("Offer", "x", **{}).replace(b"Content-Type: text/plain", b"Content-Type: text/html")
        .replace(b"x\n", b"<p>Book a demo</p>" + b"<div>" * 1_000_000 + b"\n"),
        "unclosed-blockquotes.eml": b"From: a@x.se\r\nContent-Type: text/html\r\n\r\n" + b"<blockquote>" * 400_000,
        "docx-bomb.eml": _attachment("CV", "cv.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                                     _docx(1 << 30)),
        "fifty-megabyte-attachment.eml": _attachment("Portfolio", "portfolio.pdf", "application/pdf",
                                                     b"%PDF-1.4\n" + os.urandom(50 << 20)),
        "garbage-pdf.eml": _attachment("My CV", "cv.pdf", "application/pdf", b"%PDF-1.7\n" + b"1 0 obj << /Kids [" * 20_000),
        "formula-subject.eml": _mail('=HYPERLINK("http://evil.example","open")', sender="@SUM(1+1) <e@evil.example>"),
        "no-headers-at-all.eml": b"\x00\x01\x02 binary junk " * 100,
        "lying-charset.eml": b"From: a@x.se\r\nContent-Type: text/plain; charset=utf\xff8\r\n\r\nHej d\xe5\r\n",
        "boundary-never-closed.eml": b"From: a@x.se\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n\r\nHi\r\n",
    }


def write(folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in cases().items():
        (folder / name).write_bytes(data)
    (folder / "dangling-link.eml").symlink_to(folder / "nowhere.eml")
    (folder / "looping-link.eml").symlink_to(folder / "looping-link.eml")
    (folder / "device-link.eml").symlink_to("/dev/zero")
    os.mkfifo(folder / "fifo.eml")
    return sorted(cases())


if __name__ == "__main__":
    print(len(write(Path(sys.argv[1]))), "hostile messages written")
