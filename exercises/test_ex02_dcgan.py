"""Autograder for chapter 2 (exercises/ex02_dcgan.py)."""

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from conftest import CountingSGD, exercise_fixture, max_difference
from torch import nn

from ganedu.nets import count_parameters
from ganedu.nets.dcgan import discriminator_features, generator_body

ex = exercise_fixture("ex02_dcgan")

# Points per test (each case of a parametrised test earns them); every other test earns 1.
POINTS = {
    "test_train_step_matches_the_reference_over_two_steps": 2,
    "test_train_step_trains_a_dcgan_without_error": 2,
}


def output_shapes(net, x, kinds):
    """The output shape of every layer of type ``kinds`` during ``net(x)``."""
    shapes = []
    hooks = [
        m.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape)))
        for m in net.modules()
        if isinstance(m, kinds)
    ]
    with torch.no_grad():
        out = net(x)
    for h in hooks:
        h.remove()
    return shapes, out


# ---------------------------------------------------------------- build_generator


@pytest.mark.parametrize("nz, ngf, nc", [(100, 64, 1), (16, 8, 3)])
def test_generator_layer_shapes_follow_the_table(ex, device, nz, ngf, nc):
    G = ex.build_generator(nz=nz, ngf=ngf, nc=nc).to(device)
    shapes, out = output_shapes(G, torch.randn(2, nz, 1, 1, device=device), nn.ConvTranspose2d)
    expected = [(2, ngf * 4, 4, 4), (2, ngf * 2, 8, 8), (2, ngf, 16, 16), (2, nc, 32, 32)]
    assert shapes == expected, f"transposed convolutions should output {expected}, got {shapes}"
    assert tuple(out.shape) == (2, nc, 32, 32), f"expected images (2, {nc}, 32, 32), got {tuple(out.shape)}"


def test_generator_ends_in_tanh_without_batchnorm_on_the_output(ex):
    layers = list(ex.build_generator(nz=16, ngf=8))
    assert isinstance(layers[-1], nn.Tanh), (
        f"the last layer should be Tanh (images in [-1, 1]), got {layers[-1]}"
    )
    assert isinstance(layers[-2], nn.ConvTranspose2d), (
        f"the output convolution should feed Tanh directly (no BatchNorm on G's output), got {layers[-2]} before it"
    )
    norms = sum(isinstance(m, nn.BatchNorm2d) for m in layers)
    relus = sum(isinstance(m, nn.ReLU) for m in layers)
    assert norms == 3 and relus == 3, (
        f"expected 3 BatchNorm2d and 3 ReLU (one per hidden block), got {norms} and {relus}"
    )


def test_generator_has_the_parameter_count_of_the_reference(ex):
    got = count_parameters(ex.build_generator())
    expected = count_parameters(generator_body(100, 64, 1, 32))
    assert got == expected, (
        f"the 32x32 DCGAN generator (nz=100, ngf=64, nc=1) has {expected:,} parameters, yours {got:,} "
        "(bias=False in every convolution, BatchNorm after every hidden one)"
    )


# ------------------------------------------------------------ build_discriminator


@pytest.mark.parametrize("nc, ndf", [(1, 64), (3, 8)])
def test_discriminator_returns_one_logit_per_image(ex, device, nc, ndf):
    D = ex.build_discriminator(nc=nc, ndf=ndf).to(device)
    shapes, out = output_shapes(D, torch.randn(3, nc, 32, 32, device=device), nn.Conv2d)
    expected = [(3, ndf, 16, 16), (3, ndf * 2, 8, 8), (3, ndf * 4, 4, 4), (3, 1, 1, 1)]
    assert shapes == expected, f"convolutions should output {expected}, got {shapes}"
    assert tuple(out.shape) == (3,), f"expected logits of shape (3,) (one per image), got {tuple(out.shape)}"


def test_discriminator_has_no_sigmoid_and_no_batchnorm_on_its_input(ex):
    layers = list(ex.build_discriminator(ndf=8))
    assert not any(isinstance(m, nn.Sigmoid) for m in layers), (
        "D must return logits: remove the Sigmoid (the losses apply it, stably)"
    )
    assert isinstance(layers[0], nn.Conv2d) and isinstance(layers[1], nn.LeakyReLU), (
        f"the input convolution should go straight into LeakyReLU (no BatchNorm on D's input), got {layers[:2]}"
    )
    slopes = {m.negative_slope for m in layers if isinstance(m, nn.LeakyReLU)}
    assert slopes == {0.2}, f"expected LeakyReLU(0.2) throughout, got slopes {slopes}"


