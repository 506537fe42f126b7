"""The labelled corpus on disk: ``data/labeled/`` and its manifest, the checks ``pitchsort data check`` runs,
and the digests of messages reserved for evaluation, which no training set may hold.
"""

from pipeline import lazy_exports

_NAMES = {"read_manifest": "labelled", "iter_corpus": "labelled", "check": "check", "digests": "reserved"}
__all__ = sorted(_NAMES)
__getattr__ = lazy_exports(__name__, _NAMES)
