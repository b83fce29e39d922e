"""The training loop: one step per model, the NaN guard, checkpoints and exact resume."""

import pickle

import pytest
import torch

from ganedu import losses
from ganedu.callbacks import Checkpointer, History, JsonlLog, SampleGrid
from ganedu.checkpoint import load_checkpoint, save_checkpoint
from ganedu.data import ImageBatches, ToyBatches
from ganedu.ema import EMA
from ganedu.errors import CheckpointError, DiskFullError, GaneduError, TrainingDiverged
from ganedu.gan import GAN
from ganedu.models import MODELS, RunConfig, build
from ganedu.nets import dcgan, mlp
from ganedu.nets.layers import MinibatchStdDev
from ganedu.train import resume, save_run, train
from tests.real_faults import small_disk


def tiny_data(n=64, size=28, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 1, size, size), dtype=torch.uint8, generator=g)
    return ImageBatches(images, torch.arange(n) % 10, pad_to=32, seed=seed)


def tiny_dcgan(precision="fp32", seed=0):
    torch.manual_seed(seed)
    G, D = dcgan.Generator(nz=16, ngf=8, image_size=32), dcgan.Discriminator(ndf=8, image_size=32)
    return GAN(
        G, D, torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999)),
        torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999)),
        losses.minimax_d, losses.nonsaturating_g, nz=16, precision=precision,
    )  # fmt: skip


@pytest.mark.parametrize("model", list(MODELS))
def test_one_cpu_training_step_per_model_changes_both_players(model):
    gan, data = build(RunConfig(model, device="cpu", precision="fp32", batch_size=8))
    before = {k: [p.detach().clone() for p in m.parameters()] for k, m in gan.modules().items()}
    train(gan, data, steps=1, batch_size=8)
    assert gan.step == 1
    for name, module in gan.modules().items():
        changed = any(not torch.equal(a, p) for a, p in zip(before[name], module.parameters(), strict=True))
        assert changed, f"{model}: {name} did not change in one step"
    assert torch.isfinite(gan.sample(4)).all()


def test_d_step_leaves_generator_untouched_and_g_step_leaves_discriminator_untouched():
    gan, data = tiny_dcgan(), tiny_data()
    g_before = [p.clone() for p in gan.G.parameters()]
    gan.d_step(*data.sample(8))
    assert all(torch.equal(a, b) for a, b in zip(g_before, gan.G.parameters(), strict=True))
    d_before = [p.clone() for p in gan.D.parameters()]
    gan.g_step(data, 8)
    assert all(torch.equal(a, b) for a, b in zip(d_before, gan.D.parameters(), strict=True))


def test_bf16_autocast_step_runs_and_keeps_fp32_weights():
    gan, data = tiny_dcgan(precision="bf16"), tiny_data()
    logs = gan.train_step(data, 8)
    assert all(torch.isfinite(v) for v in logs.values())
    assert all(p.dtype == torch.float32 for p in gan.G.parameters())


def test_cpu_bundles_train_channels_last_with_fused_adam_and_the_same_result_as_nchw():
    # channels_last and the fused Adam are for speed only: one step must match the NCHW bundle's
    bundles = []
    for layout in ("channels_last", "nchw"):
        gan, data = build(RunConfig("dcgan", device="cpu", precision="fp32", batch_size=8, seed=0))
        assert gan.channels_last and all(o.defaults["fused"] for o in gan.optimizers().values())
        if layout == "nchw":
            gan.use_layout(channels_last=False)
            assert gan.D.features[0].weight.is_contiguous()
        torch.manual_seed(1)
        gan.train_step(data, 8)
        bundles.append(gan)
    conv = bundles[0].D.features[0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last)  # the optimizer kept the layout
    for a, b in zip(bundles[0].G.parameters(), bundles[1].G.parameters(), strict=True):
        scale = a.grad.abs().max().item()
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-3, atol=1e-4 * scale)  # the same gradients
        # Adam's first update is about lr·sign(g): only where g is within rounding of 0 may it differ
        sure = a.grad.abs() > 1e-3 * scale
        torch.testing.assert_close(a[sure], b[sure], rtol=1e-4, atol=1e-5)


def test_nan_guard_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(tmp_path):
    gan, data = tiny_dcgan(), tiny_data()
    ckpt = tmp_path / "ckpt.pt"
    train(gan, data, steps=2, batch_size=8, callbacks=[Checkpointer(ckpt, data, every=1)])
    good = load_checkpoint(ckpt)["gan"]["step"]
    with torch.no_grad():
        next(gan.D.parameters()).fill_(float("nan"))
    with pytest.raises(TrainingDiverged, match=r"diverged at step 3 .*loss_D = nan"):
        train(gan, data, steps=5, batch_size=8, callbacks=[Checkpointer(ckpt, data, every=1)])
    assert load_checkpoint(ckpt)["gan"]["step"] == good == 2


