"""The stabilisation toolbox and the chapter 4–6 recipes: each trick does what it claims."""

import pytest
import torch
from torch import nn

from ganedu import losses
from ganedu.data import ToyBatches
from ganedu.gan import GAN
from ganedu.models import OptionError, RunConfig, build, wgan, wgan_gp
from ganedu.nets import mlp
from ganedu.toolbox import (
    FeatureMatchingGAN,
    InstanceNoise,
    UnrolledGAN,
    feature_matching_loss,
    ttur_optimizers,
)
from ganedu.train import train


class Recorder(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))
        self.seen = None

    def forward(self, x):
        self.seen = x
        return x.flatten(1).sum(1) * self.w


def test_instance_noise_anneals_to_zero_and_is_off_in_eval_mode():
    torch.manual_seed(0)
    noisy = InstanceNoise(Recorder(), sigma=0.5, anneal_steps=4)
    x = torch.zeros(1000, 1, 2, 2)
    noisy(x)
    assert noisy.D.seen.std().item() == pytest.approx(0.5, rel=0.05)
    noisy.anneal()
    noisy.anneal()
    assert noisy.sigma == pytest.approx(0.25)
    noisy(x)
    assert noisy.D.seen.std().item() == pytest.approx(0.25, rel=0.05)
    noisy.eval()
    noisy(x)
    assert torch.equal(noisy.D.seen, x)
    noisy.train()
    for _ in range(3):
        noisy.anneal()
    assert noisy.sigma == 0.0
    noisy(x)
    assert torch.equal(noisy.D.seen, x)
    assert "steps" in noisy.state_dict()  # the schedule is checkpointed


def test_feature_matching_loss_closed_form_and_gradient_reaches_fakes_only():
    real = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    fake = torch.tensor([[0.0, 0.0], [2.0, 2.0]], requires_grad=True)
    loss = feature_matching_loss(real, fake)  # means (2, 3) vs (1, 1): 1 + 4
    assert loss.item() == pytest.approx(5.0)
    loss.backward()
    assert real.grad is None
    torch.testing.assert_close(fake.grad, torch.tensor([[-1.0, -2.0], [-1.0, -2.0]]))


def test_ttur_gives_d_a_larger_learning_rate():
    G, D = nn.Linear(2, 2), nn.Linear(2, 1)
    opt_g, opt_d = ttur_optimizers(G, D)
    assert opt_g.param_groups[0]["lr"] == 1e-4 and opt_d.param_groups[0]["lr"] == 4e-4
    assert opt_d.param_groups[0]["betas"] == (0.0, 0.9)


def _toy_gan(cls, **kwargs):
    torch.manual_seed(0)
    G = mlp.Generator(nz=4, out_shape=(2,), hidden=16, depth=2, batchnorm=False, tanh=False)
    D = mlp.Discriminator(in_shape=(2,), hidden=16, depth=2)
    adam = lambda net: torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.5, 0.999))  # noqa: E731
    return cls(
        G, D, adam(G), adam(D), losses.minimax_d, losses.nonsaturating_g, nz=4, ema_half_life=None, **kwargs
    )


def test_unrolled_g_step_leaves_d_unchanged_and_differs_from_the_plain_step():
    data = ToyBatches("ring", n=1000)
    plain, unrolled = _toy_gan(GAN), _toy_gan(UnrolledGAN, unroll=5)
    d_before = [p.detach().clone() for p in unrolled.D.parameters()]
    for gan in (plain, unrolled):
        torch.manual_seed(1)
        data.generator.manual_seed(1)
        gan.g_step(data, 64)
    for a, p in zip(d_before, unrolled.D.parameters(), strict=True):
        assert torch.equal(a, p)  # the look-ahead runs on a functional copy
    moved = [
        (a - b).abs().max().item() for a, b in zip(plain.G.parameters(), unrolled.G.parameters(), strict=True)
    ]
    assert max(moved) > 1e-6  # G followed the unrolled D, not the current one


