#!/usr/bin/env bash
# WavLM Base+ with CA-MHFA (Peng et al., ICASSP 2025) on ASVspoof 5 track 1, trained as
# wedefense trains WavLM + MHFA (wedefense_two_stages in recipes/common.sh: its settings and their
# sources): the back-end on the frozen WavLM first, then the whole model fine-tuned from the first
# stage's model. wedefense has no CA-MHFA recipe (the CA-MHFA paper is on speaker verification, with
# anti-spoofing among its other tasks): this is its MHFA recipe with the CA-MHFA back-end at the
# defaults here (64 groups of 3 context frames, compression 128, embedding 256).
#
# Usage: recipes/wavlm_ca_mhfa.sh [train_and_eval.py flags]   (they go last on both
#        commands, so they win)
# Environment: PYTHON, DATA_ROOT, RUNS_DIR, WAVLM_PATH (recipes/common.sh).
#
# source: zlin0/wedefense egs/detection/asvspoof5/v15_ssl_mhfa/conf/MHFA_wavlmplus.yaml (the back-end's
#   compression_dim 128 and embed_dim 256, kept for CA-MHFA)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

wedefense_two_stages wavlm_ca_mhfa --processor CA-MHFA --group_nb 64 --context 3 -- "$@"
