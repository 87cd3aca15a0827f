"""Parquet tables in the lake, replaced atomically so readers never see half a table."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from pyspark.sql import DataFrame


def partition_dir(table_dir: str | Path, partition_key: str) -> Path:
    """Directory of one partition; the key is made safe for any file system."""
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in partition_key)
    return Path(table_dir) / f"part={safe}"


def replace_parquet(frame: DataFrame, target: str | Path) -> int:
    """Write frame to target as Parquet, swapping it in whole; returns the row count written.

    Spark writes into a sibling staging directory; only a complete write is renamed
    over the old one, so a failed job leaves the previous version in place.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.staging-{uuid.uuid4().hex[:8]}")
    frame.write.mode("overwrite").parquet(str(staging))
    rows = parquet_row_count(staging)
    retired = target.with_name(f".{target.name}.retired-{uuid.uuid4().hex[:8]}")
    if target.exists():
        target.rename(retired)
    staging.rename(target)
    shutil.rmtree(retired, ignore_errors=True)
    return rows


def parquet_row_count(path: str | Path) -> int:
    """Rows in a Parquet folder, read from file footers (no data scan)."""
    return sum(pq.ParquetFile(f).metadata.num_rows for f in Path(path).rglob("*.parquet") if not _hidden(f, path))


def _hidden(file: Path, root: str | Path) -> bool:
    return any(part.startswith((".", "_")) for part in file.relative_to(root).parts)


def table_exists(table_dir: str | Path) -> bool:
    """True when the directory holds at least one Parquet file."""
    path = Path(table_dir)
    return path.exists() and any(path.rglob("*.parquet"))


def replace_parquet_frame(frame: pd.DataFrame, target: str | Path) -> int:
    """Write a pandas frame as target/data.parquet, swapped in whole; returns rows written."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    staging = target / f".data.parquet.{uuid.uuid4().hex[:8]}"
    frame.to_parquet(staging, index=False)
    staging.replace(target / "data.parquet")
    return len(frame)
