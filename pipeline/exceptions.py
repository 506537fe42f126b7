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
