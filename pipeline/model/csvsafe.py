"""CSV cells a spreadsheet cannot run: mail is hostile, and recruiters open these files in Excel or LibreOffice.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a formula by
spreadsheet tools (CSV injection); prefixing it with an apostrophe makes it text, as OWASP advises and as
the tools themselves do when a user types such text.
"""

from __future__ import annotations

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: str) -> str:
    """``value`` as text a spreadsheet shows and never evaluates.

    >>> cell("=HYPERLINK(\\"http://x\\")"), cell("Re: offer")
    ('\\'=HYPERLINK("http://x")', 'Re: offer')
    """
    return "'" + value if value.startswith(_FORMULA_START) else value


def row(values: list[str]) -> list[str]:
    return [cell(v) for v in values]
