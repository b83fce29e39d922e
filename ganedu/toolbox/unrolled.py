"""Unrolled GAN (Metz et al. 2017): G's loss taken against D unrolled k steps ahead."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.func import functional_call

from ganedu.gan import GAN


class UnrolledGAN(GAN):
    r"""Unrolled GAN (Metz et al. 2017): G's loss against D after ``unroll`` look-ahead steps.

    .. math::
        \theta_D^{0} = \theta_D,\qquad
        \theta_D^{k+1} = \theta_D^{k} + \operatorname{update}\big(\nabla_{\theta_D} L_D(\theta_D^{k}, \theta_G)\big),\qquad
        L_G^{\text{unrolled}} = L_G\big(\theta_G, \theta_D^{K}\big)

    G asks not "what fools D now?" but "what still fools D after D has reacted?". A G that
    piles onto one mode sees D move to reject that mode within the look-ahead, so collapsing
    no longer pays. As in the paper, the look-ahead unrolls D's *actual* update: Adam's, with
    D's optimizer's learning rate, betas and moment estimates (any other optimizer is unrolled
    as plain gradient descent at its learning rate). It runs on a functional copy of D's
    weights and moments; D and its optimizer are not changed. With ``second_order`` the
    gradient flows through the unrolling into G (the paper's full method), otherwise each
    look-ahead step is treated as a constant (cheaper, most of the benefit on toy data).
    For the small MLPs of the 2D toy problems; every G step costs ``unroll`` extra D passes.
    """

    def __init__(self, *args, unroll: int = 5, second_order: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.unroll, self.second_order = unroll, second_order

    def lookahead(self, fake: Tensor, data, batch_size: int) -> dict[str, Tensor]:
        """D's parameters after ``unroll`` of its own optimizer's updates on real batches and ``fake``."""
        params = {k: p.detach().requires_grad_(True) for k, p in self.D.named_parameters()}
        buffers = dict(self.D.named_buffers())
        group = self.opt_d.param_groups[0]
        adam = isinstance(self.opt_d, torch.optim.Adam)
        state = {k: self.opt_d.state.get(p, {}) for k, p in self.D.named_parameters()}
        m = {k: s.get("exp_avg", torch.zeros_like(params[k])) for k, s in state.items()}
        v = {k: s.get("exp_avg_sq", torch.zeros_like(params[k])) for k, s in state.items()}
        t = {k: float(s.get("step", 0)) for k, s in state.items()}
        for _ in range(self.unroll):
            real, _ = data.sample(batch_size)
            fake_k = fake if self.second_order else fake.detach()
            d_loss = self.d_loss(
                functional_call(self.D, (params, buffers), (real,)),
                functional_call(self.D, (params, buffers), (fake_k,)),
            )
            grads = torch.autograd.grad(d_loss, list(params.values()), create_graph=self.second_order)
            for (k, p), g in zip(list(params.items()), grads, strict=True):
                if not adam:  # θ ← θ − η g
                    params[k] = p - group["lr"] * g
                    continue
                # Adam: m ← β1 m + (1 − β1) g, v ← β2 v + (1 − β2) g², θ ← θ − η m̂ / (√v̂ + ε)
                (b1, b2), t[k] = group["betas"], t[k] + 1
                m[k] = b1 * m[k] + (1 - b1) * g
                v[k] = b2 * v[k] + (1 - b2) * g * g
                m_hat, v_hat = m[k] / (1 - b1 ** t[k]), v[k] / (1 - b2 ** t[k])
                params[k] = p - group["lr"] * m_hat / ((v_hat + 1e-30).sqrt() + group["eps"])
        return params

    def g_step(self, data, batch_size: int) -> dict[str, Tensor]:
        """G's update on its loss against D unrolled ``unroll`` steps ahead on real batches from ``data``."""
        fake = self.G(self.sample_z(batch_size))
        params = self.lookahead(fake, data, batch_size)
        buffers = dict(self.D.named_buffers())
        loss = self.g_loss(functional_call(self.D, (params, buffers), (fake,)))
        self.update_generator(loss)  # D's own weights get no gradient: the look-ahead used detached copies
        return {"loss_G": loss.detach()}
