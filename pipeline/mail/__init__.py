"""Parsing: raw bytes to a :class:`Message` (headers, text and HTML bodies, quotes, signature, attachments' text),
within a budget per message; and reading mail from files, folders and mbox (:mod:`pipeline.mail.sources`).
"""

from pipeline import lazy_exports

_NAMES = {"Address": "message", "Message": "message", "parse_bytes": "message", "RawMail": "sources",
          "iter_mail": "sources", "check_paths": "sources", "split_reply": "quotes", "html_to_text": "html"}
__all__ = sorted(_NAMES)
__getattr__ = lazy_exports(__name__, _NAMES)