def test_discriminator_has_the_parameter_count_of_the_reference(ex):
    got = count_parameters(ex.build_discriminator())
    features, width = discriminator_features(1, 64, 32)
    expected = count_parameters(features) + width * 16
    assert got == expected, (
        f"the 32x32 DCGAN discriminator (nc=1, ndf=64) has {expected:,} parameters, yours {got:,}"
    )


# ------------------------------------------------------------------- init_weights


def test_init_draws_conv_weights_from_n_0_0_02(ex):
    conv, deconv = nn.Conv2d(64, 128, 4, bias=True), nn.ConvTranspose2d(128, 64, 4)
    nn.init.constant_(conv.bias, 3.0)
    for module in (conv, deconv):
        ex.init_weights(module)
        w = module.weight.detach()
        assert abs(w.mean().item()) < 2e-3 and abs(w.std().item() - 0.02) < 2e-3, (
            f"{type(module).__name__} weights should be N(0, 0.02): mean 0, std 0.02; "
            f"got mean {w.mean().item():.4f}, std {w.std().item():.4f} (normal_(w, mean, std): mean comes first)"
        )
    assert torch.all(conv.bias == 0), "convolution biases should be set to 0"


@pytest.mark.parametrize("kind", [nn.Conv2d, nn.ConvTranspose2d])
def test_init_reaches_every_convolution_whatever_its_default_scale(ex, kind):
    module = kind(64, 2, 4)  # PyTorch's default init gives these weights a std near 0.1, far from 0.02
    ex.init_weights(module)
    std = module.weight.detach().std().item()
    assert abs(std - 0.02) < 2e-3, (
        f"{kind.__name__}(64, 2, 4) weights should have std 0.02 after init_weights, got {std:.4f}: "
        "both Conv2d and ConvTranspose2d are initialised"
    )


def test_init_draws_batchnorm_scale_around_1_and_zeroes_its_shift(ex):
    bn = nn.BatchNorm2d(4096)
    nn.init.constant_(bn.bias, 3.0)
    ex.init_weights(bn)
    gamma = bn.weight.detach()
    assert abs(gamma.mean().item() - 1) < 2e-3 and abs(gamma.std().item() - 0.02) < 2e-3, (
        f"BatchNorm's γ should be N(1, 0.02), got mean {gamma.mean().item():.4f}, std {gamma.std().item():.4f}"
    )
    assert torch.all(bn.bias == 0), "BatchNorm's β should be 0"


def test_init_leaves_other_modules_alone(ex):
    linear = nn.Linear(3, 3)
    before = copy.deepcopy(linear.state_dict())
    ex.init_weights(linear)
    ex.init_weights(nn.ReLU())
    assert all(torch.equal(before[k], v) for k, v in linear.state_dict().items()), (
        "only convolutions and BatchNorm change"
    )


# --------------------------------------------------------------------- train_step


def tiny_pair(seed=0):
    torch.manual_seed(seed)
    G = nn.Sequential(nn.Linear(4, 6), nn.Tanh())
    D = nn.Sequential(nn.Linear(6, 1), nn.Flatten(0))
    return G, D


def reference_step(G, D, real, z, lr):
    """One D step then one G step with plain SGD, as the docstring describes."""
    opt_g, opt_d = torch.optim.SGD(G.parameters(), lr), torch.optim.SGD(D.parameters(), lr)
    loss_d = F.softplus(-D(real)).mean() + F.softplus(D(G(z).detach())).mean()
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    loss_g = F.softplus(-D(G(z))).mean()
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return loss_d.item(), loss_g.item()


def run_both(ex, lr=0.5):
    G, D = tiny_pair()
    G_ref, D_ref = copy.deepcopy(G), copy.deepcopy(D)
    real, z = torch.randn(8, 6), torch.randn(8, 4)
    opt_g, opt_d = CountingSGD(G.parameters(), lr), CountingSGD(D.parameters(), lr)
    logs = ex.train_step(G, D, opt_g, opt_d, real, z)
    expected = reference_step(G_ref, D_ref, real, z, lr)
    return (G, D, opt_g, opt_d, logs), (G_ref, D_ref, expected)


