"""The landing zone where files arrive and the Parquet lake where Spark tables live."""


from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field
from pyspark.sql import DataFrame, SparkSession

from nexgen_assets.lib.ingestion.contract import ContractError
from nexgen_assets.lib.storage.lake import partition_dir, replace_parquet, replace_parquet_frame, table_exists


class LandingZoneResource(dg.ConfigurableResource):
    """Folder that store exports and other sources drop files into."""

    incoming_dir: str = Field(description="Folder watched for new sales and inventory files.")
    mappings_dir: str | None = Field(
        default=None, description="Folder of YAML column mappings for other layouts (built-in ones always apply)."
    )

    @property
    def mapping_folders(self) -> tuple[str, ...]:
        return (self.mappings_dir,) if self.mappings_dir else ()

    def file_for(self, partition_key: str) -> Path:
        """The landed file behind a partition; ContractError if it has gone."""
        path = Path(self.incoming_dir) / partition_key
        if not path.is_file():
            raise ContractError(f"{path}: landed file not found (moved or deleted after it was registered)")
        return path


class LakeResource(dg.ConfigurableResource):
    """Parquet tables under one root, one folder per table, one sub-folder per partition."""

    root: str = Field(description="Root folder or URI of the Parquet lake.")

    def table_path(self, table: str) -> Path:
        return Path(self.root) / table

    def partition_path(self, table: str, partition_key: str) -> Path:
        return partition_dir(self.table_path(table), partition_key)

    def write(self, frame: DataFrame, table: str, partition_key: str | None = None) -> int:
        """Replace a table (or one partition of it) atomically; returns rows written."""
        target = self.partition_path(table, partition_key) if partition_key else self.table_path(table)
        return replace_parquet(frame, target)

    def exists(self, table: str, partition_key: str | None = None) -> bool:
        target = self.partition_path(table, partition_key) if partition_key else self.table_path(table)
        return table_exists(target)

    def read(self, spark: SparkSession, table: str, partition_key: str | None = None) -> DataFrame:
        """A table, one partition of it, or all partitions together (without the folder column)."""
        if partition_key:
            return spark.read.parquet(str(self.partition_path(table, partition_key)))
        frame = spark.read.parquet(str(self.table_path(table)))
        return frame.drop("part") if "part" in frame.columns else frame

    def write_frame(self, frame: pd.DataFrame, table: str) -> int:
        """Replace a small pandas table (backtest results and the like) atomically."""
        return replace_parquet_frame(frame, self.table_path(table))

    def read_frame(self, table: str) -> pd.DataFrame:
        path = self.table_path(table) / "data.parquet"
        if not path.exists():
            raise FileNotFoundError(f"lake table {table} has not been written yet ({path})")
        return pd.read_parquet(path)
