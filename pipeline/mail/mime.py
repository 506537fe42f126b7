"""The compat32 MIME tree of a raw message, as the stdlib parser builds it, sooner.

email.message_from_bytes was a third of parsing time: its feed parser hands
over one line at a time (a 30 kB PDF is 400 base64 lines) and compiles a new
regex for every multipart boundary (70 µs each). mime_tree builds the very
same compat32 tree for ordinary mail by following feedparser._parsegen step
for step, but reads bodies in one slice and matches boundaries with string
tests. Whatever it does not follow (message/* parts, digests, lone CR line
ends, misplaced "From " lines, multiparts without a first boundary) is
handed to the stdlib whole; tests/test_mail.py compares the two.
"""

from __future__ import annotations

import email
import re
from email.message import Message as StdMessage
from email.policy import compat32

# Lines that feedparser.headerRE (r"^(From |[\041-\071\073-\176]*:|[\t ])") takes for headers, one after another.
_HEADER_BLOCK = re.compile(r"(?:(?:From |[\041-\071\073-\176]*:|[\t ])[^\n]*(?:\n|\Z))*")
# What may follow "--boundary" on a boundary line, as feedparser's boundaryre has it.
_BOUNDARY_TAIL = re.compile(r"(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$")


class _Unusual(Exception):
    """The message leaves the shapes mime_tree follows; the stdlib parser takes it."""


def _boundary_match(line: str, separator: str) -> re.Match[str] | None:
    return _BOUNDARY_TAIL.match(line, len(separator)) if line.startswith(separator) else None


class _Lines:
    """feedparser.BufferedSubFile over a whole text: a position and the stack of boundaries that end a part early."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.separators: list[str] = []

    def at_boundary(self, line: str) -> bool:
        return any(_boundary_match(line, sep) for sep in self.separators)

    def readline(self) -> str:
        """The next line, or "" at the end or at a boundary line (which stays unread)."""
        text, pos = self.text, self.pos
        if pos >= len(text):
            return ""
        end = text.find("\n", pos) + 1 or len(text)
        line = text[pos:end]
        if line.startswith("--") and self.at_boundary(line):
            return ""
        self.pos = end
        return line

    def read_to_boundary(self) -> str:
        """Everything up to the next boundary line or the end, in one slice."""
        text, start = self.text, self.pos
        if self.separators:
            # Only a line starting with "--" can be a boundary.
            at = start if text.startswith("--", start) else text.find("\n--", start) + 1 or -1
            while at >= 0:
                end = text.find("\n", at) + 1 or len(text)
                if self.at_boundary(text[at:end]):
                    self.pos = at
                    return text[start:at]
                at = text.find("\n--", end - 1) + 1 or -1
        self.pos = len(text)
        return text[start:]


def _strip_line_end(value: str) -> str:
    """Drop one trailing line end, as feedparser's NLCRE_eol does (without scanning the whole value)."""
    if value.endswith("\r\n"):
        return value[:-2]
    return value[:-1] if value.endswith(("\r", "\n")) else value


def _read_headers(src: _Lines) -> list[str]:
    """The header lines of the part at ``src.pos``, leaving it at the body (feedparser's header loop)."""
    text, start = src.text, src.pos
    found = _HEADER_BLOCK.match(text, start)
    block = found.group(0) if found else ""
    pieces = block.split("\n")
    lines = [piece + "\n" for piece in pieces[:-1]]
    if pieces[-1]:
        lines.append(pieces[-1])
    if src.separators and "--" in block:
        # A boundary line that looks like a header still ends the headers.
        for n, line in enumerate(lines):
            if line.startswith("--") and src.at_boundary(line):
                src.pos = start + sum(map(len, lines[:n]))
                return lines[:n]
    src.pos = start + len(block)
    line = src.readline()
    if line and line[0] not in "\r\n":  # not the blank separator line: the body starts here
        src.pos -= len(line)
    return lines


# Header budgets: the stdlib decodes encoded words and parameters in time that grows faster than the header (a 2 MB
# Subject of encoded words took 45 s). No real header comes near these; a longer one is cut, more are dropped.
MAX_FIELD_CHARS = 16_000
MAX_FIELDS = 1_000
# Address lists are read by a linear fast path and their length is a signal (a blast to 80,000 people): they keep more.
MAX_ADDRESS_FIELD_CHARS = 4_000_000
_ADDRESS_FIELDS = frozenset({"to", "cc", "bcc", "from", "sender", "reply-to", "resent-to", "resent-cc"})