def test_unrolled_look_ahead_is_d_s_own_adam_update():
    import copy

    data = ToyBatches("ring", n=1000)
    gan = _toy_gan(UnrolledGAN, unroll=2)
    for _ in range(3):  # give D's Adam some moments
        gan.d_step(data.sample(64)[0], None)
    fake = gan.G(gan.sample_z(64)).detach()
    data.generator.manual_seed(5)
    ahead = gan.lookahead(fake, data, 64)
    D, opt = copy.deepcopy(gan.D), torch.optim.Adam(gan.D.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt.load_state_dict(gan.opt_d.state_dict())
    opt.param_groups[0]["params"] = list(D.parameters())
    opt.state = {q: opt.state[p] for p, q in zip(gan.D.parameters(), D.parameters(), strict=True)}
    data.generator.manual_seed(5)
    for _ in range(2):
        loss = gan.d_loss(D(data.sample(64)[0]), D(fake))
        opt.zero_grad()
        loss.backward()
        opt.step()
    for name, p in D.named_parameters():
        torch.testing.assert_close(ahead[name], p, rtol=1e-4, atol=1e-6)


def test_unrolled_with_zero_steps_equals_the_plain_generator_step():
    data = ToyBatches("ring", n=1000)
    plain, unrolled = _toy_gan(GAN), _toy_gan(UnrolledGAN, unroll=0)
    for gan in (plain, unrolled):
        torch.manual_seed(1)
        gan.g_step(data, 64)
    for a, b in zip(plain.G.parameters(), unrolled.G.parameters(), strict=True):
        torch.testing.assert_close(a, b)


def test_feature_matching_gan_trains_g_on_d_features():
    from ganedu.nets import dcgan

    torch.manual_seed(0)
    G, D = dcgan.Generator(nz=8, ngf=8), dcgan.Discriminator(ndf=8)
    adam = lambda net: torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.5, 0.999))  # noqa: E731
    gan = FeatureMatchingGAN(
        G, D, adam(G), adam(D), losses.minimax_d, losses.nonsaturating_g, nz=8, ema_half_life=None
    )
    images = torch.randint(0, 256, (32, 1, 28, 28), dtype=torch.uint8)
    from ganedu.data import ImageBatches

    g_before = [p.detach().clone() for p in G.parameters()]
    logs = gan.train_step(ImageBatches(images, None, pad_to=32), 8)
    assert logs["loss_G"] > 0
    assert any(not torch.equal(a, p) for a, p in zip(g_before, G.parameters(), strict=True))


def has_batchnorm(gan) -> bool:
    return any(isinstance(m, nn.BatchNorm2d) for m in gan.D.modules())


def test_wgan_recipe_clips_every_critic_weight_and_keeps_the_authors_batchnorm():
    gan, data = build(RunConfig("wgan", device="cpu", precision="fp32", batch_size=8))
    # the named departures from the paper: 1 critic step, RMSprop 2e-4, c = 0.1
    assert gan.n_critic == 1 and isinstance(gan.opt_d, torch.optim.RMSprop)
    assert gan.opt_d.param_groups[0]["lr"] == 2e-4
    # the authors' critic has BatchNorm (measured: 0.95x the DCGAN's FD at ten minutes, 2.9x without)
    assert has_batchnorm(gan)
    train(gan, data, steps=1, batch_size=8)
    # every parameter, BatchNorm's scale and shift included, as in the authors' code
    assert max(p.abs().max().item() for p in gan.D.parameters()) <= 0.1 + 1e-7  # float32(0.1) is 0.1000000015
    gan, _ = build(RunConfig("wgan", device="cpu", batch_size=8, options={"norm": "none"}))
    assert not has_batchnorm(gan)
    assert wgan.PAPER == {"n_critic": 5, "lr": 5e-5, "clip": 0.01}
    gan, data = build(RunConfig("wgan", device="cpu", precision="fp32", batch_size=8, options=wgan.PAPER))
    assert gan.n_critic == 5 and gan.opt_d.param_groups[0]["lr"] == 5e-5
    train(gan, data, steps=1, batch_size=8)
    assert max(p.abs().max().item() for p in gan.D.parameters()) <= 0.01 + 1e-7


