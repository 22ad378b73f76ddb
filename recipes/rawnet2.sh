#!/usr/bin/env bash
# RawNet2 (Tak et al., ICASSP 2021), the raw-waveform baseline of ASVspoof 2021: trained on ASVspoof
# 2019 LA, one model per track as the organisers trained them, scored on the 2021 LA and DF eval sets.
#
# Usage: recipes/rawnet2.sh [train_and_eval.py flags]   (they go last on both commands, so they win)
# Environment: PYTHON, DATA_ROOT, RUNS_DIR (recipes/common.sh).
#
# source: asvspoof-challenge/2021 LA/Baseline-RawNet2/main.py and DF/Baseline-RawNet2/main.py (the
#   same code and defaults: Adam, lr 1e-4, weight_decay 1e-4, batch_size 32, num_epochs 100;
#   CrossEntropyLoss weight [0.1, 0.9], class 1 = bona fide; the score out[:, 1] of a log-softmax,
#   which ranks trials as the bona fide log-odds here do; trained on 2019 LA train, validated on 2019
#   LA dev; a pre-trained model per track, DF/Baseline-RawNet2/README.md)
# source: asvspoof-challenge/2021 LA/Baseline-RawNet2/data_utils.py (training, dev and eval: the
#   first 64,600 samples, repeated when shorter) and model_config_RawNet.yaml (the model: the RawNet2
#   defaults here; DF's file is a link to LA's)
# No flag here: main.py keeps every epoch and names no rule to choose one (it prints the dev
#   accuracy); here the best dev EER epoch is kept.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

for track in LA DF; do
    train_and_eval --dataset "ASVspoof2021${track}Dataset_single" \
        --extractor SincRawNet2 --processor RawNet2 --classifier Linear --loss CrossEntropy \
        --class_weights bonafide=0.9,spoof=0.1 \
        --optimizer adam --lr 1e-4 --weight_decay 1e-4 --batch_size 32 --sampling shuffle -ep 100 \
        --max_len 64600samples --crop first --eval_max_len 64600samples \
        --output_dir "$RUNS_DIR/rawnet2_${track,,}" "$@"
done
