"""A narrowband telephone channel simulation: 8 kHz, 300-3400 Hz, G.711 mu-law or A-law."""
from __future__ import annotations

from typing import Annotated

import numpy as np
from scipy import signal

from augmentation._wave import as_output, as_wave
from augmentation.mulaw import a_law_round_trip, mu_law_round_trip
from conventions import SAMPLE_RATE, HyperParameter, UsageError

TELEPHONE_RATE = 8000  # Hz
BAND_HZ = (300.0, 3400.0)  # the telephone band
# Elliptic band-pass at 8 kHz, used at the sending and at the receiving end: 0.5 dB ripple in
# 300-3400 Hz, at least 50 dB down outside about 210-3450 Hz per pass.
BAND_PASS = signal.ellip(6, 0.5, 50, BAND_HZ, btype="bandpass", fs=TELEPHONE_RATE, output="sos")
LAWS = {"mu-law": mu_law_round_trip, "a-law": a_law_round_trip}


class TelephoneCodec:
    """wave [T] -> wave [T] as heard through a simulated narrowband telephone channel.

    A simulation that needs no external codec binaries (torchaudio's real codecs need FFmpeg):
    resampling to 8 kHz, a causal 300-3400 Hz elliptic band-pass (the sending end's channel
    filter), 8-bit G.711-style companding (mu-law or A-law, continuous curves; `codec_law` "random"
    draws one per item with equal probability), the same band-pass again (the receiving end), and
    resampling back to 16 kHz. Samples beyond [-1, 1] are clipped by the companding, as a codec would.
    """

    def __init__(
        self,
        codec_law: Annotated[
            str, HyperParameter("telephone codec simulation: G.711 companding law, or random per item", choices=("random", *LAWS))
        ] = "random",
    ) -> None:
        if codec_law != "random" and codec_law not in LAWS:
            raise UsageError(f"--codec_law {codec_law} is not one of random, {', '.join(LAWS)}")
        self.codec_law = codec_law

    def __call__(self, wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        wave = as_wave(wave)
        law = self.codec_law if self.codec_law != "random" else ("mu-law", "a-law")[int(rng.integers(2))]
        if wave.size == 0:
            return as_output(wave)
        ratio = SAMPLE_RATE // TELEPHONE_RATE
        narrowband = signal.resample_poly(wave, 1, ratio)
        narrowband = signal.sosfilt(BAND_PASS, narrowband)
        narrowband = LAWS[law](narrowband)
        narrowband = signal.sosfilt(BAND_PASS, narrowband)
        return as_output(signal.resample_poly(narrowband, ratio, 1)[: len(wave)])

    def __repr__(self) -> str:
        return f"TelephoneCodec(codec_law={self.codec_law!r})"
