"""The ``native`` dialect: the model's own chat template lists the tools and writes the calls.

Four small templates written in the manner of real families stand in for them (Qwen/Hermes
``<tool_call>`` blocks; Llama 3.1 bare JSON with ``parameters`` and one call per turn; Mistral's
``[TOOL_CALLS]`` list with nine-character ids; Mistral-Small 3.x's name and id before each
arguments object, ``[TOOL_CALLS]name[CALL_ID]id[ARGS]{…}``). What a template writes for some calls
must read back as those calls (property-tested); plain answers are no calls; broken calls are
errors; a template without tool support is refused with a clear message; and the whole loop
(dataset, training through TRL's ``tools`` column, evaluation) runs on a tiny model."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT, sized
from formtune.dataset import build_dataset, read_rows
from formtune.errors import ModelError
from formtune.evaluate import Variant, evaluate, load_examples
from formtune.task import load_task
from formtune.train import to_prompt_completion
from formtune_tools.native import TemplateSyntax, tool_calls
from json_values import ARGUMENT_VALUES

QWEN_LIKE = """
{%- if tools %}<|im_start|>system
{% if messages[0].role == 'system' %}{{ messages[0].content }}

{% endif %}# Tools

<tools>
{% for tool in tools %}{{ tool | tojson }}
{% endfor %}</tools>

