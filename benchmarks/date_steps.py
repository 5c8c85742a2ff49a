"""Which step of a date decision can the default model LEARN? A trained probe for refund-rules.

    python benchmarks/date_steps.py FORM [FORM ...] [--pairs N] [--epochs E]

The refund-rules example decides "delivered more than 30 days before today" from two dates when a
letter gives the delivery as a date. `benchmarks/day_arithmetic.py` asks the untuned model, few-shot;
this one trains with the example's LoRA settings (rank 64, alpha 128, every linear layer, lr 2e-3,
batch 16, bf16 autocast) in a plain PyTorch loop, since the pairs are no task (a 10-step warm-up
and a linear decay, where formtune's trainer decays by a cosine), one adapter per FORM on N (today, delivered)
pairs drawn like the example's (40 % at 29-31 days, the rest 0-60 days), then answers 300 fresh
pairs greedily. The prompt gives the two dates (``given``: today and the day count); the answer
is one step, then ``late: yes|no``:

- ``count``        : ``days: 26``, the days between the dates (the example's answer);
- ``window``       : ``window_ends: 2025-10-12``, the delivery plus 30 days, to compare with today;
- ``window-today`` : the window, then today again beside it, so the two dates to compare are adjacent;
- ``given``        : ``days: 26`` with the count in the prompt: the threshold alone;
- ``compare``      : the prompt gives today and the window's end, the answer is the decision alone;
- ``compare-steps``: as ``compare``, the answer first copies the two months side by side
  (``months: 10 11``) and, where they are equal, the two days (``days: 12 21``);
- ``window-steps`` : the prompt gives the two dates, the answer is the window then ``compare-steps``;
- ``count-steps``  : the count worked out month by month, a step a line (the rules plugin's
  ``facts.day_sums``): ``05: 31 - 18 = 13`` (the days left in the delivery's month), ``06: 13 + 21
  = 34`` (a running total plus each month between, plus today's day); ``05: 21 - 18 = 3`` within one
  month. "(s)" measured an earlier form (``left: 31 - 18 = 13`` then ``days: 13 + 21 = 34``).

Per FORM it prints the share of exact steps and of right ``late`` decisions (always "no" scores
0.59 on the 300 pairs). Numbers: ``benchmarks/RESULTS.md``, "(l)", "(m)" and "(s)". The rules plugin's
``facts.side_by_side`` writes ``compare-steps``'s parts into an answer (one line, with years where
they differ), and ``facts.day_sums`` ``count-steps``'s working (one line; ``rules.state_working``).
"""

import argparse
import datetime as dt
import random
import time

from formtune_rules.facts import day_sums


def pair(rng: random.Random) -> tuple[dt.date, dt.date, int]:
    """(today, delivered, days between), drawn like the example's facts."""
    today = dt.date(2025, 1, 6) + dt.timedelta(days=rng.randint(0, 347))
    days = rng.choice([29, 30, 31]) if rng.random() < 0.4 else rng.randint(0, 60)
    return today, today - dt.timedelta(days=days), days


def prompt(form: str, today: dt.date, delivered: dt.date) -> str:
    if form == "given":
        return f"today: {today}\ndelivered: {(today - delivered).days} days before today\n"
    if form.startswith("compare"):
        return f"today: {today}\nwindow_ends: {delivered + dt.timedelta(days=30)}\n"
    return f"today: {today}\ndelivered: {delivered}\n"


def count_steps(today: dt.date, delivered: dt.date) -> str:
    """``count-steps``'s working: the rules plugin's ``day_sums``, a step a line."""
    return day_sums(delivered, today).replace(", ", "\n")


def target(form: str, today: dt.date, delivered: dt.date, days: int) -> str:
    late = "yes" if days > 30 else "no"
    if form == "count-steps":
        return f"{count_steps(today, delivered)}\nlate: {late}"
    window = delivered + dt.timedelta(days=30)
    if form == "compare":
        return f"late: {late}"
    if form in ("compare-steps", "window-steps"):
        same = window.month == today.month
        steps = f"months: {window.month} {today.month}\n" + (f"days: {window.day} {today.day}\n" if same else "")
        return (f"window_ends: {window}\n" if form == "window-steps" else "") + f"{steps}late: {late}"
    step = {"count": f"days: {days}", "given": f"days: {days}", "window": f"window_ends: {window}",
            "window-today": f"window_ends: {window}\ntoday: {today}"}[form]
    return f"{step}\nlate: {late}"


def probe(form: str, pairs: int, epochs: int, path: str, lr: float = 2e-3, batch: int = 16) -> tuple[float, float]:
    """Train on ``pairs`` pairs for ``epochs``; (exact first step, right decision) on 300 fresh pairs."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(path)
    rng = random.Random(1)
    train = [pair(rng) for _ in range(pairs)]
    test = [pair(random.Random(1000 + i)) for i in range(300)]
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=64, lora_alpha=128, target_modules="all-linear", task_type="CAUSAL_LM"))
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    steps = epochs * pairs // batch
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1, (s + 1) / 10) * max(0.0, 1 - s / steps))
    model.train()
    began = time.time()
    for _ in range(epochs):
        rng.shuffle(train)
        for start in range(0, pairs, batch):
            ids, labels = [], []
            for today, delivered, days in train[start:start + batch]:
                asked = tokenizer(prompt(form, today, delivered))["input_ids"]
                answer = tokenizer(target(form, today, delivered, days) + "\n\n")["input_ids"]
                ids.append(asked + answer)
                labels.append([-100] * len(asked) + answer)
            width = max(map(len, ids))
            pad = tokenizer.eos_token_id
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = model(input_ids=torch.tensor([r + [pad] * (width - len(r)) for r in ids]),
                             attention_mask=torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in ids]),
                             labels=torch.tensor([r + [-100] * (width - len(r)) for r in labels])).loss
            loss.backward()
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
    model.eval()
    tokenizer.padding_side = "left"
    step_right = decided_right = 0
    for start in range(0, len(test), 50):
        rows = test[start:start + 50]
        encoded = tokenizer([prompt(form, t, d) for t, d, _ in rows], return_tensors="pt", padding=True)
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            out = model.generate(**encoded, max_new_tokens=40, do_sample=False, pad_token_id=tokenizer.eos_token_id)
        for (today, delivered, days), tokens in zip(rows, out):
            got = tokenizer.decode(tokens[encoded["input_ids"].shape[1]:], skip_special_tokens=True).strip().split("\n")
            want = target(form, today, delivered, days).split("\n")
            step_right += got[0] == want[0]
            decided_right += len(got) >= len(want) and got[len(want) - 1] == want[-1]
    print(f"{form}: {time.time() - began:.0f} s", flush=True)
    return step_right / len(test), decided_right / len(test)


def main() -> None:
    from formtune.models import resolve_model

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("forms", nargs="+", choices=["count", "window", "window-today", "given", "compare",
                                                     "compare-steps", "window-steps", "count-steps"])
    parser.add_argument("--pairs", type=int, default=400, help="training pairs (default 400: the example's "
                        "date-only rows)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (default: the example's)")
    parser.add_argument("--model", default=None, help="a local model folder (default: the embedded default)")
    args = parser.parse_args()
    path = str(resolve_model(args.model))
    results = {form: probe(form, args.pairs, args.epochs, path, args.lr) for form in args.forms}
    print("| form | pairs x epochs | lr | exact step | right decision |\n|---|---|---|---|---|")
    for form, (step, decided) in results.items():
        print(f"| {form} | {args.pairs} x {args.epochs} | {args.lr:g} | {step:.3f} | {decided:.3f} |")


if __name__ == "__main__":
    main()
