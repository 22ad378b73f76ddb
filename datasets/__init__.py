"""Corpora as datasets of utterance dicts; registered in common.DATASETS."""
