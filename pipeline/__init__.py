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


def lazy_exports(package: str, names: dict[str, str]):  # noqa: ANN201 - returns a module __getattr__
    """A module ``__getattr__`` for a stage's ``__init__``: its public names, each imported from its module when first used.

    Importing a stage for one small module (``pipeline.imap.config``) must not load the model and scikit-learn.
    """
    from importlib import import_module

    def __getattr__(name: str) -> object:
        if name in names:
            return getattr(import_module(f"{package}.{names[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
