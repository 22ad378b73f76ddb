#!/usr/bin/env bash
# XLSR-TCM (Truong et al., Interspeech 2024): XLS-R 300M fine-tuned with the temporal-channel
# conformer back-end, trained on ASVspoof 2019 LA; an LA model (RawBoost 1+2) scored on 2021 LA and
# a DF model (RawBoost 3) scored on 2021 DF and In-the-Wild.
#
# Usage: recipes/xlsr_tcm.sh [train_and_eval.py flags]   (they go last on the training commands)
# Environment: PYTHON, DATA_ROOT, RUNS_DIR (recipes/common.sh); XLSR_PATH, a save_pretrained folder
#   of facebook/wav2vec2-xls-r-300m (default: the Hugging Face cache).
#
# source: ductuantruong/tcm_add README.md (main.py --algo 5 for LA, --algo 3 for DF) and main.py
#   (Adam over the whole model, lr 1e-6, weight_decay 1e-4, batch_size 20, CrossEntropyLoss weight
#   [0.1, 0.9] with class 1 = bona fide, the score the bona fide logit out[:, 1], emb-size 144,
#   heads 4, kernel_size 31, num_encoders 4 (the TCM defaults here); training stops after num_epochs
#   = 7 epochs without a lower dev loss or after 75 epochs; the final model averages the 5 epochs of
#   lowest dev loss)
# source: ductuantruong/tcm_add data_utils.py and utils.py (training, dev and eval: the first 66,800
#   samples, repeated when shorter; RawBoost before the cut)
# No flag here: its dev loss is computed on RawBoost-augmented dev audio (here: clean). The In-the-Wild score is not in
#   that repository.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# train TRACK ALGO [flags]: the model of one track, with RawBoost algorithm ALGO
train() {
    train_and_eval --dataset "ASVspoof2021${1}Dataset_single" \
        --extractor XLSR_300M ${XLSR_PATH:+--extractor_path "$XLSR_PATH"} --finetune --extractor_lr 1e-6 \
        --processor TCM --classifier Linear --loss CrossEntropy --class_weights bonafide=0.9,spoof=0.1 \
        --scoring bonafide_logit --optimizer adam --lr 1e-6 --weight_decay 1e-4 --batch_size 20 --sampling shuffle -ep 75 \
        --select dev_loss --patience 7 --average best:5 \
        -a rawboost --algo "$2" \
        --max_len 66800samples --crop first --eval_max_len 66800samples \
        --output_dir "$RUNS_DIR/xlsr_tcm_${1,,}" "${@:3}"
}
train LA 5 "$@"
train DF 3 "$@"
# In-the-Wild with the DF model (its --limit, --eval_max_len and --precision)
train_and_eval --eval_only --checkpoint "$RUNS_DIR/xlsr_tcm_df/checkpoints/average.pt" \
    --dataset InTheWildDataset_single --output_dir "$RUNS_DIR/xlsr_tcm_df_itw"
