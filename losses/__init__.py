"""Losses, one per file, each a losses.base.BaseLoss that trains and scores; registered in common.LOSSES."""
import common  # noqa: F401  (defines the constants that loss modules import)
