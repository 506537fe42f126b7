"""pitchsort: sort the recruiting mail that floods HR and recruiter inboxes."""

__version__ = "0.2.0"

LABELS: tuple[str, ...] = (
    "cold_pitch",
    "personalized_outreach",
    "unsolicited_cv",
    "genuine_reply",
    "other",
)
UNCERTAIN = "uncertain"
# Labels whose mail is reported but never moved or copied: `other` is not outreach, `uncertain` is not decided.
NEVER_MOVED: tuple[str, ...] = ("other", UNCERTAIN)
