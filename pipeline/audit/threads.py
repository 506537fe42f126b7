"""Conversations between the mailbox owner and the people they wrote to, from Sent mail and Inbox together.

Threading headers come first: Message-ID, In-Reply-To and References join
messages into one conversation. Mail that lost its headers on the way (a
webmail answer, a forwarded copy) is joined by its subject without reply
prefixes, per participant: the same subject to or from the same address is
the same conversation. Pure functions over parsed :class:`Message` objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from pipeline import lang
from pipeline.mail.message import Message

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@cache
def _prefix_re() -> re.Pattern[str]:
    words = sorted({p for d in lang.all_languages() for p in (*d.mail.reply_prefixes, *d.mail.forward_prefixes)}, key=len, reverse=True)
    return re.compile(r"^\s*(?:(?:" + "|".join(re.escape(w) for w in words) + r")\s*(?:\[\d+\])?\s*:\s*)+", re.I)


def strip_prefixes(subject: str) -> str:
    """The subject without its reply and forward prefixes, as written: ``"SV: Re: Hej"`` → ``"Hej"``."""
    return _prefix_re().sub("", subject).strip()


def normalize_subject(subject: str) -> str:
    """The subject without reply and forward prefixes of the six languages, lower case, spaces collapsed.

    >>> normalize_subject("SV: Re: AW:  Senior  Java-utvecklare")
    'senior java-utvecklare'
    """
    return " ".join(strip_prefixes(subject).split()).lower()


def when(message: Message) -> datetime:
    """The message's date, always comparable: a date without a zone is taken as UTC, no date as 1970."""
    if message.date is None:
        return _EPOCH
    return message.date if message.date.tzinfo else message.date.replace(tzinfo=UTC)


def parent_ids(message: Message) -> list[str]:
    """The ids this message answers, nearest first: In-Reply-To, then References from the last."""
    ids = message.in_reply_to.split() if message.in_reply_to else []
    return ids + [r for r in reversed(message.references) if r not in ids]


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:  # path compression
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass(frozen=True)
class Conversations:
    """Which conversation each message belongs to (``of[source]``), by threading headers and by subject."""

    of: dict[str, str]


def conversations(sent: Iterable[Message], inbox: Iterable[Message]) -> Conversations:
    """Group the owner's sent mail and their inbox into conversations with each counterpart.

    A sent message is linked to each of its recipients, an inbox message to its sender: "same subject,
    same person" joins mail whose threading headers were lost.
    """
    uf = _UnionFind()
    nodes: dict[str, str] = {}
    for kind, messages in (("sent", sent), ("inbox", inbox)):
        for m in messages:
            node = f"src:{m.source}"
            nodes[m.source] = node
            if m.message_id:
                uf.union(node, f"id:{m.message_id}")
            for parent in parent_ids(m):
                uf.union(node, f"id:{parent}")
            subject = normalize_subject(m.subject)
            if subject:
                people = [a.email for a in m.recipients] if kind == "sent" else [m.sender.email]
                for address in people:
                    uf.union(node, f"subj:{subject}|{address.lower()}")
    return Conversations(of={source: uf.find(node) for source, node in nodes.items()})
