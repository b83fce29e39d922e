"""The ganedu command line: ``python -m ganedu train|sample|eval|data|options|grading|pretrained``.

Several GPUs: ``torchrun --nproc_per_node=K -m ganedu train MODEL`` trains one run on K
processes, ``--batch-size`` being the global batch (see :mod:`ganedu.distributed`).

Expected failures (unknown model or option, missing data, corrupt checkpoint, a bad value, ...)
print one readable line on stderr and exit with status 1; a traceback means a bug in ganedu.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import sys
from pathlib import Path

from ganedu.errors import CheckpointError, DiskFullError, GaneduError, TrainingDiverged
from ganedu.models.catalog import CATALOG

# the commands that import PyTorch: they run in the warm process (ganedu.warm), which keeps it imported
WARM_COMMANDS = ("train", "sample", "eval", "doctor")
# subcommands that are another module's command line: `python -m ganedu grading ...`
DELEGATED = {
    "grading": "make the exercise stubs or grade an exercise (`grading --help`)",
    "pretrained": "export a finished run as a shipped model (`pretrained --help`)",
    "doctor": "one screen on what this machine has and lacks for the course, each problem with its fix",
    "warm": "the warm process that keeps PyTorch imported between commands: status, stop",
    "instructor": "grade every solution and run every notebook at full size on the GPU; a report of times and metrics",
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m ganedu", description="Train, sample and evaluate the course's GANs."
    )
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser(
        "train",
        help="train a model; the run directory holds config, checkpoint, log and grids",
        description="Train MODEL. `python -m ganedu options MODEL` lists its --options.",
    )
    t.add_argument("model", help=f"one of: {', '.join(CATALOG)}")
    t.add_argument("--dataset", help="default fashion-mnist")
    t.add_argument("--steps", type=int, help="total generator steps (a resumed run continues to this total)")
    t.add_argument("--minutes", type=float, help="stop after this much wall time")
    t.add_argument(
        "--batch-size",
        type=int,
        help="the global batch (default: the model's, see `options MODEL`); under torchrun each process takes 1/K",
    )
    t.add_argument("--out", type=Path, help="run directory (default: runs/MODEL)")
    t.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
    t.add_argument("--seed", type=int, help="default 0")
    t.add_argument("--precision", choices=["auto", "fp32", "bf16"], help="default auto")
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    t.add_argument("--checkpoint-every", type=int, default=500)
    t.add_argument(
        "--threads",
        type=int,
        help="PyTorch CPU threads, fixed for the run (default: one per core, one fewer for each core "
        "other programs keep busy; runs repeat bit for bit only at the same count)",
    )
    t.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a model option (see `options MODEL`)",
    )

    o = sub.add_parser("options", help="list a model's --option settings with types, defaults and help")
    o.add_argument("model", nargs="?", help="a model; all models when omitted")

    s = sub.add_parser("sample", help="draw samples from a trained run into an .npz file")
    s.add_argument("run", type=Path)
    s.add_argument("-n", type=int, default=1000)
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--truncation", type=float, help="truncation psi (StyleGAN)")
    s.add_argument("--device", default="auto")

    e = sub.add_parser("eval", help="score a run or an .npz of samples against the dataset")
    e.add_argument("source", type=Path, help="a run directory or an .npz written by `sample`")
    e.add_argument("--metric", default="fid", choices=["fid", "kid", "is", "pr"])
    e.add_argument("--features", default="classifier", choices=["inception", "classifier"])
    e.add_argument("-n", type=int, help="number of samples (and real images) to compare")
    e.add_argument("--device", default="auto")

    d = sub.add_parser("data", help="provide or inspect datasets and weights")
    dsub = d.add_subparsers(dest="data_command", required=True)
    f = dsub.add_parser("fetch", help="put a dataset (or the Inception weights) in the cache, verified")
    f.add_argument("name")
    dsub.add_parser("info", help="where each dataset is found and whether it verifies")

    for name, help_ in DELEGATED.items():  # listed here, run by the module's own command line
        sub.add_parser(name, help=help_, add_help=False)
    return p


def _positive(name: str, value, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if value is None or value <= 0:
        raise GaneduError(f"{name} must be a positive number, not {value}")


# what a run keeps from its config.json on --resume: CLI flag -> config field
KEPT_ON_RESUME = {
    "--dataset": "dataset",
    "--batch-size": "batch_size",
    "--seed": "seed",
    "--precision": "precision",
}


def _resumed_config(args, out: Path):
    """The config of the run in ``out``; refuses flags that contradict it (they are kept from config.json)."""
    from ganedu import rundir
    from ganedu.models import RunConfig

    if not (out / "config.json").is_file():
        raise CheckpointError(
            f"nothing to resume in {out}: it has no config.json (train without --resume first)"
        )
    if not rundir.is_run(out):
        raise rundir.RunDirectoryError(
            f"{out} is not a ganedu run: its config.json was not written by ganedu; nothing in it was "
            "touched. Train anew with another --out"
        )
    config = RunConfig.load(out / "config.json")
    if config.model != args.model:
        raise GaneduError(f"{out} holds a {config.model!r} run, not {args.model!r}")
    for flag, field in KEPT_ON_RESUME.items():
        given = getattr(args, field)
        if given is not None and given != getattr(config, field):
            raise GaneduError(
                f"{flag} {given} contradicts the run in {out}, which uses {getattr(config, field)}; a resumed "
                "run keeps its dataset, batch size, seed, precision and options: drop the flag, or train anew "
                "with another --out"
            )
    if args.option:
        raise GaneduError(
            f"--option cannot change the run in {out} on --resume: it keeps the options in its config.json "
            f"({', '.join(f'{k}={v}' for k, v in config.options.items())}); train anew with another --out"
        )
    return config


def cmd_train(args) -> int:
    from ganedu import rundir
    from ganedu.models import RunConfig, declared, options_of

    declared(args.model)  # an unknown model fails before anything is written
    if args.steps is None and args.minutes is None:
        raise GaneduError("say how long to train: --steps N, --minutes M, or both")
    _positive("--steps", args.steps)
    _positive("--minutes", args.minutes)
    _positive("--batch-size", args.batch_size)
    _positive("--checkpoint-every", args.checkpoint_every, allow_none=False)
    _positive("--threads", args.threads)
    out = args.out or Path("runs") / args.model
    ckpt = out / "ckpt.pt"
    if args.resume:
        config = _resumed_config(args, out)
    else:
        rundir.check_new_run_folder(out)  # before anything else: a folder of the user's is never touched
        if ckpt.exists():
            raise GaneduError(
                f"{out} already holds a run: pass --resume to continue it, or choose another --out"
            )
        config = RunConfig(
            args.model,
            args.dataset or "fashion-mnist",
            args.batch_size or declared(args.model).batch_size,
            0 if args.seed is None else args.seed,
            args.device,
            args.precision or "auto",
        )
        config.options = _typed_options(args.model, args.option)
    config.device = args.device
    options_of(config)  # a bad --option fails before PyTorch is imported or any data loaded
    from ganedu import distributed
    from ganedu.models import build
    from ganedu.train import resume

    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    # started by torchrun: join the process group; each rank trains on B / K of the global batch
    launch = distributed.init(config.device, config.batch_size)
    writer = launch is None or launch.is_main  # only rank 0 prints and writes files
    if launch is not None:
        config.device = str(launch.device)
    if writer:
        out.mkdir(parents=True, exist_ok=True)
    with rundir.RunLock(out) if writer else contextlib.nullcontext():
        if writer:
            rundir.remove_stale_temporary_files(out)
        gan, data = build(config)
        if args.resume:
            resume(ckpt, gan, data)
            if args.steps is not None and args.steps <= gan.step:
                raise GaneduError(
                    f"the run in {out} is already at step {gan.step}; --steps is the total to reach "
                    f"(e.g. --steps {gan.step + (args.steps or 1)}), or give --minutes"
                )
            if writer:
                rundir.truncate_log(out / "log.jsonl", gan.step)
                print(f"resuming {config.model} from step {gan.step} (dataset, batch size, seed, precision "
                      "and options as in config.json)", file=sys.stderr)  # fmt: skip
        elif writer:
            config.save(out / "config.json")
        _train(args, out, config, gan, data, launch, writer)
    distributed.shutdown()  # no-op outside torchrun
    if writer:
        print(f"trained {config.model} to step {gan.step}; run directory: {out}")
    return 0


def _train(args, out: Path, config, gan, data, launch, writer: bool) -> None:
    """The training loop with the CLI's callbacks; on a failure, says which checkpoint is the last good one."""
    from ganedu import distributed
    from ganedu.callbacks import Checkpointer, JsonlLog, Progress, SampleGrid
    from ganedu.train import train

    minutes, batch_size, stop = args.minutes, config.batch_size, []
    if launch is not None:
        gan, data = distributed.data_parallel(gan, data, launch)
        batch_size = launch.batch_size
        if minutes is not None:  # every rank stops at the same step
            minutes, stop = None, [distributed.SharedDeadline(args.minutes)]
    checkpointer = Checkpointer(out / "ckpt.pt", data, every=args.checkpoint_every)
    checkpointer.last_step = gan.step if args.resume else None  # the checkpoint it resumed from
    callbacks = [
        Progress(total=args.steps),
        JsonlLog(out / "log.jsonl"),
        SampleGrid(out, every=args.checkpoint_every),
        checkpointer,
    ]
    try:
        train(gan, data, steps=args.steps, minutes=minutes, batch_size=batch_size,
              callbacks=(callbacks if writer else []) + stop, adapt_threads=args.threads is None)  # fmt: skip
    except GaneduError as e:
        last = checkpointer.last_step
        kept = f"; last good checkpoint: {out / 'ckpt.pt'} (step {last})" if last else ""
        if isinstance(e, DiskFullError):
            kept = (
                f"{kept}; free some space, then continue with --resume"
                if last
                else "; no checkpoint was written yet: free some space and train again"
            )
        elif isinstance(e, TrainingDiverged) and not last:
            kept = "; no checkpoint was written before it"
        raise type(e)(f"{e}{kept}") from None


