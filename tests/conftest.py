"""Shared fixtures: running the CLI for real, and paths to the shared test corpora."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"


def run_formtune(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
                 timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``python -m formtune ARGS`` in a subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "formtune", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=timeout)


@pytest.fixture
def formtune_cli():
    return run_formtune


@pytest.fixture(autouse=True)
def _isolated_plugin_env(monkeypatch):
    """Tests start from the default plugin set, whatever the developer's shell says."""
    monkeypatch.delenv("FORMTUNE_PLUGINS", raising=False)
    monkeypatch.delenv("FORMTUNE_DISABLE_PLUGINS", raising=False)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny random Llama (2 layers) with a byte-level BPE tokenizer and a ChatML template,
    saved as an ordinary HF folder: every code path of the real models, in seconds on CPU."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from formtune.models import CHATML_FALLBACK_TEMPLATE

    folder = tmp_path_factory.mktemp("tiny-model")
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    corpus = ['{"name": "Ada", "email": "ada@example.org", "age": 36}', "Extract the person as JSON.",
              "Hello, I'm Grace Hopper. Mail: grace@example.com", "system user assistant"] * 20
    bpe.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<|im_start|>", eos_token="<|im_end|>",
                                        pad_token="<|endoftext|>", chat_template=CHATML_FALLBACK_TEMPLATE)
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                         bos_token_id=tokenizer.bos_token_id, tie_word_embeddings=True)
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder
