"""Parquet tables in the lake, replaced atomically so readers never see half a table."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from pyspark.sql import DataFrame

from nexgen_assets.lib.storage.atomic import atomic_path

OWNER_FILE = "_partition_key"
"""Written in every partition folder: a folder that holds another key's data is never replaced."""


SAFE_KEY_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def partition_folder_name(partition_key: str) -> str:
    """One folder name per key and one key per folder name: other characters are %XX-escaped (UTF-8).

    Escaping is one-to-one, so `store 12.csv` and `store_12.csv` never share a folder.
    """
    escaped = "".join(
        ch if ch in SAFE_KEY_CHARACTERS else "".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogateescape"))
        for ch in partition_key
    )
    return f"part={escaped}"


def partition_dir(table_dir: str | Path, partition_key: str) -> Path:
    """Directory of one partition of a table."""
    return Path(table_dir) / partition_folder_name(partition_key)


@dataclass(frozen=True)
class StagedTable:
    path: Path
    rows: int


class PartitionFolderConflict(ValueError):
    """A partition folder that already holds another key's data."""


def _check_owner(target: Path, owner: str | None) -> None:
    marker = target / OWNER_FILE
    if owner is None or not marker.exists():
        return
    holder = marker.read_text(encoding="utf-8", errors="surrogateescape")
    if holder != owner:
        raise PartitionFolderConflict(f"lake folder {target} holds partition {holder!r}, not {owner!r}; it is not replaced")


@contextmanager
def staged_parquet(frame: DataFrame, target: str | Path, owner: str | None = None) -> Iterator[StagedTable]:
    """Write frame as Parquet beside target; swapped in whole when the block succeeds, discarded when it raises.

    The block sees the staged copy first (to count and check it), so data that fails a
    check never replaces what readers see. `owner` is the partition key the folder is for.
    """
    target = Path(target)
    _check_owner(target, owner)
    with atomic_path(target) as staging:
        frame.write.mode("overwrite").parquet(str(staging))
        if owner is not None:
            (staging / OWNER_FILE).write_text(owner, encoding="utf-8", errors="surrogateescape")
        yield StagedTable(staging, parquet_row_count(staging))


def replace_parquet(frame: DataFrame, target: str | Path, owner: str | None = None) -> int:
    """Write frame to target as Parquet, swapping it in whole; returns the row count written.

    Only a complete write is renamed over the old one, so a failed job leaves the
    previous version in place.
    """
    with staged_parquet(frame, target, owner) as staged:
        return staged.rows


def remove_folder(target: str | Path) -> bool:
    """Remove a table or partition folder in one rename, then delete it; False when there is none."""
    target = Path(target)
    if not target.exists():
        return False
    retired = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.retired")
    target.rename(retired)
    shutil.rmtree(retired, ignore_errors=True)
    return True


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