def _typed_options(model: str, pairs: list[str]) -> dict:
    """The ``--option KEY=VALUE`` pairs checked against the model's options: all options, typed."""
    import dataclasses

    from ganedu.models import declared
    from ganedu.models.options import parse_options

    return dataclasses.asdict(parse_options(model, declared(model).options, pairs))


def cmd_options(args) -> int:
    from ganedu.models import help_text

    names = [args.model] if args.model else list(CATALOG)
    print("\n\n".join(help_text(name) for name in names))
    return 0


def _load_run(run: Path, device: str):
    """``(config, gan)`` of the run directory ``run``, built from its config.json without loading data.

    For ``sample`` and ``eval``: the optimizers are built (the checkpoint holds their state), as
    every ganedu optimizer is, without importing PyTorch's compiler (:mod:`ganedu.optim`).
    """
    from ganedu.models import RunConfig, build_gan
    from ganedu.train import resume

    if not run.is_dir():
        raise CheckpointError(
            f"no run directory at {run}: train one with `python -m ganedu train MODEL --out {run}`"
        )
    if not (run / "config.json").is_file():
        raise CheckpointError(f"{run} is not a run directory: it has no config.json")
    config = RunConfig.load(run / "config.json")
    config.device = device
    gan = build_gan(config)
    resume(run / "ckpt.pt", gan)
    return config, gan


