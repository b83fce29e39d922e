"""CycleGAN: the history pool, the schedule, the losses, one training step and the exported translations."""

import pytest
import torch
from torch import nn

from ganedu.data import load_dataset
from ganedu.models import RunConfig, build
from ganedu.models.cyclegan import ImagePool, cycle_loss, identity_loss, linear_decay
from ganedu.nets.cyclegan import PatchDiscriminator, ResnetGenerator

TINY = {"ngf": 4, "ndf": 4, "n_blocks": 1, "constant_steps": 2, "decay_steps": 4}


def test_networks_keep_the_image_shape_and_patchgan_returns_a_map():
    x = torch.randn(2, 1, 32, 32)
    assert ResnetGenerator(1, 4, 1)(x).shape == x.shape
    assert PatchDiscriminator(1, 4)(x).shape == (2, 1, 6, 6)
    assert ResnetGenerator(1, 4, 1)(x).abs().max() <= 1.0  # Tanh output


def _with_instancenorm2d(module: nn.Module) -> nn.Module:
    """``module`` with every GroupNorm(C, C) replaced by nn.InstanceNorm2d(C, affine=True)."""
    for name, child in module.named_children():
        if isinstance(child, nn.GroupNorm):
            setattr(module, name, nn.InstanceNorm2d(child.num_channels, affine=True))
        else:
            _with_instancenorm2d(child)
    return module


@pytest.mark.parametrize("make", [lambda: ResnetGenerator(1, 4, 1), lambda: PatchDiscriminator(1, 4)])
def test_networks_compute_what_they_would_with_instancenorm2d(make):
    """The faster GroupNorm(C, C) form loads InstanceNorm2d state dicts and computes the same maps."""
    torch.manual_seed(0)
    ours = make()
    for m in ours.modules():
        if isinstance(m, nn.GroupNorm):
            assert m.num_groups == m.num_channels  # one group per channel: instance, not layer, norm
            nn.init.normal_(m.weight, 1.0, 0.3)
            nn.init.normal_(m.bias, 0.0, 0.3)
    reference = _with_instancenorm2d(make())
    reference.load_state_dict(ours.state_dict())  # strict: the same names and shapes
    ours.load_state_dict(reference.state_dict())
    x = torch.rand(3, 1, 32, 32) * 2 - 1
    assert torch.allclose(ours(x), reference(x), atol=1e-5)


def test_pool_fills_then_never_grows_and_swaps_about_half():
    torch.manual_seed(0)
    pool = ImagePool(4)
    first = torch.arange(4.0).reshape(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first) and len(pool) == 4
    new = torch.arange(100.0, 1100.0).reshape(1000, 1, 1, 1)
    out = pool.query(new)
    assert len(pool) == 4 and out.shape == new.shape
    assert 400 < int((out == new).sum()) < 600  # each new image returned as is with probability 1/2 ...
    assert ImagePool(0).query(new) is new  # ... and size 0 switches the pool off


def test_pool_state_round_trips():
    pool = ImagePool(3)
    pool.query(torch.randn(3, 1, 2, 2))
    other = ImagePool(3)
    other.load_state_dict(pool.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(pool.images, other.images, strict=True))


@pytest.mark.parametrize(
    ("step", "factor"), [(0, 1.0), (99, 1.0), (100, 1.0), (150, 0.5), (200, 0.0), (500, 0.0)]
)
def test_learning_rate_is_constant_then_falls_linearly_to_zero(step, factor):
    assert linear_decay(step, 100, 100) == pytest.approx(factor)


def test_cycle_and_identity_losses_are_mean_absolute_errors():
    x, y = torch.zeros(2, 1, 2, 2), torch.full((2, 1, 2, 2), 0.5)
    assert cycle_loss(x, y).item() == pytest.approx(0.5)
    assert identity_loss(x, x).item() == 0.0


def test_one_step_updates_all_four_networks_and_follows_the_schedule():
    gan, data = build(RunConfig("cyclegan", device="cpu", batch_size=2, options=TINY))
    before = {k: [p.detach().clone() for p in m.parameters()] for k, m in {**gan.G, **gan.D}.items()}
    logs = gan.train_step(data, 2)
    assert {"loss_cycle", "loss_identity", "loss_G_adv", "loss_D_A", "loss_D_B"} <= set(logs)
    for name, m in {**gan.G, **gan.D}.items():
        assert any(not torch.equal(a, p) for a, p in zip(before[name], m.parameters(), strict=True)), name
    gan.step = 4  # halfway through the decay
    assert gan.set_learning_rates() == pytest.approx(0.5)
    assert gan.opt_g.param_groups[0]["lr"] == pytest.approx(1e-4)


def test_export_translates_padded_test_images_of_domain_a():
    gan, data = build(RunConfig("cyclegan", device="cpu", batch_size=2, options=TINY))
    seen = []
    gan.G["AB"].register_forward_hook(lambda m, i, o: seen.append(tuple(i[0].shape[-2:])))
    out = gan.export(5, data)
    assert seen == [(32, 32)]  # the generators see what they were trained on: 28×28 padded to 32×32
    assert out["images"].shape == (5, 1, 28, 28) and out["images"].dtype.name == "uint8"
    assert (out["labels"] == 9).all()
    images, labels = load_dataset("fashion-mnist", "test")
    assert (torch.from_numpy(out["source"]) == images[labels == 7][:5]).all()
    with pytest.raises(ValueError, match="no sampling options"):
        gan.export(5, data, truncation=0.5)


def test_sample_grid_rows_are_inputs_translations_and_reconstructions():
    gan, _ = build(RunConfig("cyclegan", device="cpu", batch_size=2, options=TINY))
    for net in gan.G.values():  # identity generators: every row equals its input row
        for m in net.modules():
            if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
                nn.init.zeros_(m.weight)
    grid = gan.sample(24)
    assert grid.shape == (24, 1, 32, 32)
