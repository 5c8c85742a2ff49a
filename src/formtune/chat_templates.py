"""Chat templates of the models formtune tunes: a fallback for models without one, and what a
template says (whether it lists tools, which token ends a turn).

Models without a chat template
    Loss masking and generation need a chat template (see ``formtune.train``).  formtune 0.1 gave
    a template-less tokenizer ChatML and *added* ``<|im_start|>``/``<|im_end|>`` to it.  That
    crashed base models such as Gemma 3 270M (the new ids had no embedding row: ``IndexError``),
    and resizing the embeddings would not have been enough: LoRA trains adapters on the linear
    layers, never the embedding or output rows, so the new markers would stay at their random
    initial values, meaningless to the model, and the answer's end marker would be a token the
    model never learned to emit.  Training those rows too (PEFT's ``modules_to_save``) would put
    a full copy of the embedding matrix in every adapter: 262,144 x 640 = 168M parameters for
    Gemma 3 270M, more than the rest of the model.

    So the fallback, :data:`PLAIN_FALLBACK_TEMPLATE`, is made only of tokens the model already
    has: the roles are written as plain text (``User:``, ``Assistant:``) and each answer ends with
    the tokenizer's own EOS token, the token a base model was pretrained to put at the end of a
    document, which ``generate`` stops on (:func:`formtune.models.load_model` adds it to the
    generation config's ``eos_token_id``).  The conversation starts with the BOS token exactly when
    the tokenizer puts one before plain text, so the model sees its input the way it saw its
    pretraining text::

        <bos>Extract the ticket as JSON.

        User:
        Hi, order 42 is broken

        Assistant:
        {"order": 42}<eos>

    A prompt rendered with ``add_generation_prompt=True`` ends with ``Assistant:`` and a newline
    and is a prefix of the same conversation rendered with its answer, which is what
    completion-only loss relies on.  A tokenizer with neither a chat template nor an EOS token
    cannot mark where an answer ends, and is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from formtune.errors import ModelError, first_line

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

__all__ = ["PLAIN_FALLBACK_TEMPLATE", "ensure_chat_template", "fallback_chat_template", "require_tool_template",
           "turn_end_id"]

#: Chat template given to a tokenizer that has none (see the module docstring for why).
#:
#: Turns are separated by a blank line; the system message is written bare, every other message
#: under its capitalised role name; an assistant message ends with ``eos_token``.  It uses only
#: tokens the model already has.  :func:`fallback_chat_template` prefixes ``bos_token`` for
#: tokenizers that start plain text with it.
PLAIN_FALLBACK_TEMPLATE = (
    "{% for message in messages %}"
    "{% if not loop.first %}{{ '\n\n' }}{% endif %}"
    "{% if message['role'] == 'system' %}{{ message['content'] }}"
    "{% else %}{{ message['role'] | capitalize + ':\n' + message['content'] }}{% endif %}"
    "{% if message['role'] == 'assistant' %}{{ eos_token }}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '\n\nAssistant:\n' }}{% endif %}"
)


def fallback_chat_template(tokenizer: PreTrainedTokenizerBase) -> str:
    """:data:`PLAIN_FALLBACK_TEMPLATE` for ``tokenizer``, opened with ``bos_token`` when the
    tokenizer itself starts plain text with its BOS token (Llama, Gemma; not GPT-2 or Qwen)."""
    bos = tokenizer.bos_token_id
    starts_with_bos = bos is not None and tokenizer("x")["input_ids"][:1] == [bos]
    return ("{{ bos_token }}" if starts_with_bos else "") + PLAIN_FALLBACK_TEMPLATE


def ensure_chat_template(tokenizer: PreTrainedTokenizerBase, where: object = "the model") -> bool:
    """Give ``tokenizer`` :func:`fallback_chat_template` if it has no chat template.

    Returns True when the fallback was given.  No token is added: the fallback ends an answer
    with the tokenizer's EOS token.  Raises :class:`ModelError` when there is no EOS token
    (``where`` names the model in the message).
    """
    if getattr(tokenizer, "chat_template", None):
        return False
    if tokenizer.eos_token_id is None:
        raise ModelError(
            f"{where} has no chat template and its tokenizer no eos token, so formtune cannot tell where an "
            "answer ends; add a chat_template (or an eos_token) to its tokenizer_config.json"
        )
    tokenizer.chat_template = fallback_chat_template(tokenizer)
    return True


def require_tool_template(tokenizer: PreTrainedTokenizerBase, where: object = "the model") -> None:
    """Raise :class:`ModelError` unless ``tokenizer``'s chat template lists the tools it is given.

    Rows with a ``tools`` column leave listing the tools to the template; a template without tool
    support drops them without a word, and the model would train and answer without ever seeing
    its tools. The check renders one probe tool and looks for its name."""
    probe = {"type": "function", "function": {"name": "formtune_probe_tool", "description": "A probe.",
                                              "parameters": {"type": "object", "properties": {}}}}
    try:
        text = tokenizer.apply_chat_template([{"role": "user", "content": "Hi"}], tools=[probe], tokenize=False,
                                             add_generation_prompt=True)
    except Exception as exc:  # a template may raise on what it does not support
        raise ModelError(f"the chat template of {where} fails when given tools: {first_line(exc)}") from exc
    if "formtune_probe_tool" not in text:
        raise ModelError(f"the chat template of {where} has no tool support (it does not list the tools it is "
                         "given), so rows that hand it tools cannot be used with this model; use a model whose "
                         "template takes tools")


def turn_end_id(tokenizer: PreTrainedTokenizerBase) -> int | None:
    """The special token that closes an assistant turn in ``tokenizer``'s chat template, if any.

    A tuned model learns to end its answer the way the template ends a turn, so generation must
    stop there.  The eos of a config does not always say so: a base model's eos is its end of
    text while its template closes turns with another token (``<|endoftext|>`` and ``<|im_end|>``),
    and a GGUF conversion can name the wrong eos (transformers 5.17 did for SmolLM2).
    """
    probe = "formtune-turn-end-probe"
    try:
        turns = [{"role": "user", "content": "?"}, {"role": "assistant", "content": probe}]
        text = tokenizer.apply_chat_template(turns, tokenize=False)
    except Exception:  # a template may refuse this conversation (one that demands a system turn, say)
        return None
    if probe not in text:
        return None
    ids = tokenizer(text.split(probe, 1)[1], add_special_tokens=False)["input_ids"]
    added = tokenizer.added_tokens_decoder
    return ids[0] if ids and ids[0] in added and added[ids[0]].special else None
