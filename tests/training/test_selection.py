"""The best epoch, early stopping, and which epochs an average keeps; averaging state dicts."""
import pytest
import torch

from training.selection import Selection, average_states, parse_average


def selection_after(values, **options):
    selection = Selection("dev_eer", **options)
    for epoch, value in enumerate(values, start=1):
        selection.update(epoch, value)
    return selection


def test_the_best_epoch_is_the_lowest_and_the_earliest_on_ties():
    selection = selection_after([0.3, 0.2, 0.25, 0.2])
    assert selection.best_epoch == 2 and selection.best_value == 0.2 and selection.epochs_without_improvement == 2


def test_patience_stops_after_that_many_epochs_without_improvement():
    assert not selection_after([0.3, 0.2, 0.25], patience=2).should_stop()
    assert selection_after([0.3, 0.2, 0.25, 0.21], patience=2).should_stop()
    assert not selection_after([0.3, 0.2, 0.25, 0.21]).should_stop()


def test_kept_epochs_of_best_and_last_averages():
    values = [0.5, 0.1, 0.4, 0.2, 0.1, 0.3]
    assert selection_after(values, average=("best", 3)).kept_epochs() == [2, 4, 5]
    assert selection_after(values, average=("last", 2)).kept_epochs() == [5, 6]
    assert selection_after(values).kept_epochs() == [2]
    assert parse_average("best:5") == ("best", 5) and parse_average(None) is None
    for text in ("best", "worst:2", "last:0", "last:x"):
        with pytest.raises(ValueError):
            parse_average(text)


def test_averaging_means_the_floats_and_keeps_the_reference_counters():
    states = [{"w": torch.tensor([1.0, 2.0]), "steps": torch.tensor(3)}, {"w": torch.tensor([3.0, 6.0]), "steps": torch.tensor(7)}]
    averaged = average_states(states, reference=0)
    torch.testing.assert_close(averaged["w"], torch.tensor([2.0, 4.0]))
    assert int(averaged["steps"]) == 3 and int(average_states(states)["steps"]) == 7


def test_the_history_resumes():
    selection = selection_after([0.3, 0.2])
    copy = Selection("dev_eer")
    copy.load_state_dict(selection.state_dict())
    assert copy.history == selection.history and copy.best_epoch == 2
