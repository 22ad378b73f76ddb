#!/usr/bin/env bash
# XLS-R + SLS (Zhang, Wen and Hu, ACM MM 2024): XLS-R 300M fine-tuned with the sensitive layer
# selection back-end, one model trained on ASVspoof 2019 LA, scored on 2021 DF, 2021 LA and
# In-the-Wild.
#
# Usage: recipes/xlsr_sls.sh [train_and_eval.py flags]   (they go last on the training command)
# Environment: PYTHON, DATA_ROOT, RUNS_DIR (recipes/common.sh); XLSR_PATH, a save_pretrained folder
#   of facebook/wav2vec2-xls-r-300m (default: the Hugging Face cache).
#
# source: QiShanZhang/SLSforADD README.md (main.py --track=DF --lr=0.000001 --batch_size=5
#   --num_epochs=50; the one model scored on DF, LA and In-the-Wild) and main.py (Adam over the whole
#   model, weight_decay 1e-4, CrossEntropyLoss weight [0.1, 0.9] with class 1 = bona fide, --algo 3;
#   the score out[:, 1] of a log-softmax, model.py, which ranks trials as the bona fide log-odds here
#   do)
# source: QiShanZhang/SLSforADD data_utils_SSL.py (RawBoost on the whole utterance, then its
#   first 64,600 samples, repeated when shorter; every eval set: the first 64,600 samples)
# No flag here: main.py uses no dev set; it stops once the training loss of an epoch does not fall
#   (patience 1) and names the epoch before as the best; here the best dev EER epoch is kept.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

train_and_eval --dataset ASVspoof2021DFDataset_single \
    --extractor XLSR_300M ${XLSR_PATH:+--extractor_path "$XLSR_PATH"} --finetune --extractor_lr 1e-6 \
    --processor SLS --classifier Linear --loss CrossEntropy --class_weights bonafide=0.9,spoof=0.1 \
    --optimizer adam --lr 1e-6 --weight_decay 1e-4 --batch_size 5 --sampling shuffle -ep 50 \
    -a rawboost --algo 3 \
    --max_len 64600samples --crop first --eval_max_len 64600samples \
    --output_dir "$RUNS_DIR/xlsr_sls_df" "$@"
# the same model on 2021 LA and on In-the-Wild (its --limit, --eval_max_len and --precision)
train_and_eval --eval_only --checkpoint "$RUNS_DIR/xlsr_sls_df/checkpoints/best.pt" \
    --dataset ASVspoof2021LADataset_single --output_dir "$RUNS_DIR/xlsr_sls_df_la"
train_and_eval --eval_only --checkpoint "$RUNS_DIR/xlsr_sls_df/checkpoints/best.pt" \
    --dataset InTheWildDataset_single --output_dir "$RUNS_DIR/xlsr_sls_df_itw"
