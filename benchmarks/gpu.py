"""GPU benchmarks for an instructor's machine: training speed, and FID after a fixed time budget.

    python benchmarks/gpu.py                                  # images/s of DCGAN 64x64 and StyleGAN
    python benchmarks/gpu.py --batch-size 256 --compile       # what torch.compile adds
    python benchmarks/gpu.py --fid --minutes 10               # dcgan, lsgan, wgan, wgan-gp: 10 min each
    python benchmarks/gpu.py --fid --minutes 10 --nproc 4     # the same, trained by torchrun on 4 GPUs
    python benchmarks/gpu.py --fid --minutes 5 --jobs 4       # the four trained side by side on one GPU
    python benchmarks/gpu.py --allow-cpu --models dcgan64 --batch-size 4 --seconds 2 --warmup-steps 1

No network access: Fashion-MNIST and the Inception weights must be in place first
(``python -m ganedu data fetch fashion-mnist`` and ``... data fetch inception``).

**Speed** (default). For each of ``--models``, images/s (real images per second, steps x batch
/ s) of ``ganedu.train.train`` on data held on the GPU (``ImageBatches``), bf16 autocast
with channels_last (``--precision``), after ``--warmup-steps`` steps, for ``--seconds``:

* ``dcgan64``: ``ganedu.nets.dcgan`` at image_size 64 (nz = 100, ngf = ndf = 64, the paper's
  net), non-saturating loss, Adam(2e-4, 0.5), EMA of G, on Fashion-MNIST resized to 64x64.
* ``stylegan``: the ``stylegan`` model (``ganedu.models.stylegan``),
  32x32, lazy R1 every 16 steps, style mixing.

``--compile`` wraps the networks' forward in ``torch.compile``: G and D of the DCGAN; for
StyleGAN only G's mapping and synthesis networks, since D's R1 penalty takes a double
backward, which compiled code does not support. CUDA graphs are not used: the step draws
random numbers, steps optimizers and updates the EMA outside any one capturable module. A model
whose compiled step fails (a compiler bug, say) gets a row with the error, and the next model runs.

**FID** (``--fid``). Trains each of ``--fid-models`` with the CLI for ``--minutes``
(``python -m ganedu train MODEL --minutes M``, or ``torchrun --nproc_per_node=K -m ganedu
train ...`` with ``--nproc K``), draws ``--n`` samples (``python -m ganedu sample``) and
scores them against the first ``--n`` Fashion-MNIST test images with Inception features
(``python -m ganedu eval --metric fid --features inception``). The table puts each beside the
Fashion-MNIST FID that Lucic et al. 2018 ("Are GANs Created Equal?", 10k samples against the
test set) report for its loss: NS GAN 26.5, LSGAN 30.7, WGAN 21.5, WGAN-GP 24.5. Theirs are
the best of a large hyperparameter search with another architecture, so they are a yardstick,
not a like-for-like comparison. ganedu's ``dcgan`` is the NS GAN.

Both modes print a markdown table and append JSON rows to ``benchmarks/results/gpu.json``
(speed) or ``benchmarks/results/gpu_fid.json`` (FID). Without a CUDA device the script stops
with a message, unless ``--allow-cpu`` (a smoke test: use tiny sizes).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
import torch.nn.functional as F

from ganedu import losses
from ganedu.data import ImageBatches, load_dataset
from ganedu.gan import GAN
from ganedu.nets import dcgan
from ganedu.optim import adam
from ganedu.runtime import resolve_precision
from ganedu.train import train

RESULTS = Path(__file__).parent / "results"
PUBLISHED_FID = {
    "dcgan": ("NS GAN", 26.5),
    "lsgan": ("LSGAN", 30.7),
    "wgan": ("WGAN", 21.5),
    "wgan-gp": ("WGAN-GP", 24.5),
}


def dcgan64(dev: torch.device, batch_size: int, precision: str, seed: int) -> tuple[GAN, ImageBatches]:
    """The paper's 64x64 DCGAN on Fashion-MNIST resized to 64x64, data on ``dev``."""
    torch.manual_seed(seed)
    images, labels = load_dataset("fashion-mnist", "train")
    images = images.to(dev)
    resized = torch.cat(
        [
            F.interpolate(images[i : i + 10_000].float(), size=(64, 64), mode="bilinear", align_corners=False)
            .round()
            .clamp(0, 255)
            .to(torch.uint8)
            for i in range(0, len(images), 10_000)
        ]
    )
    data = ImageBatches(resized, labels, device=dev, seed=seed)
    G, D = dcgan.Generator(nz=100, nc=1, image_size=64), dcgan.Discriminator(nc=1, image_size=64)
    gan = GAN(
        G, D, adam(G.parameters()), adam(D.parameters()),
        losses.minimax_d, losses.nonsaturating_g, nz=100,
        precision=precision, device=dev,
    )  # fmt: skip
    return gan, data


