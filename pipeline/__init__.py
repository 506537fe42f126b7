"""pitchsort: sort the recruiting mail that floods HR and recruiter inboxes."""

__version__ = "0.2.0"

LABELS: tuple[str, ...] = (
    "cold_pitch",
    "personalized_outreach",
    "unsolicited_cv",
    "genuine_reply",
)
UNCERTAIN = "uncertain"
