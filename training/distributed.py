"""Distributed data parallel training under torchrun: one process per device (NCCL on GPUs, gloo on
the CPU). Outside torchrun everything here is a no-op for a world of one process."""
from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Ranks:
    """This process's place in the run: rank among world_size processes, local_rank on its machine."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0 writes the log, checkpoints, score files and the results row."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def environment_ranks() -> Ranks:
    """The ranks torchrun sets in the environment (RANK, WORLD_SIZE, LOCAL_RANK); one process without."""
    return Ranks(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("LOCAL_RANK", 0)))


def start(ranks: Ranks, device: torch.device) -> None:
    """Join the process group when there are several ranks: gloo on the CPU; on GPUs NCCL for CUDA
    tensors and gloo for the CPU ones (the bookkeeping sums), with this rank's GPU as its device."""
    if ranks.distributed and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        backend = "cpu:gloo,cuda:nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(
            backend, rank=ranks.rank, world_size=ranks.world_size, timeout=datetime.timedelta(minutes=30),
            device_id=device if device.type == "cuda" else None,
        )


def stop(together: bool = False) -> None:
    """Leave the process group; with `together` (a run that went well on every rank) after all
    ranks got here, so that none tears down its connections while another still uses them."""
    if dist.is_initialized():
        if together:
            dist.barrier()
        dist.destroy_process_group()


def active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def gather_objects(value: Any) -> list[Any]:
    """Every rank's `value`, in rank order, on every rank ([value] alone)."""
    if not active():
        return [value]
    gathered: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, value)
    return gathered


def broadcast_object(value: Any) -> Any:
    """Rank 0's `value` on every rank."""
    if not active():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def sum_over_ranks(values: list[float]) -> list[float]:
    """The element-wise sum of `values` over every rank."""
    if not active():
        return values
    tensor = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(tensor)
    return tensor.tolist()


def average_gradients(parameters: list[torch.nn.Parameter]) -> None:
    """Each parameter's gradient averaged over the ranks (a missing one counts as zeros)."""
    if not active():
        return
    for parameter in parameters:
        if parameter.grad is None:
            parameter.grad = torch.zeros_like(parameter)
        dist.all_reduce(parameter.grad)
        parameter.grad /= dist.get_world_size()


def broadcast_module_state(*modules: torch.nn.Module) -> None:
    """Every parameter and buffer of `modules` set to rank 0's values on every rank."""
    if not active():
        return
    for module in modules:
        for tensor in [*module.parameters(), *module.buffers()]:
            data = tensor.data.view(torch.uint8) if tensor.dtype == torch.bool else tensor.data  # gloo has no bool
            dist.broadcast(data, src=0)
