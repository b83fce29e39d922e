# Generated from solutions/ex03_conditional.py by `python -m ganedu.grading make-stubs`.
# Replace each `raise NotImplementedError(...)` with your code; grade with
# `ganedu.grading.check('ex03_conditional')` in the notebook or `pytest exercises/test_ex03_conditional.py`.
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
    raise NotImplementedError("embed_and_concatenate: not implemented yet, see its docstring")


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
        raise NotImplementedError("ConditionalGenerator.__init__: not implemented yet, see its docstring")

    def forward(self, z: Tensor, labels: Tensor) -> Tensor:
        """(z (B, nz), labels (B,)) -> samples (B, *out_shape) in [-1, 1].

        Use :func:`embed_and_concatenate`, then ``self.net``, then reshape.
        """
        raise NotImplementedError("ConditionalGenerator.forward: not implemented yet, see its docstring")


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
    raise NotImplementedError("projection_logits: not implemented yet, see its docstring")


def grid_labels(num_classes: int, per_class: int) -> Tensor:
    """Labels for a sample grid with one row per class: ``per_class`` of class 0, then of class 1, ...

    Returns:
        int64 (num_classes * per_class,), e.g. ``grid_labels(3, 2) = [0, 0, 1, 1, 2, 2]``.
    """
    raise NotImplementedError("grid_labels: not implemented yet, see its docstring")


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
    raise NotImplementedError("per_class_accuracy: not implemented yet, see its docstring")
