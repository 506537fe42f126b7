"""Split a plain-text body into what the sender wrote now, the quote and the signature.

Reply headers are read from every language's ``mail.json`` (``on``/``wrote``
words, Outlook header fields), because a Swedish client may quote a German
message: the body's own language does not tell which client wrote the header.
mail-parser-reply covers five of our six languages but not Norwegian, and
cuts signatures at any "Thanks," line; this splitter is data-driven instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from pipeline import lang


@dataclass(frozen=True)
class SplitText:
    new: str
    quoted: str
    signature: str
    quote_header: str


@dataclass(frozen=True)
class _Rules:
    wrote_header: re.Pattern[str]
    wrote_tail: re.Pattern[str]
    outlook_field: re.Pattern[str]
    separator: re.Pattern[str]
    sign_off: re.Pattern[str]
    notes_line: re.Pattern[str]


@cache
def _rules() -> _Rules:
    data = lang.all_languages()
    on = "|".join(sorted({re.escape(w) for d in data for w in d.mail.on}, key=len, reverse=True))
    wrote = "|".join(sorted({re.escape(w) for d in data for w in d.mail.wrote}))
    fields = "|".join(sorted({re.escape(w) for d in data for w in d.mail.header_fields}, key=len, reverse=True))
    orig = "|".join(sorted({re.escape(w) for d in data for w in d.mail.original_message}))
    fwd_by = "|".join(sorted({re.escape(w) for d in data for w in d.mail.forwarded_by}))
    intro = "|".join(sorted({re.escape(w) for d in data for w in d.mail.forward_intro}))
    offs = "|".join(sorted({re.escape(w) for d in data for w in d.mail.sign_offs}, key=len, reverse=True))
    return _Rules(
        # "On Tue, 14 Oct 2026 at 09:12, Karin <k@x.se> wrote:", "Am … schrieb Karin <…>:"
        wrote_header=re.compile(rf"^\s*(?:{on})\b.{{4,240}}?\b(?:{wrote})\b.{{0,160}}:\s*$", re.I | re.S),
        # Clients that leave out the "On …" part: "Karin Berg <k@x.se> skrev:"
        wrote_tail=re.compile(rf"^.{{0,160}}(?:@|\d).{{0,160}}\b(?:{wrote}):\s*$", re.I),
        outlook_field=re.compile(rf"^\s*\*?(?:{fields})\*?\s*:", re.I),
        separator=re.compile(rf"^\s*(?:-{{2,}}\s*(?:{orig})\s*-{{2,}}|_{{10,}}|-{{10,}}|-{{2,}}\s*(?:{fwd_by})\b.*|"
                             rf"(?:{intro})\s*:)\s*$", re.I),
        sign_off=re.compile(rf"^\s*(?:{offs})\b[\s,.!]*$", re.I),
        # Lotus Notes puts the quoted sender and a date-time above its To:/cc:/Subject: block, on one line
        # ("Anna <a@x.com> on 03/02/2001 04:43:06 PM") or two ("Anna Berg", "03/02/2001 04:43 PM").
        notes_line=re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{2,4}[\s,]+(?:\w+\s+)?\d{1,2}[:.]\d{2}|@|^\s*please respond to", re.I),
    )


def _quote_start(lines: list[str], rules: _Rules) -> tuple[int, int, str]:
    """Where a top-posted quote block starts, how many lines its header takes, and the header."""
    # Every rule needs a colon (the "wrote" ones at the very end of the header)
    # or, for separators, a leading "-" or "_": lines with neither are most
    # lines of a body and are passed over without running a regex.
    n = len(lines)
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        has_colon = ":" in stripped
        if not has_colon and stripped[0] not in "-_" and not (i + 1 < n and lines[i + 1].rstrip().endswith(":")):
            continue
        if rules.separator.match(stripped):
            return i, 1, stripped
        ends_colon = stripped.endswith(":")
        # Gmail wraps long "On … wrote:" headers over two lines.
        if ends_colon and rules.wrote_header.match(stripped.lstrip("> ")):
            return i, 1, stripped
        if i + 1 < n:
            following = lines[i + 1].strip()
            if following.endswith(":") or (ends_colon and not following):
                span = f"{stripped} {following}"
                if rules.wrote_header.match(span.lstrip("> ")):
                    return i, 2, span
        if ends_colon and rules.wrote_tail.match(stripped) and len(stripped) < 200:
            return i, 1, stripped
        if has_colon and rules.outlook_field.match(stripped):
            following_lines = [ln for ln in lines[i + 1 : i + 5] if ln.strip()]
            if sum(1 for ln in following_lines if rules.outlook_field.match(ln)) >= 2:
                start = _notes_header_start(lines, i, rules)
                return start, 0, _header_block(lines, start, rules)
    return n, 0, ""


def _notes_header_start(lines: list[str], i: int, rules: _Rules) -> int:
    """Where a header block found at line ``i`` really starts: Notes writes sender and date above its fields."""
    start, seen = i, 0
    for j in range(i - 1, max(-1, i - 8), -1):
        line = lines[j].strip()
        if not line:
            continue
        if seen >= 3 or len(line) > 200 or not rules.notes_line.search(line):
            break
        start, seen = j, seen + 1
    return start


def _header_block(lines: list[str], start: int, rules: _Rules) -> str:
    """The quoted header's lines, up to its subject or first blank line after the fields: who wrote the quote, and when."""
    out: list[str] = []
    for line in lines[start : start + 10]:
        stripped = line.strip()
        if not stripped:
            if any(rules.outlook_field.match(x) for x in out):
                break
            continue
        out.append(stripped)
    return " | ".join(out)


