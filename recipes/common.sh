# Sourced by every recipe: where Python, the corpora and the runs are, and the command that runs.
#
# PYTHON     the interpreter (default: the repository's .venv/bin/python)
# DATA_ROOT  the folder of the corpora (default: $CA_MHFA_DATA_ROOT, else ./data)
# RUNS_DIR   the recipe's run directories and its results.csv (default: runs/recipes)
REPOSITORY="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
PYTHON="${PYTHON:-$REPOSITORY/.venv/bin/python}"
DATA_ROOT="${DATA_ROOT:-${CA_MHFA_DATA_ROOT:-data}}"
RUNS_DIR="${RUNS_DIR:-runs/recipes}"
mkdir -p "$RUNS_DIR"

# Every recipe trains with --sampling shuffle: the authors' data loaders take each training utterance
# once per epoch in a random order (torch DataLoader shuffle=True, drop_last=True), and their class
# weights assume it.

# train_and_eval.py on DATA_ROOT, appending its row to RUNS_DIR/results.csv; the flags given win.
train_and_eval() {
    "$PYTHON" "$REPOSITORY/train_and_eval.py" --data_root "$DATA_ROOT" --results_csv "$RUNS_DIR/results.csv" "$@"
}

# WeDefense's two stages for a back-end on WavLM Base+ on ASVspoof 5 track 1: the back-end on the
# frozen WavLM, then the whole model fine-tuned from the first stage's averaged model.
#   wedefense_two_stages RUN_NAME BACKEND_FLAGS... -- FLAGS_GIVEN...
# runs RUN_NAME_frozen and RUN_NAME_finetuned under RUNS_DIR; WAVLM_PATH: a save_pretrained folder of
# microsoft/wavlm-base-plus (default: the Hugging Face cache).
# source: zlin0/wedefense egs/detection/asvspoof5/v15_ssl_mhfa/conf/MHFA_wavlmplus.yaml (stage 1:
#   frozen wavlm_base_plus, every layer; compression_dim 128, embed_dim 256, a softmax output layer
#   and cross-entropy; SGD, momentum 0.9, nesterov, weight_decay 1e-4; ExponentialDecrease from 0.1
#   to 5e-4 with 2 warm-up epochs from zero; 20 epochs of batches of 128; num_frms 150 of 20 ms:
#   random 3 s crops, repeated when shorter; num_avg 2)
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
#   the back-end; stage 2 scales the CNN's gradients by feature_grad_mult 0.1; utterances outside 50-400
#   frames are filtered out of training; its scores are LLRs calibrated with the training class
#   counts (here: the bona fide log-odds; EER and minDCF are the same). It uses no dev set in
#   training; here dev is scored every epoch.
wedefense_two_stages() {
    local name=$1 backend=()
    shift
    while [ "$1" != "--" ]; do backend+=("$1"); shift; done
    shift
    # the model, the same in both stages (--init_from starts from a model of the same stages)
    local model=(--extractor WavLM_base_plus ${WAVLM_PATH:+--extractor_path "$WAVLM_PATH"}
        "${backend[@]}" --compression_dim 128 --embedding_dim 256 --classifier Linear --loss CrossEntropy)
    train_and_eval --dataset ASVspoof5Dataset_single "${model[@]}" \
        --optimizer sgd --momentum 0.9 --nesterov --weight_decay 1e-4 \
        --scheduler exponential --lr 0.2 --min_lr 1e-3 --warmup_epochs 2 \
        --batch_size 128 --sampling shuffle -ep 20 --average last:2 --max_len 3 --crop random \
        --output_dir "$RUNS_DIR/${name}_frozen" "$@"
    train_and_eval --dataset ASVspoof5Dataset_single "${model[@]}" \
        --init_from "$RUNS_DIR/${name}_frozen/checkpoints/average.pt" --finetune --extractor_lr 5e-5 \
        --optimizer adamw --weight_decay 1e-7 \
        --scheduler exponential --lr 5e-5 --min_lr 5e-7 --warmup_epochs 2 \
        --batch_size 32 --sampling shuffle -ep 5 --average last:1 --max_len 3 --crop random \
        --output_dir "$RUNS_DIR/${name}_finetuned" "$@"
}
