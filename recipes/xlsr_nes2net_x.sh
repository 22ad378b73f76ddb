#!/usr/bin/env bash
# XLSR-Nes2Net-X (Liu et al., IEEE TIFS 2025): XLS-R 300M fine-tuned with the Nes2Net-X back-end, one
# model trained on ASVspoof 2019 LA (RawBoost 1+2+3), scored on 2021 DF, 2021 LA and In-the-Wild.
#
# Usage: recipes/xlsr_nes2net_x.sh [train_and_eval.py flags]   (they go last on the training command)
# Environment: PYTHON, DATA_ROOT, RUNS_DIR (recipes/common.sh); XLSR_PATH, a save_pretrained folder
#   of facebook/wav2vec2-xls-r-300m (default: the Hugging Face cache).
#
# source: Liu-Tianchi/Nes2Net_ASVspoof_ITW README.md (main.py --lr=0.00000025 --batch_size=12
#   --algo 4 --num_epochs 100 --pool_func 'mean' --SE_ratio 1 --Nes_ratio 8 8, the Nes2Net-X defaults
#   here; the checkpoints to test or to average are the epochs of smallest dev EER, 5 of them for the
#   table's best 2021 DF result; the one model scored on LA, DF and In-the-Wild)
# source: Liu-Tianchi/Nes2Net_ASVspoof_ITW main.py (Adam over the whole model, weight_decay 1e-4,
#   CrossEntropyLoss weight [0.1, 0.9] with class 1 = bona fide; the score the bona fide logit
#   out[:, 1]) and data_utils_SSL.py (training and dev: the first 64,600 samples after RawBoost,
#   repeated when shorter; 2021 eval: the first 64,600)
# No flag here: main.py scores In-the-Wild on whole utterances (--test_protocol full), but
#   --eval_only keeps the training run's --eval_max_len (64,600 samples) and has no value for whole
#   utterances. Its dev loss is also computed on RawBoost-augmented dev audio.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

train_and_eval --dataset ASVspoof2021DFDataset_single \
    --extractor XLSR_300M ${XLSR_PATH:+--extractor_path "$XLSR_PATH"} --finetune --extractor_lr 2.5e-7 \
    --processor Nes2Net-X --classifier Linear --loss CrossEntropy --class_weights bonafide=0.9,spoof=0.1 \
    --scoring bonafide_logit --optimizer adam --lr 2.5e-7 --weight_decay 1e-4 --batch_size 12 --sampling shuffle -ep 100 \
    --average best:5 \
    -a rawboost --algo 4 \
    --max_len 64600samples --crop first --eval_max_len 64600samples \
    --output_dir "$RUNS_DIR/xlsr_nes2net_x_df" "$@"
# the same model on 2021 LA and on In-the-Wild (its --limit, --eval_max_len and --precision)
train_and_eval --eval_only --checkpoint "$RUNS_DIR/xlsr_nes2net_x_df/checkpoints/average.pt" \
    --dataset ASVspoof2021LADataset_single --output_dir "$RUNS_DIR/xlsr_nes2net_x_df_la"
train_and_eval --eval_only --checkpoint "$RUNS_DIR/xlsr_nes2net_x_df/checkpoints/average.pt" \
    --dataset InTheWildDataset_single --output_dir "$RUNS_DIR/xlsr_nes2net_x_df_itw"
