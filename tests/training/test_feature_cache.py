import torch

from common import EXTRACTORS
from datasets.base import Batch
from training.feature_cache import FeatureCache


class CountingExtractor(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = EXTRACTORS["LFCC"]()
        self.utterances = 0

    def forward(self, wave, lengths):
        self.utterances += len(wave)
        return self.inner(wave, lengths)


def batch(ids, lengths, seed):
    generator = torch.Generator().manual_seed(seed)
    wave = torch.zeros(len(ids), max(lengths))
    for row, length in enumerate(lengths):
        wave[row, :length] = torch.randn(length, generator=generator)
    return Batch(wave, torch.tensor(lengths), torch.zeros(len(ids), dtype=torch.long), list(ids), [None] * len(ids), [None] * len(ids))


def test_each_utterance_is_extracted_once_and_reassembled_exactly():
    extractor = CountingExtractor()
    cache = FeatureCache(extractor, max_bytes=2**30)
    first, second = batch(["a", "b"], [8000, 6000], 0), batch(["c"], [7000], 1)
    direct = [extractor.inner(b.wave, b.lengths) for b in (first, second)]
    for b in (first, second):
        cache.features(b.utt_ids, b.wave, b.lengths)
    assert extractor.utterances == 3
    # a new batch made of known utterances in another order and padding skips the extractor
    mixed = Batch(
        torch.zeros(3, 9000), torch.tensor([7000, 8000, 6000]), torch.zeros(3, dtype=torch.long), ["c", "a", "b"], [None] * 3, [None] * 3
    )
    hidden, frame_lengths = cache.features(mixed.utt_ids, mixed.wave, mixed.lengths)
    assert extractor.utterances == 3
    assert frame_lengths.tolist() == [direct[1][1][0].item(), direct[0][1][0].item(), direct[0][1][1].item()]
    torch.testing.assert_close(hidden[0, :, : frame_lengths[0]], direct[1][0][0, :, : frame_lengths[0]])
    torch.testing.assert_close(hidden[2, :, : frame_lengths[2]], direct[0][0][1, :, : frame_lengths[2]])
    assert hidden[2, :, frame_lengths[2] :].abs().sum() == 0


def test_past_its_budget_the_cache_extracts_without_keeping():
    extractor = CountingExtractor()
    cache = FeatureCache(extractor, max_bytes=0)
    b = batch(["a"], [8000], 0)
    first, _ = cache.features(b.utt_ids, b.wave, b.lengths)
    second, _ = cache.features(b.utt_ids, b.wave, b.lengths)
    assert extractor.utterances == 2 and cache.store == {} and torch.equal(first, second)
