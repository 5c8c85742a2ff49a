#!/usr/bin/env bash
# GPU check on a lent machine with no network (see benchmarks/RESULTS.md, "GPU check").
# Prepare here, in the repository root, a folder gpu/ (ignored; carried to the machine):
#   gpu/wheels    formtune's dependencies missing from the machine's image, as cp312 wheels
#                 (pip download --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 ...)
#   gpu/parts     the default model in parts: python benchmarks/gpu/carry_model.py pack gpu/parts 4
#   gpu/data      the demo dataset: formtune generate examples/support-ticket/task.yaml --out gpu/data
# A call carries at most 64 MiB, so the parts go over in several calls to one warm machine, each
# copying what it carried to /root (kept while the machine stays warm):
#   call 1 carries gpu/parts/p1 gpu/data:   bash benchmarks/gpu/run.sh keep gpu/parts/p1 gpu/data
#   call 2 carries gpu/parts/p2 gpu/wheels: bash benchmarks/gpu/run.sh keep gpu/parts/p2 gpu/wheels
#   call 3 carries gpu/parts/p3:            bash benchmarks/gpu/run.sh keep gpu/parts/p3
#   call 4 carries gpu/parts/p4:            bash benchmarks/gpu/run.sh keep gpu/parts/p4 && bash benchmarks/gpu/run.sh bench
set -uo pipefail
export FORMTUNE_CACHE=/tmp/ftcache TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1 TMPDIR=/root/tmp
mkdir -p /root/parts /root/tmp
if [ "$1" = keep ]; then
    shift
    for folder in "$@"; do
        case $folder in
            gpu/parts/*) cp "$folder"/* /root/parts/ ;;
            gpu/wheels) python3 -m pip install -q --no-index --no-build-isolation --find-links gpu/wheels gpu/wheels/* 2>&1 | tail -3 ;;
            *) rm -rf "/root/$(basename "$folder")" && cp -r "$folder" /root/ ;;
        esac
    done
    ls /root/parts | tr '\n' ' '; echo
    exit 0
fi
nvidia-smi --query-gpu=name,memory.total --format=csv | tee $OUT/gpu.txt
python3 -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | tail -3
python3 -c "import torch, transformers, trl, peft; print(torch.__version__, transformers.__version__, trl.__version__, peft.__version__, torch.cuda.is_available())" | tee -a $OUT/gpu.txt
python3 benchmarks/gpu/carry_model.py unpack /root/parts 2>&1 | tail -1 | tee -a $OUT/gpu.txt
timeout 240 python3 benchmarks/train_throughput.py --data /root/data > $OUT/train.txt 2>&1; echo "train rc=$?" | tee -a $OUT/gpu.txt
adapter=$(ls -d /root/tmp/formtune-throughput-*/formtune-0/adapter | head -1)
timeout 60 python3 benchmarks/eval_throughput.py 32 --variant tuned --adapter "$adapter" --data /root/data > $OUT/eval-tuned.txt 2>&1; echo "eval tuned rc=$?" | tee -a $OUT/gpu.txt
timeout 90 python3 benchmarks/eval_throughput.py 8 --data /root/data > $OUT/eval-base.txt 2>&1; echo "eval base rc=$?" | tee -a $OUT/gpu.txt
timeout 150 python3 benchmarks/train_throughput.py --data /root/data --seed 1 > $OUT/train-seed1.txt 2>&1; echo "train seed 1 rc=$?" | tee -a $OUT/gpu.txt
tail -n 6 $OUT/*.txt