def test_wgan_gp_recipe_uses_the_penalty_and_refuses_batchnorm():
    gan, data = build(RunConfig("wgan-gp", device="cpu", precision="fp32", batch_size=8))
    # the named departures from the paper: 1 critic step, lr 2e-4, the penalty lazily every 4th step, β₂ 0.99,
    # instance normalisation (one group per channel: per sample, like the paper's layer normalisation)
    assert [m.num_groups for m in gan.D.modules() if isinstance(m, nn.GroupNorm)] == [128, 256]
    assert gan.n_critic == 1 and gan.opt_d.param_groups[0]["betas"] == (0.0, 0.99)
    assert gan.opt_d.param_groups[0]["lr"] == gan.opt_g.param_groups[0]["lr"] == 2e-4
    assert gan.penalties["GP"].every == 4 and gan.penalties["GP"].weight == 10.0
    assert not has_batchnorm(gan)
    logs = [gan.train_step(data, 8) for _ in range(5)]  # critic updates 0..4: the penalty at 0 and 4
    assert [("GP" in log) for log in logs] == [True, False, False, False, True]
    assert logs[0]["GP"] >= 0
    assert wgan_gp.PAPER == {"n_critic": 5, "lr": 1e-4, "gp_every": 1, "beta2": 0.9, "norm": "layer"}
    gan, data = build(
        RunConfig("wgan-gp", device="cpu", precision="fp32", batch_size=8, options=wgan_gp.PAPER)
    )
    assert gan.n_critic == 5 and gan.penalties["GP"].every == 1
    assert [m.num_groups for m in gan.D.modules() if isinstance(m, nn.GroupNorm)] == [1, 1]
    assert gan.opt_d.param_groups[0]["lr"] == 1e-4
    assert gan.opt_g.param_groups[0]["betas"] == gan.opt_d.param_groups[0]["betas"] == (0.0, 0.9)
    gan, _ = build(RunConfig("wgan-gp", device="cpu", batch_size=8, options={"beta1": 0.5, "beta2": 0.999}))
    assert gan.opt_g.param_groups[0]["betas"] == gan.opt_d.param_groups[0]["betas"] == (0.5, 0.999)
    with pytest.raises(OptionError, match="never batch: the penalty is per sample"):
        build(RunConfig("wgan-gp", device="cpu", batch_size=8, options={"norm": "batch"}))


def test_lsgan_recipe_is_the_papers_and_takes_hinge_norm_and_spectral_norm_options():
    gan, _ = build(RunConfig("lsgan", device="cpu", batch_size=8))
    assert gan.d_loss is losses.least_squares_d
    # the paper's recipe: BatchNorm in D and the authors' learning rate, 1e-3 (2e-4 stalls it early)
    assert has_batchnorm(gan)
    assert gan.opt_g.param_groups[0]["lr"] == gan.opt_d.param_groups[0]["lr"] == 1e-3
    # a least-squares D without BatchNorm collapses at 1e-3: it gets the DCGAN's 2e-4, unless asked
    gan, _ = build(RunConfig("lsgan", device="cpu", batch_size=8, options={"norm": "none"}))
    assert not has_batchnorm(gan) and gan.opt_d.param_groups[0]["lr"] == 2e-4
    gan, _ = build(RunConfig("lsgan", device="cpu", batch_size=8, options={"norm": "none", "lr": 1e-3}))
    assert gan.opt_g.param_groups[0]["lr"] == gan.opt_d.param_groups[0]["lr"] == 1e-3
    # hinge keeps the DCGAN's learning rate (measured at it) and the BatchNorm D
    gan, _ = build(RunConfig("lsgan", device="cpu", batch_size=8, options={"loss": "hinge"}))
    assert gan.d_loss is losses.hinge_d and has_batchnorm(gan)
    assert gan.opt_g.param_groups[0]["lr"] == gan.opt_d.param_groups[0]["lr"] == 2e-4
    gan, _ = build(RunConfig("lsgan", device="cpu", batch_size=8, options={"loss": "hinge", "norm": "none"}))
    assert not has_batchnorm(gan)
    gan, _ = build(
        RunConfig("lsgan", device="cpu", batch_size=8, options={"loss": "hinge", "spectral_norm": 1})
    )
    assert gan.d_loss is losses.hinge_d
    assert any(hasattr(m, "parametrizations") for m in gan.D.modules())
    assert not has_batchnorm(gan)  # SN-GAN's D: spectral norm instead of BatchNorm
    assert gan.opt_d.param_groups[0]["lr"] == 2e-4
    gan, _ = build(RunConfig("lsgan", device="cpu", batch_size=8, options={"spectral_norm": 1}))
    assert not has_batchnorm(gan) and gan.opt_d.param_groups[0]["lr"] == 2e-4
