"""Self-supervised speech models (WavLM, wav2vec 2.0, XLS-R, HuBERT) through Hugging Face transformers.

One wrapper, `SSLExtractor`, returns every hidden state of the model; one registered subclass per
model name fixes the Hugging Face model id. Weights come from `--extractor_path` (a folder written
by `save_pretrained`) or from the Hugging Face cache; nothing is ever downloaded at run time.
"""
from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import torch
from huggingface_hub.constants import HF_HUB_CACHE
from torch import nn

from conventions import UsageError
from masking import frame_mask

if TYPE_CHECKING:
    import transformers

# name -> (Hugging Face model id, transformers model_type); the names are ca-mhfa's
SSL_MODELS = {
    "WavLM_base": ("microsoft/wavlm-base", "wavlm"),
    "WavLM_base_plus": ("microsoft/wavlm-base-plus", "wavlm"),
    "WavLM_large": ("microsoft/wavlm-large", "wavlm"),
    "Wav2Vec2_base": ("facebook/wav2vec2-base", "wav2vec2"),
    "Wav2Vec2_large": ("facebook/wav2vec2-large", "wav2vec2"),
    "Wav2Vec2_LV60k": ("facebook/wav2vec2-large-lv60", "wav2vec2"),
    "XLSR_300M": ("facebook/wav2vec2-xls-r-300m", "wav2vec2"),
    "XLSR_1B": ("facebook/wav2vec2-xls-r-1b", "wav2vec2"),
    "XLSR_2B": ("facebook/wav2vec2-xls-r-2b", "wav2vec2"),
    "HuBERT_base": ("facebook/hubert-base-ls960", "hubert"),
    "HuBERT_large": ("facebook/hubert-large-ll60k", "hubert"),
    "HuBERT_extralarge": ("facebook/hubert-xlarge-ll60k", "hubert"),
}
NORMALISATION_EPS = 1e-7  # as transformers' Wav2Vec2FeatureExtractor.zero_mean_unit_var_norm


def first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


