"""Heads: pooled vector [B, E] -> logits, or (logits, embedding); registered in common.CLASSIFIERS."""
