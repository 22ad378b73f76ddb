"""score.py: files and folders scored with a trained model, exports, and mistakes in one line."""
import pytest
import soundfile
import torch

from conventions import SAMPLE_RATE
from inference import load_countermeasure
from score import main

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def recordings(tmp_path):
    """A folder of three recordings (one at 8 kHz, one in a subfolder, one name with a space) and a file outside it."""
    generator = torch.Generator().manual_seed(0)
    folder = tmp_path / "recordings"
    (folder / "day 2").mkdir(parents=True)
    for name, seconds, rate in (("a.flac", 1.0, SAMPLE_RATE), ("day 2/b.wav", 0.7, 8000), ("c.wav", 1.3, SAMPLE_RATE)):
        soundfile.write(folder / name, (0.1 * torch.randn(int(seconds * rate), generator=generator)).numpy(), rate)
    soundfile.write(tmp_path / "single.flac", (0.1 * torch.randn(9000, generator=generator)).numpy(), SAMPLE_RATE)
    (folder / "notes.txt").write_text("not audio")
    return tmp_path


def lines_of(text):
    return [line.split("\t") for line in text.splitlines()]


def test_files_and_folders_get_path_tab_score_lines_equal_to_the_python_api(trained_on_files, recordings, capsys, monkeypatch):
    monkeypatch.chdir(recordings)
    assert main([str(trained_on_files), "recordings", "single.flac"]) == 0
    lines = lines_of(capsys.readouterr().out)
    paths = ["recordings/a.flac", "recordings/c.wav", "recordings/day 2/b.wav", "single.flac"]
    assert [path for path, _ in lines] == paths
    expected = load_countermeasure(trained_on_files).score_files(paths)
    assert [float(score) for _, score in lines] == pytest.approx([expected[path] for path in paths], rel=1e-6)
    assert main([str(trained_on_files / "checkpoints" / "best.pt"), "single.flac", "--output", "scores.txt"]) == 0
    assert lines_of((recordings / "scores.txt").read_text()) == [lines[-1]]


def test_probability_adds_the_calibrated_probability_and_evaluate_reads_the_file(trained_on_files, recordings, capsys):
    from reporting.score_files import read_score_file

    output = recordings / "scores.txt"
    assert main([str(trained_on_files), str(recordings / "recordings"), "--probability", "--output", str(output)]) == 0
    rows = lines_of(output.read_text())
    countermeasure = load_countermeasure(trained_on_files)
    scores = [float(score) for _, score, _ in rows]
    assert [float(probability) for _, _, probability in rows] == pytest.approx(countermeasure.probabilities(scores).tolist(), rel=1e-9)
    assert read_score_file(output).scores.tolist() == scores
    assert main([str(trained_on_files), str(recordings / "single.flac"), "--calibration", "x.json"]) == 2
    assert "add --probability" in capsys.readouterr().err


@pytest.mark.parametrize("export_format", ["onnx", "torchscript"])
def test_export_writes_the_model(export_format, trained_on_files, tmp_path, capsys):
    assert main([str(trained_on_files), "--export", export_format, "--output", str(tmp_path / "model")]) == 0
    assert f"({export_format}, LFCC -> MHFA -> EmbeddingFF -> AdditiveAngularMargin)" in capsys.readouterr().err
    assert (tmp_path / "model").stat().st_size > 10_000


def test_bad_audio_stops_or_is_skipped_by_name(trained_on_files, recordings, capsys):
    broken = recordings / "recordings" / "broken.wav"
    broken.write_bytes(b"RIFF....not a wave")
    assert main([str(trained_on_files), str(recordings / "recordings")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and str(broken) in error and "--on_bad_audio skip" in error
    assert main([str(trained_on_files), str(recordings / "recordings"), "--on_bad_audio", "skip"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 3 and f"skipped as bad audio: {broken}" in captured.err


@pytest.mark.parametrize(
    "arguments, message",
    [
        (lambda run, tmp: [run, str(tmp / "missing.wav")], "missing.wav is neither an audio file nor a folder"),
        (lambda run, tmp: [run, str(tmp)], "no audio file (.wav, .flac, .ogg, .mp3) in"),
        (lambda run, tmp: [run], "give the audio files or folders to score after MODEL"),
        (lambda run, tmp: [run, "--export", "onnx"], "--export writes the model to --output"),
        (lambda run, tmp: [str(tmp / "nothing.pt"), f"{run}/train.log"], "MODEL {tmp}/nothing.pt does not exist"),
        (lambda run, tmp: [str(tmp), f"{run}/train.log"], "MODEL {tmp}/checkpoints/best.pt does not exist"),
        pytest.param(
            lambda run, tmp: [run, f"{run}/train.log", "--device", "cuda"], "--device cuda: no CUDA device is available",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is available here"),
        ),
    ],
    ids=["missing input", "empty folder", "no input", "export without output", "missing model", "folder that is no run", "no cuda"],
)
def test_mistakes_exit_2_in_one_line_and_write_nothing(arguments, message, trained_on_files, tmp_path, capsys):
    code = main(arguments(str(trained_on_files), tmp_path))
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1 and message.format(tmp=tmp_path) in error, error
    assert list(tmp_path.iterdir()) == []


def test_the_output_folder_is_created(trained_on_files, recordings):
    output = recordings / "new" / "scores.txt"
    assert main([str(trained_on_files), str(recordings / "single.flac"), "--output", str(output)]) == 0
    assert len(output.read_text().splitlines()) == 1
