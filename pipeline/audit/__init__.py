"""The audit of a recruiter's own Sent mail: how templated it is, where names and merge fields slipped,
which mails got answers; from files or an IMAP Sent folder, as a CSV and an HTML report.
"""

from pipeline import lazy_exports

_NAMES = {"audit": "sent", "AuditResult": "sent", "read_mail": "sent", "render": "report", "conversations": "threads"}
__all__ = sorted(_NAMES)
__getattr__ = lazy_exports(__name__, _NAMES)