def test_train_step_steps_each_optimizer_once(ex):
    (_, _, opt_g, opt_d, _), _ = run_both(ex)
    assert (opt_d.steps, opt_g.steps) == (1, 1), (
        f"expected one opt_d.step() and one opt_g.step(), got {opt_d.steps} and {opt_g.steps}"
    )


def test_train_step_returns_the_two_losses(ex):
    (_, _, _, _, logs), (_, _, (loss_d, loss_g)) = run_both(ex)
    assert set(logs) == {"loss_d", "loss_g"}, f"expected the keys loss_d and loss_g, got {sorted(logs)}"
    assert math.isclose(float(logs["loss_d"]), loss_d, rel_tol=1e-5), (
        f"expected loss_d = {loss_d:.5f} (minimax loss on logits before D's update), got {float(logs['loss_d']):.5f}"
    )
    assert math.isclose(float(logs["loss_g"]), loss_g, rel_tol=1e-5), (
        f"expected loss_g = {loss_g:.5f} (non-saturating loss through the updated D), got {float(logs['loss_g']):.5f}"
    )


def test_train_step_updates_d_only_by_its_own_loss(ex):
    (_, D, _, _, _), (_, D_ref, _) = run_both(ex)
    diff = max_difference(D, D_ref)
    assert diff < 1e-6, (
        f"D's weights after the step differ from one SGD step on L_D (by up to {diff:.3g}): the generator's "
        "step must not change D (zero D's gradients before its backward; only opt_g steps after L_G)"
    )


def test_train_step_updates_g_only_by_the_generator_loss(ex):
    (G, _, _, _, _), (G_ref, _, _) = run_both(ex)
    diff = max_difference(G, G_ref)
    assert diff < 1e-6, (
        f"G's weights after the step differ from one SGD step on L_G (by up to {diff:.3g}): D's loss must not "
        "reach G (detach the fakes for D's step, zero G's gradients before its backward)"
    )


def test_train_step_returns_python_floats(ex):
    (_, _, _, _, logs), _ = run_both(ex)
    bad = {k: type(v).__name__ for k, v in logs.items() if type(v) is not float}
    assert not bad, (
        f"the losses must be Python floats (loss.item()), got {bad}: a logged tensor keeps its whole graph alive"
    )


@pytest.mark.parametrize("call", [0, 1])
def test_train_step_matches_the_reference_over_two_steps(ex, call):
    G, D = tiny_pair()
    G_ref, D_ref = copy.deepcopy(G), copy.deepcopy(D)
    opt_g, opt_d = torch.optim.SGD(G.parameters(), 0.5), torch.optim.SGD(D.parameters(), 0.5)
    opt_g_ref, opt_d_ref = torch.optim.SGD(G_ref.parameters(), 0.5), torch.optim.SGD(D_ref.parameters(), 0.5)
    draws = torch.Generator().manual_seed(4)
    for _ in range(call + 1):
        real, z = torch.randn(8, 6, generator=draws), torch.randn(8, 4, generator=draws)
        logs = ex.train_step(G, D, opt_g, opt_d, real, z)
        expected = reference_two_optimizers(G_ref, D_ref, opt_g_ref, opt_d_ref, real, z)
    for name, net, ref in (("D", D, D_ref), ("G", G, G_ref)):
        diff = max_difference(net, ref)
        assert diff < 1e-6, (
            f"after step {call + 1} {name}'s weights differ from the reference by up to {diff:.3g}"
            + (
                ": the first step matched, so gradients are left over from the step before; zero each "
                "network's gradients right before its backward (G's backward also fills D's)"
                if call == 1
                else ": D steps on L_D with the fakes detached, G on L_G = mean softplus(-D(G(z))) with this z"
            )
        )
    assert (
        abs(float(logs["loss_d"]) - expected[0]) < 1e-5 and abs(float(logs["loss_g"]) - expected[1]) < 1e-5
    ), f"step {call + 1}: expected (loss_d, loss_g) = {expected}, got {logs}"


