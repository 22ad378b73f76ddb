"""Sinc-convolution raw-waveform front-ends: mel-spaced band-pass filters (Ravanelli and Bengio's SincNet
in the fixed form of RawNet2, Tak et al., ICASSP 2021, and AASIST, Jung et al., ICASSP 2022).

Each filter k passes [f_k, f_{k+1}] Hz, the edges f_0 = 0 < ... < f_K = 8 kHz equally spaced on the mel
scale (2595 log10(1 + f/700)); its taps h[n] = w[n] · (2 f_{k+1}/sr · sinc(2 f_{k+1} n/sr) − 2 f_k/sr ·
sinc(2 f_k n/sr)) for n = −(N−1)/2 ... (N−1)/2, w the Hamming window of N taps, sinc(x) = sin(πx)/(πx).
N is odd: an even kernel size is made odd by one more tap, as in both reference implementations.
"""
from __future__ import annotations

from typing import Annotated

import torch
from torch import nn
from torch.nn import functional as F

from conventions import SAMPLE_RATE, HyperParameter


def hz_to_mel(hz: torch.Tensor) -> torch.Tensor:
    """The mel scale of O'Shaughnessy: 2595 log10(1 + f/700), f in Hz."""
    return 2595.0 * torch.log10(1.0 + hz / 700.0)


def mel_to_hz(mel: torch.Tensor) -> torch.Tensor:
    """Inverse of hz_to_mel."""
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def mel_band_edges(n_filters: int, sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """n_filters + 1 band edges in Hz, float64, equally spaced in mel from 0 Hz to sample_rate / 2."""
    highest = hz_to_mel(torch.tensor(sample_rate / 2.0, dtype=torch.float64))
    return mel_to_hz(torch.linspace(0.0, 1.0, n_filters + 1, dtype=torch.float64) * highest)


def band_pass_filters(edges: torch.Tensor, n_taps: int, sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """Hamming-windowed ideal band-pass filters [K, n_taps] between consecutive `edges` [K + 1] (Hz).

    Differentiable in `edges`; `n_taps` is odd, the taps are centred on 0.
    """
    taps = torch.arange(n_taps, dtype=edges.dtype, device=edges.device) - (n_taps - 1) / 2
    normalized = 2.0 * edges.unsqueeze(1) / sample_rate  # [K + 1, 1], in units of the Nyquist frequency
    low_passes = normalized * torch.sinc(normalized * taps)  # [K + 1, n_taps]: ideal low-pass filters
    window = torch.hamming_window(n_taps, periodic=False, dtype=edges.dtype, device=edges.device)
    return window * (low_passes[1:] - low_passes[:-1])


class SincFrontEnd(nn.Module):
    """wave [B, T], lengths [B] -> (hidden [B, 1, T', K], frame_lengths [B]): the signed outputs of K
    band-pass filters of N taps at every sample where the filter lies wholly inside the utterance,
    T' = T − N + 1 (no padding, no stride), so padding never reaches a valid frame.

    Fixed filters (the published models) have no parameters. With `learnable_filters` the bandwidths
    are trained as log-scales of the mel bank's (w_k = w_k^mel · exp(θ_k), θ starting at 0, so weight
    decay pulls towards the published bank and Adam's steps are relative changes); the edges are
    their cumulative sums rescaled to end at the Nyquist frequency, so they stay ordered in
    [0, sample_rate / 2].
    """

    n_layers = 1
    pretrained = False
    cache_outputs = False  # K values per sample: caching costs K times the audio for one cheap convolution

    def __init__(self, n_filters: int, kernel_size: int, learnable_filters: bool) -> None:
        super().__init__()
        self.dim = n_filters
        self.n_taps = kernel_size + 1 - kernel_size % 2
        self.min_samples = self.n_taps  # one whole frame
        edges = mel_band_edges(n_filters)
        if learnable_filters:
            self.register_buffer("mel_widths", edges.diff().float(), persistent=False)
            self.log_width_scales = nn.Parameter(torch.zeros(n_filters))
        else:
            self.register_buffer("filters", band_pass_filters(edges, self.n_taps).float().unsqueeze(1), persistent=False)

    def current_filters(self) -> torch.Tensor:
        """The filters [K, 1, N] the convolution applies now."""
        if not hasattr(self, "log_width_scales"):
            return self.filters
        widths = self.mel_widths * self.log_width_scales.exp()
        edges = F.pad(widths.cumsum(0), (1, 0)) * (SAMPLE_RATE / 2 / widths.sum())
        return band_pass_filters(edges, self.n_taps).unsqueeze(1)

    def forward(self, wave: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if wave.shape[1] < self.n_taps:  # a batch of utterances shorter than one frame: no valid frame
            wave = F.pad(wave, (0, self.n_taps - wave.shape[1]))
        filtered = F.conv1d(wave.unsqueeze(1), self.current_filters().to(wave.dtype))  # [B, K, T']
        return filtered.transpose(1, 2).unsqueeze(1), (lengths - self.n_taps + 1).clamp(min=0)


LearnableFilters = Annotated[
    bool,
    HyperParameter("train the band edges of the sinc filters (SincNet) instead of keeping the fixed mel-spaced bank"),
]


class SincAASIST(SincFrontEnd):
    """AASIST's front-end (Jung et al. 2022): 70 fixed mel-spaced filters of 129 taps (first_conv 128)."""

    def __init__(self, learnable_filters: LearnableFilters = False) -> None:
        super().__init__(n_filters=70, kernel_size=128, learnable_filters=learnable_filters)


class SincRawNet2(SincFrontEnd):
    """RawNet2's front-end (Tak et al. 2021, the ASVspoof 2021 baseline): 20 fixed mel-spaced filters of
    1025 taps (first_conv 1024)."""

    def __init__(self, learnable_filters: LearnableFilters = False) -> None:
        super().__init__(n_filters=20, kernel_size=1024, learnable_filters=learnable_filters)
