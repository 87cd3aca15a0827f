"""The landing zone where files arrive and the Parquet lake where Spark tables live."""


from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field
from pyspark.sql import DataFrame, SparkSession

from nexgen_assets.lib.ingestion.staging import SizeLimits, StagedFile, staged
from nexgen_assets.lib.storage.lake import (
    RETIRED_GRACE_SECONDS,
    StagedTable,
    current_folder,
    parquet_row_count,
    partition_dir,
    pinned_folders,
    remove_folder,
    replace_parquet,
    replace_parquet_frame,
    staged_parquet,
    table_exists,
)


class LandingZoneResource(dg.ConfigurableResource):
    """Folder that store exports and other sources drop files into."""

    incoming_dir: str = Field(description="Folder watched for new sales and inventory files.")
    mappings_dir: str | None = Field(
        default=None, description="Folder of YAML column mappings for other layouts (built-in ones always apply)."
    )
    staging_dir: str | None = Field(
        default=None,
        description="Private folder where landed files are copied to be read (default: `staging` beside the landing folder).",
    )
    max_file_mb: int = Field(default=4096, description="Largest landed file read, in MiB.")
    max_expanded_mb: int = Field(default=16384, description="Largest landed file once decompressed, in MiB.")

    @property
    def mapping_folders(self) -> tuple[str, ...]:
        return (self.mappings_dir,) if self.mappings_dir else ()

    @property
    def limits(self) -> SizeLimits:
        return SizeLimits(max_file_bytes=self.max_file_mb << 20, max_expanded_bytes=self.max_expanded_mb << 20)

    @contextmanager
    def staged(self, partition_key: str) -> Iterator[StagedFile]:
        """A private copy of the landed file behind a partition, for the length of a block.

        ContractError names the file when the key is not a plain landed file name, the
        file has gone, is a link, is too large or is not what its name says.
        """
        staging = Path(self.staging_dir) if self.staging_dir else Path(self.incoming_dir).parent / "staging"
        with staged(Path(self.incoming_dir), partition_key, staging, self.limits) as copy:
            yield copy


class LakeResource(dg.ConfigurableResource):
    """Parquet tables under one root, one folder per table, one sub-folder per partition.

    Each table (or partition) folder is a link to an immutable version, swapped by one rename
    (`lib/storage/lake.py`); a replaced version stays readable for `retired_version_minutes`.
    """

    root: str = Field(
        description="Root folder of the Parquet lake, on a local or mounted file system with symbolic links (not object storage)."
    )
    retired_version_minutes: float = Field(
        default=RETIRED_GRACE_SECONDS / 60,
        description="How long a replaced or removed table version stays on disk for readers that opened it before the swap.",
    )

    @property
    def grace_seconds(self) -> float:
        return self.retired_version_minutes * 60

    def table_path(self, table: str) -> Path:
        return Path(self.root) / table

    def partition_path(self, table: str, partition_key: str) -> Path:
        return partition_dir(self.table_path(table), partition_key)

    def write(self, frame: DataFrame, table: str, partition_key: str | None = None) -> int:
        """Replace a table (or one partition of it) atomically; returns rows written."""
        target = self.partition_path(table, partition_key) if partition_key else self.table_path(table)
        return replace_parquet(frame, target, owner=partition_key, grace=self.grace_seconds)

    @contextmanager
    def staged_write(self, frame: DataFrame, table: str, partition_key: str) -> Iterator[StagedTable]:
        """Write one partition aside; it replaces the old one only if the block (counts, checks) succeeds."""
        target = self.partition_path(table, partition_key)
        with staged_parquet(frame, target, owner=partition_key, grace=self.grace_seconds) as staged:
            yield staged

    def read_staged(self, spark: SparkSession, staged: StagedTable) -> DataFrame:
        return spark.read.parquet(str(staged.path))

    def remove_partition(self, table: str, partition_key: str) -> bool:
        """Delete one partition in one step (its link goes; the data stays for readers that opened it); False if absent."""
        return remove_folder(self.partition_path(table, partition_key), grace=self.grace_seconds)

    def exists(self, table: str, partition_key: str | None = None) -> bool:
        target = self.partition_path(table, partition_key) if partition_key else self.table_path(table)
        return table_exists(target)

    def row_count(self, table: str) -> int:
        """Rows a reader of the table sees now, from the Parquet footers."""
        return parquet_row_count(self.table_path(table))

    def read(self, spark: SparkSession, table: str, partition_key: str | None = None) -> DataFrame:
        """A table, one partition of it, or all partitions together (without the folder column).

        Spark is given the versions current now, not the links, so a table replaced while the
        job runs does not take files away from it (for the grace period).
        """
        if partition_key:
            return spark.read.parquet(str(current_folder(self.partition_path(table, partition_key))))
        frame = spark.read.parquet(*[str(folder) for folder in pinned_folders(self.table_path(table))])
        return frame.drop("part") if "part" in frame.columns else frame

    def write_frame(self, frame: pd.DataFrame, table: str) -> int:
        """Replace a small pandas table (backtest results and the like) atomically."""
        return replace_parquet_frame(frame, self.table_path(table))

    def read_frame(self, table: str) -> pd.DataFrame:
        path = self.table_path(table) / "data.parquet"
        if not path.exists():
            raise FileNotFoundError(f"lake table {table} has not been written yet ({path})")
        return pd.read_parquet(path)
