"""Instructor mode: one run on K GPUs (or K CPU processes), the same model as on one.

::

    torchrun --nproc_per_node=4 -m ganedu train dcgan --batch-size 256 --steps 20000

``torchrun`` starts K copies of the CLI with ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE`` in
their environment. Each copy (a *rank*) joins a process group (NCCL on CUDA, Gloo on the CPU),
trains on ``cuda:LOCAL_RANK`` (or the CPU with ``--device cpu``), and takes ``B / K`` of the
global batch ``--batch-size B``. Only rank 0 writes: progress bar, ``log.jsonl``, sample
grids and checkpoints. A checkpoint holds nothing rank-specific, so a run started on K GPUs
can be resumed on one, and the other way round.

**Exactly the single-process run, split K ways.** The K runs start from the same seed and so
hold the same weights and the same random number generators; :func:`data_parallel` keeps
them that way:

* Sampling. Every rank draws the *global* batch's indices and the global batch's z (and
  labels) from its generators, identical on every rank, and keeps its slice
  ``[rank·b, (rank+1)·b)`` with ``b = B / K`` (:class:`ShardedBatches`,
  :class:`ShardedLatents`). Together the ranks see exactly the images and z of the
  single-process step, each image once; the generators advance exactly as they would there.
* Gradients. Each rank's loss is the mean over its b samples. Before every optimizer step a
  hook sums the gradients over the ranks and divides by K (:func:`average_gradients`), which
  gives ``1/K · Σ_r 1/b · Σ_{i∈r} ∇ℓ_i = 1/B · Σ_i ∇ℓ_i``: the full-batch gradient. Every
  rank then takes the same Adam step, so the replicas never drift apart. This is what
  ``DistributedDataParallel`` computes, done on ``.grad`` instead of through DDP's wrapper.
  DDP reduces gradients during backward and expects one for every parameter it wraps, but
  :class:`ganedu.gan.GAN` freezes D with ``requires_grad_(False)`` while G learns through it
  (DDP would wait for D's gradients unless ``find_unused_parameters=True``), and the gradient
  penalties use ``torch.autograd.grad(create_graph=True)``, which DDP does not support. A
  hook on ``optimizer.step`` sees the final gradients, whatever produced them, once per step.
* BatchNorm. In training mode BatchNorm normalises with the statistics of the batch it sees.
  Left alone, each rank would use its own ``B / K`` images (what DDP does without
  SyncBatchNorm): a different, noisier model, and running statistics that differ between
  ranks. :func:`data_parallel` therefore makes every BatchNorm use the global batch's mean and
  variance, as the single process does: PyTorch's ``nn.SyncBatchNorm`` on CUDA, and on Gloo
  (CPU processes, which ``nn.SyncBatchNorm`` does not support) :class:`GlobalBatchNorm`, a
  small equivalent that exists so the CPU equality test can run. It costs two small all-reduces per BatchNorm layer in the
  forward pass and two in the backward; ``data_parallel(..., sync_batchnorm=False)`` keeps
  per-rank statistics instead.

The result equals the single-process run up to floating-point rounding (sums in another
order): ``tests/test_distributed.py`` trains 2 CPU ranks and 1 process side by side and
compares the weights. GAN training amplifies rounding differences as it goes, exactly as it
does between two single-process runs that differ only in their number of threads. Randomness drawn inside a model's step at the *local* size (the
interpolation weights of WGAN-GP, StyleGAN's style-mixing draws, CycleGAN's image pool) is
the same on every rank rather than a slice of a global draw: still correct data-parallel
training, but not bit-for-bit the single-process run.

The training loop (:func:`ganedu.train.train`) knows nothing of ranks. :class:`DataParallelGAN`
wraps the bundle so that the losses it returns are averaged over the ranks (the global batch's
losses, so the NaN guard stops every rank together), and :class:`SharedDeadline` stops every
rank at the same step when a ``--minutes`` budget runs out (:func:`any_rank`).
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor, nn

from ganedu.errors import GaneduError
from ganedu.train import Callback


@dataclass(frozen=True)
class Launch:
    """This process's place in a torchrun launch.

    Attributes:
        rank: 0 .. world_size − 1; rank 0 is the one that writes.
        local_rank: the rank on this machine, which picks the GPU (``cuda:local_rank``).
        world_size: K, the number of processes.
        device: where this rank trains.
        batch_size: this rank's share of the global batch, ``B / K``.
    """

    rank: int
    local_rank: int
    world_size: int
    device: torch.device
    batch_size: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def world_size() -> int:
    """K when started by torchrun (``WORLD_SIZE``), else 1."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_distributed() -> bool:
    """True when a process group of two or more ranks is running."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def is_main() -> bool:
    """True on rank 0, and in a process that is not part of a distributed run."""
    return not is_distributed() or dist.get_rank() == 0


def local_batch_size(global_batch: int, k: int) -> int:
    """``global_batch / k``; :class:`GaneduError` when it does not divide evenly."""
    if global_batch % k:
        raise GaneduError(
            f"--batch-size {global_batch} is the global batch and must divide evenly among the {k} "
            f"processes torchrun started; use a multiple of {k}, e.g. {k * max(1, round(global_batch / k))}"
        )
    return global_batch // k


def _rank_device(device: str, local_rank: int) -> torch.device:
    """cpu -> the CPU; auto -> cuda:LOCAL_RANK if CUDA is there, else the CPU; any cuda... -> cuda:LOCAL_RANK."""
    if device == "cpu" or (device == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if device != "auto" and not device.startswith("cuda"):
        raise GaneduError(
            f"under torchrun each process trains on cuda:LOCAL_RANK or on the CPU: pass --device "
            f"auto, cuda or cpu, not {device!r} (choose the GPUs with CUDA_VISIBLE_DEVICES)"
        )
    if not torch.cuda.is_available() or local_rank >= torch.cuda.device_count():
        raise GaneduError(
            f"process LOCAL_RANK={local_rank} needs cuda:{local_rank}, but "
            f"{torch.cuda.device_count() if torch.cuda.is_available() else 'no'} CUDA GPUs are visible; "
            "start at most one process per GPU, or pass --device cpu"
        )
    return torch.device("cuda", local_rank)


def init(device: str, global_batch: int) -> Launch | None:
    """Join the process group when started by torchrun with 2+ processes; ``None`` otherwise.

    Picks this rank's device from ``device`` ("auto" or "cuda": ``cuda:LOCAL_RANK``; "cpu"),
    makes it the current CUDA device, and initialises the process group (NCCL on CUDA, Gloo
    on the CPU) from torchrun's environment. Checks first, so a bad setting fails before any
    process waits for another: the global batch must divide by the number of processes.
    """
    k = world_size()
    if k <= 1:
        return None
    batch = local_batch_size(global_batch, k)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    dev = _rank_device(device, local_rank)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
    return Launch(rank, local_rank, k, dev, batch)


def shutdown() -> None:
    """Wait for every rank (so rank 0's last checkpoint is on disk), then leave the group."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


# ------------------------------------------------------------------------- collectives


def _comm_device() -> torch.device:
    """Where tensors must be for a collective: the current GPU for NCCL, the CPU for Gloo."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def mean_over_ranks(values: Tensor) -> Tensor:
    """The mean of ``values`` over the ranks (unchanged outside a distributed run)."""
    if not is_distributed():
        return values
    out = values.detach().to(_comm_device(), torch.float32).clone()
    dist.all_reduce(out)
    return (out / dist.get_world_size()).to(values.device)


def any_rank(flag: bool) -> bool:
    """True if ``flag`` is true on any rank, so that all ranks take the same branch."""
    if not is_distributed():
        return flag
    t = torch.tensor([float(flag)], device=_comm_device())
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def rank_0s(flag: bool) -> bool:
    """``flag`` as rank 0 has it, on every rank, so that all ranks take rank 0's branch."""
    if not is_distributed():
        return flag
    t = torch.tensor([float(flag)])
    _broadcast_(t)
    return bool(t.item())


def _broadcast_(tensor: Tensor) -> None:
    """Overwrite ``tensor`` on every rank with rank 0's copy."""
    t = tensor.detach().to(_comm_device())
    dist.broadcast(t, src=0)
    tensor.detach().copy_(t)


def _broadcast_rng(get, set_) -> None:
    state = get()
    _broadcast_(state)
    set_(state)


class _SumOverRanks(torch.autograd.Function):
    """``y = Σ_ranks x`` on every rank; the backward sums the incoming gradients the same way.

    Every rank's loss depends on every rank's ``x`` through ``y``, so ``x``'s gradient of the
    total loss is the sum of the ranks' gradients with respect to ``y``.
    """

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        y = x.clone(memory_format=torch.contiguous_format)
        dist.all_reduce(y)
        return y

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        return _SumOverRanks.apply(grad)


# ------------------------------------------------------------------------------ sampling


class ShardedBatches:
    """This rank's slice of every global batch the wrapped ``data`` draws.

    ``sample(b)`` draws the global batch ``data.sample(b · K)``, from a generator in the same
    state on every rank, and returns rows ``[rank·b, (rank+1)·b)`` of each tensor in it.
    Drawing the whole index vector costs next to nothing and advances ``data.generator``
    exactly as the single-process run does. Every other attribute (``generator``,
    ``images``, ...) is the wrapped object's, so checkpoints save and restore it as before.
    """

    def __init__(self, data, rank: int, world_size: int):
        self.data, self.rank, self.world_size = data, rank, world_size

    def sample(self, batch_size: int):
        batch = self.data.sample(batch_size * self.world_size)
        lo, hi = self.rank * batch_size, (self.rank + 1) * batch_size
        return tuple(None if x is None else x[lo:hi] for x in batch)

    def __len__(self) -> int:
        return len(self.data)

    def __getattr__(self, name: str):  # only called for attributes not found on self
        if name == "data":  # not set yet (e.g. while copying): no recursion
            raise AttributeError(name)
        return getattr(self.data, name)


class ShardedLatents:
    """This rank's slice of every global draw of z and labels (replaces a bundle's ``latents``).

    Each draw takes ``n · K`` rows from the (identically seeded) global generator, as the single
    process drawing the global batch does, and keeps rows ``[rank·n, (rank+1)·n)``.
    """

    def __init__(self, latents, rank: int, world_size: int):
        self.latents, self.rank, self.world_size = latents, rank, world_size

    def _slice(self, x: Tensor | None, n: int) -> Tensor | None:
        return None if x is None else x[self.rank * n : (self.rank + 1) * n]

    def z(self, n: int) -> Tensor:
        return self._slice(self.latents.z(n * self.world_size), n)

    def labels(self, n: int) -> Tensor | None:
        return self._slice(self.latents.labels(n * self.world_size), n)


class GlobalEMA:
    """A bundle's EMA as one rank sees it: each update counts the global batch, K times this rank's.

    The EMA's decay depends on the images per update (:mod:`ganedu.ema`); every rank updates
    its copy after a step on ``B / K`` images that stands for a step on ``B``. Every other
    attribute is the wrapped EMA's, so checkpoints hold the single-process state.
    """

    def __init__(self, ema, world_size: int):
        self.ema, self.world_size = ema, world_size

    def update(self, model: nn.Module, images: int) -> None:
        self.ema.update(model, images * self.world_size)

    def __getattr__(self, name: str):  # only called for attributes not found on self
        if name == "ema":
            raise AttributeError(name)
        return getattr(self.ema, name)


# ----------------------------------------------------------------------------- gradients


@torch.no_grad()
def _average_grads(optimizer: torch.optim.Optimizer, *args, **kwargs) -> None:
    grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    by_dtype: dict[torch.dtype, list[Tensor]] = defaultdict(list)
    for g in grads:
        by_dtype[g.dtype].append(g)
    k = dist.get_world_size()
    for same in by_dtype.values():  # one all-reduce per dtype: a flat buffer, then back into .grad
        flat = torch.cat([g.reshape(-1) for g in same])
        dist.all_reduce(flat)
        flat /= k
        offset = 0
        for g in same:
            g.copy_(flat[offset : offset + g.numel()].view_as(g))
            offset += g.numel()


def average_gradients(optimizer: torch.optim.Optimizer):
    """Before each ``optimizer.step()``, replace every ``.grad`` by its mean over the ranks.

    Returns the hook's handle (``handle.remove()`` undoes it).
    """
    return optimizer.register_step_pre_hook(_average_grads)


# ----------------------------------------------------------------------------- BatchNorm


class GlobalBatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm (1d, 2d or 3d) whose training statistics are those of the global batch.

    In training mode the per-channel sum and sum of squared deviations are summed over the
    ranks (:class:`_SumOverRanks`, so gradients flow through them as through the single
    process's statistics); the running averages are updated from the global mean and the
    unbiased global variance, identically on every rank. In eval mode, or outside a
    distributed run, it is a plain BatchNorm. Statistics are computed in fp32.
    """

    def _check_input_dim(self, x: Tensor) -> None:
        if x.dim() < 2:
            raise ValueError(f"expected input of at least 2 dimensions (N, C, ...), got {x.dim()}")

    def forward(self, x: Tensor) -> Tensor:
        if not (self.training and is_distributed()):
            return super().forward(x)
        self._check_input_dim(x)
        dims = [0, *range(2, x.dim())]
        shape = [1, -1] + [1] * (x.dim() - 2)
        xf = x.float()
        count = xf.new_full((1,), xf.numel() / xf.shape[1])
        sums = _SumOverRanks.apply(torch.cat([xf.sum(dims), count]))
        n = sums[-1]
        mean = sums[:-1] / n
        centered = xf - mean.view(shape)
        var = _SumOverRanks.apply((centered * centered).sum(dims)) / n
        y = centered * torch.rsqrt(var + self.eps).view(shape)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked += 1
                momentum = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
                self.running_mean.lerp_(mean.detach(), momentum)
                self.running_var.lerp_(var.detach() * n / (n - 1), momentum)
        return y.to(x.dtype)

    @classmethod
    def convert(cls, module: nn.Module) -> nn.Module:
        """Replace every BatchNorm inside ``module`` by a GlobalBatchNorm sharing its parameters and buffers.

        The parameters stay the same objects, so optimizers built on them keep working; the
        state dict's keys do not change, so checkpoints load either way.
        """
        for name, child in module.named_children():
            if isinstance(child, nn.modules.batchnorm._BatchNorm) and not isinstance(child, cls):
                new = cls(
                    child.num_features, child.eps, child.momentum, child.affine, child.track_running_stats
                )
                for key in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
                    setattr(new, key, getattr(child, key))
                new.train(child.training)
                setattr(module, name, new)
            else:
                cls.convert(child)
        return module


# ----------------------------------------------------------------------------- all of it


class DataParallelGAN:
    """A bundle as one rank of a K-way run sees it: the same bundle, losses averaged over the ranks.

    Every attribute is the wrapped bundle's (``step``, ``G``, ``sample``, ``state_dict``, ...),
    so callbacks and checkpoints treat it as the bundle itself.
    """

    def __init__(self, gan):
        object.__setattr__(self, "gan", gan)

    def train_step(self, data, batch_size: int) -> dict[str, Tensor]:
        """The wrapped bundle's step on this rank's slice; returns the global batch's mean losses."""
        logs = self.gan.train_step(data, batch_size)
        values = mean_over_ranks(torch.stack([v.detach().float() for v in logs.values()]))
        return dict(zip(logs, values.unbind(), strict=True))

    def __getattr__(self, name: str):  # only called for attributes not found on self
        return getattr(self.gan, name)

    def __setattr__(self, name: str, value) -> None:
        setattr(self.gan, name, value)


class SharedDeadline(Callback):
    """Stops every rank at the same step once ``minutes`` have passed on any of them."""

    def __init__(self, minutes: float):
        self.deadline = time.monotonic() + 60 * minutes

    def should_stop(self, gan) -> bool:
        return any_rank(time.monotonic() >= self.deadline)


def data_parallel(gan, data, launch: Launch, sync_batchnorm: bool = True):
    """Turn a freshly built (or resumed) ``(gan, data)`` into this rank's part of a K-way run.

    Broadcasts rank 0's weights, buffers and random number generator states (they are equal
    already when every rank seeded alike and loaded the same checkpoint; this makes sure),
    shards z, labels and real batches, averages gradients before every optimizer step and,
    with ``sync_batchnorm``, makes BatchNorm use the global batch's statistics.

    Returns:
        ``(gan, data)`` to pass to :func:`ganedu.train.train`, with ``batch_size=launch.batch_size``.
    """
    nets = [*gan.modules().values(), *([gan.ema.model] if gan.ema is not None else [])]
    with torch.no_grad():
        for net in nets:
            for t in [*net.parameters(), *net.buffers()]:
                _broadcast_(t)
    _broadcast_rng(torch.get_rng_state, torch.set_rng_state)
    if launch.device.type == "cuda":
        _broadcast_rng(torch.cuda.get_rng_state, torch.cuda.set_rng_state)
    generator = getattr(data, "generator", None)
    if generator is not None:
        _broadcast_rng(generator.get_state, generator.set_state)
    if sync_batchnorm:
        for net in gan.modules().values():
            if launch.device.type == "cuda":
                nn.SyncBatchNorm.convert_sync_batchnorm(net)
            else:
                GlobalBatchNorm.convert(net)
    for optimizer in gan.optimizers().values():
        average_gradients(optimizer)
    gan.latents = ShardedLatents(gan.latents, launch.rank, launch.world_size)
    if gan.ema is not None:
        gan.ema = GlobalEMA(gan.ema, launch.world_size)
    return DataParallelGAN(gan), ShardedBatches(data, launch.rank, launch.world_size)