def stylegan(dev: torch.device, batch_size: int, precision: str, seed: int):
    """The ``stylegan`` model of :mod:`ganedu.models` on ``dev``."""
    from ganedu.models import RunConfig, build

    return build(
        RunConfig("stylegan", batch_size=batch_size, seed=seed, device=str(dev), precision=precision)
    )


def compile_nets(name: str, gan: GAN) -> str:
    """torch.compile the forward passes that no double backward goes through; say which."""
    if name == "stylegan":
        gan.G.mapping.compile()
        gan.G.synthesis.compile()
        return "G.mapping, G.synthesis (D eager: R1 takes a double backward)"
    gan.G.compile()
    gan.D.compile()
    return "G, D"


def speed(args, dev: torch.device) -> None:
    builders = {"dcgan64": dcgan64, "stylegan": stylegan}
    precision = resolve_precision(args.precision, dev)
    rows = []
    for name in args.models:
        built = builders[name](dev, args.batch_size, precision, args.seed)
        if built is None:
            continue
        gan, data = built
        compiled = compile_nets(name, gan) if args.compile else "no"
        try:
            train(gan, data, steps=args.warmup_steps, batch_size=args.batch_size)  # warm-up (and compilation)
        except Exception as e:  # a compiler bug in one model must not cost the others' rows
            if not args.compile:
                raise
            failure = str(e).strip().splitlines()[0][:300]
            print(f"{name}: compiled training failed: {type(e).__name__}: {failure}", file=sys.stderr)
            rows.append({"model": name, "compile": compiled, "error": f"{type(e).__name__}: {failure}"})
            del gan, data
            continue
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
            torch.cuda.reset_peak_memory_stats(dev)
        before, start = gan.step, time.perf_counter()
        train(
            gan, data, minutes=args.seconds / 60, batch_size=args.batch_size
        )  # syncs every step (NaN guard)
        elapsed = time.perf_counter() - start
        steps = gan.step - before
        rows.append(
            {
                "model": name,
                "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
                "batch_size": args.batch_size,
                "precision": gan.precision,
                "channels_last": gan.channels_last,
                "compile": compiled,
                "steps": steps,
                "seconds": round(elapsed, 2),
                "images_per_s": round(steps * args.batch_size / elapsed, 1),
                "peak_memory_gib": round(torch.cuda.max_memory_allocated(dev) / 2**30, 2)
                if dev.type == "cuda"
                else None,
            }
        )
        print(f"{name}: {rows[-1]['images_per_s']} images/s", file=sys.stderr)
        del gan, data
    save_rows(args.out or RESULTS / "gpu.json", rows)
    print("| model | device | batch | precision | compile | images/s | peak memory |")
    print("|---|---|---:|---|---|---:|---:|")
    for r in rows:
        if "error" in r:
            print(f"| {r['model']} | - | {args.batch_size} | - | {r['compile']} | failed: {r['error']} | - |")
            continue
        memory = f"{r['peak_memory_gib']} GiB" if r["peak_memory_gib"] is not None else "-"
        print(
            f"| {r['model']} | {r['device']} | {r['batch_size']} | {r['precision']} | {r['compile']} "
            f"| {r['images_per_s']:,.0f} | {memory} |"
        )


def run(command: list[str]) -> str:
    print("$", " ".join(command), file=sys.stderr)
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    if done.returncode:
        sys.exit(f"gpu.py: `{' '.join(command)}` failed with status {done.returncode}")
    return done.stdout


def train_all(commands: dict[str, list[str]], jobs: int) -> dict[str, float]:
    """Run the training commands, ``jobs`` at a time; return each one's wall time in seconds.

    Small 32x32 models leave a large GPU mostly idle (a step is bound by kernel launches on the
    CPU), so several trainings can share one GPU; each still gets its own ``--minutes``.
    """
    pending, running, seconds = list(commands.items()), {}, {}
    while pending or running:
        while pending and len(running) < jobs:
            model, command = pending.pop(0)
            print("$", " ".join(command), file=sys.stderr)
            running[model] = (subprocess.Popen(command, stdout=subprocess.DEVNULL), time.monotonic())
        for model, (process, start) in list(running.items()):
            if process.poll() is None:
                continue
            if process.returncode:
                for other, _ in running.values():
                    other.kill()  # no orphaned trainings left holding the GPU
                sys.exit(f"gpu.py: `{' '.join(commands[model])}` failed with status {process.returncode}")
            seconds[model] = round(time.monotonic() - start, 1)
            del running[model]
        time.sleep(0.5)
    return seconds


