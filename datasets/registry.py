"""The corpus datasets by registry name, for common.DATASETS: `{"Synthetic": ..., **CORPUS_DATASETS}`.

Each is constructed as `DATASETS[name](split, data_root)` with split "train", "dev" or "eval";
the `_pair` variants add `ref_wave` (a bona fide utterance of the same speaker) to every item.
"""
from __future__ import annotations

from datasets.asvspoof import (
    ASVspoof5Dataset_pair,
    ASVspoof5Dataset_single,
    ASVspoof2019LADataset_pair,
    ASVspoof2019LADataset_single,
    ASVspoof2021DFDataset_pair,
    ASVspoof2021DFDataset_single,
    ASVspoof2021LADataset_pair,
    ASVspoof2021LADataset_single,
)
from datasets.base import AudioDataset, PairDataset
from datasets.in_the_wild import InTheWildDataset_pair, InTheWildDataset_single
from datasets.protocol import ProtocolDataset_pair, ProtocolDataset_single
from datasets.synthetic import SyntheticDataset


class SyntheticDataset_pair(PairDataset, SyntheticDataset):
    """The built-in Synthetic corpus, each trial paired with a bona fide utterance of its speaker."""


CORPUS_DATASETS: dict[str, type[AudioDataset]] = {
    cls.__name__: cls
    for cls in (
        ASVspoof2019LADataset_single,
        ASVspoof2019LADataset_pair,
        ASVspoof2021LADataset_single,
        ASVspoof2021LADataset_pair,
        ASVspoof2021DFDataset_single,
        ASVspoof2021DFDataset_pair,
        ASVspoof5Dataset_single,
        ASVspoof5Dataset_pair,
        InTheWildDataset_single,
        InTheWildDataset_pair,
        ProtocolDataset_single,
        ProtocolDataset_pair,
    )
}
CORPUS_DATASETS["Synthetic_pair"] = SyntheticDataset_pair
