"""The errors pitchsort raises on purpose, rooted at :class:`PipelineError`.

Each one carries a message fit to show a user on one line.
"""


class PipelineError(Exception):
    """Raised for any failure pitchsort can explain to its user."""


class MailParseError(PipelineError):
    """Raised when bytes cannot be read as a mail message at all."""


class SourceError(PipelineError):
    """Raised when a path given as mail input does not exist or holds no mail."""


class ModelError(PipelineError):
    """Raised when no trained model is found or the file cannot be loaded."""


class ModelVersionError(ModelError):
    """Raised when a saved model was made by other library versions."""


class CorpusError(PipelineError):
    """Raised when the labelled corpus cannot be read (no manifest, no folders)."""


class LanguageDataError(PipelineError):
    """Raised when a language data file under pipeline/lang is malformed."""


class ConfigError(PipelineError):
    """Raised when the TOML configuration is missing, malformed or inconsistent."""


class ImapError(PipelineError):
    """Raised when the IMAP server cannot be reached or refuses a command."""


class AuthError(ImapError):
    """Raised when the IMAP server rejects the credentials (never carries them)."""


class StateError(PipelineError):
    """Raised when the state database cannot be opened, locked or migrated."""


class ConfigProblems(ConfigError):
    """Raised when validation finds problems; ``problems`` lists every one, the message shows the first."""

    def __init__(self, message: str, problems: list[str]):
        super().__init__(message)
        self.problems = problems


class ImapConnectionLost(ImapError):
    """Raised when the connection to the IMAP server drops or times out; the run reconnects with back-off."""


class LockedError(StateError):
    """Raised when another pitchsort run holds the state lock: the overlapping run exits at once."""


class TemplateIndexError(StateError):
    """Raised when the template fingerprint index cannot be opened, or was built with other fingerprint settings."""

