#!/usr/bin/env bash
# Sweep losses x margins x seeds through train_and_eval.py into one results CSV, then summarise it.
#
#   scripts/sweep.sh                                   # defaults below, on the built-in Synthetic corpus
#   LOSSES="CrossEntropy ArcFace" MARGINS="0.2 0.3 0.5" SEEDS="0 1 2" scripts/sweep.sh -ep 5
#
# Losses without a --margin parameter run once per seed. Extra arguments go to every run.
# All runs use --classifier EmbeddingFF, which serves logits and embedding losses alike.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
LOSSES=${LOSSES:-"CrossEntropy AdditiveAngularMargin"}
MARGINS=${MARGINS:-"0.2 0.35 0.5"}
SEEDS=${SEEDS:-"0 1 2"}
RESULTS_CSV=${RESULTS_CSV:-runs/sweep_results.csv}

takes_margin() {  # the loss name is passed as an argument, never pasted into the code
    "$PYTHON" -c 'import sys, common; sys.exit(0 if "margin" in common.LOSS_METADATA[common.parse_loss_spec(sys.argv[1])[0]]["parameters"] else 1)' "$1"
}

for loss in $LOSSES; do
    if takes_margin "$loss"; then margins=$MARGINS; else margins="-"; fi
    for margin in $margins; do
        for seed in $SEEDS; do
            margin_flag=()
            [ "$margin" = "-" ] || margin_flag=(--margin "$margin")
            echo "=== loss $loss margin $margin seed $seed"
            "$PYTHON" train_and_eval.py --classifier EmbeddingFF --loss "$loss" "${margin_flag[@]}" \
                --seed "$seed" --results_csv "$RESULTS_CSV" "$@"
        done
    done
done
"$PYTHON" scripts/summarize_results.py "$RESULTS_CSV"
