"""Front-ends: waveform [B, T] -> layer stack [B, L, T', D]; registered in common.EXTRACTORS."""
