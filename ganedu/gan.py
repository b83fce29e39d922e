"""The ``GAN`` bundle: two players, their optimizers and losses, and one training step.

Following Mimicry, a model owns its losses: :class:`GAN` implements the standard
alternating step (``n_critic`` discriminator updates, then one generator update) for any
pair of loss functions from :mod:`ganedu.losses`, any penalties from
:mod:`ganedu.penalties`, conditional or not. Every bundle keeps one contract,
``train_step(data, batch_size) -> logs``, which :func:`ganedu.train.train` calls. A model
whose fakes are made differently overrides :meth:`GAN.generate` (StyleGAN's style mixing);
one whose generator objective differs overrides :meth:`GAN.g_step` (feature matching,
unrolling); CycleGAN names its own phases. A learner's own step plugs in with ``step=``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from ganedu.ema import EMA
from ganedu.errors import CheckpointError
from ganedu.runtime import resolve_precision

Penalty = Callable[..., Tensor]
"""``penalty(D, real, fake, labels) -> weighted scalar`` added to D's loss, computed in fp32.

A penalty with an ``every`` attribute k > 1 is lazy: it is computed on every k-th
discriminator update only (and weighs itself by k, see :class:`ganedu.penalties.R1Penalty`).
"""

Step = Callable[["GAN", object, int], dict]
"""``step(gan, data, batch_size) -> logs``: a whole training step written by hand (a learner's)."""


class Latents:
    """Where a bundle's random inputs come from: z ~ N(0, I) and uniform class labels.

    The bundle draws through this object (``gan.latents.z(n)``) so that a multi-process run can
    hand each process its slice of one global draw (:class:`ganedu.distributed.ShardedLatents`).
    """

    def __init__(self, nz: int, num_classes: int | None, device: torch.device):
        self.nz, self.num_classes, self.device = nz, num_classes, device

    def z(self, n: int) -> Tensor:
        """z ~ N(0, I) of shape (n, nz)."""
        return torch.randn(n, self.nz, device=self.device)

    def labels(self, n: int) -> Tensor | None:
        """n labels drawn uniformly from the classes, or ``None`` for an unconditional GAN."""
        if self.num_classes is None:
            return None
        return torch.randint(self.num_classes, (n,), device=self.device)


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
        augment: a differentiable ``augment(images) -> images`` applied to every image D sees,
            real and fake, in both players' steps (:mod:`ganedu.augment`); ``None`` for none.
        ema_half_life: half-life of the generator's EMA in images; ``None`` for no EMA.
        precision: "fp32", "bf16" (autocast) or "auto" (bf16 where
            :func:`ganedu.runtime.fast_bf16_available`).
        step: a whole training step ``step(gan, data, batch_size) -> logs`` to use instead of
            the standard one (the EMA is still updated after it).
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
        augment: Callable[[Tensor], Tensor] | None = None,
        ema_half_life: float | None = 10_000,
        precision: str = "fp32",
        step: Step | None = None,
        device: torch.device | str = "cpu",
    ):
        self.device = torch.device(device)
        self.G, self.D = G.to(self.device), D.to(self.device)
        self.opt_g, self.opt_d = opt_g, opt_d
        self.d_loss, self.g_loss = d_loss, g_loss
        self.nz, self.num_classes, self.n_critic = nz, num_classes, n_critic
        self.latents = Latents(nz, num_classes, self.device)
        self.penalties = dict(penalties or {})
        self.after_d_step = list(after_d_step)
        self.augment = augment
        self.ema = EMA(self.G, ema_half_life) if ema_half_life else None
        self.custom_step = step
        self.precision = resolve_precision(precision, self.device)
        # channels_last (NHWC) on a CPU in any precision and on a GPU in bf16: oneDNN's CPU
        # convolutions run 10-21% faster in it in fp32 and skip layout copies in bf16, and cuDNN's
        # bf16 kernels want it (benchmarks/README.md, "channels_last and fused Adam")
        self.use_layout(channels_last=self.device.type == "cpu" or self.precision == "bf16")
        self.step = 0  # generator updates so far
        self.d_updates = 0  # discriminator updates so far (the clock of lazy penalties)

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

    def use_layout(self, channels_last: bool) -> None:
        """Keep the networks' weights (and :meth:`in_layout`'s batches) channels_last or in NCHW.

        Call it before the first step: Adam's moments take their parameter's layout when created.
        Only speed depends on it (``tests/test_train.py``; ``benchmarks/layout.py`` times both).
        """
        self.channels_last = channels_last
        memory_format = torch.channels_last if channels_last else torch.contiguous_format
        for net in self.modules().values():
            net.to(memory_format=memory_format)

    def in_layout(self, x: Tensor) -> Tensor:
        """``x`` in the networks' layout: an image batch (B, C, H, W) made channels_last if they are."""
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last and x.dim() == 4 else x

    def sample_z(self, n: int) -> Tensor:
        """z ~ N(0, I) of shape (n, nz) on the model's device."""
        return self.latents.z(n)

    def sample_labels(self, n: int) -> Tensor | None:
        """Uniform random class labels for a conditional GAN, ``None`` otherwise."""
        return self.latents.labels(n)

    def _cond(self, labels: Tensor | None) -> tuple:
        return () if self.num_classes is None else (labels,)

    def generate(self, n: int, labels: Tensor | None) -> Tensor:
        """``n`` fakes for a training step, ``G(z)`` or ``G(z, labels)``, under the step's autocast."""
        return self.G(self.sample_z(n), *self._cond(labels))

    def seen_by_d(self, x: Tensor) -> Tensor:
        """``x`` as D sees it: ``augment(x)`` when the bundle augments, else ``x`` itself."""
        return x if self.augment is None else self.augment(x)

    def critic(self) -> Callable[..., Tensor]:
        """D as the penalties differentiate it: ``D(augment(x))`` when augmenting (the gradient is
        taken with respect to the image before augmentation, as in StyleGAN2-ADA), else D."""
        if self.augment is None:
            return self.D
        return lambda x, *cond: self.D(self.augment(x), *cond)

    # ------------------------------------------------------------ the two phases
    def d_step(self, real: Tensor, labels: Tensor | None) -> dict[str, Tensor]:
        """One discriminator update on a real batch and a fresh fake batch; returns its losses."""
        cond = self._cond(labels)
        real = self.in_layout(real)
        with torch.no_grad(), self.autocast():
            fake = self.generate(real.shape[0], labels)  # G is fixed in this phase
        with self.autocast():
            real_logits = self.D(self.seen_by_d(real), *cond)
            fake_logits = self.D(self.seen_by_d(fake), *cond)
        loss = self.d_loss(real_logits.float(), fake_logits.float())
        logs = {"loss_D": loss.detach()}
        for name, penalty in self.penalties.items():  # in fp32: they may take a double backward
            if self.d_updates % getattr(penalty, "every", 1) == 0:  # a lazy penalty skips the rest
                value = penalty(self.critic(), real, fake.float(), labels)
                loss = loss + value
                logs[name] = value.detach()
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        self.d_updates += 1
        for hook in self.after_d_step:
            hook(self.D)
        logs["D(x) logit"] = real_logits.detach().float().mean()
        logs["D(G(z)) logit"] = fake_logits.detach().float().mean()
        return logs

    def g_step(self, data, batch_size: int) -> dict[str, Tensor]:
        """One generator update through the (fixed) discriminator; returns its loss.

        ``data`` is unused here; generator objectives that need real images (feature
        matching, unrolling) draw them from it.
        """
        labels = self.sample_labels(batch_size)
        self.D.requires_grad_(False)  # gradients flow through D to G; D's own weights need none
        with self.autocast():
            fake_logits = self.D(self.seen_by_d(self.generate(batch_size, labels)), *self._cond(labels))
        loss = self.g_loss(fake_logits.float())
        self.update_generator(loss)
        return {"loss_G": loss.detach()}

    def update_generator(self, loss: Tensor) -> None:
        """One optimizer step of G on ``loss``, then D's gradients switched back on.

        The shared end of every generator step (subclasses call it after computing their loss).
        """
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        self.D.requires_grad_(True)

    def train_step(self, data, batch_size: int) -> dict[str, Tensor]:
        """``n_critic`` D updates on batches drawn from ``data``, one G update, then the EMA update."""
        if self.custom_step is not None:  # a learner's step returns Python floats
            logs = self.custom_step(self, data, batch_size)
            logs = {k: torch.as_tensor(v, dtype=torch.float32, device=self.device) for k, v in logs.items()}
        else:
            logs = {}
            for _ in range(self.n_critic):
                real, labels = data.sample(batch_size)
                logs.update(self.d_step(real, labels if self.num_classes else None))
            logs.update(self.g_step(data, batch_size))
        if self.ema is not None:
            self.ema.update(self.G, images=batch_size)
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

    def export(self, n: int, data=None, seed: int = 0, crop_to: int | None = None, **options) -> dict:
        """Samples for ``python -m ganedu sample``: ``{"images": uint8 (N, C, H, W), ...}``.

        Images are cropped to ``crop_to``, or to the stored size of ``data``'s images (28 for
        Fashion-MNIST, which the networks see padded to 32). Arrays are joined from chunks of
        500 uint8 images (:meth:`export_chunks`), so memory stays bounded for a large ``n``.
        """
        if crop_to is None and data is not None:
            crop_to = data.images.shape[-1]
        chunks = list(self.export_chunks(n, seed=seed, crop_to=crop_to, **options))
        return {key: np.concatenate([c[key] for c in chunks]) for key in chunks[0]}

    def export_chunks(self, n: int, seed: int = 0, crop_to: int | None = None, **options):
        """Yields chunks ``{"images": uint8 (k, C, H, W)[, "labels": (k,)]}`` of :meth:`export`.

        A conditional GAN also yields ``labels``, every class in equal shares. ``options`` go to
        :meth:`sample` (e.g. StyleGAN's ``truncation``).
        """
        from ganedu.data import to_uint8

        if n <= 0:
            raise ValueError(f"the number of samples must be positive, not {n}")
        for i, start in enumerate(range(0, n, 500)):
            k = min(500, n - start)
            labels = (
                (torch.arange(start, start + k, device=self.device) % self.num_classes)
                if self.num_classes
                else None
            )
            extra = {"labels": labels} if labels is not None else {}
            try:
                images = self.sample(k, seed=seed + i, **extra, **options)
            except TypeError:
                raise ValueError(f"this model takes no sampling options, got {sorted(options)}") from None
            chunk = {"images": to_uint8(images, crop_to=crop_to).cpu().numpy()}
            if labels is not None:
                chunk["labels"] = labels.cpu().numpy()
            yield chunk

    # ------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict:
        """Models, optimizers, EMA and step: everything :meth:`load_state_dict` restores."""
        state = {
            "step": self.step,
            "d_updates": self.d_updates,
            "models": {k: m.state_dict() for k, m in self.modules().items()},
            "optimizers": {k: o.state_dict() for k, o in self.optimizers().items()},
        }
        if self.ema is not None:
            state["ema"] = self.ema.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` saved.

        Raises:
            CheckpointError: a saved network does not fit the one built here (other layers or
                shapes: the run's options, or a recipe's defaults, differ from when it was saved).
        """
        self.step = int(state["step"])
        self.d_updates = int(state.get("d_updates", self.step * self.n_critic))
        for k, m in self.modules().items():
            try:
                m.load_state_dict(state["models"][k])
            except RuntimeError as e:  # missing, unexpected or differently shaped weights
                detail = " ".join(str(e).split())
                detail = detail if len(detail) <= 160 else detail[:160] + "..."
                raise CheckpointError(
                    f"the checkpoint's {k} does not fit the {k} that the run's options build (a recipe "
                    "default may have changed since it was saved): set the options it was trained with "
                    f"in the run's config.json, or train it again ({detail})"
                ) from None
        for k, o in self.optimizers().items():
            o.load_state_dict(state["optimizers"][k])
        if self.ema is not None and "ema" in state:
            self.ema.load_state_dict(state["ema"])
