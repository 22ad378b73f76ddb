"""The training engine's speed: length buckets, data parallel processes, and precision on a GPU.

Run: .venv/bin/python benchmarks/training.py [--data_root DIR] [--epochs N] [--batch_size B]

1. Padding and scoring: the share of padded samples in the training batches of the Synthetic
   train split, and the time to score its eval split (LFCC -> Mean -> FF, no feature cache), with
   and without length buckets; ratio = bucketed / unbucketed time.
2. Data parallel on the CPU: training steps per second and utterances per second of 1 and of 2
   processes (torchrun, gloo; the 2-process run has one thread per process), the same model and
   per-process batch; ratio = 2 processes / 1 process.
3. On a GPU only (skipped without one): fp32 against bf16 steps per second and peak memory of a
   base-size random WavLM with MHFA, frozen and fine-tuned.
Each ratio is measured in the same run against its baseline.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # scripts run from benchmarks/

from classifiers.feedforward import FF  # noqa: E402
from common import EXTRACTORS, PROCESSORS  # noqa: E402
from datasets.synthetic import SyntheticDataset  # noqa: E402
from extractors.spectral import LFCC  # noqa: E402
from losses.cross_entropy import CrossEntropyLoss  # noqa: E402
from model import Countermeasure  # noqa: E402
from processors.mean import MeanPooling  # noqa: E402
from training import distributed  # noqa: E402
from training.loaders import BatchList, loader, training_batches  # noqa: E402
from training.scoring import autocast  # noqa: E402
from training.trainer import Trainer, TrainingSettings, seed_everything  # noqa: E402


class QuietLog:
    def info(self, message: str) -> None:
        pass

    def metrics(self, values: dict, step: int) -> None:
        pass


def lfcc_trainer(settings: TrainingSettings, ranks: distributed.Ranks = distributed.Ranks()) -> Trainer:
    seed_everything(0)
    model = Countermeasure(LFCC(), MeanPooling(1, 60), FF(60, 2))
    return Trainer(model, CrossEntropyLoss(128, 2), settings, torch.device("cpu"), QuietLog(), ranks=ranks)


def padding(data_root: Path, batch_size: int) -> None:
    train, evaluation = SyntheticDataset("train", data_root), SyntheticDataset("eval", data_root)
    lengths = train.lengths()
    print(f"1. length buckets, Synthetic (train {len(train)}, eval {len(evaluation)} utterances), batches of {batch_size}")
    seconds = {}
    for bucket in (False, True):
        batches = training_batches(train.labels, lengths if bucket else None, batch_size, seed=0, epoch=1)
        padded = sum(len(batch) * lengths[batch].max() - lengths[batch].sum() for batch in batches)
        total = sum(len(batch) * lengths[batch].max() for batch in batches)
        trainer = lfcc_trainer(TrainingSettings(batch_size=batch_size, bucket=bucket))
        trainer.score(evaluation, None, "eval")  # warm-up
        started = time.perf_counter()
        trainer.score(evaluation, None, "eval")
        seconds[bucket] = time.perf_counter() - started
        print(f"   {'bucketed' if bucket else 'corpus order':14} training padding {100 * padded / total:5.1f}%   scoring eval {seconds[bucket]:6.2f} s")
    print(f"   scoring time ratio (bucketed / corpus order): {seconds[True] / seconds[False]:.3f}")


def worker(data_root: Path, epochs: int, batch_size: int) -> None:
    """One rank of the data parallel measurement: fit, timing each epoch's training pass."""
    ranks = distributed.environment_ranks()
    distributed.start(ranks, torch.device("cpu"))
    train, dev = SyntheticDataset("train", data_root), SyntheticDataset("dev", data_root)
    dev.limit(20, 0)
    trainer = lfcc_trainer(TrainingSettings(num_epochs=epochs, batch_size=batch_size), ranks)
    network = torch.nn.parallel.DistributedDataParallel(trainer.step_module) if ranks.distributed else trainer.step_module
    optimizer = trainer.optimizer()
    schedule = trainer.schedule(optimizer, 1)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    times, steps = [], 0
    for epoch in range(1, epochs + 1):
        batches = BatchList(lambda e: training_batches(train.labels, train.lengths(), batch_size, 0, e, ranks.rank, ranks.world_size), epoch)
        started = time.perf_counter()
        trainer.train_one_epoch(network, loader(train, batches, 0), optimizer, schedule, scaler)
        times.append(time.perf_counter() - started)
        steps = len(batches)
    if ranks.is_main:
        seconds = min(times)
        print(json.dumps({"steps_per_second": steps / seconds, "utterances_per_second": steps * batch_size * ranks.world_size / seconds}))
    distributed.stop()


