"""A trained model in use: loading a run, a checkpoint or released weights, scoring waves and files the
way the run scored, calibrated probabilities, and exports whose scores are the model's."""
import json

import numpy as np
import pytest
import soundfile
import torch
import torchaudio

from conventions import SAMPLE_RATE, UsageError
from inference import load_countermeasure
from tests.processors.test_raw_aasist import AASIST_L_CONFIG, random_reference_state, reference_forward
from tests.processors.test_rawnet2 import reference_state_shapes

pytestmark = pytest.mark.usefixtures("one_thread")
AASIST_SAMPLES = 64_600  # what the authors score: the first 64,600 samples, repeated when shorter


def score_file_lines(path):
    """{utt_id: score} of a CM score file (`utt_id attack label score`)."""
    return {line.split()[0]: float(line.split()[3]) for line in path.read_text().splitlines()}


def test_files_score_as_the_run_scored_them(trained_on_files, la2019_root):
    run_scores = score_file_lines(trained_on_files / "scores" / "eval.txt")
    audio = la2019_root / "LA" / "ASVspoof2019_LA_eval" / "flac"
    chosen = sorted(run_scores)[::3]
    scores = load_countermeasure(trained_on_files).score_files([audio / f"{utt_id}.flac" for utt_id in chosen])
    assert list(scores) == [str(audio / f"{utt_id}.flac") for utt_id in chosen]
    np.testing.assert_allclose(list(scores.values()), [run_scores[utt_id] for utt_id in chosen], rtol=1e-5, atol=1e-6)


def test_a_wave_in_memory_scores_as_its_file_and_other_rates_are_resampled(trained_on_files, la2019_root, tmp_path):
    countermeasure = load_countermeasure(trained_on_files / "checkpoints" / "best.pt")
    path = sorted((la2019_root / "LA" / "ASVspoof2019_LA_dev" / "flac").glob("*.flac"))[0]
    wave, rate = soundfile.read(path, dtype="float32")
    assert rate == SAMPLE_RATE
    assert countermeasure.score_wave(torch.from_numpy(wave)) == pytest.approx(countermeasure.score_files([path])[str(path)], rel=1e-6)
    at_8k = torchaudio.functional.resample(torch.from_numpy(wave), SAMPLE_RATE, 8000)
    soundfile.write(tmp_path / "8k.wav", at_8k.numpy(), 8000, subtype="FLOAT")
    expected = countermeasure.score_wave(torchaudio.functional.resample(at_8k, 8000, SAMPLE_RATE))
    assert countermeasure.score_wave(at_8k.numpy(), sample_rate=8000) == pytest.approx(expected, rel=1e-6)
    assert countermeasure.score_files([tmp_path / "8k.wav"])[str(tmp_path / "8k.wav")] == pytest.approx(expected, rel=1e-5)
    with pytest.raises(UsageError, match=r"wave 1 has shape \(2, 100\); give mono samples"):
        countermeasure.score_waves([wave, np.zeros((2, 100))])


def test_a_run_directory_gives_the_model_it_evaluated_the_average_when_it_averaged(trained_on_files, tmp_path):
    def assert_loaded(expected):
        loaded = load_countermeasure(tmp_path / "run").model.state_dict()
        for name, tensor in expected["model"].items():
            torch.testing.assert_close(loaded[name], tensor, rtol=0, atol=0)

    checkpoints = tmp_path / "run" / "checkpoints"
    checkpoints.mkdir(parents=True)
    best = torch.load(trained_on_files / "checkpoints" / "best.pt", weights_only=True)
    torch.save(best, checkpoints / "best.pt")
    assert_loaded(best)
    averaged = {**best, "model": {name: tensor / 2 if tensor.is_floating_point() else tensor for name, tensor in best["model"].items()}}
    torch.save(averaged, checkpoints / "average.pt")
    assert_loaded(averaged)


