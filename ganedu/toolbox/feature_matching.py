"""Feature matching (Salimans et al. 2016): G matches the mean of D's features on real data."""

from __future__ import annotations

import torch
from torch import Tensor

from ganedu.gan import GAN


def feature_matching_loss(real_features: Tensor, fake_features: Tensor) -> Tensor:
    r"""Feature matching (Salimans et al. 2016): :math:`\lVert \mathbb{E}_x f(x) - \mathbb{E}_z f(G(z)) \rVert_2^2`.

    ``f`` is an intermediate layer of D, features of shape (B, ...). The real mean is a fixed
    target (detached): only G moves. G is no longer asked to fool D on each sample but to
    produce data whose statistics match the real data's, a goal that does not move as fast
    when D changes.
    """
    real_mean = real_features.detach().flatten(1).float().mean(0)  # (F,)
    fake_mean = fake_features.flatten(1).float().mean(0)  # (F,)
    return (real_mean - fake_mean).square().sum()


class FeatureMatchingGAN(GAN):
    """A :class:`GAN` whose generator minimises :func:`feature_matching_loss` on ``D.features``.

    D trains as usual; G's step needs real data, so :meth:`g_step` draws a real batch for it.
    ``D`` must have a ``features`` sub-module (as :class:`ganedu.nets.dcgan.Discriminator`).
    """

    def g_step(self, data, batch_size: int) -> dict[str, Tensor]:
        """G's update on :func:`feature_matching_loss` against a fresh real batch from ``data``."""
        real, _ = data.sample(batch_size)
        self.D.requires_grad_(False)
        with self.autocast():
            fake = self.G(self.sample_z(batch_size))
            with torch.no_grad():
                real_features = self.D.features(self.in_layout(real))
            fake_features = self.D.features(fake)
        loss = feature_matching_loss(real_features, fake_features)
        self.update_generator(loss)
        return {"loss_G": loss.detach()}
