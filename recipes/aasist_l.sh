#!/usr/bin/env bash
# AASIST-L (Jung et al., ICASSP 2022), the light AASIST, on ASVspoof 2019 LA, trained as in its
# authors' repository.
#
# Usage: recipes/aasist_l.sh [train_and_eval.py flags]   (they go last, so they win)
# Environment: PYTHON, DATA_ROOT, RUNS_DIR (recipes/common.sh).
#
# source: clovaai/aasist config/AASIST-L.conf (batch_size 24, num_epochs 100, nb_samp 64600; Adam,
#   base_lr 1e-4, lr_min 5e-6, weight_decay 1e-4, cosine scheduler; the model settings are the
#   RawAASIST-L defaults here)
# source: clovaai/aasist main.py (CrossEntropyLoss weight [0.1, 0.9], class 1 = bona fide; the score
#   is the bona fide logit out[:, 1]; the cosine is stepped every batch, utils.py) and data_utils.py
#   (training: a random 64,600-sample crop, repeated when shorter; dev and eval: the first 64,600
#   samples)
# No flag here: main.py's final model is a stochastic weight average (torchcontrib SWA) of the epochs
#   at which the dev EER improved, with the BatchNorm statistics recomputed; here the best dev EER
#   epoch is kept.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

train_and_eval --dataset ASVspoof2019LADataset_single \
    --extractor SincAASIST --processor RawAASIST-L --classifier Linear --loss CrossEntropy \
    --class_weights bonafide=0.9,spoof=0.1 --scoring bonafide_logit \
    --optimizer adam --lr 1e-4 --weight_decay 1e-4 --scheduler cosine --min_lr 5e-6 \
    --batch_size 24 --sampling shuffle -ep 100 \
    --max_len 64600samples --crop random --eval_max_len 64600samples \
    --output_dir "$RUNS_DIR/aasist_l" "$@"