@pytest.mark.parametrize("data_parallel", [False, True], ids=["plain", "DataParallel names"])
def test_released_aasist_l_weights_score_as_the_authors_model(data_parallel, tmp_path):
    """The authors' state_dict (their names and shapes, random values) is recognised as AASIST-L and scores
    a wave as their model does: its first 64,600 samples (repeated), out_layer's bona fide logit (their class 1)."""
    reference = random_reference_state(AASIST_L_CONFIG)
    prefix = "module." if data_parallel else ""
    torch.save({prefix + name: tensor for name, tensor in reference.items()}, tmp_path / "AASIST-L.pth")
    countermeasure = load_countermeasure(tmp_path / "AASIST-L.pth")
    assert countermeasure.description == "SincAASIST -> RawAASIST-L -> Linear -> CrossEntropy"
    wave = 0.1 * torch.randn(30_000, generator=torch.Generator().manual_seed(3))
    repeated = wave.repeat(3)[:AASIST_SAMPLES]
    with torch.no_grad():
        sinc, _ = countermeasure.model.extractor(repeated[None], torch.tensor([AASIST_SAMPLES]))
        hidden = reference_forward(reference, sinc[:, 0], AASIST_L_CONFIG["pool_ratios"])
        expected = torch.nn.functional.linear(hidden, reference["out_layer.weight"], reference["out_layer.bias"])[0, 1]
    assert countermeasure.score_wave(wave) == pytest.approx(float(expected), rel=1e-4)


def test_released_rawnet2_weights_are_recognised(tmp_path):
    generator = torch.Generator().manual_seed(0)
    state = {name: torch.randn(shape, generator=generator) if shape else torch.tensor(5) for name, shape in reference_state_shapes().items()}
    torch.save(state, tmp_path / "pre_trained_DF_RawNet2.pth")
    countermeasure = load_countermeasure(tmp_path / "pre_trained_DF_RawNet2.pth")
    assert countermeasure.description == "SincRawNet2 -> RawNet2 -> Linear -> CrossEntropy"
    assert countermeasure.arguments.eval_max_len * SAMPLE_RATE == pytest.approx(AASIST_SAMPLES)
    torch.testing.assert_close(countermeasure.model.classifier.linear.weight, state["fc2_gru.weight"][[1, 0]], rtol=0, atol=0)


@pytest.mark.parametrize(
    "content", [{"conv.weight": torch.zeros(2, 2)}, {"out_layer.weight": torch.zeros(2, 160)}, [torch.zeros(3)], {}],
    ids=["unknown names", "a part of AASIST", "a list", "empty"],
)
def test_a_file_that_is_neither_a_checkpoint_nor_released_weights_is_refused(content, tmp_path):
    torch.save(content, tmp_path / "weights.pth")
    with pytest.raises(UsageError, match=r"neither a checkpoint of this tool \(no model, loss and arguments in it\) nor the released weights of AASIST, AASIST-L, RawNet2"):
        load_countermeasure(tmp_path / "weights.pth")


def exported_scores(path, export_format, wave, lengths):
    if export_format == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run(None, {"wave": wave.numpy(), "lengths": lengths.numpy()})[0]
    return torch.jit.load(str(path))(wave, lengths).detach().numpy()


@pytest.mark.parametrize("export_format", ["onnx", "torchscript"])
def test_the_exported_model_scores_as_the_model_at_any_batch_size_and_length(export_format, trained_on_files, tmp_path):
    countermeasure = load_countermeasure(trained_on_files)
    assert countermeasure.export(tmp_path / "model.bin", export_format) == tmp_path / "model.bin"
    assert [path.name for path in tmp_path.iterdir()] == ["model.bin"]
    generator = torch.Generator().manual_seed(4)
    for lengths in ([5000, 23000, 11000, 17000], [40000]):
        wave = 0.1 * torch.randn(len(lengths), max(lengths), generator=generator)
        lengths = torch.tensor(lengths)
        wave[torch.arange(wave.shape[1]) >= lengths[:, None]] = 0
        with torch.no_grad():
            expected = countermeasure.loss.score(countermeasure.model(wave, lengths)).numpy()
        np.testing.assert_allclose(exported_scores(tmp_path / "model.bin", export_format, wave, lengths), expected, rtol=1e-4, atol=1e-5)


