"""Spectral front-ends (LFCC, MFCC, log power spectrogram) on one shared 20 ms / 10 ms framing."""
from __future__ import annotations

import torch
import torchaudio
from torch import nn

from conventions import SAMPLE_RATE

N_FFT = 512
WIN_LENGTH = 320  # 20 ms
HOP_LENGTH = 160  # 10 ms
PRE_EMPHASIS = 0.97
LOG_FLOOR = 1e-6
FRAMING = {"n_fft": N_FFT, "win_length": WIN_LENGTH, "hop_length": HOP_LENGTH, "center": False}


def valid_frames(lengths: torch.Tensor) -> torch.Tensor:
    """Frames lying wholly inside utterances of `lengths` samples: frame t covers [HOP·t, HOP·t + N_FFT)."""
    return torch.div(lengths - N_FFT, HOP_LENGTH, rounding_mode="floor").add(1).clamp(min=0)


def deltas(features: torch.Tensor, frame_lengths: torch.Tensor, width: int = 2) -> torch.Tensor:
    """Regression deltas over ±`width` frames of `features [B, T', D]`.

    Each utterance repeats its own first and last valid frame beyond its edges (torchaudio's
    compute_deltas on the unpadded utterance), so padding frames never enter a valid delta.
    """
    frames = torch.arange(features.shape[1], device=features.device)
    last = (frame_lengths - 1).clamp(min=0).unsqueeze(1)
    dim = features.shape[2]
    total = torch.zeros_like(features)
    for step in range(1, width + 1):
        ahead = torch.minimum(frames + step, last)
        behind = torch.minimum((frames - step).clamp(min=0), last)
        total += step * (
            features.gather(1, ahead.unsqueeze(2).expand(-1, -1, dim))
            - features.gather(1, behind.unsqueeze(2).expand(-1, -1, dim))
        )
    return total / (2 * sum(step**2 for step in range(1, width + 1)))


class SpectralExtractor(nn.Module):
    """Pre-emphasis (0.97), then `frame_transform` features per frame, optionally with Δ and ΔΔ.

    `forward(wave [B, T], lengths [B]) -> (hidden [B, 1, T', D], frame_lengths [B])`.
    Only frames wholly inside an utterance are valid, so padding never changes a valid frame.
    """

    n_layers = 1
    pretrained = False
    min_samples = N_FFT  # one whole frame
    cache_outputs = True  # a frozen extractor's outputs are kept (training/feature_cache.py)

    def __init__(self, frame_transform: nn.Module, n_features: int, with_deltas: bool) -> None:
        super().__init__()
        self.frame_transform = frame_transform
        self.with_deltas = with_deltas
        self.dim = n_features * (3 if with_deltas else 1)

    def forward(self, wave: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if wave.shape[1] < N_FFT:  # a batch of utterances shorter than one frame: no valid frame
            wave = nn.functional.pad(wave, (0, N_FFT - wave.shape[1]))
        frame_lengths = valid_frames(lengths)
        features = self.frame_transform(torchaudio.functional.preemphasis(wave, PRE_EMPHASIS)).transpose(1, 2)
        if self.with_deltas:
            first = deltas(features, frame_lengths)
            features = torch.cat([features, first, deltas(first, frame_lengths)], dim=2)
        return features.unsqueeze(1), frame_lengths


class LogPowerSpectrogram(nn.Module):
    """Natural log of the power spectrogram, [B, T] -> [B, N_FFT // 2 + 1, T']."""

    def __init__(self) -> None:
        super().__init__()
        self.spectrogram = torchaudio.transforms.Spectrogram(**FRAMING, power=2.0)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return torch.log(self.spectrogram(wave) + LOG_FLOOR)


class LFCC(SpectralExtractor):
    """ASVspoof baseline LFCC: 20 linear-frequency filters, log, DCT to 20 cepstra, + Δ + ΔΔ (D = 60)."""

    def __init__(self) -> None:
        lfcc = torchaudio.transforms.LFCC(
            sample_rate=SAMPLE_RATE, n_filter=20, n_lfcc=20, log_lf=True, speckwargs=FRAMING
        )
        super().__init__(lfcc, n_features=20, with_deltas=True)


class MFCC(SpectralExtractor):
    """20 MFCCs from 40 mel filters, log, DCT, + Δ + ΔΔ (D = 60)."""

    def __init__(self) -> None:
        mfcc = torchaudio.transforms.MFCC(
            sample_rate=SAMPLE_RATE, n_mfcc=20, log_mels=True, melkwargs={**FRAMING, "n_mels": 40}
        )
        super().__init__(mfcc, n_features=20, with_deltas=True)


class LogSpec(SpectralExtractor):
    """Log power spectrogram, 257 bins up to 8 kHz (D = 257)."""

    def __init__(self) -> None:
        super().__init__(LogPowerSpectrogram(), n_features=N_FFT // 2 + 1, with_deltas=False)
