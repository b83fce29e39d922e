"""DiffAugment and ADA: differentiable transforms, shared randomness, what the bundle augments, and p's controller."""

import pytest
import torch
from torch import nn

from ganedu import losses
from ganedu.augment import (
    AdaptiveProbability,
    DiffAugment,
    colour,
    cutout,
    diff_augment,
    parse_policy,
    translate,
    translation,
)
from ganedu.gan import GAN


def images(seed=0, b=4, c=3, size=8):
    return torch.rand(b, c, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def seeded(seed=1):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("transform", [colour, translation, cutout])
def test_each_transform_passes_gradient_to_its_input(transform):
    x = images().requires_grad_(True)
    transform(x, generator=seeded()).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


@pytest.mark.parametrize("transform", [colour, translation, cutout, DiffAugment()])
def test_the_same_seed_gives_the_same_output_and_another_seed_another(transform):
    x = images()
    torch.testing.assert_close(transform(x, generator=seeded(1)), transform(x, generator=seeded(1)))
    assert not torch.equal(transform(x, generator=seeded(1)), transform(x, generator=seeded(2)))


def test_translation_by_zero_is_the_identity():
    x = images()
    torch.testing.assert_close(translate(x, torch.zeros(4, 2, dtype=torch.long)), x)


def test_translation_shifts_each_image_by_its_own_offset_and_fills_zeros():
    x = images(b=2)
    out = translate(x, torch.tensor([[1, 0], [0, -2]]))
    torch.testing.assert_close(out[0, :, 1:], x[0, :, :-1])  # image 0 one row down
    assert out[0, :, 0].abs().sum() == 0
    torch.testing.assert_close(out[1, :, :, :-2], x[1, :, :, 2:])  # image 1 two columns left
    assert out[1, :, :, -2:].abs().sum() == 0


def test_cutout_zeroes_one_square_of_half_the_side_per_image():
    x = torch.ones(16, 1, 8, 8)
    out = cutout(x, generator=seeded())
    zeros = (out == 0).flatten(1).sum(1)  # a 4×4 square, clipped where it hangs over the border
    assert zeros.max() == 16 and zeros.min() >= 4
    assert len({tuple(m.nonzero()[0].tolist()) for m in (out == 0)}) > 1, (
        "one square per image, not one for all"
    )


def test_colour_on_grayscale_is_brightness_and_contrast_only():
    x = images(c=1)
    out = colour(x, generator=seeded())
    # brightness adds b, contrast scales around the mean: out = mean(x) + b + c (x − mean(x))
    centred_in = x - x.mean(dim=(1, 2, 3), keepdim=True)
    centred_out = out - out.mean(dim=(1, 2, 3), keepdim=True)
    ratio = centred_out.flatten(1) / centred_in.flatten(1)
    torch.testing.assert_close(ratio, ratio[:, :1].expand_as(ratio))
    assert ((ratio[:, 0] >= 0.5) & (ratio[:, 0] < 1.5)).all()


def test_colour_saturation_changes_colour_images_only_through_their_channel_spread():
    gray = images(c=1).expand(4, 3, 8, 8)  # three equal channels: saturation has nothing to scale
    out = colour(gray, generator=seeded())
    torch.testing.assert_close(out, out[:, :1].expand_as(out))


def test_probability_zero_leaves_images_alone_and_one_always_transforms():
    x = images()
    assert torch.equal(diff_augment(x, p=0.0, generator=seeded()), x)
    assert not torch.equal(diff_augment(x, "colour", p=1.0, generator=seeded()), x)


def test_probability_p_transforms_about_that_share_of_the_images():
    x = images(b=2000, c=1, size=4)
    out = diff_augment(x, "colour", p=0.3, generator=seeded())
    changed = (out != x).flatten(1).any(1).float().mean().item()
    assert changed == pytest.approx(0.3, abs=0.04)


def test_unknown_policy_names_the_valid_transforms():
    with pytest.raises(ValueError, match="colour, translation, cutout"):
        parse_policy("colour,flip")
    assert parse_policy(" translation , cutout") == ("translation", "cutout")


class Recording(nn.Module):
    """A critic that records the images it is shown."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(()))
        self.seen = []

    def forward(self, x):
        self.seen.append(x.detach().clone())
        return self.w * x.flatten(1).mean(1)


class Marker:
    """An "augmentation" that shifts every image by 100, so augmented images are easy to spot."""

    def __call__(self, x):
        return x + 100.0


class OneBatch:
    def __init__(self, x):
        self.x = x

    def sample(self, n):
        return self.x[:n], None


def test_the_bundle_augments_real_and_fake_in_both_steps():
    G = nn.Sequential(nn.Linear(2, 3))
    D = Recording()
    gan = GAN(
        G, D, torch.optim.SGD(G.parameters(), 0.1), torch.optim.SGD(D.parameters(), 0.1),
        losses.minimax_d, losses.nonsaturating_g, nz=2, augment=Marker(), ema_half_life=None,
    )  # fmt: skip
    gan.train_step(OneBatch(torch.zeros(4, 3)), 4)
    assert len(D.seen) == 3  # real and fake in D's step, fake in G's step
    assert all(x.min() > 50 for x in D.seen), "D saw an image that was not augmented"


def test_adaptive_probability_rises_when_d_is_sure_of_the_reals_and_falls_back_to_zero():
    ada = AdaptiveProbability(target=0.6, interval=4, speed_images=1000)
    for _ in range(3):
        assert ada.update(torch.ones(10)) == 0.0  # adjusted every 4th update only
    assert ada.update(torch.ones(10)) == pytest.approx(40 / 1000)  # r_t = 1 > 0.6: up by N / speed
    for _ in range(8):
        ada.update(-torch.ones(10))  # r_t = −1 < 0.6: down, but never below 0
    assert ada.p == 0.0


def test_adaptive_probability_averages_the_sign_over_its_interval():
    ada = AdaptiveProbability(target=0.6, interval=2, speed_images=100, p=0.5)
    ada.update(torch.tensor([5.0, 5.0, 5.0, 5.0]))  # signs 1, 1, 1, 1
    p = ada.update(torch.tensor([-0.1, 3.0, 2.0, 1.0]))  # signs −1, 1, 1, 1: r_t = 6/8 = 0.75 > 0.6
    assert p == pytest.approx(0.5 + 8 / 100)
    ada.update(torch.tensor([1.0, -1.0]))
    assert ada.update(torch.tensor([1.0, -1.0])) == pytest.approx(0.58 - 4 / 100)  # r_t = 0 < 0.6


def test_adaptive_probability_refuses_a_target_outside_zero_one():
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        AdaptiveProbability(target=1.2)