def test_a_model_whose_computation_the_format_cannot_express_is_refused_and_nothing_is_left(tmp_path):
    """Raw AASIST picks graph nodes by the utterance lengths: ONNX export fails, TorchScript tracing would
    freeze the traced lengths (its scores on other lengths differ); both are refused."""
    reference = random_reference_state(AASIST_L_CONFIG)
    torch.save(reference, tmp_path / "AASIST-L.pth")
    countermeasure = load_countermeasure(tmp_path / "AASIST-L.pth")
    for export_format in ("onnx", "torchscript"):
        with pytest.raises(UsageError, match=f"--export {export_format}: SincAASIST -> RawAASIST-L .* score with score.py instead"):
            countermeasure.export(tmp_path / "model.bin", export_format)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["AASIST-L.pth"]


def test_a_run_trained_with_calibrate_keeps_its_dev_calibration_and_gives_probabilities(trained_on_files, tmp_path):
    from calibration import fit_linear_calibration
    from metrics import compute_cllr
    from reporting.score_files import read_score_file

    dev, evaluation = (read_score_file(trained_on_files / "scores" / f"{split}.txt") for split in ("dev", "eval"))
    expected = fit_linear_calibration(dev.scores[dev.labels == 0], dev.scores[dev.labels == 1])
    countermeasure = load_countermeasure(trained_on_files)
    np.testing.assert_allclose(countermeasure.calibration.weights, expected.weights, rtol=1e-9)
    assert countermeasure.calibration.offset == pytest.approx(expected.offset, rel=1e-9, abs=1e-12)
    metrics = json.loads((trained_on_files / "metrics.json").read_text())
    llrs = expected.weights[0] * evaluation.scores + expected.offset
    assert metrics["eval"]["calibrated"]["cllr"] == pytest.approx(
        compute_cllr(llrs[evaluation.labels == 0], llrs[evaluation.labels == 1]), rel=1e-9)
    np.testing.assert_allclose(countermeasure.probabilities(evaluation.scores), 1 / (1 + np.exp(-llrs)), rtol=1e-9)
    np.testing.assert_allclose(countermeasure.probabilities(evaluation.scores, prior=0.2),
                               1 / (1 + np.exp(-llrs - np.log(0.25))), rtol=1e-9)
    with pytest.raises(UsageError, match="strictly between 0 and 1"):
        countermeasure.probabilities(evaluation.scores, prior=1.0)


def test_a_model_without_calibration_refuses_probabilities_and_a_bad_calibration_file_is_named(trained_on_files, tmp_path):
    released = tmp_path / "elsewhere.pt"
    released.write_bytes((trained_on_files / "checkpoints" / "best.pt").read_bytes())
    countermeasure = load_countermeasure(released)
    assert countermeasure.calibration is None
    with pytest.raises(UsageError, match="has no calibration"):
        countermeasure.probabilities([0.5])
    (tmp_path / "calibration.json").write_text('{"weights": [1.0]}')
    with pytest.raises(UsageError, match="is not a calibration.json written by train_and_eval.py --calibrate"):
        load_countermeasure(released, calibration=tmp_path / "calibration.json")
    (tmp_path / "fusion.json").write_text('{"weights": [1.0, 2.0], "offset": 0.0, "prior": 0.5}')
    with pytest.raises(UsageError, match="maps 2 score columns"):
        load_countermeasure(released, calibration=tmp_path / "fusion.json")
    with_file = load_countermeasure(released, calibration=trained_on_files / "calibration.json")
    assert with_file.probabilities([0.0])[0] == pytest.approx(load_countermeasure(trained_on_files).probabilities([0.0])[0])