def _signature_start(lines: list[str], rules: _Rules) -> int:
    for i, line in enumerate(lines):
        if line.rstrip() in ("--", "-- "):
            return i
    # A sign-off near the end starts the signature; the sign-off itself is
    # kept with the new text since its wording tells the register.
    lower = max(0, len(lines) - 12)
    for i in range(len(lines) - 1, lower - 1, -1):
        if rules.sign_off.match(lines[i]):
            return i + 1
    return len(lines)


_MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@cache
def _date_patterns() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, int]]:
    number = {name: i + 1 for d in lang.all_languages() for i, names in enumerate(d.mail.months) for name in names}
    names = "|".join(sorted(map(re.escape, number), key=len, reverse=True))
    day_month = re.compile(rf"\b(\d{{1,2}})\.?\s+({names})\b\.?", re.I)
    month_day = re.compile(rf"\b({names})\.?\s+(\d{{1,2}})\b(?!:)", re.I)
    return day_month, month_day, number


def quoted_date(split: SplitText) -> str | None:
    """The day of the quoted message as "14 Oct", read off its reply header or Outlook block.

    >>> quoted_date(split_reply("Ja.\\n\\nDen tis 14 okt. 2026 kl 09:12 skrev Karin <k@x.se>:\\n> Hej"))
    '14 Oct'
    """
    day_month, month_day, number = _date_patterns()
    where = f"{split.quote_header}\n{split.quoted[:400]}"
    iso = re.search(r"\b20\d\d-(\d\d)-(\d\d)\b", where)
    found = [(int(m.group(1)), number[m.group(2).lower()], m.start()) for m in day_month.finditer(where)]
    found += [(int(m.group(2)), number[m.group(1).lower()], m.start()) for m in month_day.finditer(where)]
    if iso:
        found.append((int(iso.group(2)), int(iso.group(1)), iso.start()))
    found = [f for f in found if 1 <= f[0] <= 31 and 1 <= f[1] <= 12]
    if not found:
        return None
    day, month, _ = min(found, key=lambda f: f[2])
    return f"{day} {_MONTH_ABBR[month - 1]}"


def split_reply(text: str) -> SplitText:
    """Split ``text`` into new text, quoted text and signature.

    >>> s = split_reply("Thanks, see you!\\n\\nOn Mon, 3 Nov 2026, Karin <k@x.se> wrote:\\n> Hi")
    >>> s.new, s.quoted
    ('Thanks, see you!', 'Hi')
    """
    rules = _rules()
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    start, header_lines, header = _quote_start(lines, rules)
    head, tail = lines[:start], lines[start + header_lines :]
    own: list[str] = []
    quoted: list[str] = []
    if ">" not in text:  # most mail: no line to move or unquote
        own, quoted = head, tail
    else:
        for line in head:
            # Inline replies: ">" lines are the quote, the rest is new text.
            if line.lstrip().startswith(">"):
                quoted.append(line.lstrip().lstrip(">").lstrip(" >"))
            else:
                own.append(line)
        quoted += [ln.lstrip().lstrip(">").lstrip(" >") if ln.lstrip().startswith(">") else ln for ln in tail]
    sig_at = _signature_start(own, rules)
    new = "\n".join(own[:sig_at]).strip()
    signature = "\n".join(own[sig_at:]).strip().lstrip("-").strip()
    return SplitText(new=new, quoted="\n".join(quoted).strip(), signature=signature, quote_header=header)
