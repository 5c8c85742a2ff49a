"""On the GPU machine: the default model's architecture and tokenizer with random weights (the real
weights are too big to carry), saved where formtune looks for the default model."""
import os, shutil, sys
from pathlib import Path
import torch
from transformers import AutoConfig, AutoModelForCausalLM

skeleton = Path(sys.argv[1])
final = Path(os.environ["FORMTUNE_CACHE"]) / "models" / "SmolLM2-135M-Instruct"
final.mkdir(parents=True, exist_ok=True)
torch.manual_seed(0)
model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(skeleton), dtype=torch.float32)
model.save_pretrained(final)
for f in skeleton.iterdir():
    if f.name != "config.json":
        shutil.copy(f, final / f.name)
print("random-weight default model at", final, sum(p.numel() for p in model.parameters()))
