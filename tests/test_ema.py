"""EMA of the generator: the decay, the ramp-up and the copied buffers."""

import pytest
import torch
from torch import nn

from ganedu.ema import EMA


def test_ema_after_one_half_life_is_halfway():
    net = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(net.weight)
    ema = EMA(net, half_life_images=640, rampup=None)
    nn.init.ones_(net.weight)
    for _ in range(10):  # 10 updates x 64 images = one half-life
        ema.update(net, images=64)
    assert ema.model.weight.item() == pytest.approx(0.5, abs=1e-6)


def test_ema_rampup_forgets_the_initial_weights_fast():
    net = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(net.weight)
    slow = EMA(net, half_life_images=10_000, rampup=None)
    fast = EMA(net, half_life_images=10_000)
    nn.init.ones_(net.weight)
    for _ in range(300):
        slow.update(net, images=64)
        fast.update(net, images=64)
    assert slow.model.weight.item() < 0.9 < 0.999 < fast.model.weight.item()


def test_ema_copies_buffers_and_is_frozen():
    net = nn.BatchNorm1d(3)
    ema = EMA(net)
    net(torch.randn(8, 3) + 5)
    ema.update(net, images=8)
    assert torch.equal(ema.model.running_mean, net.running_mean)
    assert not any(p.requires_grad for p in ema.model.parameters())