class SSLExtractor(nn.Module):
    """Every hidden state of a pretrained SSL model: wave [B, T] -> ([B, L + 1, T', D], frame_lengths [B]).

    Layer 0 is the input of the first transformer layer (the CNN features after the feature
    projection and the convolutional position embedding); layer i is transformer layer i's output;
    the stack equals transformers' `hidden_states`. T' follows the CNN's arithmetic (20 ms hop),
    and only frames wholly inside an utterance are valid; the others are zeroed.

    Input as the model's feature extractor prepares it: per-utterance zero-mean unit-variance
    normalisation over the valid samples when its `do_normalize` is set, and an attention mask when
    its `return_attention_mask` is set (both read from the preprocessor_config.json beside the
    weights; without one, both follow `feat_extract_norm == "layer"`, the rule of the published
    checkpoints). In the models whose CNN's first layer has group normalisation over time (the base
    models), which would normalise over the padding too, that normalisation takes each utterance's
    own frames only (the same weights, `masked_group_norm`), and the transformer gets an attention
    mask: the batch runs at once and every output is independent of the batch.

    Frozen by default: eval mode whatever `train()` asks, no gradients, no activations kept.
    With `finetune` the model trains with the rest (its dropout active); the configuration's
    SpecAugment-style masking and layer drop are switched off in both cases (a dropped layer
    would be missing from the stack).
    """

    pretrained = True
    cache_outputs = True  # a frozen extractor's outputs are kept (training/feature_cache.py)
    model_id: str
    model_type: str

    def __init__(self, path: str | None = None, finetune: bool = False) -> None:
        super().__init__()
        self.finetune = finetune
        self.model = self.load(path)
        self.model.config.apply_spec_augment = False
        self.model.config.layerdrop = 0.0  # a dropped layer would be missing from the stack
        self.model.requires_grad_(finetune)
        if getattr(self.model, "masked_spec_embed", None) is not None:
            self.model.masked_spec_embed.requires_grad_(False)  # used only by the masking switched off here
        self.normalize, self.use_attention_mask = self.input_preparation(path)
        config = self.model.config
        # a group-normalised CNN normalises over the whole time axis, padding included: there the
        # normalisation takes each utterance's own frames, and the transformer an attention mask,
        # so that an output never depends on the rest of the batch
        self.group_norm = config.feat_extract_norm == "group"
        self.n_layers = config.num_hidden_layers + 1
        self.dim = config.hidden_size
        self.convolutions = list(zip(config.conv_kernel, config.conv_stride))
        self.receptive_field = 1 + sum(
            (kernel - 1) * math.prod(stride for _, stride in self.convolutions[:index])
            for index, (kernel, _) in enumerate(self.convolutions)
        )
        self.min_samples = self.receptive_field  # one whole frame
        self.train(False)

    @classmethod
    def load(cls, path: str | None) -> transformers.PreTrainedModel:
        """The model from `path` or the Hugging Face cache, never from the network; UsageError when absent."""
        import transformers  # here, not at the top: it adds a second to every start of the CLI

        name = cls.__name__
        if path is not None and not (Path(path) / "config.json").is_file():
            raise UsageError(
                f"--extractor_path {path} holds no config.json; give a folder written by save_pretrained "
                f"(for example the snapshot of {cls.model_id} in the Hugging Face cache)"
            )
        try:
            with quiet_transformers():
                model = transformers.AutoModel.from_pretrained(path or cls.model_id, local_files_only=True)
        except Exception as error:  # noqa: BLE001  (OSError, ValueError, SafetensorError, unpickling errors, ...)
            if path is not None:
                raise UsageError(f"--extractor {name} --extractor_path {path}: cannot load the model ({first_line(error)})") from None
            raise UsageError(
                f"--extractor {name}: the weights of {cls.model_id} are not in the Hugging Face cache ({HF_HUB_CACHE}) "
                f"and nothing is downloaded at run time; fetch them once with `hf download {cls.model_id}` "
                "(or huggingface-cli download), or pass --extractor_path DIR (a folder written by save_pretrained)"
            ) from None
        if model.config.model_type != cls.model_type:
            raise UsageError(
                f"--extractor {name} expects a {cls.model_type} model, but {path or cls.model_id} holds a "
                f"{model.config.model_type} model; choose the matching --extractor"
            )
        return model

    def input_preparation(self, path: str | None) -> tuple[bool, bool]:
        """(do_normalize, return_attention_mask) of the model's feature extractor."""
        import transformers

        try:
            with quiet_transformers():
                feature_extractor = transformers.AutoFeatureExtractor.from_pretrained(
                    path or self.model_id, local_files_only=True
                )
            return bool(feature_extractor.do_normalize), bool(feature_extractor.return_attention_mask)
        except (OSError, ValueError, AttributeError):
            layer_norm = self.model.config.feat_extract_norm == "layer"
            return layer_norm, layer_norm

    def train(self, mode: bool = True) -> SSLExtractor:
        super().train(mode and self.finetune)
        return self

    def frame_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        """Frames wholly inside utterances of `lengths` samples, by the CNN's arithmetic."""
        for kernel, stride in self.convolutions:
            lengths = torch.div(lengths - kernel, stride, rounding_mode="floor").add(1).clamp(min=0)
        return lengths

    def prepare(self, wave: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Zero padding; with `normalize`, zero mean and unit variance over each utterance's valid samples."""
        wave = torch.where(valid, wave, 0.0)
        if not self.normalize:
            return wave
        count = valid.sum(dim=1, keepdim=True).clamp(min=1)
        mean = wave.sum(dim=1, keepdim=True) / count
        variance = torch.where(valid, wave - mean, 0.0).square().sum(dim=1, keepdim=True) / count
        return torch.where(valid, (wave - mean) / torch.sqrt(variance + NORMALISATION_EPS), 0.0)

    def forward(self, wave: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if wave.shape[1] < self.receptive_field:
            wave = nn.functional.pad(wave, (0, self.receptive_field - wave.shape[1]))
        valid = frame_mask(lengths, wave.shape[1])
        cnn = self.model.feature_extractor
        if self.group_norm:
            norm = cnn.conv_layers[0].layer_norm
            kernel, stride = self.convolutions[0]
            frames = torch.div(lengths - kernel, stride, rounding_mode="floor").add(1).clamp(min=1)
            norm.forward = lambda x: masked_group_norm(x, frames, norm)
        try:
            with torch.set_grad_enabled(self.finetune and torch.is_grad_enabled()):
                output = self.model(
                    self.prepare(wave, valid),
                    attention_mask=valid.long() if self.use_attention_mask or self.group_norm else None,
                    output_hidden_states=True,
                )
        finally:
            cnn.conv_layers[0].layer_norm.__dict__.pop("forward", None)
        hidden = torch.stack(output.hidden_states, dim=1)
        frame_lengths = self.frame_lengths(lengths)
        inside = frame_mask(frame_lengths, hidden.shape[2])[:, None, :, None]
        return torch.where(inside, hidden, 0.0), frame_lengths


def masked_group_norm(x: torch.Tensor, frames: torch.Tensor, norm: nn.GroupNorm) -> torch.Tensor:
    """`norm` (a GroupNorm over channels and time) of x [B, C, T] with each row's statistics taken
    over its first `frames` [B] frames only, as if it ran on that row alone, unpadded; in float32,
    as autocast runs a group norm (the sums of squares would overflow in float16)."""
    x = x.float()
    batch, channels, length = x.shape
    grouped = x.reshape(batch, norm.num_groups, channels // norm.num_groups, length)
    valid = (torch.arange(length, device=x.device) < frames.unsqueeze(1))[:, None, None, :]
    count = (frames * (channels // norm.num_groups)).to(x.dtype)[:, None, None, None]
    mean = torch.where(valid, grouped, 0.0).sum(dim=(2, 3), keepdim=True) / count
    variance = torch.where(valid, grouped - mean, 0.0).square().sum(dim=(2, 3), keepdim=True) / count
    normalised = ((grouped - mean) / torch.sqrt(variance + norm.eps)).reshape(batch, channels, length)
    return normalised * norm.weight[:, None] + norm.bias[:, None] if norm.affine else normalised


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silences transformers' loading messages and progress bars inside a `with` block."""
    import transformers

    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    try:
        yield
    finally:
        transformers.logging.set_verbosity(verbosity)
        transformers.logging.enable_progress_bar()


def ssl_extractor(name: str, model_id: str, model_type: str) -> type[SSLExtractor]:
    """The registered extractor class `name` for the Hugging Face model `model_id`."""
    return type(name, (SSLExtractor,), {"model_id": model_id, "model_type": model_type, "__doc__": f"Every layer of {model_id}."})


SSL_EXTRACTORS = {name: ssl_extractor(name, model_id, model_type) for name, (model_id, model_type) in SSL_MODELS.items()}
