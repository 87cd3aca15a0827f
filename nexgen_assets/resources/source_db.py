"""The operational database that order lines can be pulled from (SQL Server in production)."""

import dagster as dg
import pandas as pd
from pydantic import Field, PrivateAttr
from sqlalchemy.engine import Engine

from nexgen_assets.lib.ingestion import source_db
from nexgen_assets.lib.storage.warehouse import make_engine


class SourceDatabaseResource(dg.ConfigurableResource):
    """Order lines in a SQL table, read incrementally by a watermark column."""

    url: str | None = Field(default=None, description="SQLAlchemy URL (NEXGEN_SOURCE_DB_URL); unset = off.")
    table: str = Field(default="order_lines", description="Table holding one row per order line.")
    watermark_column: str = Field(default="updated_at", description="Column that only grows (timestamp or id).")
    batch_rows: int = Field(default=100_000, description="Rows per extracted batch at most (ties kept together).")
    db_schema: str | None = Field(default=None, description="Schema of the table.")
    overlap_seconds: int = Field(
        default=300,
        description="Each batch also re-reads this many seconds before its start (time watermarks), so rows that "
        "commit late with an older watermark are not missed; a line read twice counts once, in its latest version.",
    )
    deleted_column: str | None = Field(
        default=None,
        description="Soft-delete column (a flag or a deleted_at time); a line whose latest version is marked deleted "
        "leaves the daily tables. Unset = the source never deletes.",
    )
    _engine: Engine | None = PrivateAttr(default=None)

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    @property
    def engine(self) -> Engine:
        if not self.url:
            raise ValueError("source_db is off: set NEXGEN_SOURCE_DB_URL to pull order lines from a database")
        if self._engine is None:
            url = self.url.get_value() if isinstance(self.url, dg.EnvVar) else self.url
            self._engine = make_engine(url)
        return self._engine

    def next_batch(self, low: str | None) -> source_db.Batch | None:
        return source_db.next_batch(
            self.engine, self.table, self.watermark_column, low, self.batch_rows, self.db_schema
        )

    def batch_for(self, partition_key: str) -> source_db.Batch:
        """The batch a partition key names, refused unless it reads this resource's own table."""
        batch = source_db.Batch.from_key(partition_key)
        if batch.table != self.table:
            raise ValueError(f"{partition_key!r} names table {batch.table!r}; only {self.table!r} is extracted")
        return batch

    def read_batch(self, batch: source_db.Batch) -> pd.DataFrame:
        return source_db.read_batch(
            self.engine, batch, self.watermark_column, self.db_schema, self.overlap_seconds, self.deleted_column
        )
