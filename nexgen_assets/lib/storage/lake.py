"""Parquet tables in the lake, replaced atomically so readers never see half a table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from pyspark.sql import DataFrame

from nexgen_assets.lib.storage.atomic import atomic_path


def partition_dir(table_dir: str | Path, partition_key: str) -> Path:
    """Directory of one partition; the key is made safe for any file system."""
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in partition_key)
    return Path(table_dir) / f"part={safe}"


def replace_parquet(frame: DataFrame, target: str | Path) -> int:
    """Write frame to target as Parquet, swapping it in whole; returns the row count written.

    Spark writes into a sibling staging directory; only a complete write is renamed
    over the old one, so a failed job leaves the previous version in place.
    """
    with atomic_path(target) as staging:
        frame.write.mode("overwrite").parquet(str(staging))
        rows = parquet_row_count(staging)
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


def parquet_batches(table_dir: str | Path, rows: int) -> Iterator[pd.DataFrame]:
    """A Parquet table as pandas frames of at most `rows` rows: days as dates, integers nullable."""
    integers = {pa.int8(), pa.int16(), pa.int32(), pa.int64()}
    for batch in ds.dataset(str(table_dir), format="parquet").to_batches(batch_size=rows):
        yield batch.to_pandas(date_as_object=True, types_mapper=lambda t: pd.Int64Dtype() if t in integers else None)


def replace_parquet_frame(frame: pd.DataFrame, target: str | Path) -> int:
    """Write a pandas frame as target/data.parquet, swapped in whole; returns rows written."""
    with atomic_path(Path(target) / "data.parquet") as partial:
        frame.to_parquet(partial, index=False)
    return len(frame)
