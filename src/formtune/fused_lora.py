"""A LoRA linear layer computed as one autograd node, in the frozen weight's dtype.

PEFT computes ``base(x) + lora_B(lora_A(dropout(x))) * scaling`` as separate autograd nodes: under
bf16 autocast each adapted layer casts its float32 adapter weights (and their gradients back),
then multiplies the whole ``tokens x out`` output by the scale and adds it to the base output, in
the forward pass and again in the backward pass: memory-bound passes over full-size activations,
seven adapted layers per block.  On a 2-core CPU removing them made a training step 1.05-1.1x
faster with OpenMP threads put to sleep between operations (``OMP_WAIT_POLICY=PASSIVE``), and
within noise with the default settings (``benchmarks/RESULTS.md``).

:class:`LoraLinearFunction` computes the same thing with the scale folded into the rank-``r``
intermediate (``tokens x r``, a few kilobytes) and the adapter's product accumulated into the base
output inside the matmul (``addmm``), forward and backward alike; the adapter weights are cast to
the activations' dtype once per call and their gradients come back in float32, as PEFT's would.

:func:`install` gives every plain LoRA linear layer of a PEFT model this forward pass.  A layer
falls back to PEFT's own forward whenever anything unusual is in play: dropout, several or mixed
adapters, DoRA and other variants, merged or disabled adapters, extra arguments.
"""

from __future__ import annotations

from typing import Any


def _function() -> type:
    import torch

    class LoraLinearFunction(torch.autograd.Function):
        """``x @ weight.T + bias + scale * (x @ a.T) @ b.T``, with gradients for ``x``, ``a`` and ``b``.

        ``weight`` (and ``bias``) are frozen; ``a`` is ``(r, in)`` and ``b`` is ``(out, r)`` in
        their own (float32) dtype, cast to ``x``'s dtype for the matmuls.
        """

        @staticmethod
        def forward(ctx: Any, x: Any, weight: Any, bias: Any, a: Any, b: Any, scale: float) -> Any:
            dtype = x.dtype
            a_, b_ = a.to(dtype), b.to(dtype)
            flat = x.reshape(-1, x.shape[-1])
            xa = (flat @ a_.t()).mul_(scale)  # tokens x r: the scale costs nothing here
            out = flat @ weight.t() if bias is None else torch.addmm(bias.to(dtype), flat, weight.t())
            out.addmm_(xa, b_.t())
            ctx.save_for_backward(flat, weight, a_, b_, xa)
            ctx.scale, ctx.a_dtype, ctx.b_dtype = scale, a.dtype, b.dtype
            return out.view(*x.shape[:-1], weight.shape[0])

        @staticmethod
        def backward(ctx: Any, grad_out: Any) -> tuple[Any, ...]:
            flat, weight, a_, b_, xa = ctx.saved_tensors
            dy = grad_out.reshape(-1, grad_out.shape[-1]).to(flat.dtype)
            dxa = (dy @ b_).mul_(ctx.scale)  # tokens x r
            dx = None
            if ctx.needs_input_grad[0]:
                dx = (dy @ weight).addmm_(dxa, a_).view(*grad_out.shape[:-1], flat.shape[-1])
            da = (dxa.t() @ flat).to(ctx.a_dtype) if ctx.needs_input_grad[3] else None
            db = (dy.t() @ xa).to(ctx.b_dtype) if ctx.needs_input_grad[4] else None
            return dx, None, None, da, db, None

    return LoraLinearFunction


def _autocast_to_other_dtype(x: Any) -> bool:
    """True when autocast would run this layer's matmuls in another dtype than ``x``'s (a float32
    model under bf16 autocast): PEFT's forward handles that mix, the fused one computes in ``x``'s."""
    import torch

    device = x.device.type
    return torch.is_autocast_enabled(device) and torch.get_autocast_dtype(device) != x.dtype


def _fused_forward(layer: Any, peft_forward: Any, function: type) -> Any:
    """The forward pass for one PEFT ``lora.Linear``: fused when it is plain LoRA, else PEFT's."""
    import torch

    def forward(x: Any, *args: Any, **kwargs: Any) -> Any:
        adapters = layer.active_adapters
        if args or kwargs or layer.disable_adapters or layer.merged or len(adapters) != 1:
            return peft_forward(x, *args, **kwargs)
        name = adapters[0]
        base = layer.base_layer
        if (name not in layer.lora_A or name in layer.lora_variant or not isinstance(base, torch.nn.Linear)
                or not isinstance(layer.lora_dropout[name], torch.nn.Identity)
                or base.weight.dtype != x.dtype or _autocast_to_other_dtype(x)):  # fmt: skip
            return peft_forward(x, *args, **kwargs)
        return function.apply(x, base.weight, base.bias, layer.lora_A[name].weight, layer.lora_B[name].weight,
                              layer.scaling[name])  # fmt: skip

    return forward


def install(model: Any) -> None:
    """Give every PEFT ``lora.Linear`` in ``model`` the fused forward pass."""
    from peft.tuners.lora.layer import Linear

    function = _function()
    for module in model.modules():
        if type(module) is Linear:  # subclasses (quantized bases ...) keep their own forward
            module.forward = _fused_forward(module, module.forward, function)


def uninstall(model: Any) -> None:
    """Undo :func:`install`: PEFT's own forward pass again (tests and benchmarks compare the two)."""
    from peft.tuners.lora.layer import Linear

    for module in model.modules():
        if type(module) is Linear:
            module.__dict__.pop("forward", None)
