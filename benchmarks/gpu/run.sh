#!/usr/bin/env bash
# GPU check on a lent machine with no network (see benchmarks/RESULTS.md, "GPU check").
# Prepare here, in the repository root, a folder gpu/ (ignored; carried to the machine):
#   gpu/wheels    formtune's dependencies missing from the machine's image, as cp312 wheels
#                 (pip download --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 ...)
#   gpu/skeleton  the default model's config and tokenizer files (its weights are too big to carry)
#   gpu/data      the demo dataset (formtune generate examples/support-ticket/task.yaml --out gpu/data)
# then run this script there with $OUT set. The model has random weights: speeds are real,
# quality numbers are not, so the training benchmark runs with --no-quality.
set -uo pipefail
export FORMTUNE_CACHE=/tmp/ftcache TOKENIZERS_PARALLELISM=false
nvidia-smi --query-gpu=name,memory.total --format=csv | tee $OUT/gpu.txt
python3 -m pip install -q --no-index --find-links gpu/wheels gpu/wheels/* 2>&1 | tail -3
python3 -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | tail -3
python3 -c "import torch, transformers, trl, peft; print(torch.__version__, transformers.__version__, trl.__version__, peft.__version__, torch.cuda.is_available())" | tee -a $OUT/gpu.txt
python3 benchmarks/gpu/make_model.py gpu/skeleton 2>&1 | tail -1 | tee -a $OUT/gpu.txt
timeout 300 python3 benchmarks/train_throughput.py --data gpu/data --no-quality > $OUT/train.txt 2>&1; echo "train rc=$?" >> $OUT/gpu.txt
timeout 150 python3 benchmarks/eval_throughput.py 32 --data gpu/data > $OUT/eval.txt 2>&1; echo "eval rc=$?" >> $OUT/gpu.txt
tail -n 5 $OUT/train.txt $OUT/eval.txt
