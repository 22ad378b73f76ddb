#!/usr/bin/env bash
# LFCC-LCNN (LCNN-LSTM-sum, Wang and Yamagishi, Interspeech 2021), the spectral baseline of ASVspoof
# 2021: trained on ASVspoof 2019 LA, one model per track as the organisers trained them, scored on the
# 2021 LA and DF eval sets.
#
# Usage: recipes/lfcc_lcnn.sh [train_and_eval.py flags]   (they go last on both commands, so they win)
# Environment: PYTHON, DATA_ROOT, RUNS_DIR (recipes/common.sh).
#
# source: asvspoof-challenge/2021 LA/Baseline-LFCC-LCNN/project/baseline_LA/00_train.sh and
#   DF/Baseline-LFCC-LCNN/project/baseline_DF/00_train.sh (the same: Adam, lr 3e-4, batch-size 64,
#   epochs 100, no-best-epochs 50, lr-decay-factor 0.5 with lr-scheduler-type 1, sampler
#   block_shuffle_by_length; a pre-trained model per track, project/00_download.sh)
# source: asvspoof-challenge/2021 LA/Baseline-LFCC-LCNN/core_scripts/op_manager/lr_scheduler.py
#   (type 1: StepLR, step 10 epochs) and core_scripts/nn_manager/nn_manager.py (the best epoch and
#   early stopping on the dev loss); baseline_LA/model.py (whole utterances, no truncation; no weight
#   decay, core_scripts/config_parse/arg_parse.py)
# No flag here: 00_train.sh starts from the released pre-trained network (--trained-model), here
#   training starts from scratch; model.py's LFCC takes a 1024-point FFT up to 4 kHz (ours: 512
#   points, the whole band) and its output is one logit with a sigmoid and BCE (ours: two logits and
#   cross-entropy); the dev loss is computed in training mode (dropout on). Its length-sorted batches
#   are what --bucket (on) does.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

for track in LA DF; do
    train_and_eval --dataset "ASVspoof2021${track}Dataset_single" \
        --extractor LFCC --processor LCNN --classifier Linear --loss CrossEntropy \
        --optimizer adam --lr 3e-4 --scheduler step --step_epochs 10 --decay_factor 0.5 \
        --batch_size 64 --sampling shuffle -ep 100 --select dev_loss --patience 50 \
        --output_dir "$RUNS_DIR/lfcc_lcnn_${track,,}" "$@"
done
