"""Where mail comes from on disk: .eml files, folders of them, Maildirs, mbox files.

Everything here is a generator of :class:`RawMail`, so a mailbox of any size
is read one message at a time and memory does not grow with it.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.exceptions import SourceError

_HEADER_LINE = re.compile(rb"^[!-9;-~]+:[ \t]", re.M)
_MAIL_SUFFIXES = {".eml", ".msg", ".mail", ""}


# A message file larger than this is reported and skipped, never read: real mail, attachments included, stays far below.
MAX_FILE_BYTES = 50_000_000


@dataclass(frozen=True)
class RawMail:
    """The bytes of one message, or, for an entry that could not be read as mail, why (``problem``)."""

    source: str
    data: bytes
    problem: str = ""


def looks_like_mail(head: bytes) -> bool:
    """Does this file start like a message or an mbox? Judged on its first bytes."""
    if b"\x00" in head[:1024]:
        return False
    return head.startswith(b"From ") or bool(_HEADER_LINE.search(head[:2048]))


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


def read_mbox(path: Path) -> Iterator[RawMail]:
    """Split an mbox on its ``From `` lines (mboxrd quoting undone), streaming."""
    n = 0
    buf: list[bytes] = []
    with path.open("rb") as fh:
        for line in fh:
            if line.startswith(b"From "):
                if buf:
                    n += 1
                    yield RawMail(f"{path}#{n}", b"".join(buf))
                    buf = []
                continue
            if line.startswith(b">") and line.lstrip(b">").startswith(b"From "):
                line = line[1:]
            buf.append(line)
    if buf:
        n += 1
        yield RawMail(f"{path}#{n}", b"".join(buf))


def _suffix(name: str) -> str:
    # Path.suffix without building a Path per file: "cv." and ".eml" have none.
    dot = name.rfind(".")
    return name[dot:].lower() if 0 < dot < len(name) - 1 else ""


def _files_below(folder: Path) -> Iterator[str]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != "tmp" and not d.startswith("."))
        in_maildir: bool | None = None
        for name in sorted(files):
            if name.startswith(".") or name in ("MANIFEST.csv", "README.md"):
                continue
            if _suffix(name) not in _MAIL_SUFFIXES:
                if in_maildir is None:
                    in_maildir = _is_maildir(Path(root).parent)
                if not in_maildir:
                    continue
            # os.walk joins onto an already normalised Path, so this is str(Path(root, name)).
            yield os.path.join(root, name)


EMPTY_MAILBOX_SUFFIXES = (".mbox", ".mbx", "")


def check_paths(paths: Iterable[Path]) -> list[Path]:
    """Fail early, with one line, on a path that is missing or is not mail."""
    checked = []
    for path in paths:
        if not path.exists():
            raise SourceError(f"no such file or folder: {path}")
        if path.is_file():
            with path.open("rb") as fh:
                head = fh.read(4096)
            # An empty mbox is a mailbox with nothing in it yet, not a mistake; an empty .eml is no message.
            if not looks_like_mail(head) and not (not head and path.suffix.lower() in EMPTY_MAILBOX_SUFFIXES):
                raise SourceError(f"not a mail file (.eml or mbox): {path}")
        checked.append(path)
    return checked


def _unreadable(path: str) -> str:
    """Why ``path`` cannot be read as a message file, or "" when it can.

    Judged before opening: opening a FIFO blocks for ever, and reading a device or a link to one never ends.
    """
    try:
        st = os.stat(path)  # follows links: a dangling or looping one raises
    except OSError as exc:
        if os.path.islink(path):
            return "a symbolic link that leads nowhere (dangling or looping)"
        return exc.strerror or "cannot be read"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file (a FIFO, device or socket)"
    return ""


def _read_file(path: str) -> Iterator[RawMail]:
    if problem := _unreadable(path):
        yield RawMail(path, b"", problem)
        return
    # One open per message file: the mbox test reads the same first bytes the message starts with. Unbuffered,
    # since the rest is read in one call anyway.
    try:
        yield from _read_regular(path)
    except OSError as exc:  # gone or changed since the check
        yield RawMail(path, b"", exc.strerror or "cannot be read")


def _read_regular(path: str) -> Iterator[RawMail]:
    with open(path, "rb", buffering=0) as fh:
        head = fh.read(5)
        if head != b"From " and os.fstat(fh.fileno()).st_size > MAX_FILE_BYTES:  # an mbox may be any size
            yield RawMail(path, b"", f"larger than {MAX_FILE_BYTES // 1_000_000} MB")
            return
        data = b"" if head == b"From " else head + fh.read(MAX_FILE_BYTES)
    if head == b"From ":
        yield from read_mbox(Path(path))
    else:
        yield RawMail(path, data)


def iter_mail(paths: Iterable[Path]) -> Iterator[RawMail]:
    """Every message below ``paths``, in a stable order."""
    for path in paths:
        if path.is_file():
            if path.suffix.lower() in EMPTY_MAILBOX_SUFFIXES and path.stat().st_size == 0:
                continue  # an empty mailbox named on the command line
            yield from _read_file(str(path))
            continue
        for file in _files_below(path):
            yield from _read_file(file)
