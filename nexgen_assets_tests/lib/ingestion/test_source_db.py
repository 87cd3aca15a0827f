"""Incremental extraction statements, compiled for SQL Server."""

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mssql

from nexgen_assets.lib.ingestion.source_db import (
    DELETED_MARKER,
    Batch,
    batch_statement,
    mark_deleted,
    next_high_statement,
    read_batch,
)
from nexgen_assets_tests.conftest import POSTGRES_URL


def test_sql_server_statements_compile():
    table = sa.Table("order_lines", sa.MetaData(), sa.Column("order_id", sa.Unicode(64)),
                     sa.Column("updated_at", sa.DateTime()), schema="dbo")
    dialect = mssql.dialect()
    dialect.server_version_info = (16,)
    high = str(next_high_statement(table, "updated_at", "2025-03-01T09:00:00", 1000).compile(dialect=dialect))
    assert "TOP __[POSTCOMPILE_param_1]" in high or "TOP 1000" in high
    assert "ORDER BY dbo.order_lines.updated_at" in high and "max(" in high.lower()
    rows = str(batch_statement(table, "updated_at", Batch("order_lines", "2025-03-01T09:00:00", "2025-03-02T00:00:00"))
               .compile(dialect=dialect))
    assert "dbo.order_lines.updated_at <= " in rows and "dbo.order_lines.updated_at > " in rows


def test_a_soft_delete_flag_or_time_becomes_the_deleted_marker_and_an_unreadable_one_is_refused():
    rows = pd.DataFrame({"order_id": ["O1", "O2", "O3", "O4", "O5", "O6"],
                         "is_deleted": [None, "0", "False", "1", "yes", "2025-03-01T10:00:00"]})
    marked = mark_deleted(rows, "is_deleted", "order_lines")
    assert list(marked.columns) == ["order_id", DELETED_MARKER]
    assert marked[DELETED_MARKER].tolist() == ["0", "0", "0", "1", "1", "1"]

    with pytest.raises(ValueError, match=r"order_lines: is_deleted='maybe' is neither a yes/no flag nor a date"):
        mark_deleted(rows.assign(is_deleted="maybe"), "is_deleted", "order_lines")
    with pytest.raises(ValueError, match="has no column 'deleted_at' \\(NEXGEN_SOURCE_DB_DELETED_COLUMN\\)"):
        mark_deleted(rows, "deleted_at", "order_lines")


@pytest.mark.parametrize("column, kind, values", [
    ("is_deleted", "boolean", [False, True, None]),
    ("deleted_at", "timestamp", [None, dt.datetime(2025, 3, 2, 8), None]),
])
def test_deletes_are_read_from_a_live_postgresql_source(pg_schema, column, kind, values):
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {pg_schema}.order_lines (order_id text, updated_at timestamp, {column} {kind})"))
        conn.execute(sa.text(f"INSERT INTO {pg_schema}.order_lines VALUES (:o, :w, :d)"), [
            {"o": f"O{i}", "w": dt.datetime(2025, 3, 1, 9, i), "d": d} for i, d in enumerate(values)
        ])
    batch = Batch("order_lines", None, "2025-03-01T09:59:00")

    rows = read_batch(engine, batch, "updated_at", pg_schema, deleted_column=column)

    assert rows.sort_values("order_id")[DELETED_MARKER].tolist() == ["0", "1", "0"]
    assert column not in rows.columns
    engine.dispose()
