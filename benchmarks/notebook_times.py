"""Wall time of each course notebook, executed top to bottom as a learner would run it.

    python benchmarks/notebook_times.py --mode cpu          # every notebook, cpu mode
    python benchmarks/notebook_times.py --mode smoke 05 06  # some notebooks, smoke mode

Each notebook runs in a fresh kernel from a temporary copy of course/ (ganedu.notebooks.execute,
as in instructor mode), so nothing it writes lands in the repository.
The time includes kernel start-up and every import, as a learner sees it. Rows (one per
notebook: mode, seconds, the machine's CPU and vector extensions, the load average at the
start) go to ``benchmarks/results/notebook_times.json``. Run it on an otherwise idle machine:
the cpu-mode goal is at most 10 minutes per notebook on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path

from ganedu.notebooks import execute

sys.path.insert(0, str(Path(__file__).parent))
from machine import machine  # noqa: E402

COURSE = Path(__file__).resolve().parent.parent / "course"


def time_notebook(path: Path, mode: str, timeout: int) -> dict:
    """Execute one notebook in a scratch copy of course/; return its row (``ok`` False on error)."""
    load = os.getloadavg()[0]
    run = execute(path, mode, timeout)
    return {"notebook": run.notebook, "mode": mode, "seconds": run.seconds, "ok": run.ok, "error": run.error,
            "load_at_start": round(load, 2), "date": date.today().isoformat(), "cell_seconds": run.cell_seconds,
            **machine()}  # fmt: skip


def table(rows: list[dict]) -> str:
    """A markdown table: one line per notebook, a column per mode (minutes:seconds)."""
    modes = [m for m in ("cpu", "smoke", "full") if any(r["mode"] == m for r in rows)]
    seconds = {(r["notebook"], r["mode"]): r["seconds"] for r in rows if r["ok"]}
    lines = ["| notebook | " + " | ".join(f"{m} mode" for m in modes) + " |", "|---|" + "---:|" * len(modes)]
    for name in sorted({r["notebook"] for r in rows}):
        cells = [f"{int(seconds[name, m] // 60)}:{round(seconds[name, m] % 60):02d}" if (name, m) in seconds else "–"
                 for m in modes]  # fmt: skip
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("notebooks", nargs="*", help="numbers or names (default: all)")
    p.add_argument("--mode", default="cpu", choices=["smoke", "cpu", "full"])
    p.add_argument("--timeout", type=int, default=1800, help="seconds per notebook")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "notebook_times.json")
    p.add_argument(
        "--table", action="store_true", help="print the recorded rows as a markdown table and stop"
    )
    args = p.parse_args()
    if args.table:
        print(table(json.loads(args.out.read_text())))
        return
    paths = sorted(COURSE.glob("[0-9][0-9]_*.ipynb"))
    if args.notebooks:
        paths = [q for q in paths if any(q.name.startswith(n) or q.name == n for n in args.notebooks)]
    rows = json.loads(args.out.read_text()) if args.out.exists() else []
    for path in paths:
        row = time_notebook(path, args.mode, args.timeout)
        print(json.dumps(row), flush=True)
        rows = [
            r
            for r in rows
            if (r["notebook"], r["mode"], r.get("cpu")) != (row["notebook"], row["mode"], row["cpu"])
        ]
        rows.append(row)
        args.out.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
