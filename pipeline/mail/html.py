"""HTML bodies to plain text and the signals bulk senders leave in them.

Nothing is rendered or fetched: the markup is parsed (selectolax/lexbor) and
read, so a tracking pixel is counted, never loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

from selectolax.lexbor import LexborHTMLParser

_BLOCK_TAGS = ("p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote")
# One selector walks the tree once instead of once per tag; each "\n" goes right
# after its own element, so the order of the insertions does not change the text.
_BLOCK_SELECTOR = ", ".join(_BLOCK_TAGS)
_TRACKER_URL = re.compile(r"(?:open|track|pixel|beacon|/o/|/e/o|wf/open|/t\.gif|spacer)", re.I)
_BLANK_LINES = re.compile(r"\n[ \t\xa0]*\n(?:[ \t\xa0]*\n)+")
# Budgets against hostile markup: what makes a message a pitch or a reply is in its first pages, and marking quotes
# and blocks node by node costs time that grows faster than the nesting (a million nested <div> took minutes).
MAX_HTML_CHARS = 300_000
MAX_QUOTES = 100
MAX_BLOCKS = 5_000
# The parser itself slows with depth (60,000 unclosed <div> took 8 s): markup that leaves more elements open than
# any real mail is read with its tags stripped instead of parsed.
MAX_UNCLOSED = 3_000
_OPENING = re.compile(r"<(?!(?:br|img|meta|hr|input|link|wbr|area|col|base|source|p|li|td|tr|th|option)\b)[a-zA-Z]")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class HtmlSignals:
    links: int = 0
    images: int = 0
    tracking_pixels: int = 0
    has_blockquote: bool = False


def _is_pixel(attrs: dict[str, str | None]) -> bool:
    width, height = attrs.get("width") or "", attrs.get("height") or ""
    style = (attrs.get("style") or "").replace(" ", "").lower()
    tiny = width.strip("px ") in {"0", "1"} or height.strip("px ") in {"0", "1"}
    hidden = "display:none" in style or "width:1px" in style
    return tiny or hidden or bool(_TRACKER_URL.search(attrs.get("src") or ""))


def html_to_text(html: str) -> tuple[str, HtmlSignals]:
    """Return the readable text of ``html`` and its link/image signals.

    >>> html_to_text("<p>Hi <b>Anna</b></p><img src='x' width=1 height=1>")[0]
    'Hi Anna'
    """
    html = html[:MAX_HTML_CHARS]
    if len(_OPENING.findall(html)) - html.count("</") > MAX_UNCLOSED:
        return _BLANK_LINES.sub("\n\n", unescape(_TAG.sub("\n", html))).strip(), HtmlSignals()
    tree = LexborHTMLParser(html)
    images = tree.css("img")
    signals = HtmlSignals(
        links=sum(1 for a in tree.css("a") if a.attributes.get("href")),
        images=len(images),
        tracking_pixels=sum(1 for img in images if _is_pixel(img.attributes)),
        has_blockquote=bool(tree.css_first("blockquote")),
    )
    for node in tree.css("script, style, head, title"):
        node.decompose()
    # Quoted HTML replies keep their quote marks so the quote splitter sees them (real replies nest a few deep).
    quotes = tree.css("blockquote")
    for quote in quotes if len(quotes) <= MAX_QUOTES else ():
        text = quote.text(separator="\n")
        quoted = "\n".join("> " + line for line in text.splitlines() if line.strip())
        quote.replace_with("\n" + quoted + "\n")
    blocks = tree.css(_BLOCK_SELECTOR)
    few = len(blocks) <= MAX_BLOCKS
    for node in blocks if few else ():
        node.insert_after("\n")
    body = tree.body or tree.root
    # Past the budget, lexbor puts a line break between all text nodes itself, in C.
    text = body.text(separator="" if few else "\n") if body is not None else ""
    text = "\n".join(line.strip() for line in text.replace("\r", "").splitlines())
    return _BLANK_LINES.sub("\n\n", text).strip(), signals
