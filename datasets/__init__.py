"""Corpora as datasets of utterance dicts; registered in common.DATASETS."""
import common  # noqa: F401  (defines the constants that dataset modules import)