Call a tool with <tool_call>{"name": ..., "arguments": ...}</tool_call>.<|im_end|>
{% elif messages[0].role == 'system' %}<|im_start|>system
{{ messages[0].content }}<|im_end|>
{% endif %}
{%- for message in messages %}
{%- if message.role == 'system' %}
{%- elif message.role == 'assistant' %}<|im_start|>assistant
{{ message.content }}
{%- if message.tool_calls is defined %}{% for call in message.tool_calls %}
{%- if not loop.first or message.content %}{{ '\n' }}{% endif %}<tool_call>
{"name": "{{ call.function.name }}", "arguments": {{ call.function.arguments | tojson }}}
</tool_call>{% endfor %}{% endif %}<|im_end|>
{% elif message.role == 'tool' %}<|im_start|>user
<tool_response>
{{ message.content }}
</tool_response><|im_end|>
{% else %}<|im_start|>{{ message.role }}
{{ message.content }}<|im_end|>
{% endif %}
{%- endfor %}
{%- if add_generation_prompt %}<|im_start|>assistant
{% endif %}"""

LLAMA_LIKE = """
{%- if tools %}<|start|>system
Tools: {% for tool in tools %}{{ tool | tojson }} {% endfor %}<|end|>
{% endif %}
{%- for message in messages %}<|start|>{{ message.role }}
{% if message.tool_calls is defined %}{% if message.tool_calls | length != 1 %}
{{- raise_exception('This model only supports single tool-calls at once!') }}{% endif %}
{{- '{"name": "' + message.tool_calls[0].function.name + '", "parameters": ' }}
{{- message.tool_calls[0].function.arguments | tojson + '}' }}
{%- else %}{{ message.content }}{% endif %}<|end|>
{% endfor %}
{%- if add_generation_prompt %}<|start|>assistant
{% endif %}"""

MISTRAL_LIKE = """
{%- set user_messages = messages | selectattr('role', 'equalto', 'user') | list %}
{%- for message in messages %}
{%- if message.role == 'user' %}
{%- if tools and message == user_messages[-1] %}[AVAILABLE_TOOLS]{{ tools | tojson }}[/AVAILABLE_TOOLS]{% endif %}
{{- '[INST]' + message.content + '[/INST]' }}
{%- elif message.tool_calls is defined %}[TOOL_CALLS][
{%- for call in message.tool_calls %}
{%- if call.id is not defined or call.id | length != 9 %}{{ raise_exception('Tool call ids must be 9 characters') }}{% endif %}
{{- '{"name": "' + call.function.name + '", "arguments": ' + call.function.arguments | tojson + ', "id": "' + call.id + '"}' }}
{%- if not loop.last %}, {% endif %}{% endfor %}]</s>
{%- elif message.role == 'tool' %}[TOOL_RESULTS]{{ {"call_id": message.tool_call_id, "content": message.content} | tojson }}[/TOOL_RESULTS]
{%- elif message.role == 'assistant' %}{{ message.content }}</s>
{%- endif %}{% endfor %}"""

MISTRAL_SMALL_LIKE = """
{%- if tools %}[AVAILABLE_TOOLS]{{ tools | tojson }}[/AVAILABLE_TOOLS]{% endif %}
{%- for message in messages %}
{%- if message.role == 'user' %}{{ '[INST]' + message.content + '[/INST]' }}
{%- elif message.tool_calls is defined %}{% for call in message.tool_calls %}
{{- '[TOOL_CALLS]' + call.function.name + '[CALL_ID]' + call.id + '[ARGS]' + call.function.arguments | tojson }}
{%- endfor %}</s>
{%- elif message.role == 'assistant' %}{{ message.content }}</s>
{%- endif %}{% endfor %}"""

TEMPLATES = {"qwen": (QWEN_LIKE, "<|im_end|>\n", 3), "llama": (LLAMA_LIKE, "<|end|>\n", 1),
             "mistral": (MISTRAL_LIKE, "</s>", 3),
             "mistral-small": (MISTRAL_SMALL_LIKE, "</s>", 3)}  # template, end of turn, most calls in a turn
TOOLS = [{"type": "function", "function": {"name": "lookup", "description": "d", "parameters": {"type": "object"}}}]


@pytest.fixture(scope="module")
def tokenizers(tiny_model):
    from transformers import AutoTokenizer

    out = {}
    for name, (template, _, _) in TEMPLATES.items():
        tokenizer = AutoTokenizer.from_pretrained(tiny_model)
        tokenizer.chat_template = template
        out[name] = tokenizer
    return out


def written(tokenizer, calls, end_of_turn):
    """What the template writes for an assistant turn of ``calls`` (the oracle of the tests)."""
    user = [{"role": "user", "content": "Where is my order?"}]
    prompt = tokenizer.apply_chat_template(user, tools=TOOLS, tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template([*user, {"role": "assistant", "content": "", "tool_calls": tool_calls(calls)}],
                                         tools=TOOLS, tokenize=False)
    assert full.startswith(prompt) and full.endswith(end_of_turn)
    return full[len(prompt):len(full) - len(end_of_turn)]


names = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True)
call = st.fixed_dictionaries({"name": names, "arguments": st.dictionaries(names, ARGUMENT_VALUES, max_size=4)})


@pytest.mark.parametrize("family", TEMPLATES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_what_the_template_writes_reads_back_as_the_same_calls(tokenizers, family, data):
    _, end_of_turn, most = TEMPLATES[family]
    calls = data.draw(st.lists(call, min_size=1, max_size=most))
    syntax = TemplateSyntax(tokenizers[family])
    text = written(tokenizers[family], calls, end_of_turn)
    assert syntax.read(text) == calls
    assert syntax.read("\n " + text.replace("\n", "\n\n") + " \n") == calls  # models vary line breaks


@pytest.mark.parametrize("family", TEMPLATES)
def test_plain_answers_are_no_calls_and_broken_calls_are_errors(tokenizers, family):
    syntax = TemplateSyntax(tokenizers[family])
    for text in ["Sorry, none of my tools can do that.", "Your order ships tomorrow.", ""]:
        assert syntax.read(text) is None
    good = written(tokenizers[family], [{"name": "lookup", "arguments": {"id": 7}}], TEMPLATES[family][1])
    for broken in [good.replace('"id": 7', '"id": 7, "id": 8'), good[: good.index("7")], good + " and more"]:
        with pytest.raises(ValueError):
            syntax.read(broken)


def test_hostile_completions_are_errors_not_crashes(tokenizers):
    syntax = TemplateSyntax(tokenizers["qwen"])
    for text in ["<tool_call>" + "[" * 50_000, "<tool_call>" + '{"a":' * 20_000, "<tool_call>" + "x" * 200_000]:
        with pytest.raises(ValueError):
            syntax.read(text)
    many = '<tool_call>{"name": "f", "arguments": {}}</tool_call>' * 1_800  # read in one pass, not quadratic
    assert len(syntax.read(many)) == 1_800


def test_the_learned_syntax_of_each_family(tokenizers):
    qwen, llama, mistral = (TemplateSyntax(tokenizers[n]) for n in ("qwen", "llama", "mistral"))
    assert (qwen.opens_with, qwen.name_key, qwen.arguments_key) == ("<tool_call>", "name", "arguments")
    assert (llama.opens_with, llama.arguments_key, llama.between) == ("", "parameters", None)
    assert mistral.opens_with == "[TOOL_CALLS][" and mistral.between.fullmatch(", ")
    two = '<tool_call>{"name": "a", "arguments": {}}</tool_call>\n<tool_call>{"name": "b", "arguments": {}}</tool_call>'
    assert qwen.read(two) == [{"name": "a", "arguments": {}}, {"name": "b", "arguments": {}}]
    with pytest.raises(ValueError, match="after call 1"):
        llama.read('{"name": "a", "parameters": {}} {"name": "b", "parameters": {}}')


def test_a_name_before_the_arguments_and_the_models_own_call_ids(tokenizers, tiny_model):
    small = TemplateSyntax(tokenizers["mistral-small"])
    assert (small.opens_with, small.name_key, small.arguments_key) == ("[TOOL_CALLS]", None, None)
    made_up = '[TOOL_CALLS]a.b[CALL_ID]Xy12Zq9Wp[ARGS]{"x": [1]}\n[TOOL_CALLS]c[CALL_ID]k3J9aa01Q[ARGS]{}'
    assert small.read(made_up) == [{"name": "a.b", "arguments": {"x": [1]}}, {"name": "c", "arguments": {}}]
    for broken in ['[TOOL_CALLS]a[ARGS]{}', '[TOOL_CALLS][CALL_ID]Xy12Zq9Wp[ARGS]{}', '[TOOL_CALLS]a[CALL_ID]x[ARGS][]']:
        with pytest.raises(ValueError):
            small.read(broken)
    from transformers import AutoTokenizer

    numbered = AutoTokenizer.from_pretrained(tiny_model)  # each call written apart: not learnable, not misread
    numbered.chat_template = MISTRAL_SMALL_LIKE.replace("'[CALL_ID]' + call.id", "':' + loop.index0 | string")
    with pytest.raises(ModelError, match="cannot learn"):
        TemplateSyntax(numbered)


def test_a_template_without_tool_support_is_refused_by_name(tiny_model, tmp_path):
    from formtune.generation import generate
    from formtune.models import load_model

    model, tokenizer = load_model(tiny_model, for_training=False)
    with pytest.raises(ModelError, match="no tool support.*hermes, json-list or python"):
        TemplateSyntax(tokenizer, where="tiny")
    chat = {"messages": [{"role": "user", "content": "Where is KL-20417?"}], "tools": TOOLS}
    with pytest.raises(ModelError, match="no tool support"):
        generate(model, tokenizer, [chat], max_new_tokens=2, batch_size=1)
    from formtune.train import train

    row = {"messages": [*chat["messages"], {"role": "assistant", "content": "Hi."}], "tools": TOOLS}
    with pytest.raises(ModelError, match="no tool support"):  # training would silently drop the tools
        train(str(tiny_model), [row], None, None, tmp_path / "run")
    tokenizer.chat_template = QWEN_LIKE
    [out] = generate(model, tokenizer, [chat], max_new_tokens=2, batch_size=1)
    assert out["prompt_tokens"] > len(tokenizer(json.dumps(TOOLS))["input_ids"])  # the tools are in the prompt


@pytest.fixture
def native_shop(tmp_path):
    folder = tmp_path / "shop"
    shutil.copytree(ROOT / "examples" / "shop-assistant", folder)
    text = (folder / "task.yaml").read_text()
    text = re.sub(r"(?m)^  dialect: \w+", "  dialect: native", text)
    (folder / "task.yaml").write_text(sized(text, train=12, eval=6))
    task = load_task(folder / "task.yaml")
    build_dataset(task, tmp_path / "data", progress=False)
    return task, tmp_path / "data"


def test_rows_hand_tools_and_calls_to_the_template(native_shop):
    task, data = native_shop
    rows = read_rows(data / "train.jsonl")
    by_category = {r["provenance"]["category"]: r for r in rows}
    simple = by_category["simple"]
    offered = simple["input"][0]["tools"]
    assert [t["function"]["name"] for t in simple["tools"]] == [t["name"] for t in offered]
    assert simple["messages"][0] == {"role": "system", "content": task.spec.instructions}  # tools are not text
    answer = simple["messages"][-1]
    assert answer["content"] == "" and [c["function"] for c in answer["tool_calls"]] == simple["output"]["calls"]
    assert json.loads(task.format.render(simple["output"])) == simple["output"]["calls"]  # stored as a JSON list
    turns = by_category["multi_turn"]["messages"]
    results = [m for m in turns if m["role"] == "tool"]
    made = [c["id"] for m in turns if m.get("tool_calls") for c in m["tool_calls"]]
    assert results and [r["tool_call_id"] for r in results] == made[:len(results)]


def test_the_loop_trains_and_evaluates_through_the_models_template(native_shop, tiny_model, tmp_path,
                                                                  scripted_completions, monkeypatch):
    import formtune.train
    from formtune.train import train
    from formtune.train_config import TrainConfig

    task, data = native_shop
    model = tmp_path / "qwen-like"
    shutil.copytree(tiny_model, model)
    (model / "chat_template.jinja").write_text(QWEN_LIKE)
    rows = read_rows(data / "train.jsonl")

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    trainers = []
    make = formtune.train._make_trainer
    monkeypatch.setattr(formtune.train, "_make_trainer", lambda *a, **k: trainers.append(make(*a, **k)) or trainers[-1])
    result = train(str(model), rows[:1], None, TrainConfig(max_steps=1, save_steps=100), tmp_path / "run")
    assert result.metrics["global_step"] == 1
    [tokenized] = trainers[0].train_dataset
    row = to_prompt_completion(rows[:1])[0]
    expected = tokenizer.apply_chat_template(row["prompt"] + row["completion"], tools=row["tools"], tokenize=False)
    assert "# Tools" in expected and "<tool_call>" in expected
    assert tokenizer.decode(tokenized["input_ids"]) == expected  # TRL rendered the tools and calls

    examples = load_examples(data / "eval.jsonl", task)
    expected = [e.expected for e in examples]
    right = [task.format.render(x) if "answer" in x else
             "\n".join(f'<tool_call>\n{json.dumps(c)}\n</tool_call>' for c in x["calls"]) for x in expected]
    broken = ["<tool_call>\n{\"name\": " for _ in examples]
    scripted_completions.extend([right, broken])
    report = evaluate(task, examples, [Variant("right", str(model), prompt="short"),
                                       Variant("broken", str(model), prompt="short")], tmp_path / "eval",
                      progress=False)
    assert report["variants"]["right"]["tools:accuracy"] == 1.0
    assert report["variants"]["broken"]["parse_rate"] == 0.0
    prompts = scripted_completions.calls[0]["conversations"]
    assert all(p["tools"] for p in prompts)
    prediction = read_rows(tmp_path / "eval/predictions/right.jsonl")[0]
    assert prediction["read_as"] == task.format.render(prediction["expected"])
