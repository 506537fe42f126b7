"""The nightly IMAP run: the config, a session that never loses a message, the state of what was done,
filing by folder or keyword, and learning from what people filed themselves.
"""

from pipeline import lazy_exports

_NAMES = {"Config": "config", "load": "config", "open_session": "session", "ImapSession": "session", "Store": "store",
          "run": "run", "Options": "run", "Summary": "run", "learn": "learn"}
__all__ = sorted(_NAMES)
__getattr__ = lazy_exports(__name__, _NAMES)
