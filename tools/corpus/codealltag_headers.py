"""CodE Alltag S holds bodies only; the headers pitchsort wraps them in, and a rewrite of files already wrapped.

The headers say as little as possible, so that no feature learns from them:
no display names (a greeting cannot be proved wrong against a name no one
gave), and sender and recipient in different organisations (the source does
not say whether a mail was internal). The body stays the source's file byte
for byte; the data card says so.

    python tools/corpus/codealltag_headers.py data/labeled/*/*codealltag*.eml
"""

from __future__ import annotations

import hashlib
import re
import sys
from email.utils import formatdate
from pathlib import Path

NOTE = "X-Pitchsort-Note: headers added by pitchsort; the body is CodE Alltag S's file byte for byte"
_FROM = re.compile(rb"^From: .*?absender-(\d+)@[^>\s]+>?[ \t]*$", re.M)
_TO = re.compile(rb"^To: .*empfaenger@[^>\s]+>?[ \t]*$", re.M)


def headers(stem: str, body: bytes) -> bytes:
    """The header block for CodE Alltag file ``stem`` (``502_6``); the date comes from the body's hash."""
    ts = 1262304000 + int(hashlib.sha256(body).hexdigest()[:8], 16) % (6 * 365 * 86400)
    sender = stem.split("_")[0]
    return (f"From: absender-{sender}@absender-{sender}.invalid\nTo: empfaenger@empfaenger.invalid\n"
            f"Subject: \nDate: {formatdate(ts)}\nMessage-ID: <codealltag-{stem}@codealltag.invalid>\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n"
            f"{NOTE}\n\n").encode()


def rewrite(data: bytes) -> bytes:
    """A message wrapped by an earlier version (display names, one shared domain) with today's From and To."""
    head, sep, body = data.partition(b"\n\n")
    head = _FROM.sub(lambda m: b"From: absender-%s@absender-%s.invalid" % (m[1], m[1]), head, count=1)
    head = _TO.sub(b"To: empfaenger@empfaenger.invalid", head, count=1)
    return head + sep + body


def main(paths: list[str]) -> int:
    changed = 0
    for name in paths:
        path = Path(name)
        data = path.read_bytes()
        if NOTE.encode() not in data.partition(b"\n\n")[0]:
            print(f"{path}: not a CodE Alltag message wrapped by pitchsort; left alone", file=sys.stderr)
            continue
        new = rewrite(data)
        if new != data:
            path.write_bytes(new)
            changed += 1
    print(f"{changed} of {len(paths)} rewritten")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
