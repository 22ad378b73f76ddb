#!/usr/bin/env bash
# WavLM Base+ with MHFA (Peng et al., SLT 2022) on ASVspoof 5 track 1, in two stages as in
# wedefense: the back-end on the frozen WavLM first, then the whole model fine-tuned from the first
# stage's model.
#
# Usage: recipes/wavlm_mhfa.sh [train_and_eval.py flags]   (they go last on both
#        commands, so they win)
# Environment: PYTHON, DATA_ROOT, RUNS_DIR (recipes/common.sh); WAVLM_PATH, a save_pretrained folder
#   of microsoft/wavlm-base-plus (default: the Hugging Face cache).
#
# source: zlin0/wedefense egs/detection/asvspoof5/v15_ssl_mhfa/conf/MHFA_wavlmplus.yaml (stage 1:
#   frozen wavlm_base_plus, every layer; head_nb 32, compression_dim 128, embed_dim 256, a softmax
#   output layer and cross-entropy; SGD, momentum 0.9, nesterov, weight_decay 1e-4;
#   ExponentialDecrease from 0.1 to 5e-4 with 2 warm-up epochs from zero; 20 epochs of batches
#   of 128; num_frms 150 of 20 ms: random 3 s crops, repeated when shorter; num_avg 2)
# source: zlin0/wedefense egs/detection/asvspoof5/v15_ssl_mhfa/conf/MHFA_wavlmplus-FT.yaml (stage 2:
#   frozen False; AdamW, weight_decay 1e-7; ExponentialDecrease from 1e-4 to 1e-6, 2 warm-up epochs
#   from zero; 5 epochs of batches of 32)
# source: zlin0/wedefense wedefense/bin/train.py and wedefense/utils/schedulers.py (the rates above
#   are scaled by batch size / 64, one rate for the SSL model and the back-end: 0.2 to 1e-3 in
#   stage 1, 5e-5 to 5e-7 in stage 2), bin/average_model.py (the final model averages the last
#   num_avg epochs) and egs/detection/asvspoof5/v14_ssl_sls/run_ft.sh (stage 2 starts from stage 1's
#   averaged model at epoch 1, with num_avg 1: its last epoch); dev and eval are scored on whole
#   utterances (wedefense/bin/extract.py)
# No flag here: wedefense's exponential decay runs from the first step, the warm-up multiplying it
#   (here it starts after the warm-up); its features are mean-normalised over time (cmvn) before
#   MHFA; stage 2 scales the CNN's gradients by feature_grad_mult 0.1; utterances outside 50-400
#   frames are filtered out of training; its scores are LLRs calibrated with the training class
#   counts (here: the bona fide log-odds; EER and minDCF are the same). It uses no dev set in
#   training; here dev is scored every epoch.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# the model, the same in both stages (--init_from starts from a model of the same stages)
MODEL=(--extractor WavLM_base_plus ${WAVLM_PATH:+--extractor_path "$WAVLM_PATH"}
    --processor MHFA --head_nb 32 --compression_dim 128 --embedding_dim 256
    --classifier Linear --loss CrossEntropy)

# stage 1: MHFA on the frozen WavLM Base+
train_and_eval --dataset ASVspoof5Dataset_single "${MODEL[@]}" \
    --optimizer sgd --momentum 0.9 --nesterov --weight_decay 1e-4 \
    --scheduler exponential --lr 0.2 --min_lr 1e-3 --warmup_epochs 2 \
    --batch_size 128 --sampling shuffle -ep 20 --average last:2 --max_len 3 --crop random \
    --output_dir "$RUNS_DIR/wavlm_mhfa_frozen" "$@"
# stage 2: the whole model fine-tuned from stage 1's averaged model
train_and_eval --dataset ASVspoof5Dataset_single "${MODEL[@]}" \
    --init_from "$RUNS_DIR/wavlm_mhfa_frozen/checkpoints/average.pt" --finetune --extractor_lr 5e-5 \
    --optimizer adamw --weight_decay 1e-7 \
    --scheduler exponential --lr 5e-5 --min_lr 5e-7 --warmup_epochs 2 \
    --batch_size 32 --sampling shuffle -ep 5 --average last:1 --max_len 3 --crop random \
    --output_dir "$RUNS_DIR/wavlm_mhfa_finetuned" "$@"
