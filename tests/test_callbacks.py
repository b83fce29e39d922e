"""Callbacks a chapter leans on: snapshots of a fixed z, the W estimate."""

import torch

from ganedu.callbacks import Snapshots, WassersteinEstimate
from ganedu.data import ToyBatches
from ganedu.models.gan import toy_gan
from ganedu.train import Callback, train


class Recorder(Callback):
    def __init__(self):
        self.seen = []

    def on_step(self, gan, logs):
        self.seen.append(dict(logs))


def test_snapshots_take_the_same_codes_at_start_every_k_steps_and_end():
    gan, toy = toy_gan(), ToyBatches("ring")
    snapshots = Snapshots(every=3, n=5)
    train(gan, toy, steps=7, batch_size=16, callbacks=[snapshots])
    assert [step for step, _ in snapshots.frames] == [0, 3, 6, 7]
    assert all(images.shape == (5, 2) for _, images in snapshots.frames)
    torch.testing.assert_close(snapshots.frames[-1][1], gan.sample(5, seed=0))


def test_snapshots_measure_only_at_the_listed_steps_when_ends_are_off():
    gan, toy = toy_gan(), ToyBatches("ring")
    snapshots = Snapshots(at=[2, 4], n=3, measure=lambda g: g.step * 10, ends=False)
    train(gan, toy, steps=5, batch_size=16, callbacks=[snapshots])
    assert [step for step, _ in snapshots.frames] == [2, 4]
    assert snapshots.measured == {2: 20, 4: 40}


def test_wasserstein_estimate_is_minus_the_critic_loss_and_later_callbacks_see_it():
    gan, toy = toy_gan("wgan-gp"), ToyBatches("ring")
    recorder = Recorder()
    train(gan, toy, steps=2, batch_size=16, callbacks=[WassersteinEstimate(), recorder])
    for logs in recorder.seen:
        assert logs["W estimate"] == -logs["loss_D"]
        assert "GP" in logs  # the penalty is logged apart, not inside the estimate


def test_snapshots_with_no_samples_only_measure():
    gan, toy = toy_gan(), ToyBatches("ring")
    snapshots = Snapshots(every=2, n=0, measure=lambda g: g.step)
    train(gan, toy, steps=3, batch_size=16, callbacks=[snapshots])
    assert snapshots.frames == [] and snapshots.measured == {0: 0, 2: 2, 3: 3}
