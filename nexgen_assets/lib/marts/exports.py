"""Power BI without a server: the marts as Parquet files, and a .pbids file for SQL Server.

Every file is written beside its place first and all are renamed over the old ones only once all
are written, so a reader never opens half a file or a mix of runs; a manifest lists rows per table.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from nexgen_assets.lib.storage.atomic import atomic_path

MART_TABLES = (
    "dim_date", "dim_product", "dim_store", "fact_sales_daily", "fact_forecast", "fact_forecast_levels",
    "fact_forecast_accuracy",
    "fact_inventory_plan", "model_metrics", "model_registry", "ingestion_log", "sales_rejects",
)


def write_parquet_exports(
    folder: Path, tables: Iterable[str], open_table: Callable[[str], tuple[pa.Schema, Iterable[pa.RecordBatch]]]
) -> dict[str, int]:
    """Each table as <folder>/<table>.parquet plus manifest.json, written batch by batch; returns rows per table.

    `open_table` gives a table's schema and its batches, so no table is held whole in memory
    and an empty table keeps its column types.
    """
    rows: dict[str, int] = {}
    with ExitStack() as swaps:
        for table in tables:
            schema, batches = open_table(table)
            target = swaps.enter_context(atomic_path(folder / f"{table}.parquet"))
            rows[table] = 0
            with pq.ParquetWriter(target, schema) as writer:
                try:
                    for batch in batches:
                        writer.write_batch(batch)
                        rows[table] += batch.num_rows
                except pa.ArrowInvalid as error:
                    raise ValueError(f"{table}: a value does not fit its column's type, nothing exported ({error})") from None
        manifest = {"written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "rows": rows}
        swaps.enter_context(atomic_path(folder / "manifest.json")).write_text(json.dumps(manifest, indent=2))
    return rows


def sql_server_address(url: str) -> tuple[str, str] | None:
    """(server, database) for an mssql URL, in the form Power BI expects ("host,port"); None otherwise."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "mssql" or not parsed.host:
        return None
    server = parsed.host if parsed.port in (None, 1433) else f"{parsed.host},{parsed.port}"
    return server, parsed.database or "master"


def pbids_address(server: str | None, database: str | None, warehouse_url: str) -> tuple[str, str] | None:
    """The database a .pbids file should open: the configured server, else the warehouse if it is SQL Server."""
    if server:
        return server, database or "nexgen"
    return sql_server_address(warehouse_url)


def pbids(server: str, database: str, mode: str = "Import") -> dict:
    """A Power BI data source file: double-clicked, Power BI Desktop opens the navigator on that database."""
    if mode not in ("Import", "DirectQuery"):
        raise ValueError(f"Power BI connection mode must be Import or DirectQuery, got {mode!r}")
    return {
        "version": "0.1",
        "connections": [
            {
                "details": {"protocol": "tds", "address": {"server": server, "database": database}},
                "options": {},
                "mode": mode,
            }
        ],
    }


def write_pbids(path: Path, server: str, database: str, mode: str = "Import") -> Path:
    """Write the .pbids file atomically."""
    with atomic_path(path) as partial:
        partial.write_text(json.dumps(pbids(server, database, mode), indent=2))
    return path
