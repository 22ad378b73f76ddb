# Sourced by every recipe: where Python, the corpora and the runs are, and the command that runs.
#
# PYTHON     the interpreter (default: the repository's .venv/bin/python)
# DATA_ROOT  the folder of the corpora (default: $CA_MHFA_DATA_ROOT, else ./data)
# RUNS_DIR   the recipe's run directories and its results.csv (default: runs/recipes)
REPOSITORY="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
PYTHON="${PYTHON:-$REPOSITORY/.venv/bin/python}"
DATA_ROOT="${DATA_ROOT:-${CA_MHFA_DATA_ROOT:-data}}"
RUNS_DIR="${RUNS_DIR:-runs/recipes}"
mkdir -p "$RUNS_DIR"

# Every recipe trains with --sampling shuffle: the authors' data loaders take each training utterance
# once per epoch in a random order (torch DataLoader shuffle=True, drop_last=True), and their class
# weights assume it.

# train_and_eval.py on DATA_ROOT, appending its row to RUNS_DIR/results.csv; the flags given win.
train_and_eval() {
    "$PYTHON" "$REPOSITORY/train_and_eval.py" --data_root "$DATA_ROOT" --results_csv "$RUNS_DIR/results.csv" "$@"
}
