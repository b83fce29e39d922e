"""The toy GAN of chapters 1, 4 and 5: the objective, optimizer and constraint each name stands for."""

import pytest
import torch

from ganedu import losses
from ganedu.data import ToyBatches
from ganedu.models.gan import TOY_LOSSES, toy_gan
from ganedu.penalties import GradientPenalty
from ganedu.train import train


def test_minimax_toy_gan_is_the_non_saturating_gan_with_adam_and_no_ema():
    gan = toy_gan("minimax")
    assert gan.d_loss is losses.minimax_d and gan.g_loss is losses.nonsaturating_g
    assert isinstance(gan.opt_g, torch.optim.Adam) and gan.n_critic == 1 and gan.ema is None
    assert gan.sample(7).shape == (7, 2)


def test_wgan_toy_gan_clips_the_critic_after_each_of_its_five_updates():
    gan = toy_gan("wgan")
    assert gan.n_critic == 5 and isinstance(gan.opt_d, torch.optim.RMSprop)
    train(gan, ToyBatches("ring"), steps=1, batch_size=16)
    assert gan.d_updates == 5
    assert max(p.abs().max().item() for p in gan.D.parameters()) <= 0.01


def test_wgan_gp_toy_gan_penalises_the_gradient_with_weight_0_1():
    gan = toy_gan("wgan-gp")
    assert isinstance(gan.penalties["GP"], GradientPenalty) and gan.penalties["GP"].weight == 0.1
    assert gan.opt_d.defaults["betas"] == (0.5, 0.9)


def test_the_same_seed_builds_the_same_networks():
    for loss in TOY_LOSSES:
        a, b = toy_gan(loss, seed=3), toy_gan(loss, seed=3)
        for p, q in zip(a.G.parameters(), b.G.parameters(), strict=True):
            torch.testing.assert_close(p, q)


def test_an_unknown_loss_names_the_known_ones():
    with pytest.raises(ValueError, match="minimax, wgan, wgan-gp"):
        toy_gan("hinge")
