#!/usr/bin/env bash
# WavLM Base+ with MHFA (Peng et al., SLT 2022) on ASVspoof 5 track 1, in two stages as in
# wedefense: the back-end on the frozen WavLM first, then the whole model fine-tuned from the first
# stage's model (wedefense_two_stages in recipes/common.sh: its settings and their sources).
#
# Usage: recipes/wavlm_mhfa.sh [train_and_eval.py flags]   (they go last on both
#        commands, so they win)
# Environment: PYTHON, DATA_ROOT, RUNS_DIR, WAVLM_PATH (recipes/common.sh).
#
# source: zlin0/wedefense egs/detection/asvspoof5/v15_ssl_mhfa/conf/MHFA_wavlmplus.yaml (MHFA with
#   head_nb 32, compression_dim 128, embed_dim 256)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

wedefense_two_stages wavlm_mhfa --processor MHFA --head_nb 32 -- "$@"