def test_an_optimizer_that_raises_on_overflow_is_the_divergence_message_too():
    # a learner's own Adam (foreach kernel) raises "overflow" for lr = 1e300 instead of writing inf
    gan, data = tiny_dcgan(), tiny_data()
    for opt in gan.optimizers().values():
        for group in opt.param_groups:
            group.update(lr=1e300, foreach=True, fused=None)
    with pytest.raises(TrainingDiverged, match=r"diverged at step 1 \(overflow = inf\)"):
        train(gan, data, steps=2, batch_size=8)


def test_a_batch_the_minibatch_stddev_groups_do_not_divide_is_refused_before_the_first_step():
    # a notebook's train(gan, data, batch_size=30) skips the CLI's check; the loop makes its own
    gan, data = build(RunConfig("wgan-gp", device="cpu", batch_size=8, options={"mbstd": 4}))
    with pytest.raises(GaneduError, match=r"batch_size=30 .* groups of 4; pick a batch size divisible by 4"):
        train(gan, data, steps=1, batch_size=30)
    assert gan.step == 0
    # the layer in a D of one's own is found too, and a batch the groups divide trains
    G = mlp.Generator(nz=4, out_shape=(2,), hidden=8, depth=1, batchnorm=False, tanh=False)
    D = torch.nn.Sequential(
        torch.nn.Unflatten(1, (2, 1, 1)),
        MinibatchStdDev(group_size=3),
        torch.nn.Flatten(),
        torch.nn.Linear(3, 1),
    )
    toy = GAN(G, D, torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters()),
              losses.minimax_d, losses.nonsaturating_g, nz=4)  # fmt: skip
    points = ToyBatches("ring", n=600)
    with pytest.raises(GaneduError, match="groups of 3"):
        train(toy, points, steps=1, batch_size=8)
    train(toy, points, steps=1, batch_size=9)
    assert toy.step == 1


def test_a_checkpoint_the_disk_has_no_room_for_leaves_the_old_one_intact(tmp_path):
    """The disk fills for real: a 2 MB checkpoint where a 1 MB tmpfs holds a small one."""
    with small_disk(tmp_path / "disk", 1) as disk:
        path = disk / "ckpt.pt"
        save_checkpoint(path, {"x": torch.ones(3)})
        with pytest.raises(DiskFullError, match="disk is full"):
            save_checkpoint(path, {"x": torch.zeros(2**19)})
        assert torch.equal(load_checkpoint(path)["x"], torch.ones(3))  # the old file is intact
        assert [p.name for p in disk.iterdir()] == ["ckpt.pt"]  # and no temporary file is left


class Boom:
    def __reduce__(self):
        return (exec, ("open('pwned', 'w').write('code ran')",))


def test_checkpoint_that_would_run_code_is_refused_and_does_not_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    torch.save({"model": Boom()}, path)
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(path)
    assert not (tmp_path / "pwned").exists()
    path.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert not (tmp_path / "pwned").exists()


def test_corrupt_checkpoint_gives_checkpoint_error(tmp_path):
    """Cut by hand, to pin the error of load_checkpoint alone; a save cut by a real SIGKILL is
    tests/test_faults.py::test_a_checkpoint_cut_short_by_a_killed_save_is_reported_not_loaded."""
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, {"x": torch.ones(1000)})
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(path)


def test_resume_is_exact_on_cpu(tmp_path):
    straight, data = tiny_dcgan(seed=1), tiny_data(seed=1)
    torch.manual_seed(5)
    train(straight, data, steps=6, batch_size=8)

    first, data = tiny_dcgan(seed=1), tiny_data(seed=1)
    torch.manual_seed(5)
    train(first, data, steps=3, batch_size=8)
    save_run(tmp_path / "ckpt.pt", first, data)
    torch.manual_seed(123)  # disturb every RNG: resume must restore them
    second, data2 = tiny_dcgan(seed=7), tiny_data(seed=1)
    data2.sample(5)
    resume(tmp_path / "ckpt.pt", second, data2)
    train(second, data2, steps=6, batch_size=8)

    assert second.step == 6
    assert torch.equal(straight.sample(8, seed=3), second.sample(8, seed=3))
    for a, b in zip(straight.D.parameters(), second.D.parameters(), strict=True):
        assert torch.equal(a, b)


