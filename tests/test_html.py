"""HTML to text: the one-pass block-tag handling gives the text the per-tag passes gave."""

from __future__ import annotations

import random

import pytest
from selectolax.lexbor import LexborHTMLParser

from pipeline.mail.html import _BLANK_LINES, _BLOCK_TAGS, html_to_text

TAGS = ["p", "div", "br", "tr", "td", "li", "ul", "h1", "h6", "table", "blockquote", "span", "b", "a", "img", "script", "title"]


def _per_tag_text(html: str) -> str:
    """The block-tag step of html_to_text as it was: one css() pass per tag."""
    tree = LexborHTMLParser(html)
    for node in tree.css("script, style, head, title"):
        node.decompose()
    for quote in tree.css("blockquote"):
        text = quote.text(separator="\n")
        quote.replace_with("\n" + "\n".join("> " + line for line in text.splitlines() if line.strip()) + "\n")
    for tag in _BLOCK_TAGS:
        for node in tree.css(tag):
            node.insert_after("\n")
    body = tree.body or tree.root
    text = body.text(separator="") if body is not None else ""
    return _BLANK_LINES.sub("\n\n", "\n".join(ln.strip() for ln in text.replace("\r", "").splitlines())).strip()


def _random_html(rng: random.Random, depth: int = 0) -> str:
    out = []
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.4 or depth > 4:
            out.append(rng.choice(["Hej", " Karin ", "\n", "a&amp;b", "x\r\ny", "\xa0", "> q"]))
            continue
        tag = rng.choice(TAGS)
        if tag in ("br", "img"):
            out.append(f"<{tag}>")
        else:  # one in ten left unclosed, as in real mail
            out.append(f"<{tag}>{_random_html(rng, depth + 1)}" + ("" if rng.random() < 0.1 else f"</{tag}>"))
    return "".join(out)


def test_one_pass_block_tags_match_per_tag_passes() -> None:
    rng = random.Random(5)
    for _ in range(3000):
        html = _random_html(rng)
        assert html_to_text(html)[0] == _per_tag_text(html), html


def test_block_tags_end_lines() -> None:
    # The line break goes after each block element, not before it.
    assert html_to_text("<div>a<p>b</p>c</div><ul><li>d</li><li>e</li></ul>x<br>y")[0] == "ab\nc\nd\ne\nx\ny"


@pytest.mark.parametrize("tag", ["div", "blockquote", "span"])
def test_hostile_nesting_is_read_in_bounded_work(tag: str) -> None:
    # A million unclosed elements once held a nightly run for six minutes; the text before them still counts.
    text, _ = html_to_text("<p>Book a demo today</p>" + f"<{tag}>" * 1_000_000 + "tail")
    assert text.startswith("Book a demo today")


def test_many_real_quotes_and_blocks_keep_their_text() -> None:
    text, _ = html_to_text("<p>Hi</p>" * 6000 + "<blockquote>old words</blockquote>")
    assert "Hi" in text and "old words" in text
