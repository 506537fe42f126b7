"""The model: one scikit-learn pipeline trained, scored on real mail and saved as a whole (with its report), and
classification of a stream of mail into rows with reasons, in one process or several.
"""

from pipeline import lazy_exports

_NAMES = {"Classifier": "classifier", "Prediction": "classifier", "train": "classifier", "make_pipeline": "classifier",
          "classify_stream": "classify", "classify_batch": "batch", "Row": "batch", "Failure": "batch"}
__all__ = sorted(_NAMES)
__getattr__ = lazy_exports(__name__, _NAMES)
