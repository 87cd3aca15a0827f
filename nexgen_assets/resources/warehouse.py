"""The SQL warehouse Power BI reads, and an IO manager that publishes frames to it atomically."""

from collections.abc import Iterator

import dagster as dg
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from pydantic import Field, PrivateAttr
from sqlalchemy.engine import Engine

from nexgen_assets.lib.storage import warehouse as wh


class WarehouseResource(dg.ConfigurableResource):
    """SQLAlchemy access to the warehouse (SQLite, PostgreSQL or SQL Server via mssql+pyodbc)."""

    url: str = Field(description="SQLAlchemy URL; set NEXGEN_WAREHOUSE_URL for a server.")
    db_schema: str | None = Field(default=None, description="Schema for the tables (dbo on SQL Server if unset).")

    _engine: Engine | None = PrivateAttr(default=None)

    @property
    def resolved_url(self) -> str:
        """The URL itself, also when it was given as dg.EnvVar (never shown in metadata)."""
        return self.url.get_value() if isinstance(self.url, dg.EnvVar) else self.url

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = wh.make_engine(self.resolved_url)
        return self._engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def replace_table(self, name: str, data, primary_key=(), indexes=()) -> int:
        return wh.replace_table(self.engine, name, data, primary_key, self.db_schema, indexes)

    def replace_rows(self, name: str, frame: pd.DataFrame, key_columns, primary_key=(), indexes=()) -> int:
        return wh.replace_rows(self.engine, name, frame, key_columns, primary_key, self.db_schema, indexes)

    def replace_where(self, name: str, data, scope, primary_key=(), indexes=()) -> tuple[int, int]:
        return wh.replace_where(self.engine, name, data, scope, primary_key, self.db_schema, indexes)

    def delete_rows(self, name: str, where: dict) -> int:
        return wh.delete_rows(self.engine, name, where, self.db_schema)

    def delete_in(self, names, column: str, values) -> dict[str, int]:
        return wh.delete_in(self.engine, names, column, values, self.db_schema)

    def has_table(self, name: str) -> bool:
        return sa.inspect(self.engine).has_table(name, schema=self.db_schema)

    def read_table(self, name: str) -> pd.DataFrame:
        return wh.read_table(self.engine, name, self.db_schema)

    def table_batches(self, name: str) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        return wh.table_batches(self.engine, name, self.db_schema)

    def read_rows(self, name: str, where: dict, columns=()) -> pd.DataFrame:
        return wh.read_rows(self.engine, name, where, columns, self.db_schema)

    def row_count(self, name: str) -> int:
        return wh.row_count(self.engine, name, self.db_schema)


class WarehouseIOManager(dg.ConfigurableIOManager):
    """Stores an asset's DataFrame as a warehouse table.

    Output definition metadata picks the behaviour: `table` (default: the asset name),
    `primary_key`, `indexes` (lists of columns), and `replace_by` (columns whose values replace matching rows, for
    archives such as fact_forecast); without `replace_by` the whole table is replaced.
    """

    warehouse: dg.ResourceDependency[WarehouseResource]

    @staticmethod
    def _settings(context) -> dict:
        return dict(context.definition_metadata or {})

    def _table(self, context) -> str:
        return self._settings(context).get("table") or context.asset_key.path[-1]

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame) -> None:
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(f"warehouse_io_manager stores pandas DataFrames, got {type(obj).__name__}")
        settings = self._settings(context)
        table = self._table(context)
        primary_key = tuple(settings.get("primary_key") or ())
        indexes = [tuple(cols) for cols in settings.get("indexes") or ()]
        if settings.get("replace_by"):
            rows = self.warehouse.replace_rows(table, obj, tuple(settings["replace_by"]), primary_key, indexes)
        else:
            rows = self.warehouse.replace_table(table, obj, primary_key, indexes)
        context.add_output_metadata(
            {"table": table, "rows_written": rows, "dialect": self.warehouse.dialect}
        )

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        upstream = context.upstream_output
        table = (upstream.definition_metadata or {}).get("table") or context.asset_key.path[-1]
        return self.warehouse.read_table(table)
