"""The optimizers every recipe uses: Adam with PyTorch's fused kernel, and RMSprop.

The fused kernel updates all of a network's parameters in one pass, where the ``foreach``
kernel makes one pass per operation of the update rule. For the DCGAN pair (1.7 M parameters)
on a 2-core CPU, one Adam step of G and D took 0.6–1.0 ms fused against 3.0–4.7 ms foreach:
a few per cent of a training step, for the same update (benchmarks/README.md, "channels_last
and fused Adam"). The fused kernel runs on CPUs from PyTorch 2.4 on, on CUDA, and in recent
versions on Apple GPUs (MPS); ganedu asks for torch >= 2.5.

Both are PyTorch's own classes with one difference, outside ``torch.compile`` only: they do
not import PyTorch's compiler. PyTorch marks ``Optimizer.step``, ``zero_grad``,
``add_param_group``, ``state_dict`` and ``load_state_dict`` for the compiler through wrappers
that import ``torch._dynamo`` on their first call (``step`` calls its ``graph_break`` on every
call): 0.9–1.4 s of a 3.4 s one-step ``python -m ganedu train`` on a 2-core CPU, and as much of a
notebook's first training step. Outside a compiled region these wrappers only set the grad
mode (``step``) and call the method, so :class:`EagerOptimizer` calls the method itself there;
inside one (``torch.compiler.is_compiling()``) it calls the wrappers as before. The update, the
state and the hooks are PyTorch's (``tests/test_train.py`` checks the process never imports the
compiler and trains bit for bit as ``torch.optim.Adam`` does).
"""

from __future__ import annotations

import inspect

import torch

_Optimizer = torch.optim.Optimizer


class EagerOptimizer(_Optimizer):
    """The compiler-marked methods of :class:`torch.optim.Optimizer`, called directly outside ``torch.compile``.

    A base placed after PyTorch's optimizer class (``class Adam(torch.optim.Adam, EagerOptimizer)``),
    so PyTorch's ``__init__`` reaches these methods; the subclass's ``step`` calls :meth:`_step`.
    """

    def _step(self, marked, closure):
        """``marked`` (the class's ``step`` as PyTorch wraps it) with its grad mode, without the wrapper."""
        if torch.compiler.is_compiling():
            return marked(self, closure)
        with torch.set_grad_enabled(self.defaults["differentiable"]):
            return inspect.unwrap(marked)(self, closure)

    def zero_grad(self, set_to_none: bool = True) -> None:
        return _direct(_Optimizer.zero_grad)(self, set_to_none)

    def add_param_group(self, param_group: dict) -> None:
        return _direct(_Optimizer.add_param_group)(self, param_group)

    def state_dict(self) -> dict:
        return _direct(_Optimizer.state_dict)(self)

    def load_state_dict(self, state_dict: dict) -> None:
        return _direct(_Optimizer.load_state_dict)(self, state_dict)


def _direct(marked):
    """The method under PyTorch's compiler mark outside ``torch.compile``; the marked one inside."""
    return marked if torch.compiler.is_compiling() else inspect.unwrap(marked)


class Adam(torch.optim.Adam, EagerOptimizer):
    """``torch.optim.Adam`` that does not import the compiler outside ``torch.compile``."""

    def step(self, closure=None):
        return self._step(torch.optim.Adam.step, closure)


class RMSprop(torch.optim.RMSprop, EagerOptimizer):
    """``torch.optim.RMSprop`` that does not import the compiler outside ``torch.compile``."""

    def step(self, closure=None):
        return self._step(torch.optim.RMSprop.step, closure)


def adam(params, lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999)) -> torch.optim.Adam:
    r"""Adam (Kingma & Ba 2015) with the fused kernel; the defaults are DCGAN's (lr 2e-4, β₁ = 0.5).

    .. math::
        m \leftarrow \beta_1 m + (1 - \beta_1) g, \quad v \leftarrow \beta_2 v + (1 - \beta_2) g^2,
        \quad \theta \leftarrow \theta - \eta \, \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    with :math:`\hat m, \hat v` the bias-corrected moments.
    """
    return Adam(params, lr=lr, betas=betas, fused=True)


def rmsprop(params, lr: float) -> torch.optim.RMSprop:
    """RMSprop (Tieleman & Hinton 2012) with PyTorch's defaults (α = 0.99, no momentum): WGAN's optimizer."""
    return RMSprop(params, lr=lr)
