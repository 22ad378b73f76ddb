"""Heads: pooled vector [B, E] -> logits, or (logits, embedding); registered in common.CLASSIFIERS."""
import common  # noqa: F401  (defines the constants that classifier modules import)
