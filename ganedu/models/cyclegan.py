r"""CycleGAN (Zhu et al. 2017): translation between two unpaired image domains.

Two generators, :math:`G: A \to B` and :math:`F: B \to A`, and two discriminators,
:math:`D_B` (real B vs :math:`G(a)`) and :math:`D_A` (real A vs :math:`F(b)`). Nothing pairs
an image of A with one of B; what keeps a translation tied to its input is the cycle:

.. math::
    L_G = \underbrace{L_{LS}(D_B(G(a))) + L_{LS}(D_A(F(b)))}_{\text{adversarial}}
        + \lambda \underbrace{(\lVert F(G(a)) - a\rVert_1 + \lVert G(F(b)) - b\rVert_1)}_{\text{cycle}}
        + \lambda_{id} \underbrace{(\lVert G(b) - b\rVert_1 + \lVert F(a) - a\rVert_1)}_{\text{identity}}

with the least-squares losses of LSGAN, :math:`\lambda = 10` and :math:`\lambda_{id} = 0.5\lambda`.
Each discriminator sees its fakes through an :class:`ImagePool` of the last 50 translations,
and the learning rate stays constant for the first part of training, then falls linearly
to zero (the paper: 100 epochs constant, 100 decaying).

The networks are in :mod:`ganedu.nets.cyclegan`; this module holds the losses, the history
pool, the schedule, the bundle with its two named phases, and the recipe.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganedu import losses
from ganedu.data import ImageBatches, load_dataset, to_float, to_uint8
from ganedu.gan import GAN
from ganedu.models.base import ModelSpec
from ganedu.models.catalog import CycleGANOptions as Options
from ganedu.nets.cyclegan import PatchDiscriminator, ResnetGenerator
from ganedu.nets.dcgan import init_weights  # N(0, 0.02) convs, N(1, 0.02) norm scales, as the paper's code
from ganedu.optim import adam


def cycle_loss(real: Tensor, reconstructed: Tensor) -> Tensor:
    r"""Cycle-consistency loss :math:`\lVert F(G(a)) - a \rVert_1`, the mean absolute error per pixel."""
    return F.l1_loss(reconstructed, real)


def identity_loss(real: Tensor, same: Tensor) -> Tensor:
    r"""Identity loss :math:`\lVert G(b) - b \rVert_1`: a generator fed its own target domain should change nothing."""
    return F.l1_loss(same, real)


class ImagePool:
    """A history of the last ``size`` generated images, for the discriminator (Shrivastava et al. 2017).

    Why: a discriminator that only sees the generator's latest output can chase it around,
    and the two oscillate. Mixing in older fakes reminds D of what G used to do. Until the
    pool is full, each new image is stored and returned; afterwards each new image is, with
    probability 1/2, returned as is, or swapped with a random stored image, which is returned
    in its place. The pool never holds more than ``size`` images; ``size = 0`` disables it.
    Randomness comes from the global torch generator, so checkpoints make it reproducible.
    """

    def __init__(self, size: int = 50):
        self.size = size
        self.images: list[Tensor] = []

    def __len__(self) -> int:
        return len(self.images)

    def query(self, images: Tensor) -> Tensor:
        """Return a batch the shape of ``images``: new fakes mixed with older ones from the pool."""
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand(()) < 0.5:
                i = int(torch.randint(self.size, ()))
                out.append(self.images[i])
                self.images[i] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict:
        return {"images": torch.stack(self.images) if self.images else torch.empty(0)}

    def load_state_dict(self, state: dict) -> None:
        self.images = list(state["images"].unbind(0)) if state["images"].numel() else []


def linear_decay(step: int, constant_steps: int, decay_steps: int) -> float:
    """Learning-rate factor: 1 for ``constant_steps``, then linearly down to 0 over ``decay_steps``."""
    if step < constant_steps:
        return 1.0
    return max(0.0, 1.0 - (step - constant_steps) / max(decay_steps, 1))


class UnpairedBatches:
    """Batches from two domains drawn independently: ``sample(B) -> (a, b)``, each (B, C, H, W) in [-1, 1].

    Both domains draw their indices from one ``torch.Generator`` (:attr:`generator`), so a
    checkpoint records the data's random state in one place.
    """

    def __init__(self, a: ImageBatches, b: ImageBatches):
        self.a, self.b = a, b
        self.b.generator = self.a.generator
        self.generator = self.a.generator
        self.images = a.images  # the stored (unpadded) images, for export's crop
        self.pad_to = a.pad_to  # the size the networks see
        self.preview: tuple[Tensor, Tensor] | None = None  # fixed images for grids, set by data()

    def __len__(self) -> int:
        return len(self.a) + len(self.b)

    def sample(self, batch_size: int) -> tuple[Tensor, Tensor]:
        return self.a.sample(batch_size)[0], self.b.sample(batch_size)[0]


def domain_batches(
    dataset: str,
    class_a: int,
    class_b: int,
    split: str = "train",
    device=None,
    pad_to: int = 32,
    seed: int = 0,
) -> UnpairedBatches:
    """The images of class ``class_a`` (domain A) and ``class_b`` (domain B) of ``dataset``'s ``split``."""
    images, labels = load_dataset(dataset, split)
    pad = pad_to if images.shape[-1] < pad_to else None
    a = ImageBatches(images[labels == class_a], None, device=device, pad_to=pad, seed=seed)
    b = ImageBatches(images[labels == class_b], None, device=device, pad_to=pad, seed=seed)
    return UnpairedBatches(a, b)


