"""``python -m ganedu data info``: where each dataset would be read from and whether it checks out."""

from __future__ import annotations

from ganedu.data.catalog import DATASETS
from ganedu.data.lookup import first_location
from ganedu.data.pinned import matches_pin


def info() -> list[dict]:
    """One row per known dataset: where it would be read from and whether its files check out.

    Returns:
        A list of dicts with keys ``name``, ``source`` (``GANEDU_DATA``, ``cache``, ``system`` or
        ``"not found"``), ``path`` (the folder, or ``None``), ``files`` (the file names),
        ``bytes`` (their total size) and ``status`` (``"verified"``, ``"checksum mismatch: FILE"``
        or ``"missing"``). See :func:`format_info` for a printable table.
    """
    rows = []
    for dataset in DATASETS.values():
        row = {"name": dataset.name, "source": "not found", "path": None, "files": list(dataset.files)}
        hit = first_location(dataset.name, dataset.files)
        if hit is None:
            rows.append({**row, "bytes": 0, "status": "missing"})
            continue
        source, folder = hit
        bad = [f for f in dataset.files if not matches_pin(dataset, folder / f)]
        rows.append(
            {
                **row,
                "source": source,
                "path": str(folder),
                "bytes": sum((folder / f).stat().st_size for f in dataset.files),
                "status": f"checksum mismatch: {', '.join(bad)}" if bad else "verified",
            }
        )
    return rows


def format_info(rows: list[dict]) -> str:
    """Render :func:`info` rows as an aligned text table, one dataset a line."""
    lines = [("dataset", "status", "source", "size", "folder")]
    for row in rows:
        size = f"{row['bytes'] / 1e6:.1f} MB" if row["bytes"] else "-"
        lines.append((row["name"], row["status"], row["source"], size, row["path"] or "-"))
    widths = [max(len(line[i]) for line in lines) for i in range(4)]
    return "\n".join(
        "  ".join([*(c.ljust(w) for c, w in zip(line, widths, strict=False)), line[4]]) for line in lines
    )
