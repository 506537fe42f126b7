"""Digests of public messages reserved for evaluation, and the check that none is trained on.

The definition is the project's shared one (``shared/reserved/reserved.py``),
so a copy of a reserved message filed elsewhere, with other headers or
another Message-ID, is still found by its body:

- ``mid:``  sha256 of the Message-ID, ``<``, ``>`` and white space removed, lower case;
- ``body:`` sha256 of the first text/plain part (else the first text/html part with
  every tag removed), decoded (transfer encoding, then charset, errors replaced),
  lower case, only a-z and 0-9 kept, the first 400 of them; none when fewer than 80 are left.

It parses with ``compat32`` on purpose: the digests must be byte-for-byte the
shared script's, whatever pitchsort's own parser makes of a broken message.
"""

from __future__ import annotations

import email
import hashlib
import re
from email import policy
from email.message import Message as StdMessage
from pathlib import Path

# Whole repositories kept for evaluation: a manifest source naming one is refused like a listed digest.
RESERVED_REPOSITORIES = ("davified/email-classification", "AllenSun7/apache-spark-hadoop")
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_TAG = re.compile(r"<[^>]*>")
_MID_JUNK = re.compile(r"[<>\s]")


def _first_text(msg: StdMessage) -> str:
    for kind in ("text/plain", "text/html"):
        for part in msg.walk():
            if part.get_content_type() == kind and not part.is_multipart():
                raw = part.get_payload(decode=True) or b""
                charset = part.get_content_charset() or "latin-1"
                try:
                    text = raw.decode(charset, errors="replace")
                except LookupError:
                    text = raw.decode("latin-1", errors="replace")
                return _TAG.sub(" ", text) if kind == "text/html" else text
    return ""


def digests(data: bytes) -> list[str]:
    """The ``mid:`` and ``body:`` digests of one raw message (either may be missing)."""
    msg = email.message_from_bytes(data, policy=policy.compat32)
    out = []
    mid = _MID_JUNK.sub("", str(msg.get("Message-ID", "") or "")).lower()
    if mid:
        out.append("mid:" + hashlib.sha256(mid.encode()).hexdigest())
    body = _NOT_ALNUM.sub("", _first_text(msg).lower())[:400]
    if len(body) >= 80:
        out.append("body:" + hashlib.sha256(body.encode()).hexdigest())
    return out


def load(path: Path) -> frozenset[str]:
    """The digests listed in a reserved list file (``#`` lines are comments)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(s for s in (line.strip() for line in lines) if s and not s.startswith("#"))


def reserved_repository(source: str) -> str | None:
    """The reserved repository a manifest ``source`` names, if any."""
    lower = source.lower()
    return next((repo for repo in RESERVED_REPOSITORIES if repo.lower() in lower), None)
