"""The ``GAN`` bundle: two players, their optimizers and losses, and one training step.

Following Mimicry, a model owns its losses: :class:`GAN` implements the standard
alternating step (``n_critic`` discriminator updates, then one generator update) for any
pair of loss functions from :mod:`ganedu.losses`, any penalties from
:mod:`ganedu.penalties`, conditional or not. A model whose step differs (CycleGAN,
StyleGAN) subclasses it and overrides :meth:`GAN.d_step` / :meth:`GAN.g_step`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from ganedu.ema import EMA
from ganedu.runtime import resolve_precision

Penalty = Callable[..., Tensor]
"""``penalty(D, real, fake, labels) -> weighted scalar`` added to D's loss, computed in fp32."""


class GAN:
    """Generator, discriminator, optimizers and losses, with the alternating update.

    Args:
        G: generator, ``G(z)`` or ``G(z, y)`` when ``num_classes`` is set.
        D: discriminator returning logits, ``D(x)`` or ``D(x, y)``.
        opt_g, opt_d: their optimizers.
        d_loss: ``d_loss(real_logits, fake_logits) -> scalar`` (see :mod:`ganedu.losses`).
        g_loss: ``g_loss(fake_logits) -> scalar``.
        nz: latent dimension; z ~ N(0, I).
        num_classes: number of classes for a conditional GAN, else ``None``.
        n_critic: discriminator updates per generator update (5 for WGAN).
        penalties: named callables ``(D, real, fake, labels) -> scalar`` added to D's loss.
        after_d_step: callables run on D after each of its updates (e.g. weight clipping).
        ema_half_life: half-life of the generator's EMA in images; ``None`` for no EMA.
        batch_size: used to turn the EMA half-life into a per-step decay.
        precision: "fp32", "bf16" (autocast) or "auto" (bf16 where :func:`ganedu.runtime.fast_bf16_available`).
        device: where the models live.
    """

    def __init__(
        self,
        G: nn.Module,
        D: nn.Module,
        opt_g: torch.optim.Optimizer,
        opt_d: torch.optim.Optimizer,
        d_loss: Callable[[Tensor, Tensor], Tensor],
        g_loss: Callable[[Tensor], Tensor],
        nz: int,
        num_classes: int | None = None,
        n_critic: int = 1,
        penalties: dict[str, Penalty] | None = None,
        after_d_step: Sequence[Callable[[nn.Module], None]] = (),
        ema_half_life: float | None = 10_000,
        batch_size: int = 64,
        precision: str = "fp32",
        device: torch.device | str = "cpu",
    ):
        self.device = torch.device(device)
        self.G, self.D = G.to(self.device), D.to(self.device)
        self.opt_g, self.opt_d = opt_g, opt_d
        self.d_loss, self.g_loss = d_loss, g_loss
        self.nz, self.num_classes, self.n_critic = nz, num_classes, n_critic
        self.penalties = dict(penalties or {})
        self.after_d_step = list(after_d_step)
        self.ema = EMA(self.G, ema_half_life, batch_size) if ema_half_life else None
        self.precision = precision = resolve_precision(precision, self.device)
        if precision == "bf16":
            # channels_last lets the bf16 convolution kernels (oneDNN, cuDNN) skip layout copies
            for net in self.modules().values():
                net.to(memory_format=torch.channels_last)
        self.step = 0

    # ------------------------------------------------------------------ helpers
    def modules(self) -> dict[str, nn.Module]:
        """The trainable networks by name (checkpointed, counted, moved)."""
        return {"G": self.G, "D": self.D}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"G": self.opt_g, "D": self.opt_d}

    def autocast(self):
        """bf16 autocast when ``precision == "bf16"``, else a no-op context."""
        if self.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _layout(self, x: Tensor) -> Tensor:
        return (
            x.contiguous(memory_format=torch.channels_last)
            if self.precision == "bf16" and x.dim() == 4
            else x
        )

    def sample_z(self, n: int) -> Tensor:
        """z ~ N(0, I) of shape (n, nz) on the model's device."""
        return torch.randn(n, self.nz, device=self.device)

    def sample_labels(self, n: int) -> Tensor | None:
        """Uniform random class labels for a conditional GAN, ``None`` otherwise."""
        if self.num_classes is None:
            return None
        return torch.randint(self.num_classes, (n,), device=self.device)

    def _cond(self, labels: Tensor | None) -> tuple:
        return () if self.num_classes is None else (labels,)

    # ------------------------------------------------------------ the two phases
    def d_step(self, real: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        """One discriminator update on a real batch and a fresh fake batch; returns its losses."""
        cond = self._cond(labels)
        real = self._layout(real)
        with torch.no_grad(), self.autocast():
            fake = self.G(self.sample_z(real.shape[0]), *cond)  # G is fixed in this phase
        with self.autocast():
            real_logits = self.D(real, *cond)
            fake_logits = self.D(fake, *cond)
        loss = self.d_loss(real_logits.float(), fake_logits.float())
        logs = {"loss_D": loss.detach()}
        for name, penalty in self.penalties.items():  # in fp32: they may take a double backward
            value = penalty(self.D, real, fake.float(), labels)
            loss = loss + value
            logs[name] = value.detach()
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        for hook in self.after_d_step:
            hook(self.D)
        logs["D(x)"] = real_logits.detach().float().mean()
        logs["D(G(z))"] = fake_logits.detach().float().mean()
        return logs

    def g_step(self, batch_size: int, labels: Tensor | None) -> dict[str, Tensor]:
        """One generator update through the (fixed) discriminator; returns its loss."""
        labels = self.sample_labels(batch_size) if labels is None else labels
        cond = self._cond(labels)
        self.D.requires_grad_(False)  # gradients flow through D to G; D's own weights need none
        with self.autocast():
            fake = self.G(self.sample_z(batch_size), *cond)
            fake_logits = self.D(fake, *cond)
        loss = self.g_loss(fake_logits.float())
        self.update_generator(loss)
        return {"loss_G": loss.detach()}

    def update_generator(self, loss: Tensor) -> None:
        """One optimizer step of G on ``loss``, D's gradients switched back on, then the EMA update.

        The shared end of every generator step (subclasses call it after computing their loss).
        """
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)
        if self.ema is not None:
            self.ema.update(self.G)

    def train_step(self, data, batch_size: int) -> dict[str, Tensor]:
        """``n_critic`` D updates on batches drawn from ``data``, then one G update."""
        logs: dict[str, Tensor] = {}
        for _ in range(self.n_critic):
            real, labels = data.sample(batch_size)
            logs.update(self.d_step(real, labels if self.num_classes else None))
        logs.update(self.g_step(batch_size, None))
        return logs

    # ---------------------------------------------------------------- sampling
    @torch.no_grad()
    def sample(
        self, n: int, labels: Tensor | None = None, seed: int | None = None, ema: bool = True
    ) -> Tensor:
        """``n`` images in [-1, 1] from the EMA generator (or the raw one), in eval mode.

        ``labels`` picks classes for a conditional GAN (default: equal shares of every class).
        ``seed`` makes the draw reproducible without touching the global random state.
        """
        gen = torch.Generator(device=self.device).manual_seed(seed) if seed is not None else None
        z = torch.randn(n, self.nz, device=self.device, generator=gen)
        if self.num_classes is not None and labels is None:
            labels = torch.arange(n, device=self.device) % self.num_classes
        G = self.ema.model if (ema and self.ema is not None) else self.G
        was_training = G.training
        G.eval()
        out = G(z, *self._cond(labels.to(self.device) if labels is not None else None)).float()
        G.train(was_training)
        return out

    # ------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict:
        """Models, optimizers, EMA and step: everything :meth:`load_state_dict` restores."""
        state = {
            "step": self.step,
            "models": {k: m.state_dict() for k, m in self.modules().items()},
            "optimizers": {k: o.state_dict() for k, o in self.optimizers().items()},
        }
        if self.ema is not None:
            state["ema"] = self.ema.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        self.step = int(state["step"])
        for k, m in self.modules().items():
            m.load_state_dict(state["models"][k])
        for k, o in self.optimizers().items():
            o.load_state_dict(state["optimizers"][k])
        if self.ema is not None and "ema" in state:
            self.ema.load_state_dict(state["ema"])

    def export(self, n: int, data, seed: int = 0, **options) -> dict:
        """Samples for ``python -m ganedu sample``: uint8 images (N, C, H, W) at the data's size.

        A conditional GAN also returns ``labels``, every class in equal shares. Subclasses
        override this for other outputs (translations, truncated samples).
        """
        from ganedu.data import to_uint8

        if options:
            raise ValueError(f"this model takes no sampling options, got {sorted(options)}")
        labels = torch.arange(n, device=self.device) % self.num_classes if self.num_classes else None
        chunks = []
        for i, start in enumerate(range(0, n, 500)):  # bounded memory for large n
            y = labels[start : start + 500] if labels is not None else None
            chunks.append(self.sample(min(500, n - start), labels=y, seed=seed + i))
        out = {"images": to_uint8(torch.cat(chunks), crop_to=data.images.shape[-1]).cpu().numpy()}
        if labels is not None:
            out["labels"] = labels.cpu().numpy()
        return out
