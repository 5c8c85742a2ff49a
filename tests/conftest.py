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


#: ChatML, the chat template of SmolLM2 and of the tiny test model.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def build_tiny_model(folder: Path, *, chat_template: str | None, bos_token: str, eos_token: str,
                     pad_token: str | None = None, bos_first: bool = False) -> Path:
    """Save a tiny random Llama (2 layers) with a byte-level BPE tokenizer in ``folder``.

    The named special tokens are the tokenizer's only special tokens; ``bos_first`` makes the
    tokenizer start every text with ``bos_token``, as Llama's and Gemma's do.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = list(dict.fromkeys(t for t in (pad_token, bos_token, eos_token) if t))
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    corpus = ['{"name": "Ada", "email": "ada@example.org", "age": 36}', "Extract the person as JSON.",
              "Hello, I'm Grace Hopper. Mail: grace@example.com", "system user assistant"] * 20
    bpe.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    if bos_first:
        bpe.post_processor = processors.TemplateProcessing(
            single=f"{bos_token} $A", pair=f"{bos_token} $A $B", special_tokens=[(bos_token, bpe.token_to_id(bos_token))])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token=bos_token, eos_token=eos_token,
                                        pad_token=pad_token, chat_template=chat_template)
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                         bos_token_id=tokenizer.bos_token_id, tie_word_embeddings=True)
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny random Llama with ChatML tokens and template, saved as an ordinary HF folder: every
    code path of the real models, in seconds on CPU."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"), chat_template=CHATML_TEMPLATE,
                            bos_token="<|im_start|>", eos_token="<|im_end|>", pad_token="<|endoftext|>")
