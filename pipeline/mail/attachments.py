"""Text out of PDF and DOCX attachments, within size and time limits.

A CV arrives as a PDF or DOCX far more often than as text. Reading it tells an
unsolicited CV from a brochure, but a hostile or huge file must not stall a
nightly run: files over ``MAX_BYTES`` are not opened, only the first pages are
read, and the text is cut at ``MAX_CHARS``.
"""

from __future__ import annotations

import html
import io
import logging
import re
import zipfile

from pipeline.mail import budget

log = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
MAX_PAGES = 4
MAX_CHARS = 6000
# DOCX bombs: a small zip that inflates to gigabytes.
MAX_XML_BYTES = 20 * 1024 * 1024

PDF_TYPES = {"application/pdf", "application/x-pdf"}
DOCX_TYPES = {"application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def kind_of(filename: str, content_type: str) -> str:
    """``pdf``, ``docx``, ``doc``, ``image`` or ``other``, by type and name."""
    name = filename.lower()
    if content_type in PDF_TYPES or name.endswith(".pdf"):
        return "pdf"
    if content_type in DOCX_TYPES or name.endswith(".docx"):
        return "docx"
    if name.endswith((".doc", ".odt", ".rtf")) or content_type == "application/msword":
        return "doc"
    if content_type.startswith("image/"):
        return "image"
    return "other"


def _pdf_text(data: bytes) -> str:
    # pdfium (C++) reads a CV page in about a millisecond, pypdf in several.
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        parts = []
        for i in range(min(len(doc), MAX_PAGES)):
            page = doc[i]
            textpage = page.get_textpage()
            parts.append(textpage.get_text_range())
            textpage.close()
            page.close()
            if sum(map(len, parts)) > MAX_CHARS:
                break
    finally:
        doc.close()
    return "\n".join(parts).replace("\r\n", "\n").replace("\r", "\n")


_DOCX_TEXT = re.compile(rb"<w:t(?:\s[^>]*)?>([^<]*)</w:t>|<w:tab/>|</w:p>")


def _docx_text(data: bytes) -> str:
    # The body text is the <w:t> runs of word/document.xml; reading them with a
    # regex is twenty times faster than building python-docx's object tree.
    with zipfile.ZipFile(io.BytesIO(data)) as zf, zf.open("word/document.xml") as fh:
        # Inflated up to the cap whatever size the zip declares: a bomb says it is small.
        xml = fh.read(MAX_XML_BYTES)
    out: list[str] = []
    size = 0
    for m in _DOCX_TEXT.finditer(xml):
        piece = html.unescape(m.group(1).decode("utf-8", "replace")) if m.group(1) is not None else (
            "\t" if m.group(0) == b"<w:tab/>" else "\n")
        out.append(piece)
        size += len(piece)
        if size > MAX_CHARS:
            break
    return "".join(out)


def extract_text(data: bytes, kind: str) -> str:
    """The text of a PDF or DOCX attachment, or ``""`` when it cannot be read within its budget.

    Never raises: a broken attachment is a fact about the mail, not an error. PDFs are read by pdfium, C++
    that no alarm interrupts, so in a child process with its own time and memory limits.
    """
    if kind not in ("pdf", "docx") or len(data) > MAX_BYTES:
        return ""
    try:
        text = budget.in_child(_pdf_text, data) if kind == "pdf" else _docx_text(data)
    except budget.OverBudget as exc:
        log.info("%s attachment not read: %s", kind, exc)
        return ""
    except Exception as exc:  # noqa: BLE001 - pdfium and zipfile raise many types on bad files
        log.debug("attachment unreadable as %s: %s", kind, exc)
        return ""
    return text[:MAX_CHARS]