class CycleGAN(GAN):
    """The CycleGAN bundle: ``G`` holds the generators ``AB`` and ``BA``, ``D`` the discriminators ``A`` and ``B``.

    One Adam for both generators and one for both discriminators, as in the paper's code.

    Args:
        G: ``nn.ModuleDict(AB=..., BA=...)``.
        D: ``nn.ModuleDict(A=..., B=...)``: ``D["B"]`` judges domain B, ``D["A"]`` domain A.
        opt_g, opt_d: their optimizers.
        lambda_cycle: λ, the weight of the cycle loss (10).
        lambda_identity: weight of the identity loss as a fraction of λ (0.5).
        pool_size: fakes kept for each discriminator (50).
        constant_steps, decay_steps: the learning-rate schedule (see :func:`linear_decay`).
        classes: the class index of domain A and of domain B (for ``export``'s labels).
        dataset: where ``export`` takes its test images from.
        preview: a few fixed images ``(a, b)`` that :meth:`sample` translates, e.g. for grids.
        pad_to: the size the networks see (28×28 images are padded to 32).
        precision, device: as in :class:`GAN`.
    """

    def __init__(
        self,
        G: nn.ModuleDict,
        D: nn.ModuleDict,
        opt_g: torch.optim.Optimizer,
        opt_d: torch.optim.Optimizer,
        lambda_cycle: float = 10.0,
        lambda_identity: float = 0.5,
        pool_size: int = 50,
        constant_steps: int = 2000,
        decay_steps: int = 2000,
        classes: tuple[int, int] = (7, 9),
        dataset: str = "fashion-mnist",
        preview: tuple[Tensor, Tensor] | None = None,
        pad_to: int | None = 32,
        precision: str = "fp32",
        device: torch.device | str = "cpu",
    ):
        super().__init__(
            G, D, opt_g, opt_d, losses.least_squares_d, losses.least_squares_g, nz=0,
            ema_half_life=None, precision=precision, device=device,
        )  # fmt: skip
        self.lambda_cycle, self.lambda_identity = lambda_cycle, lambda_identity
        self.pools = {"A": ImagePool(pool_size), "B": ImagePool(pool_size)}
        self.constant_steps, self.decay_steps = constant_steps, decay_steps
        self.base_lr = {k: [g["lr"] for g in o.param_groups] for k, o in self.optimizers().items()}
        self.classes, self.dataset, self.pad_to = classes, dataset, pad_to
        self.preview = tuple(x.to(self.device) for x in preview) if preview is not None else None

    def set_learning_rates(self) -> float:
        """Set every optimizer's learning rate for the current step; returns the factor applied."""
        factor = linear_decay(self.step, self.constant_steps, self.decay_steps)
        for name, opt in self.optimizers().items():
            for group, lr in zip(opt.param_groups, self.base_lr[name], strict=True):
                group["lr"] = lr * factor
        return factor

    def generator_phase(self, a: Tensor, b: Tensor) -> tuple[dict[str, Tensor], Tensor, Tensor]:
        """Update both generators; returns the losses and the fakes (F(b), G(a)) for the discriminator phase."""
        G_AB, G_BA = self.G["AB"], self.G["BA"]
        self.D.requires_grad_(False)
        with self.autocast():
            fake_b, fake_a = G_AB(a), G_BA(b)
            rec_a, rec_b = G_BA(fake_b), G_AB(fake_a)
            adv = self.g_loss(self.D["B"](fake_b).float()) + self.g_loss(self.D["A"](fake_a).float())
            cycle = cycle_loss(a, rec_a.float()) + cycle_loss(b, rec_b.float())
            logs = {"loss_G_adv": adv.detach(), "loss_cycle": cycle.detach()}
            loss = adv + self.lambda_cycle * cycle
            if self.lambda_identity > 0:
                same = identity_loss(b, G_AB(b).float()) + identity_loss(a, G_BA(a).float())
                loss = loss + self.lambda_identity * self.lambda_cycle * same
                logs["loss_identity"] = same.detach()
        self.update_generator(loss)
        logs["loss_G"] = loss.detach()
        return logs, fake_a.detach(), fake_b.detach()

    def discriminator_phase(self, a: Tensor, b: Tensor, fake_a: Tensor, fake_b: Tensor) -> dict[str, Tensor]:
        """Update both discriminators on real images and fakes drawn through the history pools."""
        fake_a, fake_b = self.pools["A"].query(fake_a), self.pools["B"].query(fake_b)
        with self.autocast():
            loss_a = self.d_loss(self.D["A"](a).float(), self.D["A"](fake_a).float())
            loss_b = self.d_loss(self.D["B"](b).float(), self.D["B"](fake_b).float())
        self.opt_d.zero_grad(set_to_none=True)
        (loss_a + loss_b).backward()
        self.opt_d.step()
        return {
            "loss_D_A": loss_a.detach(),
            "loss_D_B": loss_b.detach(),
            "loss_D": (loss_a + loss_b).detach(),
        }

    def train_step(self, data: UnpairedBatches, batch_size: int) -> dict[str, Tensor]:
        """The paper's order: generators first, then both discriminators on those fakes."""
        self.set_learning_rates()
        a, b = (self.in_layout(x) for x in data.sample(batch_size))
        logs, fake_a, fake_b = self.generator_phase(a, b)
        logs.update(self.discriminator_phase(a, b, fake_a, fake_b))
        return logs

    # ---------------------------------------------------------------- sampling
    @torch.no_grad()
    def translate(self, x: Tensor, direction: str = "AB") -> Tensor:
        """Translate images in [-1, 1] with the generator ``"AB"`` (A→B) or ``"BA"``, in eval mode."""
        G = self.G[direction]
        was_training = G.training
        G.eval()
        out = G(x.to(self.device)).float()
        G.train(was_training)
        return out

    @torch.no_grad()
    def sample(self, n: int, labels=None, seed: int | None = None, ema: bool = True) -> Tensor:
        """Rows of the :attr:`preview` images for grids: a, G(a), F(G(a)), b, F(b), G(F(b)).

        Returns ``6·k`` images with ``k = min(8, n // 6, len(preview))``, one row of ``k`` per kind.
        """
        if self.preview is None:
            raise ValueError("this CycleGAN has no preview images: pass preview=(a, b)")
        a, b = self.preview
        k = max(1, min(8, n // 6, len(a)))
        a, b = a[:k], b[:k]
        fake_b, fake_a = self.translate(a, "AB"), self.translate(b, "BA")
        rows = [a, fake_b, self.translate(fake_b, "BA"), b, fake_a, self.translate(fake_a, "AB")]
        return torch.cat(rows)

    def export_chunks(self, n: int, seed: int = 0, crop_to: int | None = None, **options):
        """Translations of the first ``n`` test images of domain A, for ``python -m ganedu sample``.

        Yields chunks of ``images`` (the translations, uint8 (k, C, H, W) at the data's size),
        ``labels`` (the class of domain B, the class asked for) and ``source`` (the inputs).
        When the test split holds fewer than ``n`` images of domain A, they are used again in order.
        """
        if options:
            raise ValueError(f"CycleGAN takes no sampling options, got {sorted(options)}")
        if n <= 0:
            raise ValueError(f"the number of translations must be positive, not {n}")
        images, labels = load_dataset(self.dataset, "test")
        source = images[labels == self.classes[0]]
        for start in range(0, n, 500):
            x = source[torch.arange(start, min(n, start + 500)) % len(source)]
            out = self.translate(to_float(x, pad_to=self.pad_to))  # (k, C, 32, 32) for 28×28 inputs
            yield {
                "images": to_uint8(out, crop_to=x.shape[-1]).cpu().numpy(),
                "labels": torch.full((len(x),), self.classes[1], dtype=torch.int64).numpy(),
                "source": x.numpy(),
            }

    # ------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict:
        state = super().state_dict()
        state["pools"] = {k: p.state_dict() for k, p in self.pools.items()}
        return state

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        for k, p in self.pools.items():
            p.load_state_dict(state["pools"][k])


def data(config, options: Options, dev) -> UnpairedBatches:
    """The training images of the two domains, on ``dev``; records their shape in ``config``.

    ``preview`` holds 8 fixed test images of each domain for the grids drawn while training.
    """
    classes = (options.domain_a, options.domain_b)
    batches = domain_batches(config.dataset, *classes, device=dev, seed=config.seed)
    test = domain_batches(config.dataset, *classes, split="test")
    batches.preview = (test.a.sample(8)[0], test.b.sample(8)[0])
    config.image_shape, config.num_classes = list(batches.images.shape[1:]), None
    return batches


def build(config, options: Options, dev) -> CycleGAN:
    """CycleGAN: ResNet generators, PatchGAN discriminators, LSGAN losses, cycle λ = 10, identity 0.5λ."""
    nc, k = config.channels, options.n_blocks
    G = nn.ModuleDict({"AB": ResnetGenerator(nc, options.ngf, k), "BA": ResnetGenerator(nc, options.ngf, k)})
    D = nn.ModuleDict({"A": PatchDiscriminator(nc, options.ndf), "B": PatchDiscriminator(nc, options.ndf)})
    G.apply(init_weights)
    D.apply(init_weights)
    return CycleGAN(
        G, D, adam(G.parameters(), options.lr), adam(D.parameters(), options.lr),
        lambda_cycle=options.lambda_cycle, lambda_identity=options.lambda_identity,
        pool_size=options.pool_size, constant_steps=options.constant_steps,
        decay_steps=options.decay_steps, classes=(options.domain_a, options.domain_b),
        dataset=config.dataset, pad_to=32 if config.image_size < 32 else None,
        precision=config.precision, device=dev,
    )  # fmt: skip


MODEL = ModelSpec.declared("cyclegan", build, data)
