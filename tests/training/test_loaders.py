"""Training batches: class-balanced draws, a function of (seed, epoch), bucketed by length, shared
among ranks; scoring batches: every utterance once."""
import numpy as np
import pytest

from conventions import BONAFIDE, SPOOF
from training.loaders import class_balanced_draw, epoch_draw, scoring_batches, training_batches


def test_the_draw_gives_both_classes_equal_chances():
    labels = np.array([BONAFIDE] * 100 + [SPOOF] * 900)
    drawn = labels[class_balanced_draw(labels, seed=0, epoch=1)]
    assert len(drawn) == 1000 and abs((drawn == BONAFIDE).mean() - 0.5) < 0.05


def test_the_draw_is_a_function_of_seed_and_epoch_only():
    labels = np.array([0, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(class_balanced_draw(labels, 3, 1), class_balanced_draw(labels, 3, 1))
    assert not np.array_equal(class_balanced_draw(labels, 3, 1), class_balanced_draw(labels, 4, 1))
    assert not np.array_equal(class_balanced_draw(labels, 3, 1), class_balanced_draw(labels, 3, 2))


def test_shuffle_takes_every_utterance_once_in_an_order_of_seed_and_epoch():
    labels = np.array([BONAFIDE] * 10 + [SPOOF] * 90)
    order = epoch_draw(labels, 3, 1, "shuffle")
    assert sorted(order) == list(range(100)) and not np.array_equal(order, np.arange(100))
    np.testing.assert_array_equal(order, epoch_draw(labels, 3, 1, "shuffle"))
    assert not np.array_equal(order, epoch_draw(labels, 3, 2, "shuffle"))
    batches = training_batches(labels, None, 32, seed=3, epoch=1, sampling="shuffle")
    assert len(batches) == 3 and len(set(np.concatenate(batches))) == 96  # the last partial batch dropped
    assert (labels[np.concatenate(batches)] == BONAFIDE).sum() <= 10


def padding_share(batches, lengths):
    padded = sum(len(batch) * lengths[batch].max() - lengths[batch].sum() for batch in batches)
    return padded / sum(len(batch) * lengths[batch].max() for batch in batches)


def test_bucketing_keeps_the_draw_and_cuts_the_padding():
    rng = np.random.default_rng(0)
    labels, lengths = rng.integers(0, 2, 1000), rng.integers(16000, 64000, 1000)
    plain = training_batches(labels, None, 32, seed=5, epoch=2)
    bucketed = training_batches(labels, lengths, 32, seed=5, epoch=2)
    assert all(len(batch) == 32 for batch in plain + bucketed) and len(plain) == len(bucketed) == 1000 // 32
    draw = class_balanced_draw(labels, 5, 2)[: 1000 // 32 * 32]
    assert sorted(np.concatenate(plain)) == sorted(draw) == sorted(np.concatenate(bucketed))
    np.testing.assert_array_equal(np.concatenate(plain), draw)  # without bucketing: the draw's order
    assert padding_share(plain, lengths) > 0.25 and padding_share(bucketed, lengths) < 0.02


def test_a_split_smaller_than_a_batch_is_one_batch():
    batches = training_batches(np.array([0, 1, 1]), None, 32, seed=0, epoch=1)
    assert len(batches) == 1 and len(batches[0]) == 3


@pytest.mark.parametrize("world_size", [2, 3])
def test_ranks_take_disjoint_equal_shares_of_the_epoch(world_size):
    rng = np.random.default_rng(1)
    labels, lengths = rng.integers(0, 2, 500), rng.integers(100, 1000, 500)
    alone = training_batches(labels, lengths, 10, seed=0, epoch=3)
    shares = [training_batches(labels, lengths, 10, seed=0, epoch=3, rank=rank, world_size=world_size) for rank in range(world_size)]
    assert len({len(share) for share in shares}) == 1 and len(shares[0]) == len(alone) // world_size
    together = [batch.tolist() for share in shares for batch in share]
    assert sorted(together) == sorted(batch.tolist() for batch in alone[: len(shares[0]) * world_size])


def test_scoring_batches_hold_every_utterance_once_and_bucket_by_length():
    lengths = np.array([5, 1, 4, 2, 3, 9, 7])
    batches = scoring_batches(lengths, 7, 3)
    assert [batch.tolist() for batch in batches] == [[1, 3, 4], [2, 0, 6], [5]]
    assert [batch.tolist() for batch in scoring_batches(None, 7, 3)] == [[0, 1, 2], [3, 4, 5], [6]]
    shares = [scoring_batches(lengths, 7, 3, rank, 2) for rank in (0, 1)]
    assert sorted(index for share in shares for batch in share for index in batch) == list(range(7))