def reference_two_optimizers(G, D, opt_g, opt_d, real, z):
    loss_d = F.softplus(-D(real)).mean() + F.softplus(D(G(z).detach())).mean()
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    loss_g = F.softplus(-D(G(z))).mean()
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    return loss_d.item(), loss_g.item()


def test_train_step_trains_a_dcgan_without_error(ex, device):
    G, D = ex.build_generator(nz=8, ngf=4).to(device), ex.build_discriminator(ndf=4).to(device)
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    real = torch.rand(4, 1, 32, 32, device=device) * 2 - 1
    logs = ex.train_step(G, D, opt_g, opt_d, real, torch.randn(4, 8, 1, 1, device=device))
    assert all(math.isfinite(float(v)) for v in logs.values()), f"expected finite losses, got {logs}"


# ------------------------------------------------------- smoothed_discriminator_loss


def test_smoothed_loss_matches_hand_computation(ex):
    real, fake = torch.tensor([2.0, -1.0, 0.5]), torch.tensor([-3.0, 0.0, 1.5])
    t = 0.9
    expected = (t * F.softplus(-real) + (1 - t) * F.softplus(real)).mean() + F.softplus(fake).mean()
    got = ex.smoothed_discriminator_loss(real, fake, real_target=t)
    assert got.dim() == 0, f"expected a scalar, got shape {tuple(got.shape)}"
    assert math.isclose(got.item(), expected.item(), rel_tol=1e-5), (
        f"expected mean BCE(real, 0.9) + mean softplus(fake) = {expected.item():.5f}, got {got.item():.5f}"
    )


def test_smoothing_is_one_sided(ex):
    fake = torch.tensor([0.0, 2.0, -1.0], requires_grad=True)
    ex.smoothed_discriminator_loss(torch.zeros(3), fake, real_target=0.9).backward()
    expected = torch.sigmoid(fake.detach()) / 3  # d softplus(l) / dl with target 0 for fakes
    assert torch.allclose(fake.grad, expected, atol=1e-6), (
        f"fakes keep target 0, so d L_D / d fake_logit = sigmoid(l) / B = {expected.tolist()}, got {fake.grad.tolist()} "
        "(smooth only the real side)"
    )


def test_smoothed_optimum_of_a_real_logit_is_log_9(ex):
    best = torch.tensor([math.log(0.9 / 0.1)], requires_grad=True)
    ex.smoothed_discriminator_loss(best, torch.zeros(1), real_target=0.9).backward()
    assert abs(best.grad.item()) < 1e-6, (
        f"with target 0.9, D's loss on a real sample is smallest at logit log(0.9/0.1) = {best.item():.4f}: "
        f"the gradient there should be 0, got {best.grad.item():.3g}"
    )


def test_smoothed_loss_takes_each_mean_over_its_own_batch(ex):
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([-3.0, 0.0, 1.5, 4.0, -2.0])
    t = 0.9
    expected = (t * F.softplus(-real) + (1 - t) * F.softplus(real)).mean() + F.softplus(fake).mean()
    got = ex.smoothed_discriminator_loss(real, fake, real_target=t)
    assert math.isclose(got.item(), expected.item(), rel_tol=1e-5), (
        f"with 2 real and 5 fake logits expected {expected.item():.5f}, got {got.item():.5f}: "
        "one mean over the real logits plus one over the fake logits (not one mean over both)"
    )


def test_smoothed_loss_is_exact_for_logits_far_below_minus_88(ex):
    real = torch.tensor([-200.0, 0.0], requires_grad=True)
    got = ex.smoothed_discriminator_loss(real, torch.zeros(2), real_target=0.9)
    expected = (0.9 * 200 + 0.1 * F.softplus(torch.tensor(-200.0)) + math.log(2)) / 2 + math.log(2)
    assert math.isfinite(got.item()) and math.isclose(got.item(), expected, rel_tol=1e-5), (
        f"a real logit of -200 costs 0.9·softplus(200) = 180: expected {expected:.4f}, got {got.item():.4f} "
        "(a BCE on sigmoid probabilities clamps log(0) at -100; work on logits)"
    )
    got.backward()
    assert math.isclose(real.grad[0].item(), -0.9 / 2, rel_tol=1e-4), (
        f"the gradient at logit -200 is (sigmoid(l) - t) / B = -0.45, got {real.grad[0].item():.4f}"
    )