def data_parallel(data_root: Path, epochs: int, batch_size: int) -> None:
    print(f"2. data parallel on the CPU, LFCC -> Mean -> FF, {batch_size} utterances per batch and process, best of {epochs} epochs")
    measured = {}
    for processes in (1, 2):
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes), __file__,
                   "--worker", "--data_root", str(data_root), "--epochs", str(epochs), "--batch_size", str(batch_size)]
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "WANDB_MODE": "disabled"}, check=True)
        measured[processes] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"   {processes} process{'es' if processes > 1 else '  '}  {measured[processes]['steps_per_second']:7.2f} steps/s"
              f"  {measured[processes]['utterances_per_second']:8.1f} utterances/s")
    ratio = measured[2]["utterances_per_second"] / measured[1]["utterances_per_second"]
    print(f"   utterances/s ratio (2 processes / 1): {ratio:.3f}")


def precision_on_gpu(steps: int = 10) -> None:
    if not torch.cuda.is_available():
        print("3. precision on a GPU: skipped (no CUDA device here)")
        return
    import transformers

    device = torch.device("cuda")
    folder = tempfile.mkdtemp()
    transformers.AutoModel.from_config(transformers.WavLMConfig()).save_pretrained(folder)
    print("3. random WavLM-base + MHFA + FF, batches of 8 x 4 s, steps/s and peak GPU memory")
    for finetune in (False, True):
        results = {}
        for precision in ("fp32", "bf16"):
            seed_everything(0)
            extractor = EXTRACTORS["WavLM_base"](path=folder, finetune=finetune)
            processor = PROCESSORS["MHFA"](n_layers=extractor.n_layers, dim=extractor.dim)
            model = Countermeasure(extractor, processor, FF(processor.out_dim, 2)).to(device)
            settings = TrainingSettings(precision=precision, extractor_lr=1e-6 if finetune else None)
            trainer = Trainer(model, CrossEntropyLoss(128, 2).to(device), settings, device, QuietLog())
            optimizer, scaler = trainer.optimizer(), torch.amp.GradScaler("cuda", enabled=False)
            schedule = trainer.schedule(optimizer, steps)
            wave, lengths = torch.randn(8, 64000, device=device), torch.full((8,), 64000, device=device)
            labels = torch.tensor([0, 1] * 4, device=device)
            torch.cuda.reset_peak_memory_stats()
            for step in range(steps + 2):
                if step == 2:
                    torch.cuda.synchronize()
                    started = time.perf_counter()
                with autocast(device, precision):
                    value = trainer.loss(model(wave, lengths), labels)
                value.backward()
                trainer.optimizer_step(optimizer, schedule, scaler)
            torch.cuda.synchronize()
            results[precision] = (steps / (time.perf_counter() - started), torch.cuda.max_memory_allocated() / 2**30)
            print(f"   {'fine-tuned' if finetune else 'frozen':10} {precision}  {results[precision][0]:6.2f} steps/s  peak {results[precision][1]:5.2f} GiB")
        print(f"   {'fine-tuned' if finetune else 'frozen':10} bf16 / fp32 steps/s: {results['bf16'][0] / results['fp32'][0]:.3f}, "
              f"memory: {results['bf16'][1] / results['fp32'][1]:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_root", default="data")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(Path(args.data_root), args.epochs, args.batch_size)
        return
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    padding(Path(args.data_root), args.batch_size)
    data_parallel(Path(args.data_root), args.epochs, args.batch_size)
    precision_on_gpu()


if __name__ == "__main__":
    main()
