"""A hostile mailbox: every kind of message that once stopped a run, written into a folder (never committed).

    python tests/hostile.py DIR        writes the cases into DIR

Each case is named for what it does. ``write(folder)`` returns the names of the mail files it wrote; the
entries that are not mail (links, a FIFO) are reported by name, not classified.
"""

from __future__ import annotations

import io
import os
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
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", b"<w:t>Experience</w:t>" + b" " * text_bytes)
    return buf.getvalue()


def cases() -> dict[str, bytes]:
    many = ", ".join(f"hr{i}@firm{i % 97}.example" for i in range(40_000))
    cv = EmailMessage()
    cv["From"], cv["To"], cv["Subject"] = "Jo <jo@x.se>", "hr@nordvik.se", "CV"
    cv.set_content("My CV is attached.")
    cv.add_attachment(_docx(60_000_000), maintype="application",
                      subtype="vnd.openxmlformats-officedocument.wordprocessingml.document", filename="cv.docx")
    return {
        # Written by hand: the stdlib's header folding takes a minute over such a list.
        "forty-thousand-recipients.eml": f"From: a@kvarn.se\r\nTo: {many}\r\nSubject: Our offer\r\n\r\nHello all\r\n".encode(),
        "encoded-word-subject.eml": b"From: a@x.se\r\nTo: b@y.se\r\nSubject: " + b"=?utf-8?q?abc?= " * 120_000 + b"\r\n\r\nHi\r\n",
        "content-type-parameters.eml": b"From: a@x.se\r\nContent-Type: text/plain; " + b"a=b; " * 400_000 + b"\r\n\r\nHi\r\n",
        "nested-divs.eml": _mail("Offer", "x", **{}).replace(b"Content-Type: text/plain", b"Content-Type: text/html")
        .replace(b"x\n", b"<p>Book a demo</p>" + b"<div>" * 1_000_000 + b"\n"),
        "unclosed-blockquotes.eml": b"From: a@x.se\r\nContent-Type: text/html\r\n\r\n" + b"<blockquote>" * 400_000,
        "docx-bomb.eml": bytes(cv),
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
