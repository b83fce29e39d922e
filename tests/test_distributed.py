"""Instructor mode: K processes train exactly what one process trains with the same global batch.

The ranks are started the way torchrun starts them (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR,
MASTER_PORT in the environment of ``python -m ganedu train``), on the CPU with Gloo.
"""

import copy
import json
import os
import shutil
import socket
import subprocess
import sys

import pytest
import torch

from ganedu import losses
from ganedu.__main__ import main
from ganedu.checkpoint import load_checkpoint
from ganedu.data import ImageBatches
from ganedu.distributed import GlobalBatchNorm, ShardedBatches, ShardedLatents
from ganedu.gan import GAN
from ganedu.nets import mlp

# the MLP GAN (BatchNorm in G, so GlobalBatchNorm is exercised), fp32, global batch 16
ARGS = ["--device", "cpu", "--precision", "fp32", "--batch-size", "16", "--checkpoint-every", "5"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_ranks(k: int, *args) -> list[subprocess.CompletedProcess]:
    """Run ``python -m ganedu ARGS`` as ranks 0..k-1 of one job, as torchrun would; wait for all."""
    port = free_port()
    procs = []
    for rank in range(k):
        env = {**os.environ, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(k),
               "LOCAL_WORLD_SIZE": str(k), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
               "OMP_NUM_THREADS": "1"}  # fmt: skip
        procs.append(subprocess.Popen([sys.executable, "-m", "ganedu", *map(str, args)], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))  # fmt: skip
    results = []
    for p in procs:
        out, err = p.communicate(timeout=240)
        results.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return results


CLOSE = {"rtol": 1e-4, "atol": 1e-5}


def without_noise_driven(state: dict) -> dict:
    """``state`` less each bias feeding a BatchNorm and that BatchNorm's running mean.

    BatchNorm subtracts the batch mean, so such a bias has a true gradient of exactly 0; what
    autograd returns is rounding noise (~1e-10), which Adam divides by its own square root:
    in *both* runs the bias takes steps of about ±lr in the direction of the noise, and the
    running mean follows it. These entries differ by up to ~lr x steps and do not change what G
    computes in training mode (checked separately through G's output).
    """
    noise = set()
    for key in state:
        if key.endswith(".running_mean"):
            parent, index = key.removesuffix(".running_mean").rsplit(".", 1)
            noise |= {key, f"{parent}.{int(index) - 1}.bias"}
    return {k: v for k, v in state.items() if k not in noise}


def generator_output(state: dict) -> torch.Tensor:
    torch.manual_seed(0)
    G, z = mlp.Generator(64, (1, 28, 28), hidden=512), torch.randn(16, 64)  # the `gan` recipe's G
    G.load_state_dict(state)
    with torch.no_grad():
        return G.train()(z)


def assert_same_run(a: dict, b: dict) -> None:
    """Same step, weights, EMA, Adam moments and G (to rounding); identical generator states."""
    assert a["gan"]["step"] == b["gan"]["step"]
    for name in ("G", "D"):
        torch.testing.assert_close(
            without_noise_driven(b["gan"]["models"][name]),
            without_noise_driven(a["gan"]["models"][name]),
            **CLOSE,
        )
        torch.testing.assert_close(b["gan"]["optimizers"][name], a["gan"]["optimizers"][name], **CLOSE)
    torch.testing.assert_close(
        without_noise_driven(b["gan"]["ema"]["model"]),
        without_noise_driven(a["gan"]["ema"]["model"]),
        **CLOSE,
    )
    torch.testing.assert_close(
        generator_output(b["gan"]["models"]["G"]), generator_output(a["gan"]["models"]["G"]), **CLOSE
    )
    for rng in ("torch_rng", "data_rng"):  # the ranks advanced the generators as one process does
        assert torch.equal(a[rng], b[rng]), rng


def test_two_cpu_ranks_equal_one_process_and_only_rank_0_writes(tmp_path):
    single, multi = tmp_path / "single", tmp_path / "multi"
    assert main(["train", "gan", "--steps", "10", "--out", str(single), *ARGS]) == 0
    rank0, rank1 = launch_ranks(2, "train", "gan", "--steps", "10", "--out", multi, *ARGS)
    assert rank0.returncode == 0 and rank1.returncode == 0, rank0.stderr[-3000:] + rank1.stderr[-3000:]

    assert_same_run(load_checkpoint(single / "ckpt.pt"), load_checkpoint(multi / "ckpt.pt"))

    # only rank 0 wrote: the same files as the single run, and one log line per 10 steps, not two
    assert sorted(p.name for p in multi.iterdir()) == sorted(p.name for p in single.iterdir())
    (one,), (two,) = [[json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
                      for run in (single, multi)]  # fmt: skip
    assert one["step"] == two["step"] == 10
    for key in (
        "loss_D",
        "loss_G",
        "D(x) logit",
        "D(G(z)) logit",
    ):  # logged: the mean over ranks = the global batch's
        assert two[key] == pytest.approx(one[key], rel=1e-4, abs=1e-5), key
    assert "trained gan to step 10" in rank0.stdout and rank1.stdout == ""
    assert "10/10" in rank0.stderr and "10/10" not in rank1.stderr  # the progress bar

    # a checkpoint of the 2-rank run resumes in one process exactly like the single run's
    shutil.copytree(multi, tmp_path / "resumed")
    for run in (single, tmp_path / "resumed"):
        assert main(["train", "gan", "--steps", "12", "--out", str(run), "--resume", *ARGS]) == 0
    assert_same_run(load_checkpoint(single / "ckpt.pt"), load_checkpoint(tmp_path / "resumed" / "ckpt.pt"))


PROBE_RANK = """
import os, sys, torch, torch.distributed as dist
from ganedu import runtime
rank = int(sys.argv[1])
dist.init_process_group("gloo", init_method=f"file://{sys.argv[2]}", rank=rank, world_size=2)
runtime.cpu_has_bf16_units = lambda: True
# rank 0 measures bf16 faster, rank 1 slower: what a shared CPU can do near the threshold
runtime._fastest_conv = lambda x, w, passes=3: (0.5 if rank == 0 else 2.0) if x.dtype == torch.bfloat16 else 1.0
print(runtime.resolve_precision("auto", torch.device("cpu")))
dist.destroy_process_group()
"""


def test_cpu_ranks_train_in_the_precision_rank_0_measured(tmp_path):
    rendezvous = tmp_path / "rendezvous"
    # a cache folder each: a rank that read the other's kept answer would not measure its own
    envs = [{**os.environ, "XDG_CACHE_HOME": str(tmp_path / f"cache{rank}")} for rank in (0, 1)]
    procs = [subprocess.Popen([sys.executable, "-c", PROBE_RANK, str(rank), str(rendezvous)], env=envs[rank],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for rank in (0, 1)]  # fmt: skip
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outs]
    assert [out.strip() for out, _ in outs] == ["bf16", "bf16"]


def test_global_batch_that_does_not_divide_among_ranks_is_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("LOCAL_RANK", "0")
    out = tmp_path / "r"
    assert main(["train", "gan", "--steps", "1", "--out", str(out), *ARGS, "--batch-size", "15"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        err[-1].startswith("ganedu: error: --batch-size 15 is the global batch")
        and "multiple of 2" in err[-1]
    )
    assert not out.exists()  # failed before joining a process group or writing anything


def test_shards_of_the_global_draw_are_the_single_process_batch_and_z():
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (50, 1, 28, 28), dtype=torch.uint8, generator=g)
    single = ImageBatches(images, torch.arange(50) % 10, seed=3)
    ranks = [ShardedBatches(ImageBatches(images, torch.arange(50) % 10, seed=3), r, 2) for r in range(2)]
    for _ in range(3):
        x, y = single.sample(8)
        shards = [rank.sample(4) for rank in ranks]
        assert torch.equal(torch.cat([s[0] for s in shards]), x)
        assert torch.equal(torch.cat([s[1] for s in shards]), y)
    assert all(torch.equal(r.generator.get_state(), single.generator.get_state()) for r in ranks)

    G, D = mlp.Generator(nz=4, out_shape=(2,), hidden=8), mlp.Discriminator((2,), hidden=8)
    gan = GAN(G, D, torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters()),
              losses.minimax_d, losses.nonsaturating_g, nz=4, num_classes=10)  # fmt: skip
    torch.manual_seed(1)
    z, labels = gan.sample_z(6), gan.sample_labels(6)
    gan.latents = ShardedLatents(gan.latents, rank=1, world_size=3)
    torch.manual_seed(1)
    assert torch.equal(gan.sample_z(2), z[2:4]) and torch.equal(gan.sample_labels(2), labels[2:4])


def test_global_batchnorm_shares_parameters_and_state_keys_and_is_plain_batchnorm_alone():
    torch.manual_seed(0)
    G = mlp.Generator(nz=4, out_shape=(1, 4, 4), hidden=8)
    params, keys = list(G.parameters()), list(G.state_dict())
    x = torch.randn(6, 4)
    expected = G(x)
    GlobalBatchNorm.convert(G)
    assert sum(isinstance(m, GlobalBatchNorm) for m in G.modules()) == 3
    assert all(a is b for a, b in zip(params, G.parameters(), strict=True)) and list(G.state_dict()) == keys
    torch.testing.assert_close(G(x), expected)


@pytest.mark.parametrize("shape", [(6, 8), (6, 8, 5, 5)])
def test_global_batchnorm_matches_batchnorm_in_training(shape, monkeypatch):
    """Its own training-mode formula (one rank: the sums over ranks are the local sums) is BatchNorm's."""
    import ganedu.distributed

    monkeypatch.setattr(ganedu.distributed, "is_distributed", lambda: True)
    monkeypatch.setattr(torch.distributed, "all_reduce", lambda tensor, *args, **kwargs: None)
    torch.manual_seed(0)
    plain = (torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d)(8)
    torch.nn.init.normal_(plain.weight)
    torch.nn.init.normal_(plain.bias)
    net = GlobalBatchNorm.convert(torch.nn.Sequential(copy.deepcopy(plain)))
    for _ in range(2):
        x = (3 * torch.randn(shape) + 1).requires_grad_()
        y1, y2 = plain(x), net(x)
        torch.testing.assert_close(y2, y1)
        g1 = torch.autograd.grad((y1**3).sum(), [x, plain.weight, plain.bias])
        g2 = torch.autograd.grad((y2**3).sum(), [x, *net.parameters()])
        torch.testing.assert_close(g2, g1)
    torch.testing.assert_close(net[0].state_dict(), plain.state_dict())


@pytest.mark.slow
def test_torchrun_launch(tmp_path):
    """The real launcher: ``torchrun --nproc_per_node=2 -m ganedu train gan``."""
    torchrun = shutil.which("torchrun") or pytest.skip("torchrun is not on PATH")
    done = subprocess.run(
        [torchrun, "--nproc_per_node=2", "--master_port", str(free_port()), "-m", "ganedu", "train", "gan",
         "--steps", "10", "--out", str(tmp_path / "r"), *ARGS],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert load_checkpoint(tmp_path / "r" / "ckpt.pt")["gan"]["step"] == 10
