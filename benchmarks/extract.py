"""Throughput of the SSL extractor against the bare transformers forward on the same batches.

Run: .venv/bin/python benchmarks/extract.py [--family wavlm|wav2vec2|hubert] [--size base|tiny]
     [--batches N] [--batch_size B] [--data_root DIR] [--device cpu|cuda]

The model is randomly initialised with the published base configuration (12 layers, D = 768;
`--size tiny` for a quick check), saved to a temporary folder and loaded through the extractor,
so nothing is downloaded. The batches are the first N batches of the Synthetic dev split
(utterances of 1-4 s) in corpus order. The baseline, timed in the same run and on the same
batches, is the bare model called as its feature extractor prepares the input (the same
normalisation and attention mask), with output_hidden_states=True; for the group-norm base
models the extractor normalises the CNN's first layer over each utterance's own frames (a masked
group norm) and masks the transformer, to be independent of the batch, which the bare batched
forward is not. Printed: utterances per second of both, their ratio (the extractor's overhead),
and the share of padded frames per batch.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch
import transformers

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # scripts run from benchmarks/

from benchmarks.timing import timed  # noqa: E402
from common import EXTRACTORS  # noqa: E402
from datasets.base import collate_batch  # noqa: E402
from datasets.synthetic import SyntheticDataset  # noqa: E402
from masking import frame_mask  # noqa: E402

FAMILIES = {
    "wavlm": ("WavLM_base", transformers.WavLMConfig),
    "wav2vec2": ("Wav2Vec2_base", transformers.Wav2Vec2Config),
    "hubert": ("HuBERT_base", transformers.HubertConfig),
}
TINY = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 128, "conv_dim": (64,) * 7}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=sorted(FAMILIES), default="wavlm")
    parser.add_argument("--size", choices=["base", "tiny"], default="base")
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data_root", default="data")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args()
    device = torch.device(args.device)

    name, config_class = FAMILIES[args.family]
    folder = tempfile.mkdtemp()
    transformers.AutoModel.from_config(config_class(**(TINY if args.size == "tiny" else {}))).save_pretrained(folder)
    extractor = EXTRACTORS[name](path=folder).to(device)
    bare = extractor.model

    dataset = SyntheticDataset("dev", Path(args.data_root))
    items = [dataset[index] for index in range(args.batches * args.batch_size)]
    batches = [collate_batch(items[start : start + args.batch_size]) for start in range(0, len(items), args.batch_size)]
    for batch in batches:
        batch.to(device)

    def ours() -> None:
        for batch in batches:
            extractor(batch.wave, batch.lengths)

    prepared = []
    for batch in batches:
        valid = frame_mask(batch.lengths, batch.wave.shape[1])
        mask = valid.long() if extractor.use_attention_mask else None
        prepared.append((extractor.prepare(batch.wave, valid), mask))

    @torch.no_grad()
    def plain() -> None:
        for wave, mask in prepared:
            bare(wave, attention_mask=mask, output_hidden_states=True)

    utterances = len(items)
    ours_seconds, plain_seconds = timed(ours, args.repeats, device), timed(plain, args.repeats, device)
    padded = [
        1 - extractor.frame_lengths(batch.lengths).sum().item() / (len(batch.lengths) * extractor.frame_lengths(batch.lengths).max().item())
        for batch in batches
    ]
    print(f"{name} ({args.size}, random weights), {utterances} utterances in {len(batches)} batches of {args.batch_size}, "
          f"{args.device}, {torch.get_num_threads()} threads")
    print(f"{'bare transformers':20}{utterances / plain_seconds:10.2f} utterances/s")
    print(f"{'extractor':20}{utterances / ours_seconds:10.2f} utterances/s")
    print(f"overhead ratio (extractor / bare time): {ours_seconds / plain_seconds:.3f}")
    print("padded frames per batch: " + ", ".join(f"{100 * share:.1f}%" for share in padded))


if __name__ == "__main__":
    main()
