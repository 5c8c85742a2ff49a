"""Can the default model do the arithmetic a day count between two dates needs? A few-shot probe.

    python benchmarks/day_arithmetic.py [N] [--model PATH]

The refund-rules example's answers state two dates, then the days between them; the tuned model
rarely computes that count (``rules:counts_follow_own_dates``). Before building an answer that
spells the subtraction out step by step, this asks the untuned model, greedy, with four worked
examples in the prompt, for the three steps such a scratchpad would need, on N random cases each:

- ``month`` : a month's length minus a day of it (``30 - 12 =``), the days left in the month;
- ``add``   : two day counts added (``18 + 8 =``);
- ``dates`` : the whole count between two ISO dates up to 60 days apart.

It prints each probe's share of exact answers; the last line is ``worst: <share>``.
"""
import argparse
import datetime as dt
import random

SHOTS = {
    "month": ["30 - 12 = 18", "31 - 5 = 26", "28 - 20 = 8", "31 - 30 = 1"],
    "add": ["18 + 8 = 26", "3 + 27 = 30", "11 + 4 = 15", "0 + 19 = 19"],
    "dates": ["days from 2025-09-12 to 2025-10-08 = 26", "days from 2025-03-01 to 2025-03-15 = 14",
              "days from 2025-05-28 to 2025-06-28 = 31", "days from 2024-12-20 to 2025-01-06 = 17"],
}


def case(kind: str, rng: random.Random) -> tuple[str, int]:
    """A question of the kind and its answer."""
    if kind == "month":
        length = rng.choice([28, 30, 31])
        day = rng.randint(1, length)
        return f"{length} - {day} =", length - day
    if kind == "add":
        a, b = rng.randint(0, 30), rng.randint(1, 31)
        return f"{a} + {b} =", a + b
    today = dt.date(2025, 1, 6) + dt.timedelta(days=rng.randint(0, 340))
    days = rng.randint(0, 60)
    return f"days from {today - dt.timedelta(days=days)} to {today} =", days


def main() -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from formtune.models import resolve_model

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=100)
    parser.add_argument("--model", default=None, help="a local model folder (default: the embedded default)")
    args = parser.parse_args()
    path = resolve_model(args.model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    rng = random.Random(0)
    shares = {}
    for kind, shots in SHOTS.items():
        right = 0
        for _ in range(args.n):
            question, answer = case(kind, rng)
            ids = tokenizer("\n".join([*shots, question]), return_tensors="pt").input_ids
            with torch.no_grad():
                out = model.generate(ids, max_new_tokens=4, do_sample=False, pad_token_id=tokenizer.eos_token_id)
            said = tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True).strip().split("\n")[0]
            right += said.strip() == str(answer)
        shares[kind] = right / args.n
        print(f"{kind:6} {shares[kind]:.2f}  ({right} of {args.n}; e.g. {question} {answer})")
    print(f"worst: {min(shares.values()):.2f}")


if __name__ == "__main__":
    main()