def _export(gan, config, n: int, seed: int = 0, **options) -> dict:
    """``gan.export`` at the dataset's stored size, its expected failures as one-line errors."""
    try:
        return gan.export(n, seed=seed, crop_to=config.image_size, **options)
    except ValueError as e:  # e.g. --truncation for a model without a mapping network
        raise GaneduError(f"{config.model}: {e}") from None


def cmd_sample(args) -> int:
    import numpy as np

    _positive("-n", args.n, allow_none=False)
    out = args.out if args.out.suffix == ".npz" else None
    if out is None:
        raise GaneduError(f"--out {args.out}: sample writes an .npz file; name it FILE.npz")
    config, gan = _load_run(args.run, args.device)
    options = {} if args.truncation is None else {"truncation": args.truncation}
    arrays = _export(gan, config, args.n, seed=args.seed, **options)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    print(f"wrote {len(arrays['images'])} samples {arrays['images'].shape[1:]} to {out}")
    return 0


def cmd_eval(args) -> int:
    import json
    import zipfile
    import zlib

    import numpy as np
    import torch

    from ganedu.metrics import evaluate

    _positive("-n", args.n)
    if args.source.is_dir():
        config, gan = _load_run(args.source, args.device)
        images, dataset = _export(gan, config, args.n or 10_000)["images"], config.dataset
    elif args.source.is_file():
        try:
            with np.load(args.source) as npz:
                images = npz["images"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as e:
            raise GaneduError(
                f"{args.source} is not a readable .npz with an 'images' array ({type(e).__name__}: {e}); "
                "write one with `python -m ganedu sample RUN -n N --out FILE.npz`"
            ) from None
        dataset = "fashion-mnist"
    else:
        raise GaneduError(f"{args.source} is neither a run directory nor an .npz file")
    from ganedu.models.config import KNOWN_DATASETS

    shape = KNOWN_DATASETS.get(dataset, (None,))[0]
    if images.ndim != 4 or (shape is not None and images.shape[1] != shape[0]):
        raise GaneduError(
            f"{args.source}: images of shape {images.shape} cannot be compared with {dataset}, whose images "
            f"are {shape}; expected uint8 (N, {shape[0] if shape else 'C'}, H, W)"
        )
    n = min(args.n or len(images), len(images))
    if n < 2000 and args.metric in ("fid", "kid"):
        print(f"ganedu: warning: {args.metric.upper()} from only {n} samples is biased (FID upwards, by more "
              "the fewer samples); compare scores at equal N, 2,000 or more (10,000 for published FIDs)",
              file=sys.stderr)  # fmt: skip
    result = evaluate(
        torch.from_numpy(images), dataset=dataset, metric=args.metric, features=args.features, n=args.n
    )
    print(json.dumps(result))
    return 0


def cmd_data(args) -> int:
    from ganedu import data

    if args.data_command == "fetch":
        if args.name == "inception":
            import ganedu.metrics  # noqa: F401  (registers the Inception weights' fetcher)
        print(f"{args.name}: ready in {data.fetch(args.name)}")
    else:
        print(data.format_info(data.info()))
    return 0


def _model_help(argv: list[str]) -> str | None:
    """``train MODEL --help``: the usual help followed by MODEL's options, else ``None``."""
    if len(argv) < 3 or argv[0] != "train" or not {"-h", "--help"} & set(argv):
        return None
    from ganedu.models import help_text

    model = next((a for a in argv[1:] if a in CATALOG), None)
    if model is None:
        return None
    train_parser = _parser()._subparsers._group_actions[0].choices["train"]
    return train_parser.format_help() + "\n" + help_text(model)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DELEGATED:
        import importlib

        try:
            return importlib.import_module(f"ganedu.{argv[0]}").main(argv[1:])
        except GaneduError as e:
            print(f"ganedu: error: {e}", file=sys.stderr)
            return 1
    model_help = _model_help(argv)
    if model_help is not None:
        print(model_help)
        return 0
    args = _parser().parse_args(argv)
    handlers = {
        "train": cmd_train,
        "options": cmd_options,
        "sample": cmd_sample,
        "eval": cmd_eval,
        "data": cmd_data,
    }
    try:
        return handlers[args.command](args)
    except GaneduError as e:
        print(f"ganedu: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("ganedu: interrupted; the last checkpoint on disk is intact", file=sys.stderr)
        return 130
    except PermissionError as e:
        print(f"ganedu: error: permission denied writing {e.filename}; choose a folder you can write to "
              "(e.g. --out runs/NAME)", file=sys.stderr)  # fmt: skip
        return 1
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        where = f" writing {e.filename}" if e.filename else ""
        print(f"ganedu: error: the disk is full{where}; files written before are intact. Free some space, "
              "then continue with --resume", file=sys.stderr)  # fmt: skip
        return 1


def run() -> None:
    """The program ``python -m ganedu``: :func:`main`, then :func:`ganedu.exiting.exit_quickly`.

    A command that imports PyTorch runs in the user's warm process when one is waiting, and
    starts one for the next command when none is (:mod:`ganedu.warm`).
    """
    from ganedu.exiting import exit_quickly

    argv = sys.argv[1:]
    if not argv or argv[0] not in WARM_COMMANDS:
        exit_quickly(main(argv))
    from ganedu import warm

    if not warm.wanted(argv):
        exit_quickly(main(argv))
    name = warm.key()  # which warm process may serve this command: the same one it would start
    status = warm.served(argv, name)
    if status is None:
        status = main(argv)
        warm.start(name)
    exit_quickly(status)


if __name__ == "__main__":
    run()
