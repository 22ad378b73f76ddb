"""Parameters and training speed of the reference models at their published input (4 s at 16 kHz),
against the LFCC-Mean-FF baseline measured in the same run.

Run: .venv/bin/python benchmarks/models.py [--device cpu|cuda] [--batch_size 8] [--repeats 3]
     [--threads N] [--models AASIST,RawNet2,...]

Each model is built from REFERENCE_MODELS (every setting at its default) and timed on batches of
4 s utterances (64,600 samples) in training mode: extractor, processor, classifier, cross-entropy,
backward (median of --repeats after a warm-up), in milliseconds per utterance, with its ratio to
LFCC -> Mean -> FF. The SSL back-ends are timed on a random XLS-R 300M layer stack (25 x 201 x 1024,
the back-end alone: no SSL weights here; the SSL model's own cost comes on top). Also printed: the
SSL form of AASIST on LFCC, and the two measures that sped up AASIST on the CPU, each against what
it replaced in the same run: SELU through exp against torch.selu, and the raw encoder's
channels-last convolutions against contiguous ones.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # scripts run from benchmarks/

from benchmarks.timing import timed  # noqa: E402
from common import CLASSIFIERS, EXTRACTORS, PROCESSORS, REFERENCE_MODELS, ReferenceModel  # noqa: E402
from conventions import N_CLASSES  # noqa: E402
from processors.selu import selu  # noqa: E402

SAMPLES = 64_600  # 4.0375 s, the published input of AASIST, RawNet2 and the SSL back-ends
BASELINE = ReferenceModel("LFCC", "Mean", "FF", "", "")
LFCC_AASIST = ReferenceModel("LFCC", "AASIST", "Linear", "", "")


def training_step(model: ReferenceModel, batch_size: int, device: torch.device) -> tuple[Callable[[], object], int, nn.Module]:
    """A forward + backward step of `model` on a batch of 4 s utterances (a layer stack for SSL
    back-ends), the number of parameters timed, and the processor."""
    if model.stack is None:
        extractor = EXTRACTORS[model.extractor]().to(device)
        n_layers, dim = extractor.n_layers, extractor.dim
        inputs = (torch.randn(batch_size, SAMPLES, device=device), torch.full((batch_size,), SAMPLES, device=device))
    else:
        extractor = None
        n_layers, dim = model.stack
        frames = (SAMPLES - 400) // 320 + 1  # the wav2vec 2.0 CNN: 25 ms receptive field, 20 ms hop
        inputs = (torch.randn(batch_size, n_layers, frames, dim, device=device), torch.full((batch_size,), frames, device=device))
    processor = PROCESSORS[model.processor](n_layers=n_layers, dim=dim).to(device).train()
    classifier = CLASSIFIERS[model.classifier](in_dim=processor.out_dim, n_classes=N_CLASSES).to(device).train()
    labels = torch.arange(batch_size, device=device) % N_CLASSES
    modules = [module for module in (extractor, processor, classifier) if module is not None]

    def step() -> None:
        for module in modules:
            module.zero_grad(set_to_none=True)
        hidden = extractor(*inputs) if extractor is not None else inputs
        nn.functional.cross_entropy(classifier(processor(*hidden)), labels).backward()

    return step, sum(p.numel() for module in modules for p in module.parameters()), processor


def selu_comparison(device: torch.device, repeats: int) -> tuple[float, float]:
    """Seconds of forward + backward of torch.selu and of processors.selu.selu on the activation map
    of AASIST's first residual block (8 utterances x 32 channels x 23 rows x 21,490 frames)."""
    x = torch.randn(8, 32, 23, 21_490, device=device, requires_grad=True)
    def forward_backward(function: Callable[[torch.Tensor], torch.Tensor]) -> None:
        x.grad = None
        function(x).sum().backward()

    return tuple(timed(lambda f=f: forward_backward(f), repeats, device) for f in (torch.selu, selu))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    parser.add_argument("--models", default=",".join(REFERENCE_MODELS), help="comma-separated names of REFERENCE_MODELS")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    print(f"device {device}, {torch.get_num_threads()} CPU threads, batches of {args.batch_size} x 4 s, "
          f"forward + backward, median of {args.repeats}")

    def per_utterance(model: ReferenceModel) -> tuple[float, int]:
        step, parameters, _ = training_step(model, args.batch_size, device)
        return timed(step, args.repeats, device) / args.batch_size * 1000, parameters

    baseline, _ = per_utterance(BASELINE)
    print(f"{'model':<42} {'parameters':>12} {'ms/utt':>9} {'x LFCC-Mean-FF':>15}")
    print(f"{'LFCC-Mean-FF (baseline)':<42} {'':>12} {baseline:>9.1f} {1.0:>15.2f}")
    rows = [(name, REFERENCE_MODELS[name]) for name in args.models.split(",")] + [("LFCC-AASIST (SSL form)", LFCC_AASIST)]
    for name, model in rows:
        milliseconds, parameters = per_utterance(model)
        label = name + (" (back-end on 25x201x1024)" if model.stack is not None else "")
        print(f"{label:<42} {parameters:>12,} {milliseconds:>9.1f} {milliseconds / baseline:>15.2f}")

    torch_selu, our_selu = selu_comparison(device, args.repeats)
    print(f"SELU forward + backward on 8 x 32 x 23 x 21,490: torch.selu {torch_selu * 1000:.0f} ms, "
          f"processors.selu {our_selu * 1000:.0f} ms, ratio {torch_selu / our_selu:.2f}")
    step, _, processor = training_step(REFERENCE_MODELS["AASIST"], args.batch_size, device)
    channels_last = timed(step, args.repeats, device) / args.batch_size * 1000
    processor.encoder.to(memory_format=torch.contiguous_format)
    contiguous = timed(step, args.repeats, device) / args.batch_size * 1000
    print(f"AASIST encoder: channels-last {channels_last:.0f} ms/utt, contiguous {contiguous:.0f} ms/utt, "
          f"ratio {contiguous / channels_last:.2f}")


if __name__ == "__main__":
    main()
