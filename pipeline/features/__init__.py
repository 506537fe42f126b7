"""Features: language, spaCy rule matches, greetings and merge slips, template families, and the
scikit-learn transformers that turn a parsed message into the model's input.
"""

from pipeline import lazy_exports

_NAMES = {"MailAnalyzer": "analyzer", "AnalyzedMail": "analyzer", "Arrival": "analyzer", "build_features": "analyzer",
          "identify": "langid", "TemplateIndex": "fingerprint", "TemplateMatch": "fingerprint", "fingerprint": "fingerprint",
          "index_key": "fingerprint", "greeting": "mailmerge", "name_parts": "mailmerge"}
__all__ = sorted(_NAMES)
__getattr__ = lazy_exports(__name__, _NAMES)
