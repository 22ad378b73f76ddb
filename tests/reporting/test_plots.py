"""plots.py writes readable PNG files for ordinary, tied, tiny and degenerate score sets."""
from __future__ import annotations

import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest

from reporting.plots import plot_det_curve, plot_score_histogram

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_rng = np.random.default_rng(11)
SCORE_SETS = {
    "continuous": (_rng.normal(2, 1, 2000), _rng.normal(-1, 1.5, 5000)),
    "ties": (np.round(_rng.normal(1, 1, 300), 0), np.round(_rng.normal(0, 1, 700), 0)),
    "one-each": ([0.3], [0.1]),
    "all-equal": ([0.5, 0.5], [0.5, 0.5, 0.5]),
    "separated": ([3.0, 4.0], [1.0, 2.0]),
    "inverted": ([1.0, 2.0], [3.0, 4.0]),
}


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 5_000, "an image with axes, labels and curves is larger than a few kilobytes"
    height, width, _ = matplotlib.image.imread(path).shape  # decodes the whole file
    assert height > 100 and width > 100


@pytest.mark.parametrize("name", SCORE_SETS)
def test_det_curve_is_written(tmp_path, name):
    path = tmp_path / "det.png"
    plot_det_curve(path, *SCORE_SETS[name], title=name)
    assert_png(path)


@pytest.mark.parametrize(("name", "threshold"), [(name, 0.4) for name in SCORE_SETS] + [("continuous", None)])
def test_score_histogram_is_written(tmp_path, name, threshold):
    path = tmp_path / "histogram.png"
    plot_score_histogram(str(path), *SCORE_SETS[name], title=name, threshold=threshold)
    assert_png(path)


def test_plots_leave_no_open_figures(tmp_path):
    open_before = plt.get_fignums()
    for run in range(2):
        plot_det_curve(tmp_path / f"det{run}.png", [1.0, 2.0], [0.0, 1.5])
        plot_score_histogram(tmp_path / f"histogram{run}.png", [1.0, 2.0], [0.0, 1.5], threshold=1.0)
    assert plt.get_fignums() == open_before


@pytest.mark.parametrize("plot", [plot_det_curve, plot_score_histogram])
def test_plots_refuse_a_missing_class(tmp_path, plot):
    with pytest.raises(ValueError, match=f"^{plot.__name__}: no spoof scores"):
        plot(tmp_path / "empty.png", [1.0, 2.0], [])
    assert not (tmp_path / "empty.png").exists()