def test_callbacks_write_log_grid_and_history(tmp_path):
    gan, data = tiny_dcgan(), tiny_data()
    history = History()
    train(gan, data, steps=4, batch_size=8, callbacks=[history, JsonlLog(tmp_path / "log.jsonl", every=2),
                                                        SampleGrid(tmp_path, every=2, n=4)])  # fmt: skip
    assert history.values["step"] == [1, 2, 3, 4] and len(history.values["loss_D"]) == 4
    assert len((tmp_path / "log.jsonl").read_text().splitlines()) == 2
    assert sorted(p.name for p in tmp_path.glob("samples_*.png")) == [
        "samples_000002.png",
        "samples_000004.png",
    ]


def test_minutes_budget_stops_training():
    gan, data = tiny_dcgan(), tiny_data()
    train(gan, data, minutes=0.002, batch_size=8)
    assert 0 < gan.step < 10_000


def test_mlp_gan_on_toy_points_learns_the_ring_radius():
    from ganedu.data import toy_mixture

    torch.manual_seed(0)
    points, _ = toy_mixture("ring", 2048, seed=0)

    class Points:
        def sample(self, b):
            return points[torch.randint(len(points), (b,))], None

    G, D = mlp.Generator(nz=8, out_shape=(2,), hidden=64), mlp.Discriminator((2,), hidden=64)
    gan = GAN(G, D, torch.optim.Adam(G.parameters(), 1e-3, betas=(0.5, 0.999)),
              torch.optim.Adam(D.parameters(), 1e-3, betas=(0.5, 0.999)),
              losses.minimax_d, losses.nonsaturating_g, nz=8, ema_half_life=None)  # fmt: skip
    radius_before = gan.sample(512).norm(dim=1).mean().item()
    train(gan, Points(), steps=400, batch_size=128)
    radius = gan.sample(512).norm(dim=1).mean().item()
    assert abs(radius - 2.0) < 0.4 < abs(radius_before - 2.0), (radius_before, radius)


def test_a_learners_step_trains_the_bundle_through_the_one_loop_with_ema_and_logs():
    gan, data = tiny_dcgan(), tiny_data()
    calls = []

    def my_step(gan, data, batch_size):  # the shape of a learner's exNN.train_step, adapted
        real, _ = data.sample(batch_size)
        z = gan.sample_z(batch_size)
        loss_d = losses.minimax_d(gan.D(real), gan.D(gan.G(z).detach()))
        gan.opt_d.zero_grad()
        loss_d.backward()
        gan.opt_d.step()
        loss_g = losses.nonsaturating_g(gan.D(gan.G(z)))
        gan.opt_g.zero_grad()
        loss_g.backward()
        gan.opt_g.step()
        calls.append(batch_size)
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}

    gan.custom_step = my_step
    gan.ema = EMA(gan.G, 64)
    history = History()
    before = [p.detach().clone() for p in gan.ema.model.parameters()]
    train(gan, data, steps=3, batch_size=8, callbacks=[history])
    assert calls == [8, 8, 8] and gan.step == 3
    assert history.values["step"] == [1, 2, 3] and all(isinstance(v, float) for v in history.values["loss_d"])
    assert gan.ema.images_seen == 24
    assert any(not torch.equal(a, p) for a, p in zip(before, gan.ema.model.parameters(), strict=True))


EAGER_TRAINING = """
import sys, torch
from ganedu.data import ImageBatches
from ganedu.models import RunConfig, build_gan
from ganedu.train import train

def trained(opt_class):
    gan = build_gan(RunConfig("dcgan", device="cpu", precision="fp32", seed=3))
    if opt_class is not None:  # the same optimizers as PyTorch's own classes, state and all
        for name in ("opt_g", "opt_d"):
            ours = getattr(gan, name)
            theirs = opt_class(ours.param_groups[0]["params"], **ours.defaults)
            theirs.load_state_dict(ours.state_dict())
            setattr(gan, name, theirs)
    data = ImageBatches(torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0)),
                        pad_to=32, seed=0)
    train(gan, data, steps=3, batch_size=16, adapt_threads=False)
    return gan, {**gan.G.state_dict(), **gan.D.state_dict()}, gan.opt_g.state_dict()

gan, ours, state = trained(None)
gan.opt_g.load_state_dict(state)
print("compiler imported:", "torch._dynamo" in sys.modules)
_, theirs, _ = trained(torch.optim.Adam)
print("same weights:", all(torch.equal(ours[k], theirs[k]) for k in ours))
"""


def test_training_never_imports_the_compiler_and_updates_as_pytorchs_adam():
    """ganedu's optimizers skip PyTorch's compiler marks (1.4 s of importing torch._dynamo) and
    train bit for bit as ``torch.optim.Adam`` with the same state does."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", EAGER_TRAINING], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert "compiler imported: False" in done.stdout
    assert "same weights: True" in done.stdout
