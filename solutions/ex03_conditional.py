r"""Chapter 3 exercises: a class-conditional GAN (Mirza & Osindero 2014; projection: Miyato & Koyama 2018).

Implement each function below; ``ganedu.grading.check("ex03_conditional")`` in
``course/03_conditional_gan.ipynb`` grades them. Labels are int64 class indices of shape (B,).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

HINTS = {
    "embed_and_concatenate": [
        "Look up one embedding row per label (an nn.Embedding is called like a function), then join along features.",
        "torch.cat([z, embedding(labels)], dim=1)",
    ],
    "ConditionalGenerator": [
        "__init__ builds self.embed and self.net (an nn.Sequential); forward joins z and the label, runs net, reshapes.",
        "self.embed = nn.Embedding(num_classes, embed_dim); self.net = nn.Sequential(nn.Linear(nz + embed_dim, hidden), "
        "nn.ReLU(), ..., nn.Tanh()); forward: self.net(embed_and_concatenate(z, labels, self.embed))"
        ".view(len(z), *self.out_shape)",
    ],
    "projection_logits": [
        "psi gives (B, 1): drop the last dimension. The inner product is an elementwise product summed over features.",
        "psi(features).squeeze(1) + (embedding(labels) * features).sum(dim=1)",
    ],
    "grid_labels": [
        "Repeat each class index per_class times in a row (not the whole range several times).",
        "torch.arange(num_classes).repeat_interleave(per_class)",
    ],
    "per_class_accuracy": [
        "Count, per requested class, how often it was asked for and how often it was seen: torch.bincount with minlength.",
        "hits = bincount(requested[predicted == requested]); asked = bincount(requested); "
        "torch.where(asked > 0, hits / asked, nan)",
    ],
    "train_step": [
        "As in chapter 2, with a label beside every sample: G(z, fake_labels), D(real, labels), "
        "D(fake, fake_labels). Make the fakes once; detach them for D's phase only.",
        "fake = G(z, fake_labels); loss_d = softplus(-D(real, labels)).mean() + "
        "softplus(D(fake.detach(), fake_labels)).mean(); opt_d.zero_grad(); loss_d.backward(); opt_d.step(); "
        "loss_g = softplus(-D(fake, fake_labels)).mean(); opt_g.zero_grad(); loss_g.backward(); opt_g.step()",
    ],
}


def embed_and_concatenate(z: Tensor, labels: Tensor, embedding: nn.Embedding) -> Tensor:
    r"""The conditional generator's input: the code z followed by the label's embedding.

    .. math:: h = [\,z\,;\,e(y)\,] \in \mathbb{R}^{nz + d}

    Args:
        z: codes (B, nz).
        labels: class indices (B,).
        embedding: ``nn.Embedding(num_classes, d)``, a learned vector e(y) per class.

    Returns:
        (B, nz + d): each row is that sample's z, then its class's embedding vector.
    """
    # BEGIN SOLUTION
    return torch.cat([z, embedding(labels)], dim=1)
    # END SOLUTION


class ConditionalGenerator(nn.Module):
    r"""A fully connected conditional generator :math:`G(z, y)`.

    Two attributes, which the grader looks at:

    - ``embed``: a learned table of one vector :math:`e(y) \in \mathbb{R}^{d}` per class
      (an ``nn.Embedding`` of K rows of size ``embed_dim``);
    - ``net``: an ``nn.Sequential`` MLP on :math:`[z; e(y)]`, three fully connected layers
      :math:`nz + d \to hidden \to hidden \to \prod \text{out\_shape}`, a ReLU after each of the
      first two and a tanh at the end, so samples lie in [-1, 1] like the data.

    Args:
        num_classes: number of classes K.
        nz: latent dimension.
        embed_dim: size d of each class embedding.
        hidden: width of the hidden layers.
        out_shape: shape of one sample, e.g. (1, 28, 28).
    """

    def __init__(
        self,
        num_classes: int = 10,
        nz: int = 64,
        embed_dim: int = 16,
        hidden: int = 256,
        out_shape: tuple[int, ...] = (1, 28, 28),
    ):
        super().__init__()
        self.out_shape = tuple(out_shape)
        # BEGIN SOLUTION
        self.embed = nn.Embedding(num_classes, embed_dim)
        self.net = nn.Sequential(
            nn.Linear(nz + embed_dim, hidden),  # (B, hidden)
            nn.ReLU(),
            nn.Linear(hidden, hidden),  # (B, hidden)
            nn.ReLU(),
            nn.Linear(hidden, math.prod(self.out_shape)),  # (B, prod(out_shape))
            nn.Tanh(),
        )
        # END SOLUTION

    def forward(self, z: Tensor, labels: Tensor) -> Tensor:
        r"""(z (B, nz), labels (B,)) -> samples (B, \*out_shape) in [-1, 1].

        :math:`G(z, y) = \mathrm{net}([z; e(y)])`, each row of the net's output (B, prod(out_shape))
        reshaped to one sample.
        """
        # BEGIN SOLUTION
        h = embed_and_concatenate(z, labels, self.embed)  # (B, nz + embed_dim)
        return self.net(h).view(z.shape[0], *self.out_shape)  # (B, *out_shape)
        # END SOLUTION


def projection_logits(features: Tensor, labels: Tensor, psi: nn.Linear, embedding: nn.Embedding) -> Tensor:
    r"""The projection discriminator's output from its features :math:`\phi(x)`.

    .. math:: D(x, y) = \psi(\phi(x)) + \langle e_D(y), \phi(x) \rangle

    An unconditional "is it real" score plus an inner product that measures how well the image
    fits the class asked for.

    Args:
        features: :math:`\phi(x)`, shape (B, F).
        labels: class indices (B,).
        psi: ``nn.Linear(F, 1)``, the unconditional head (its output is (B, 1)).
        embedding: ``nn.Embedding(num_classes, F)``, one vector per class.

    Returns:
        Logits of shape (B,). Mind the shapes: (B, 1) + (B,) broadcasts to (B, B), not (B,).
    """
    # BEGIN SOLUTION
    return psi(features).squeeze(1) + (embedding(labels) * features).sum(dim=1)
    # END SOLUTION


def grid_labels(num_classes: int, per_class: int) -> Tensor:
    """Labels for a sample grid with one row per class: ``per_class`` of class 0, then of class 1, ...

    Returns:
        int64 (num_classes * per_class,), e.g. ``grid_labels(3, 2) = [0, 0, 1, 1, 2, 2]``.
    """
    # BEGIN SOLUTION
    return torch.arange(num_classes).repeat_interleave(per_class)
    # END SOLUTION


def per_class_accuracy(predicted: Tensor, requested: Tensor, num_classes: int) -> Tensor:
    r"""How often a classifier sees the class that was asked for, per requested class.

    .. math:: \mathrm{acc}_k = \frac{\#\{i : y_i = k,\ \hat y_i = k\}}{\#\{i : y_i = k\}}

    Args:
        predicted: the classifier's labels :math:`\hat y` of the samples, (N,).
        requested: the labels :math:`y` the samples were generated for, (N,).
        num_classes: K.

    Returns:
        float32 (K,); NaN for a class that was never requested.
    """
    # BEGIN SOLUTION
    hits = torch.bincount(requested[predicted == requested], minlength=num_classes).float()
    asked = torch.bincount(requested, minlength=num_classes).float()
    return torch.where(asked > 0, hits / asked.clamp_min(1), torch.nan)
    # END SOLUTION


def train_step(
    G: nn.Module,
    D: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    real: Tensor,
    labels: Tensor,
    z: Tensor,
    fake_labels: Tensor,
) -> dict[str, float]:
    r"""One update of a conditional GAN: D, then G, every sample judged together with its label.

    The fakes are :math:`\tilde x = G(z, \tilde y)` for labels :math:`\tilde y` drawn uniformly
    over the classes by the caller, never copied from the real batch: every class then gets
    the same share of G's training, however the real batch happens to be made up.

    1. **D's phase**, with the fakes as constants (no gradient into G):
       :math:`L_D = \frac1B\sum_i \operatorname{softplus}(-D(x_i, y_i))
       + \frac1B\sum_i \operatorname{softplus}(D(\tilde x_i, \tilde y_i))`;
       one step of ``opt_d``.
    2. **G's phase**, on the same fakes with the same labels, through the updated D:
       :math:`L_G = \frac1B\sum_i \operatorname{softplus}(-D(G(z_i, \tilde y_i), \tilde y_i))`;
       one step of ``opt_g``; D's weights must not change.

    Why the same fake labels in both phases: G's phase then asks how the updated D judges
    exactly the (sample, label) pairs it was just trained on, one forward pass of G serves
    both phases, and the labels are uniform either way, so nothing is lost by not drawing
    again. What must not happen is a mismatch: a fake shown to D with a label other than the
    one it was generated for (for example the real batch's labels) teaches D and G the wrong
    pairing.

    Clear each network's gradients before its backward pass (PyTorch accumulates them).

    Args:
        G: the generator, ``G(z, labels)`` -> samples (B, \*sample_shape).
        D: the discriminator, ``D(x, labels)`` -> logits (B,).
        opt_g, opt_d: their optimizers; each steps exactly once.
        real: a real batch (B, \*sample_shape), e.g. the images of ``data.sample(B)``.
        labels: the real batch's labels (B,) int64, e.g. the labels of ``data.sample(B)``.
        z: codes (B, nz), e.g. ``gan.sample_z(B)``.
        fake_labels: uniform random labels (B,) int64 for the fakes, e.g. ``gan.sample_labels(B)``.

    Returns:
        ``{"loss_d": float, "loss_g": float}``: each loss before its phase's update, as a Python float.
    """
    # BEGIN SOLUTION
    fake = G(z, fake_labels)  # (B, *sample_shape)
    loss_d = F.softplus(-D(real, labels)).mean() + F.softplus(D(fake.detach(), fake_labels)).mean()
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()

    loss_g = F.softplus(-D(fake, fake_labels)).mean()  # through the updated D
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}
    # END SOLUTION
