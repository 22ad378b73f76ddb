import inspect

import pytest

from common import (
    BONAFIDE,
    EMBEDDING_COMPATIBLE_CLASSIFIERS,
    LOSS_METADATA,
    REGISTRIES,
    SPOOF,
    HyperParameter,
    UsageError,
    check_combination,
)


def test_labels():
    assert (BONAFIDE, SPOOF) == (0, 1)


@pytest.mark.parametrize("loss", [name for name, metadata in LOSS_METADATA.items() if metadata["type"] != "logits"])
def test_embedding_losses_are_refused_with_a_logits_classifier(loss):
    with pytest.raises(UsageError, match="EmbeddingFF"):
        check_combination("LFCC", "Mean", "FF", [loss])
    for classifier in EMBEDDING_COMPATIBLE_CLASSIFIERS:
        check_combination("LFCC", "Mean", classifier, [loss])


def test_unknown_component_names_the_choices():
    with pytest.raises(UsageError, match="unknown processor 'Median'; choose one of Mean"):
        check_combination("LFCC", "Median", "FF", ["CrossEntropy"])


@pytest.mark.parametrize(
    "interval,inside,outside",
    [("[0, 1)", [0.0, 0.5], [1.0, -0.1]), ("(0, inf)", [1e-9, 1e9], [0.0, -1.0]), ("[1, 3]", [1, 3], [0, 4]), ("[0, pi)", [3.14], [3.1416])],
)
def test_hyper_parameter_intervals(interval, inside, outside):
    spec = HyperParameter(float, "x", interval=interval)
    for value in inside:
        spec.check("x", value)
    for value in outside:
        with pytest.raises(UsageError, match=r"--x .* is outside the allowed range"):
            spec.check("x", value)


def test_hyper_parameter_choices():
    spec = HyperParameter(str, "x", choices=("C", "A", "M"))
    spec.check("x", "A")
    with pytest.raises(UsageError, match="not one of C, A, M"):
        spec.check("x", "B")


@pytest.mark.parametrize("stage", sorted(REGISTRIES))
def test_every_hyper_parameter_has_a_constructor_default(stage):
    for name, component in REGISTRIES[stage].items():
        signature = inspect.signature(component).parameters
        for parameter, spec in component.hyper_parameters.items():
            assert signature[parameter].default is not inspect.Parameter.empty, (name, parameter)
            assert spec.help, (name, parameter)