def _cut(name: str, value: str) -> str:
    return value[: MAX_ADDRESS_FIELD_CHARS if name.lower() in _ADDRESS_FIELDS else MAX_FIELD_CHARS]


def _set_field(part: StdMessage, value_lines: list[str]) -> None:
    if len(part) >= MAX_FIELDS:
        return
    name, value = compat32.header_source_parse(value_lines)
    part.set_raw(name, _cut(name, value))


def _set_headers(part: StdMessage, lines: list[str]) -> None:
    """feedparser._parse_headers, minus the defects nothing here reads, within the header budgets."""
    name, value_lines = "", []
    for lineno, line in enumerate(lines):
        if line[0] in " \t":
            if not name:
                continue  # a continuation with nothing to continue is dropped
            value_lines.append(line)
            continue
        if name:
            _set_field(part, value_lines)
            name, value_lines = "", []
        if line.startswith("From "):
            if lineno == 0:
                part.set_unixfrom(_strip_line_end(line))
                continue
            raise _Unusual("misplaced From line")  # the last one is pushed back into the body
        colon = line.find(":")
        if colon == 0:
            continue
        name, value_lines = line[:colon], [line]
    if name:
        _set_field(part, value_lines)


def _parse_part(src: _Lines, nested: bool) -> StdMessage:
    part = StdMessage(policy=compat32)
    _set_headers(part, _read_headers(src))
    maintype = part.get_content_maintype()
    if maintype == "message":
        raise _Unusual("message/* part")
    if maintype != "multipart":
        body = src.read_to_boundary()
        # RFC 2046: the line end before a boundary belongs to the boundary.
        part.set_payload(_strip_line_end(body) if nested else body)
        return part
    boundary = part.get_boundary()
    if boundary is None or part.get_content_type() == "multipart/digest":
        raise _Unusual("multipart without boundary, or digest")
    _parse_multipart(src, part, "--" + boundary)
    if nested and part.epilogue == "":
        part.epilogue = None
    elif nested and part.epilogue is not None:
        part.epilogue = _strip_line_end(part.epilogue)
    return part


def _parse_multipart(src: _Lines, part: StdMessage, separator: str) -> None:
    preamble_start, in_preamble = src.pos, True
    close: re.Match[str] | None = None
    while line := src.readline():
        mo = _boundary_match(line, separator)
        if mo is None:
            if not in_preamble:
                raise _Unusual("text between parts")
            continue
        if mo.group("end"):
            close = mo
            break
        if in_preamble:
            line_start = src.pos - len(line)
            if line_start > preamble_start:
                part.preamble = _strip_line_end(src.text[preamble_start:line_start])
            in_preamble = False
        while _boundary_match(line := src.readline(), separator):
            pass  # repeated boundary lines make no empty parts
        if not line:
            raise _Unusual("boundary line at the end of its part")
        src.pos -= len(line)
        src.separators.append(separator)
        part.attach(_parse_part(src, nested=True))
        src.separators.pop()
    if in_preamble:
        raise _Unusual("no first boundary")
    if close is None:
        return  # no closing boundary: no epilogue either
    epilogue = src.read_to_boundary()
    if not close.group("linesep") and epilogue[:1] in ("\r", "\n"):
        epilogue = epilogue[2:] if epilogue.startswith("\r\n") else epilogue[1:]
    part.epilogue = epilogue


def mime_tree(raw: bytes) -> StdMessage:
    """``email.message_from_bytes(raw, policy=compat32)``, sooner, and within the header budgets."""
    text = raw.decode("ascii", "surrogateescape")
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return _stdlib_tree(raw)
    try:
        return _parse_part(_Lines(text), nested=False)
    except (_Unusual, RecursionError):  # absurdly deep nesting: the stdlib's own limits decide
        return _stdlib_tree(raw)


def _stdlib_tree(raw: bytes) -> StdMessage:
    """The stdlib's parse, every part's fields cut to the header budgets before anything decodes them."""
    msg = email.message_from_bytes(raw, policy=compat32)
    for part in msg.walk():
        items = part._headers  # the (name, raw value) pairs; rewritten in place, as set_raw would
        if len(items) > MAX_FIELDS or any(len(v) > MAX_FIELD_CHARS for _, v in items):
            part._headers = [(k, _cut(k, v)) for k, v in items[:MAX_FIELDS]]
    return msg
