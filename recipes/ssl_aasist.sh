#!/usr/bin/env bash
# SSL-AASIST (Tak et al., Odyssey 2022): XLS-R 300M fine-tuned with the AASIST back-end, trained on
# ASVspoof 2019 LA; an LA model (RawBoost 1+2) scored on 2021 LA and a DF model (RawBoost 3) scored
# on 2021 DF and In-the-Wild.
#
# Usage: recipes/ssl_aasist.sh [train_and_eval.py flags]   (they go last on the training commands)
# Environment: PYTHON, DATA_ROOT, RUNS_DIR (recipes/common.sh); XLSR_PATH, a save_pretrained folder
#   of facebook/wav2vec2-xls-r-300m (default: the Hugging Face cache).
#
# source: TakHemlata/SSL_Anti-spoofing main_SSL_LA.py (Adam over the whole model, lr 1e-6,
#   weight_decay 1e-4, batch_size 14, num_epochs 100, CrossEntropyLoss weight [0.1, 0.9] with class 1
#   = bona fide, the score the bona fide logit out[:, 1], --algo 5) and main_SSL_DF.py (the same with
#   --algo 3); README.md (train with --lr=0.000001 --batch_size=14; a pre-trained LA and DF model)
# source: TakHemlata/SSL_Anti-spoofing data_utils_SSL.py (RawBoost on the whole utterance, then its
#   first 64,600 samples, repeated when shorter; eval: the first 64,600 samples)
# No flag here: main_SSL_*.py keep every epoch and name no rule to choose one (they print the dev
#   loss, on RawBoost-augmented dev audio); here the best dev EER epoch on clean dev audio is kept.
#   The In-the-Wild score is not in that repository.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# train TRACK ALGO [flags]: the model of one track, with RawBoost algorithm ALGO
train() {
    train_and_eval --dataset "ASVspoof2021${1}Dataset_single" \
        --extractor XLSR_300M ${XLSR_PATH:+--extractor_path "$XLSR_PATH"} --finetune --extractor_lr 1e-6 \
        --processor AASIST --classifier Linear --loss CrossEntropy --class_weights bonafide=0.9,spoof=0.1 \
        --scoring bonafide_logit --optimizer adam --lr 1e-6 --weight_decay 1e-4 --batch_size 14 --sampling shuffle -ep 100 \
        -a rawboost --algo "$2" \
        --max_len 64600samples --crop first --eval_max_len 64600samples \
        --output_dir "$RUNS_DIR/ssl_aasist_${1,,}" "${@:3}"
}
train LA 5 "$@"
train DF 3 "$@"
# In-the-Wild with the DF model (its --limit, --eval_max_len and --precision)
train_and_eval --eval_only --checkpoint "$RUNS_DIR/ssl_aasist_df/checkpoints/best.pt" \
    --dataset InTheWildDataset_single --output_dir "$RUNS_DIR/ssl_aasist_df_itw"
