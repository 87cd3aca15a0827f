"""Incremental extraction statements, compiled for SQL Server."""

import sqlalchemy as sa
from sqlalchemy.dialects import mssql

from nexgen_assets.lib.ingestion.source_db import Batch, batch_statement, next_high_statement


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
