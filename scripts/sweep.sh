#!/usr/bin/env bash
# Sweep losses x margins x seeds through train_and_eval.py into one results CSV.
#
#   scripts/sweep.sh                                   # defaults below, run here one after another
#   LOSSES="CrossEntropy ArcFace" MARGINS="0.2 0.3 0.5" SEEDS="0 1 2" scripts/sweep.sh -ep 5
#   CLUSTER=slurm GPUS=1 JOB_DIR=runs/sweep_job scripts/sweep.sh -ep 20      # writes an array job
#
# Losses without a --margin parameter run once per seed. Extra arguments go to every run.
# All runs use --classifier EmbeddingFF, which serves logits and embedding losses alike.
# With CLUSTER (slurm, pbs or sge) nothing runs here: JOB_DIR receives job.sh, an array job of one
# task per run (submit it with sbatch, qsub), and tasks/<N>.args, the arguments of task N
# (NUL-separated, read back as data, never evaluated); task N's run directory is runs/<N> under
# JOB_DIR, so that a task started again (requeued after pre-emption) resumes its run; every task
# appends to RESULTS_CSV under its lock. GPUS asks each task for that many GPUs (default 0);
# JOB_NAME names the job.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
read -r -a losses <<< "${LOSSES:-CrossEntropy AdditiveAngularMargin}"
read -r -a margins <<< "${MARGINS:-0.2 0.35 0.5}"
read -r -a seeds <<< "${SEEDS:-0 1 2}"
RESULTS_CSV=${RESULTS_CSV:-runs/sweep_results.csv}
CLUSTER=${CLUSTER:-}
GPUS=${GPUS:-0}
JOB_DIR=${JOB_DIR:-runs/sweep_job}
JOB_NAME=${JOB_NAME:-ca-mhfa-sweep}

takes_margin() {  # the loss name is passed as an argument, never pasted into the code
    "$PYTHON" -c 'import sys, common; sys.exit(0 if "margin" in common.LOSS_METADATA[common.parse_loss_spec(sys.argv[1])[0]]["parameters"] else 1)' "$1"
}

case "$CLUSTER" in
    "" | slurm | pbs | sge) ;;
    *) echo "sweep.sh: CLUSTER=$CLUSTER is not one of slurm, pbs, sge (or empty: run here)" >&2; exit 2 ;;
esac
if ! [[ "$GPUS" =~ ^[0-9]+$ ]]; then
    echo "sweep.sh: GPUS=$GPUS is not a whole number" >&2; exit 2
fi
# both end up in the job script's directives: plain names only
if ! [[ "$JOB_NAME" =~ ^[A-Za-z0-9._-]+$ && "$JOB_DIR" =~ ^[A-Za-z0-9._/-]+$ ]]; then
    echo "sweep.sh: JOB_NAME and JOB_DIR may hold letters, digits and . _ - (and / in JOB_DIR) only" >&2; exit 2
fi

tasks=0
if [ -n "$CLUSTER" ]; then
    if [ -n "$(ls -A "$JOB_DIR/runs" 2>/dev/null)" ]; then
        echo "sweep.sh: JOB_DIR=$JOB_DIR holds the runs of an earlier sweep; give another JOB_DIR" >&2; exit 2
    fi
    mkdir -p "$JOB_DIR/tasks" "$JOB_DIR/logs" "$JOB_DIR/runs"
    rm -f "$JOB_DIR"/tasks/*.args
fi
for loss in "${losses[@]}"; do
    if takes_margin "$loss"; then loss_margins=("${margins[@]}"); else loss_margins=("-"); fi
    for margin in "${loss_margins[@]}"; do
        for seed in "${seeds[@]}"; do
            arguments=(--classifier EmbeddingFF --loss "$loss" --seed "$seed" --results_csv "$RESULTS_CSV")
            [ "$margin" = "-" ] || arguments+=(--margin "$margin")
            arguments+=("$@")
            if [ -n "$CLUSTER" ]; then
                tasks=$((tasks + 1))
                printf '%s\0' "${arguments[@]}" > "$JOB_DIR/tasks/$tasks.args"
            else
                echo "=== loss $loss margin $margin seed $seed"
                "$PYTHON" train_and_eval.py "${arguments[@]}"
            fi
        done
    done
done

if [ -z "$CLUSTER" ]; then
    "$PYTHON" scripts/report.py "$RESULTS_CSV"
    exit 0
fi

job="$JOB_DIR/job.sh"
repository=$(pwd)
case "$CLUSTER" in
    slurm)
        index='${SLURM_ARRAY_TASK_ID}'
        header="#SBATCH --job-name=$JOB_NAME
#SBATCH --array=1-$tasks
#SBATCH --output=$JOB_DIR/logs/%A_%a.out"
        [ "$GPUS" -gt 0 ] && header+="
#SBATCH --gres=gpu:$GPUS"
        ;;
    pbs)
        index='${PBS_ARRAY_INDEX:-${PBS_ARRAYID}}'
        header="#PBS -N $JOB_NAME
#PBS -J 1-$tasks
#PBS -j oe
#PBS -o $JOB_DIR/logs/"
        [ "$GPUS" -gt 0 ] && header+="
#PBS -l select=1:ngpus=$GPUS"
        ;;
    sge)
        index='${SGE_TASK_ID}'
        header="#\$ -N $JOB_NAME
#\$ -t 1-$tasks
#\$ -j y
#\$ -o $JOB_DIR/logs/"
        [ "$GPUS" -gt 0 ] && header+="
#\$ -l gpu=$GPUS"
        ;;
esac
{
    echo "#!/usr/bin/env bash"
    echo "$header"
    echo "# written by scripts/sweep.sh: task N runs train_and_eval.py with the arguments in tasks/N.args"
    echo "set -euo pipefail"
    printf 'cd %q\n' "$repository"
    printf 'PYTHON=%q\n' "$PYTHON"
    printf 'TASKS=%q\n' "$JOB_DIR/tasks"
    printf 'RUNS=%q\n' "$JOB_DIR/runs"
    echo "TASK=$index"
    echo 'if [ -f "$RUNS/$TASK/config.json" ]; then  # started before: continue that run'
    echo '    exec "$PYTHON" train_and_eval.py --resume "$RUNS/$TASK"'
    echo 'fi'
    echo 'mapfile -d "" -t arguments < "$TASKS/$TASK.args"'
    echo 'exec "$PYTHON" train_and_eval.py "${arguments[@]}" --output_dir "$RUNS/$TASK"'
} > "$job"
chmod +x "$job"
echo "wrote $job: an array job of $tasks tasks for $CLUSTER; submit it with $([ "$CLUSTER" = slurm ] && echo sbatch || echo qsub) $job"
