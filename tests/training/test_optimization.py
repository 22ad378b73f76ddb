"""Optimizers and learning-rate schedules against their formulas written out."""
import math

import pytest
import torch

from training.optimization import LearningRateSchedule, build_optimizer, parameter_groups


def optimizer_with_two_groups(lr=0.1, extractor_lr=0.001):
    groups = parameter_groups([torch.nn.Parameter(torch.zeros(2))], [torch.nn.Parameter(torch.zeros(2))], extractor_lr)
    return build_optimizer("sgd", groups, lr, 0.0, 0.9, True)


def rates(schedule, steps):
    seen = []
    for _ in range(steps):
        schedule.before_step()
        seen.append([group["lr"] for group in schedule.optimizer.param_groups])
    return seen


def test_the_optimizers_and_their_settings():
    groups = lambda: [{"params": [torch.nn.Parameter(torch.zeros(1))]}]  # noqa: E731
    assert type(build_optimizer("adam", groups(), 1e-3, 0.0, 0.9, False)) is torch.optim.Adam
    adamw = build_optimizer("adamw", groups(), 1e-3, 1e-4, 0.9, False)
    assert type(adamw) is torch.optim.AdamW and adamw.defaults["weight_decay"] == 1e-4
    sgd = build_optimizer("sgd", groups(), 0.1, 0.0, 0.9, True)
    assert type(sgd) is torch.optim.SGD and sgd.defaults["momentum"] == 0.9 and sgd.defaults["nesterov"]


def test_cosine_with_warmup_and_a_floor_for_every_group():
    schedule = LearningRateSchedule(optimizer_with_two_groups(), "cosine", total_steps=10, steps_per_epoch=5, warmup_steps=2, floor=0.05)
    seen = rates(schedule, 10)
    for step, (main, extractor) in enumerate(seen):
        if step < 2:
            factor = (step + 1) / 2
        else:
            factor = 0.05 + 0.95 * (1 + math.cos(math.pi * (step - 2) / 8)) / 2
        assert main == pytest.approx(0.1 * factor) and extractor == pytest.approx(0.001 * factor)


def test_exponential_decays_geometrically_to_the_floor():
    schedule = LearningRateSchedule(optimizer_with_two_groups(lr=0.1), "exponential", total_steps=4, steps_per_epoch=2, floor=5e-3)
    assert [main for main, _ in rates(schedule, 4)] == pytest.approx([0.1 * 5e-3 ** (step / 4) for step in range(4)])


def test_step_decays_every_step_epochs_down_to_the_floor():
    schedule = LearningRateSchedule(
        optimizer_with_two_groups(lr=1.0), "step", total_steps=12, steps_per_epoch=2, floor=0.02, decay_factor=0.1, step_epochs=2
    )
    assert [main for main, _ in rates(schedule, 12)] == pytest.approx([1.0] * 4 + [0.1] * 4 + [0.02] * 4)


def test_plateau_decays_after_patience_epochs_without_improvement():
    schedule = LearningRateSchedule(optimizer_with_two_groups(lr=1.0), "plateau", 100, 1, decay_factor=0.5, plateau_patience=2)
    seen = []
    for improved in (True, False, False, True, False, False, False):
        seen.append(rates(schedule, 1)[0][0])
        schedule.end_epoch(improved)
    assert seen == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25] and rates(schedule, 1)[0][0] == 0.25


def test_constant_is_constant_after_warmup_and_the_state_resumes():
    schedule = LearningRateSchedule(optimizer_with_two_groups(lr=0.2), "constant", total_steps=10, steps_per_epoch=2, warmup_steps=4)
    assert [main for main, _ in rates(schedule, 6)] == pytest.approx([0.05, 0.1, 0.15, 0.2, 0.2, 0.2])
    again = LearningRateSchedule(optimizer_with_two_groups(lr=0.2), "plateau", 10, 2, decay_factor=0.5, plateau_patience=1)
    again.end_epoch(False)
    copy = LearningRateSchedule(optimizer_with_two_groups(lr=0.2), "plateau", 10, 2, decay_factor=0.5, plateau_patience=1)
    copy.load_state_dict(again.state_dict())
    assert rates(copy, 1) == rates(again, 1)


def test_a_trainable_extractor_without_its_own_rate_trains_at_the_optimizers_rate():
    """Learnable sinc filters are not a fine-tuned SSL model: no --extractor_lr, one group."""
    rest, extractor = [torch.nn.Parameter(torch.zeros(2))], [torch.nn.Parameter(torch.zeros(3))]
    optimizer = build_optimizer("adam", parameter_groups(rest, extractor, None), 1e-3, 0.0, 0.9, False)
    assert len(optimizer.param_groups) == 1 and optimizer.param_groups[0]["lr"] == 1e-3
    assert {id(p) for p in optimizer.param_groups[0]["params"]} == {id(rest[0]), id(extractor[0])}
