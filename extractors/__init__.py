"""Front-ends: waveform [B, T] -> layer stack [B, L, T', D]; registered in common.EXTRACTORS."""
import common  # noqa: F401  (defines the constants that extractor modules import)
