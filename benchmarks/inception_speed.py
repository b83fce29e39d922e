"""Feature-extraction speed: ``InceptionFeatures`` against a plain pass through the same network.

    python benchmarks/inception_speed.py                     # CPU, and CUDA when there is one
    python benchmarks/inception_speed.py --device cuda --n 10000 --batch-size 250
    python benchmarks/inception_speed.py --n 8 --batch-size 4 --rounds 1   # a smoke test

Both sides turn the same uint8 Fashion-MNIST test images into the 2048-d pool features of the
TF-2015 Inception network, loading the same TorchScript file (``inception_path()``):

* **ganedu**: ``ganedu.metrics.inception.InceptionFeatures(device)(images, batch_size)``, with
  whatever preprocessing, batching, precision and memory layout it uses.
* **plain**: ``torch.jit.load`` of that file in eval mode, and for each batch under
  ``torch.no_grad()``: bilinear resize to 299x299, ``(x - 128) / 128``, gray repeated to 3
  channels, the network, features back to the CPU: what one writes without ganedu.

The features of both are compared first (relative error ``|a - b| / |b|`` over all of them,
and the largest absolute difference): a speed-up that changes the features would not be a fair
comparison. Then the two run in turn ``--rounds`` times over all ``--n`` images; reported are
the median images/s of each and ganedu / plain, per device. Prints a markdown table and
appends one JSON row per device to ``benchmarks/results/inception_speed.json``.
No network access: the weights must already be in place
(``python -m ganedu data fetch inception``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import torch
import torch.nn.functional as F

from ganedu.data import load_dataset
from ganedu.metrics.inception import INPUT_SIZE, InceptionFeatures, inception_path

RESULTS = Path(__file__).parent / "results" / "inception_speed.json"


class Plain:
    """The TorchScript network and the textbook preprocessing, nothing else."""

    def __init__(self, device: torch.device):
        self.device = device
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*torch.jit.load.*", category=FutureWarning)
            self.network = torch.jit.load(str(inception_path()), map_location=device).eval()

    @torch.no_grad()
    def __call__(self, images: torch.Tensor, batch_size: int) -> torch.Tensor:
        out = []
        for i in range(0, len(images), batch_size):
            x = images[i : i + batch_size].to(self.device).float()
            x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
            x = ((x - 128) / 128).expand(-1, 3, -1, -1)
            out.append(self.network(x).float().cpu())
        return torch.cat(out)


def timed(fn, images: torch.Tensor, batch_size: int, device: torch.device) -> float:
    """Images per second of ``fn(images, batch_size)`` (features land on the CPU, so it is synchronous)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    fn(images, batch_size)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return len(images) / (time.perf_counter() - start)


def measure(device: torch.device, images: torch.Tensor, batch_size: int, rounds: int) -> dict:
    ours = InceptionFeatures(device=device)

    def ganedu(x, b):
        return ours(x, batch_size=b)

    plain = Plain(device)
    a, b = ganedu(images, batch_size), plain(images, batch_size)  # also the warm-up of both
    rel = float((a - b).norm() / b.norm())
    rates: dict[str, list[float]] = {"ganedu": [], "plain": []}
    for i in range(rounds):
        for name, fn in (("ganedu", ganedu), ("plain", plain)):
            rates[name].append(timed(fn, images, batch_size, device))
            print(f"{device} round {i + 1}/{rounds} {name}: {rates[name][-1]:.1f} images/s", file=sys.stderr)
    median = {k: statistics.median(v) for k, v in rates.items()}
    return {
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "n": len(images),
        "batch_size": batch_size,
        "threads": torch.get_num_threads(),
        "features_rel_error": rel,
        "features_max_abs_diff": float((a - b).abs().max()),
        "ganedu_images_per_s": [round(r, 2) for r in rates["ganedu"]],
        "plain_images_per_s": [round(r, 2) for r in rates["plain"]],
        "ganedu_median": round(median["ganedu"], 2),
        "plain_median": round(median["plain"], 2),
        "ratio": round(median["ganedu"] / median["plain"], 3),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=1000, help="images per timed pass")
    p.add_argument("--batch-size", type=int, default=None, help="default: 250 on CUDA, 50 on the CPU")
    p.add_argument(
        "--device", nargs="+", default=["auto"], help="cpu, cuda, or auto (the CPU and CUDA if present)"
    )
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: PyTorch's)")
    p.add_argument(
        "--tolerance", type=float, default=1e-2, help="largest relative feature error for a fair comparison"
    )
    p.add_argument("--out", type=Path, default=RESULTS, help="JSON file the rows are appended to")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    names = (
        ["cpu", *(["cuda"] if torch.cuda.is_available() else [])] if args.device == ["auto"] else args.device
    )
    if "cuda" in names and not torch.cuda.is_available():
        sys.exit("inception_speed.py: --device cuda was asked for, but no CUDA device is visible")

    images = load_dataset("fashion-mnist", "test")[0][: args.n]
    rows = []
    for name in names:
        device = torch.device(name)
        batch_size = args.batch_size or (250 if device.type == "cuda" else 50)
        row = measure(device, images, batch_size, args.rounds)
        row.update(
            date=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            features_match=row["features_rel_error"] <= args.tolerance,
            torch=torch.__version__,
            load_avg=round(os.getloadavg()[0], 2),
        )
        rows.append(row)
        if not row["features_match"]:
            print(
                f"warning: on {name} the features differ by {row['features_rel_error']:.2e} (relative), "
                f"more than --tolerance {args.tolerance:g}: the speeds are not comparable",
                file=sys.stderr,
            )
    existing = json.loads(args.out.read_text()) if args.out.is_file() else []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps([*existing, *rows], indent=2) + "\n")
    print("| device | n | batch | ganedu images/s | plain images/s | ganedu / plain | feature rel. error |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['device_name']} | {r['n']} | {r['batch_size']} | {r['ganedu_median']:,.1f} "
            f"| {r['plain_median']:,.1f} | {r['ratio']:.2f}x | {r['features_rel_error']:.1e} |"
        )
    print(f"rows appended to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
