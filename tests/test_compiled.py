"""The compiled passes compute what the eager ones compute, and step aside where compiling fails.

The norms' checks run formtune's own trainer (``_make_trainer`` installs the compiled norms) on the
tiny model and compare against the class's eager forward on the same weights and the same packed
batch; the cross-entropy's compare the loss's compiled function with its eager one.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from test_fused_lora import _loss_and_grads  # noqa: E402
from test_train_loss import _batch, _trainer  # noqa: E402

from formtune import compiled, loss  # noqa: E402


def _norms(model) -> list:  # noqa: ANN001
    return [m for m in model.modules() if compiled._is_rms_norm(m)]


def test_compiled_norms_give_the_eager_loss_and_gradients(tiny_model: Path, tmp_path: Path) -> None:
    trainer, _ = _trainer(tiny_model, tmp_path, packing=True)
    norms = _norms(trainer.model)
    assert len(norms) == 2 * 2 + 1 and all("forward" in vars(n) for n in norms)  # 2 blocks x 2, and the final
    batch = _batch(trainer)
    calls = []
    for norm in norms:  # count the norms' calls, to see that the model went through the compiled forwards
        norm.register_forward_hook(lambda *_: calls.append(1))
    compiled_loss, compiled_grads = _loss_and_grads(trainer, batch)
    assert len(calls) == len(norms)
    compiled.uninstall_norms(trainer.model)
    assert not any("forward" in vars(n) for n in norms)
    eager_loss, eager_grads = _loss_and_grads(trainer, batch)
    torch.testing.assert_close(compiled_loss, eager_loss, rtol=1e-5, atol=1e-6)
    for name, grad in compiled_grads.items():
        torch.testing.assert_close(grad, eager_grads[name], rtol=1e-4, atol=1e-6)


def test_a_failing_compiler_leaves_every_norm_eager_with_one_warning(tiny_model: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    trainer, _ = _trainer(tiny_model, tmp_path / "reference", packing=True)
    compiled.uninstall_norms(trainer.model)
    batch = _batch(trainer)
    expected, _ = _loss_and_grads(trainer, batch)

    def no_compiler(fn, **_):  # noqa: ANN001, ANN202 - what torch.compile does without a C++ compiler, at the call
        def fail(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            raise RuntimeError("no C++ compiler")
        return fail

    monkeypatch.setattr(torch, "compile", no_compiler)
    assert compiled.install_norms(trainer.model) == 5
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value, _ = _loss_and_grads(trainer, batch)
        _loss_and_grads(trainer, batch)
    torch.testing.assert_close(value, expected)
    assert [str(w.message) for w in caught if w.category is RuntimeWarning] == [
        "compiling the RMSNorms failed (RuntimeError); running eagerly instead"]


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_the_compiled_cross_entropy_gives_the_eager_loss_gradient_and_accuracy(dtype: str) -> None:
    # Row counts change from step to step: the first is compiled with static shapes, the second
    # recompiles with the row count symbolic, the third reuses that graph. Each must compute as eager.
    for rows in (40, 24, 56):
        _check_cross_entropy(dtype, rows)


def _check_cross_entropy(dtype: str, rows: int) -> None:
    generator = torch.Generator().manual_seed(rows)
    logits = torch.randn(rows, 300, generator=generator).to(getattr(torch, dtype))
    targets = torch.randint(0, 300, (rows,), generator=generator)
    targets[:6] = logits[:6].argmax(-1)  # some right, so the count is not trivially zero
    targets[-5:] = loss.IGNORE  # filler rows
    results = []
    for function in (loss.cross_entropy, loss._cross_entropy):
        leaf = logits.clone().requires_grad_()
        loss_sum, n_correct = function(leaf, targets)
        loss_sum.backward()
        results.append((loss_sum, n_correct, leaf.grad))
    (loss_sum, n_correct, grad), (eager_sum, eager_correct, eager_grad) = results
    assert int(eager_correct) >= 6
    assert int(n_correct) == int(eager_correct)
    torch.testing.assert_close(loss_sum, eager_sum, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(grad, eager_grad)  # the dtype's own tolerance
    assert not grad[-5:].any()


def test_the_training_loss_goes_through_the_compiled_cross_entropy(tiny_model: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    trainer, _ = _trainer(tiny_model, tmp_path, packing=True)
    compiled_form, calls = loss.cross_entropy, []

    def spy(*args):  # noqa: ANN002, ANN202
        calls.append(args)
        return compiled_form(*args)

    monkeypatch.setattr(loss, "cross_entropy", spy)
    value, _, n_labelled = loss.completion_loss(trainer.model, _batch(trainer))
    assert len(calls) == 1 and n_labelled > 0 and value.requires_grad
