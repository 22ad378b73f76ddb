"""The registries: every component declares its settings, and the combination check refuses what cannot work."""
import inspect

import pytest

from common import (
    DATASETS,
    EMBEDDING_COMPATIBLE_CLASSIFIERS,
    LOSS_METADATA,
    REFERENCE_MODELS,
    REGISTRIES,
    check_combination,
    parameter_metadata,
    reference_model_parameters,
)
from conventions import ComponentChoice, UsageError, declarations

# constructor arguments that the builder fills from the rest of the model, not settings
CONTEXT_ARGUMENTS = {"embedding_dim", "n_classes", "n_layers", "dim", "in_dim", "path", "finetune"}


@pytest.mark.parametrize("loss", [name for name, metadata in LOSS_METADATA.items() if metadata["type"] != "logits"])
def test_embedding_losses_are_refused_with_a_logits_classifier(loss):
    with pytest.raises(UsageError, match="EmbeddingFF"):
        check_combination("LFCC", "Mean", "FF", [loss])
    for classifier in EMBEDDING_COMPATIBLE_CLASSIFIERS:
        check_combination("LFCC", "Mean", classifier, [loss])


def test_unknown_component_names_the_choices():
    with pytest.raises(UsageError, match="unknown processor 'Median'; choose one of Mean"):
        check_combination("LFCC", "Median", "FF", ["CrossEntropy"])


def test_a_pair_head_needs_a_pair_dataset_and_a_miner_a_pair_loss():
    with pytest.raises(UsageError, match="needs a pair dataset.*Synthetic_pair"):
        check_combination("LFCC", "Mean", "FFDiff", ["CrossEntropy"], dataset="Synthetic")
    with pytest.raises(UsageError, match="--miner BatchHard .* has none"):
        check_combination("LFCC", "Mean", "EmbeddingFF", ["AdditiveAngularMargin"], miner="BatchHard")


@pytest.mark.parametrize("stage", sorted(REGISTRIES))
def test_every_constructor_argument_is_a_declared_setting_with_an_allowed_default(stage):
    for name, component in REGISTRIES[stage].items():
        settings = declarations(component)
        arguments = {declared.argument for declared in settings.values()}
        for argument in inspect.signature(component).parameters.values():
            if argument.kind is not argument.VAR_KEYWORD:
                assert argument.name in arguments | CONTEXT_ARGUMENTS, (name, argument.name)
        for setting, declared in settings.items():
            assert declared.spec.help, (name, setting)
            if isinstance(declared.spec, ComponentChoice):
                assert declared.default in parameter_metadata(component)[setting]["choices"], (name, setting)
            elif declared.default is not None:  # None: derived by the component
                assert type(declared.default) is declared.type, (name, setting)
                declared.spec.check(f"--{setting}", declared.default)


def test_metadata_reads_the_declarations():
    metadata = LOSS_METADATA["AdditiveAngularMargin"]["parameters"]["margin"]
    assert metadata == {
        "default": 0.5,
        "type": "float",
        "help": "additive angular margin m",
        "unit": "radians",
        "interval": "[0, pi)",
    }
    proxy_type = LOSS_METADATA["Combined"]["parameters"]["proxy_type"]
    assert proxy_type["default"] == "ProxyAnchor" and "CosFace" in proxy_type["choices"]
    assert "CrossEntropy" not in proxy_type["choices"] and "Combined" not in proxy_type["choices"]
    memory_loss = LOSS_METADATA["CrossBatchMemory"]["parameters"]["memory_loss"]["choices"]
    assert "Contrastive" in memory_loss and "CrossBatchMemory" not in memory_loss and "CosFace" not in memory_loss


def test_every_dataset_has_a_one_line_description():
    for name, dataset in DATASETS.items():
        assert dataset.__doc__ and dataset.__doc__.strip(), name


@pytest.mark.parametrize("name, published", [("AASIST", 297_866), ("AASIST-L", 85_306)])
def test_aasist_has_its_published_parameter_count(name, published):
    """clovaai/aasist: 297,866 (AASIST) and 85,306 (AASIST-L) parameters, the output layer included."""
    assert reference_model_parameters(REFERENCE_MODELS[name]) == published


@pytest.mark.parametrize("name", list(REFERENCE_MODELS))
def test_reference_models_name_registered_components_that_fit_together(name):
    model = REFERENCE_MODELS[name]
    check_combination(model.extractor, model.processor, model.classifier, ["CrossEntropy"])
    assert (model.stack is not None) == REGISTRIES["extractor"][model.extractor].pretrained
