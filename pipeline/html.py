"""HTML bodies to plain text and the signals bulk senders leave in them.

Nothing is rendered or fetched: the markup is parsed (selectolax/lexbor) and
read, so a tracking pixel is counted, never loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser

_BLOCK_TAGS = ("p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote")
# One selector walks the tree once instead of once per tag; each "\n" goes right
# after its own element, so the order of the insertions does not change the text.
_BLOCK_SELECTOR = ", ".join(_BLOCK_TAGS)
_TRACKER_URL = re.compile(r"(?:open|track|pixel|beacon|/o/|/e/o|wf/open|/t\.gif|spacer)", re.I)
_BLANK_LINES = re.compile(r"\n[ \t\xa0]*\n(?:[ \t\xa0]*\n)+")


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
    # Quoted HTML replies keep their quote marks so the quote splitter sees them.
    for quote in tree.css("blockquote"):
        text = quote.text(separator="\n")
        quoted = "\n".join("> " + line for line in text.splitlines() if line.strip())
        quote.replace_with("\n" + quoted + "\n")
    for node in tree.css(_BLOCK_SELECTOR):
        node.insert_after("\n")
    body = tree.body or tree.root
    text = body.text(separator="") if body is not None else ""
    text = "\n".join(line.strip() for line in text.replace("\r", "").splitlines())
    return _BLANK_LINES.sub("\n\n", text).strip(), signals
