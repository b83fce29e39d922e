r"""Chapter 3 exercises: a class-conditional GAN (Mirza & Osindero 2014; projection: Miyato & Koyama 2018).

Implement each function below; ``ganedu.grading.check("ex03_conditional")`` in
``course/03_conditional_gan.ipynb`` grades them. Labels are int64 class indices of shape (B,).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


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

    ``embed`` is ``nn.Embedding(num_classes, embed_dim)``; ``net`` is an MLP on the
    concatenation :math:`[z; e(y)]`: ``Linear(nz + embed_dim, hidden)``, ReLU,
    ``Linear(hidden, hidden)``, ReLU, ``Linear(hidden, prod(out_shape))``, Tanh.

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
        """(z (B, nz), labels (B,)) -> samples (B, *out_shape) in [-1, 1].

        Use :func:`embed_and_concatenate`, then ``self.net``, then reshape.
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
        Logits of shape (B,). Mind the shapes: (B, 1) + (B,) broadcasts to (B, B).
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
