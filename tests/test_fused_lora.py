"""The fused LoRA layer computes what PEFT computes, gradients included, and steps aside when it cannot.

Every check runs formtune's own trainer (``_make_trainer`` installs the fused forward) on the tiny
model and compares against PEFT's own forward on the same weights and the same packed batch.
"""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from peft.tuners.lora.layer import Linear as LoraLinear  # noqa: E402

from test_train_loss import _batch, _trainer  # noqa: E402

from formtune import fused_lora  # noqa: E402


def _graph_names(tensor: torch.Tensor) -> set[str]:
    """The names of every autograd node that ``tensor`` was computed through."""
    seen, todo = set(), [tensor.grad_fn]
    while todo:
        node = todo.pop()
        if node is not None and node not in seen:
            seen.add(node)
            todo.extend(n for n, _ in node.next_functions)
    return {type(n).__name__ for n in seen}


def _loss_and_grads(trainer, batch: dict) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:  # noqa: ANN001
    trainer.model.zero_grad()
    loss = trainer.compute_loss(trainer.model, dict(batch))
    loss.backward()
    grads = {n: p.grad.clone() for n, p in trainer.model.named_parameters() if p.requires_grad}
    return loss.detach(), grads


def _fused_then_peft(trainer, batch: dict, bf16: bool) -> tuple[tuple, tuple]:  # noqa: ANN001
    """(loss, gradients) through the fused layers, then through PEFT's own forward, on the same weights."""
    results = []
    for fused in (True, False):
        if not fused:
            fused_lora.uninstall(trainer.model)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            names = _graph_names(trainer.model(**batch).logits)
        assert ("LoraLinearFunctionBackward" in names) == fused
        results.append(_loss_and_grads(trainer, batch))
    return results[0], results[1]


def test_fused_layers_give_pefts_loss_and_gradients(tiny_model: Path, tmp_path: Path) -> None:
    trainer, _ = _trainer(tiny_model, tmp_path, packing=True)
    layers = [m for m in trainer.model.modules() if isinstance(m, LoraLinear)]
    assert len(layers) == 7 * 2 and all("forward" in vars(m) for m in layers)  # every linear of 2 blocks
    (fused_loss, fused_grads), (peft_loss, peft_grads) = _fused_then_peft(trainer, _batch(trainer), bf16=False)
    torch.testing.assert_close(fused_loss, peft_loss, rtol=1e-5, atol=1e-6)
    assert fused_grads.keys() == peft_grads.keys() and len(fused_grads) == 2 * 7 * 2  # A and B of 14 layers
    for name, grad in fused_grads.items():
        assert grad.abs().sum() > 0, name
        torch.testing.assert_close(grad, peft_grads[name], rtol=1e-4, atol=1e-6)


def test_in_bf16_the_fused_layers_are_as_close_to_float32_as_pefts(tiny_model: Path, tmp_path: Path) -> None:
    """bf16 rounds differently on the two paths; each is measured against the float32 gradients,
    summed over three draws of the adapter weights (one draw's ratio varies 0.75-1.3 either way)."""
    fused_error = peft_error = 0.0
    for seed in (1, 2, 3):
        reference, _ = _trainer(tiny_model, tmp_path / f"fp32-{seed}", lora_seed=seed, packing=True)
        batch = _batch(reference)
        exact_loss, exact = _loss_and_grads(reference, batch)
        trainer, _ = _trainer(tiny_model, tmp_path / f"bf16-{seed}", lora_seed=seed, packing=True, bf16=True)
        (fused_loss, fused_grads), (peft_loss, peft_grads) = _fused_then_peft(trainer, batch, bf16=True)

        def error(grads: dict[str, torch.Tensor]) -> float:  # relative to the float32 gradients, over all of them
            assert all(g.dtype == torch.float32 for g in grads.values())  # like the adapter weights
            return float(torch.cat([(grads[n] - g).flatten() for n, g in exact.items()]).norm()
                         / torch.cat([g.flatten() for g in exact.values()]).norm())  # fmt: skip

        assert error(fused_grads) < 0.2  # bf16 rounding: a few percent, ~0.12 in the worst draw seen
        fused_error, peft_error = fused_error + error(fused_grads), peft_error + error(peft_grads)
        for loss in (fused_loss, peft_loss):
            torch.testing.assert_close(loss, exact_loss, rtol=2e-2, atol=1e-3)
    assert fused_error <= 1.25 * peft_error, (fused_error, peft_error)


def test_dropout_and_disabled_adapters_take_pefts_own_path(tiny_model: Path, tmp_path: Path) -> None:
    trainer, _ = _trainer(tiny_model, tmp_path, packing=True, lora_dropout=0.1)
    batch = _batch(trainer)
    trainer.model.eval()  # dropout off, but still a Dropout module: PEFT's path
    logits = trainer.model(**batch).logits
    assert "LoraLinearFunctionBackward" not in _graph_names(logits)

    plain, _ = _trainer(tiny_model, tmp_path / "plain", packing=True)  # same seed: the same weights
    plain.model.eval()
    torch.testing.assert_close(logits, plain.model(**batch).logits)  # and the fused path agrees with it
    with plain.model.disable_adapter():  # the base model alone
        base = plain.model(**batch).logits
        assert "LoraLinearFunctionBackward" not in _graph_names(base)
    assert not torch.allclose(base, logits)


def test_a_float32_model_under_bf16_autocast_keeps_pefts_path(tiny_model: Path, tmp_path: Path) -> None:
    trainer, _ = _trainer(tiny_model, tmp_path, packing=True, bf16=True, dtype="float32")
    batch = _batch(trainer)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = trainer.model(**batch).logits
    assert "LoraLinearFunctionBackward" not in _graph_names(logits)
    reference, _ = _trainer(tiny_model, tmp_path / "fp32", packing=True)
    loss, grads = _loss_and_grads(trainer, batch)
    torch.testing.assert_close(loss, _loss_and_grads(reference, batch)[0], rtol=2e-2, atol=2e-3)
    assert all(torch.isfinite(g).all() for g in grads.values())
