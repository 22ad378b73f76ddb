"""The training sampler: classes drawn equally, repeatable under its seed."""
import numpy as np

from conventions import BONAFIDE, SPOOF
from training.loaders import class_balanced_sampler


def test_class_balanced_sampler_draws_classes_equally():
    labels = np.array([BONAFIDE] * 100 + [SPOOF] * 900)
    drawn = labels[list(class_balanced_sampler(labels, seed=0))]
    assert len(drawn) == 1000
    assert abs((drawn == BONAFIDE).mean() - 0.5) < 0.05


def test_class_balanced_sampler_is_repeatable_under_its_seed():
    labels = np.array([0, 1, 1, 1, 1, 1])
    assert list(class_balanced_sampler(labels, 3)) == list(class_balanced_sampler(labels, 3))
    assert list(class_balanced_sampler(labels, 3)) != list(class_balanced_sampler(labels, 4))
