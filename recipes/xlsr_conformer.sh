#!/usr/bin/env bash
# XLSR-Conformer (Rosello et al., Interspeech 2023), fixed-size training: XLS-R 300M fine-tuned with a
# conformer back-end, one model trained on ASVspoof 2019 LA (RawBoost 1+2), scored on 2021 LA and DF.
#
# Usage: recipes/xlsr_conformer.sh [train_and_eval.py flags]   (they go last on the training command)
# Environment: PYTHON, DATA_ROOT, RUNS_DIR (recipes/common.sh); XLSR_PATH, a save_pretrained folder
#   of facebook/wav2vec2-xls-r-300m (default: the Hugging Face cache).
#
# source: ErosRos/conformer-based-classifier-for-anti-spoofing main.py (Adam over the whole model,
#   lr 1e-6, weight_decay 1e-4, batch_size 20, CrossEntropyLoss weight [0.1, 0.9] with class 1 = bona
#   fide, the score the bona fide logit out[:, 1], --algo 5, emb-size 144, heads 4, kernel_size 31,
#   num_encoders 4 (the Conformer defaults here); training stops after num_epochs = 7 epochs without
#   a lower dev loss or after 75 epochs; the final model averages the 5 epochs of lowest dev loss;
#   track fixed to LA, the one model scored on the 2021 LA and DF eval sets)
# source: ErosRos/conformer-based-classifier-for-anti-spoofing data_utils.py and utils.py (training,
#   dev and eval: the first 66,800 samples, repeated when shorter; RawBoost before the cut)
# No flag here: its dev loss is computed on RawBoost-augmented dev audio (here: clean).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

train_and_eval --dataset ASVspoof2021LADataset_single \
    --extractor XLSR_300M ${XLSR_PATH:+--extractor_path "$XLSR_PATH"} --finetune --extractor_lr 1e-6 \
    --processor Conformer --classifier Linear --loss CrossEntropy --class_weights bonafide=0.9,spoof=0.1 \
    --scoring bonafide_logit --optimizer adam --lr 1e-6 --weight_decay 1e-4 --batch_size 20 --sampling shuffle -ep 75 \
    --select dev_loss --patience 7 --average best:5 \
    -a rawboost --algo 5 \
    --max_len 66800samples --crop first --eval_max_len 66800samples \
    --output_dir "$RUNS_DIR/xlsr_conformer_la" "$@"
# the same model on 2021 DF (its --limit, --eval_max_len and --precision)
train_and_eval --eval_only --checkpoint "$RUNS_DIR/xlsr_conformer_la/checkpoints/average.pt" \
    --dataset ASVspoof2021DFDataset_single --output_dir "$RUNS_DIR/xlsr_conformer_la_df"
