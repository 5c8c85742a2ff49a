#!/usr/bin/env bash
# Training settings side by side on one lent GPU (see benchmarks/RESULTS.md, "What the tuned model
# alone needs"). The default model goes over in parts as for run.sh (three `run.sh keep` calls), then
# the last call carries gpu/parts/p4 and gpu/sweep:  bash benchmarks/gpu/run.sh keep gpu/parts/p4 && bash benchmarks/gpu/sweep.sh
# Prepare gpu/sweep/ here (ignored; carried):
#   gpu/sweep/<folder>/  a copy of an example (task.yaml and its files) with its `training.seed` set,
#                        and its dataset made here: formtune generate <folder>/task.yaml --out <folder>/data
#                        (one folder per run that trains at the same time: a dataset folder has a lock)
#   gpu/sweep/plan.txt   one run per line: NAME FOLDER [formtune train options], e.g.
#                        r300e2s0 t300s0 --epochs 2
# Each run trains, evaluates its tuned model on the held-out split, and prints schema-valid, field F1
# and exact match; every run of the plan starts at once.
set -uo pipefail
export FORMTUNE_CACHE=/tmp/ftcache TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1 TMPDIR=/root/tmp OMP_NUM_THREADS=2
mkdir -p /root/tmp /root/runs /root/logs
nvidia-smi --query-gpu=name --format=csv,noheader | tee "$OUT/gpu.txt"
python3 -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | tail -2
python3 benchmarks/gpu/carry_model.py unpack /root/parts 2>&1 | tail -1 | tee -a "$OUT/gpu.txt"
one() {  # NAME FOLDER [train options]
    local name=$1 dir=gpu/sweep/$2
    shift 2
    timeout 300 python3 -m formtune train "$dir/task.yaml" --data "$dir/data" --out "/root/runs/$name" "$@" \
        > "/root/logs/$name.train.log" 2>&1
    echo "$name train rc=$? at $SECONDS s" >> "$OUT/gpu.txt"
    timeout 170 python3 -m formtune eval "/root/runs/$name" --variant tuned > "/root/logs/$name.eval.log" 2>&1
    echo "$name eval rc=$? at $SECONDS s" >> "$OUT/gpu.txt"
    cp "/root/runs/$name/metrics.json" "$OUT/$name.metrics.json" 2>/dev/null
}
SECONDS=0
while read -r name folder options; do
    [ -n "$name" ] && one "$name" "$folder" $options &
done < gpu/sweep/plan.txt
wait
cat "$OUT/gpu.txt"
for f in "$OUT"/*.metrics.json; do
    python3 -c "import json, sys; v = json.load(open(sys.argv[1]))['variants']['tuned']
print(sys.argv[1].split('/')[-1][:-13], round(v['schema_valid'], 3), round(v['field_f1'], 3), round(v['exact_match'], 3))" "$f"
done
grep -q "rc=[1-9]" "$OUT/gpu.txt" && tail -n 5 /root/logs/*.log
exit 0