def fid(args, dev: torch.device) -> None:
    from ganedu.checkpoint import load_checkpoint

    cli = [sys.executable, "-m", "ganedu"]
    torchrun = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        f"--nproc_per_node={args.nproc}",
        "-m",
        "ganedu",
    ]
    trainer = cli if args.nproc == 1 else torchrun
    device = "cpu" if dev.type == "cpu" else "cuda"
    out = args.fid_out
    rows = []
    commands = {
        model: [*trainer, "train", model, "--minutes", str(args.minutes), "--out", str(out / model),
                "--device", device, "--seed", str(args.seed),
                *(["--batch-size", str(args.fid_batch_size)] if args.fid_batch_size else [])]
        for model in args.fid_models
    }  # fmt: skip
    train_seconds = train_all(commands, args.jobs)
    for model in args.fid_models:
        run_dir = out / model
        train_s = train_seconds[model]
        samples = out / f"{model}.npz"
        run([*cli, "sample", str(run_dir), "-n", str(args.n), "--out", str(samples), "--device", device])
        printed = run([*cli, "eval", str(samples), "--metric", "fid", "--features", "inception",
                       "-n", str(args.n), "--device", device])  # fmt: skip
        result = json.loads(printed.strip().splitlines()[-1])
        label, published = PUBLISHED_FID.get(model, ("-", None))
        rows.append(
            {
                "model": model,
                "published_as": label,
                "published_fid": published,
                "fid": round(result["value"], 2),
                "n": result["n"],
                "steps": load_checkpoint(run_dir / "ckpt.pt")["gan"]["step"],
                "minutes": args.minutes,
                "train_s": train_s,
                "processes": args.nproc,
                "trained_side_by_side": min(args.jobs, len(args.fid_models)),
                "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
            }
        )
        save_rows(args.out or RESULTS / "gpu_fid.json", rows[-1:])  # each row as soon as it is scored
    print(
        f"| model | steps in {args.minutes:g} min | FID (Inception, n={args.n}, vs test) | Lucic et al. 2018 |"
    )
    print("|---|---:|---:|---:|")
    for r in rows:
        published = f"{r['published_fid']} ({r['published_as']})" if r["published_fid"] else "-"
        print(f"| {r['model']} | {r['steps']:,} | {r['fid']:.1f} | {published} |")


def save_rows(path: Path, rows: list[dict]) -> None:
    date = datetime.now(timezone.utc).isoformat(timespec="seconds")
    extra = {"date": date, "torch": torch.__version__, "load_avg": round(os.getloadavg()[0], 2)}
    existing = json.loads(path.read_text()) if path.is_file() else []
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([*existing, *({**r, **extra} for r in rows)], indent=2) + "\n")
    print(f"rows appended to {path}", file=sys.stderr)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=["dcgan64", "stylegan"], choices=["dcgan64", "stylegan"])
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--precision", default="bf16", choices=["auto", "fp32", "bf16"])
    p.add_argument("--compile", action="store_true", help="torch.compile the forward passes (see above)")
    p.add_argument("--seconds", type=float, default=30.0, help="measured time per model")
    p.add_argument("--warmup-steps", type=int, default=50)
    p.add_argument("--fid", action="store_true", help="train with the CLI for --minutes and report FIDs")
    p.add_argument("--fid-models", nargs="+", default=list(PUBLISHED_FID))
    p.add_argument(
        "--fid-batch-size", type=int, default=None, help="--batch-size for the CLI (default: its own)"
    )
    p.add_argument("--minutes", type=float, default=10.0, help="training budget per model in --fid mode")
    p.add_argument("--n", type=int, default=10_000, help="samples (and test images) for the FID")
    p.add_argument("--nproc", type=int, default=1, help="train with torchrun on this many GPUs")
    p.add_argument("--jobs", type=int, default=1, help="train this many models at once, sharing the GPU(s)")
    p.add_argument("--fid-out", type=Path, default=Path("runs/gpu_fid"), help="run directories and samples")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None, help="JSON file the rows are appended to")
    p.add_argument(
        "--allow-cpu", action="store_true", help="run on the CPU when there is no GPU (smoke test)"
    )
    args = p.parse_args()

    if torch.cuda.is_available():
        dev = torch.device("cuda")
    elif args.allow_cpu:
        dev = torch.device("cpu")
        print("no CUDA device: running on the CPU (--allow-cpu); the numbers mean nothing", file=sys.stderr)
    else:
        sys.exit(
            "gpu.py measures GPU training, and no CUDA device is visible (torch.cuda.is_available() is "
            "False). Run it on a machine with an NVIDIA GPU, or pass --allow-cpu with tiny sizes for a "
            "smoke test."
        )
    if args.fid:
        fid(args, dev)
    else:
        speed(args, dev)


if __name__ == "__main__":
    main()
