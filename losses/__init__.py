"""Losses, one per file, each a losses.base.BaseLoss that trains and scores; registered in common.LOSSES."""
