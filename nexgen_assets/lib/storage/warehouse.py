"""Publish pandas frames to a SQL warehouse so that readers never see half a table.

Rows go in by COPY on PostgreSQL and by fast_executemany on SQL Server, in chunks.
A full replace loads a staging table (chunk by chunk, outside the reader's view)
and swaps its rows into the target, all in one transaction. An archive
append replaces the rows of the same key (e.g. forecast_run_id) in one transaction,
so re-publishing a run never doubles it. The same statements serve SQLite,
PostgreSQL and SQL Server; the SQL Server driver is loaded only for an mssql URL.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from nexgen_assets.lib.grain import MAX_ID_LENGTH

CHUNK_ROWS = 200_000
MONEY = sa.Numeric(19, 4, asdecimal=False)
MONEY_NAMES = ("revenue", "price", "amount")
ID_LENGTH, KEY_LENGTH, TEXT_LENGTH = MAX_ID_LENGTH, 255, 400
FREE_TEXT_NAMES = ("record", "interval_quantiles", "weights", "components", "artifact_path")


def is_money(column: str) -> bool:
    """Money columns by name (revenue, avg_price, total_revenue, ...): DECIMAL(19,4), Power BI's fixed decimal."""
    return any(column == name or column.endswith("_" + name) for name in MONEY_NAMES)


_SECRET_IN_QUERY = re.compile(r"((?:^|;)\s*(?:pwd|password)\s*=\s*)(\{[^}]*\}|[^;]*)", re.IGNORECASE)


def masked_url(url: str | sa.engine.URL) -> str:
    """A URL safe to print or log: the password and any PWD=/Password= inside query values (odbc_connect) masked."""
    parsed = sa.engine.make_url(url) if isinstance(url, str) else url
    query = {
        key: tuple(_SECRET_IN_QUERY.sub(r"\1***", v) for v in values) if isinstance(values, tuple)
        else _SECRET_IN_QUERY.sub(r"\1***", values)
        for key, values in parsed.query.items()
    }
    return parsed.set(query=query).render_as_string(hide_password=True)


def make_engine(url: str) -> Engine:
    """Engine for a warehouse URL; SQLite folders are created, SQL Server gets fast_executemany.

    Errors never carry the bound row values (`hide_parameters`), so a failed publish does
    not copy customer rows into logs.
    """
    parsed = sa.engine.make_url(url)
    kwargs: dict = {"future": True, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "mssql" and parsed.get_driver_name() == "pyodbc":
        kwargs["fast_executemany"] = True
    engine = sa.create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _transactional_ddl(engine)
    return engine


def _transactional_ddl(engine: Engine) -> None:
    """Let SQLite roll back CREATE/DROP TABLE with the rest of a transaction.

    The sqlite3 driver only opens a transaction before data changes, so DDL would
    commit on its own; SQLAlchemy's documented recipe hands BEGIN to us instead.
    """

    @sa.event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN")


def sql_type(series: pd.Series, key: bool = False) -> sa.types.TypeEngine:
    """Column type for a pandas column: DATE, DATETIME, INT/BIGINT, DECIMAL money, FLOAT, BIT, NVARCHAR.

    String widths do not depend on the data seen first, so a later, longer value still fits:
    ids (`*_id`) NVARCHAR(128), other key columns NVARCHAR(255), other text NVARCHAR(400),
    free text (raw records, JSON) NVARCHAR(MAX).
    """
    name = str(series.name)
    if pd.api.types.is_bool_dtype(series):
        return sa.Boolean()
    if pd.api.types.is_integer_dtype(series):
        return sa.Integer() if series.dtype.itemsize <= 4 else sa.BigInteger()
    if pd.api.types.is_float_dtype(series):
        return MONEY if is_money(name) else sa.Float(precision=53)
    if pd.api.types.is_datetime64_any_dtype(series):
        return sa.DateTime()
    if isinstance(series.dtype, pd.ArrowDtype) and pa.types.is_date(series.dtype.pyarrow_dtype):
        return sa.Date()
    sample = series.dropna().head(100)
    if not sample.empty and all(isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in sample):
        return sa.Date()
    if not sample.empty and all(isinstance(v, dt.datetime) for v in sample):
        return sa.DateTime()
    if name.endswith("_id"):
        return sa.Unicode(ID_LENGTH)
    if key:
        return sa.Unicode(KEY_LENGTH)
    if name in FREE_TEXT_NAMES or (not sample.empty and series.dropna().astype(str).str.len().max() > TEXT_LENGTH):
        return sa.Unicode()
    return sa.Unicode(TEXT_LENGTH)


def table_for(
    name: str,
    frame: pd.DataFrame,
    primary_key: Sequence[str] = (),
    schema: str | None = None,
    prefixes=(),
    indexes: Sequence[Sequence[str]] = (),
) -> sa.Table:
    """A SQLAlchemy Table matching the frame's columns, with an optional primary key and indexes."""
    columns = [
        sa.Column(col, sql_type(frame[col], col in primary_key), primary_key=col in primary_key, nullable=col not in primary_key)
        for col in frame.columns
    ]
    named = [sa.Index(f"ix_{name}_{'_'.join(cols)}", *cols) for cols in indexes]
    return sa.Table(name, sa.MetaData(), *columns, *named, schema=schema, prefixes=list(prefixes))


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as plain Python values, NaN and NaT as None."""
    clean = frame.astype(object).where(frame.notna(), None)
    return clean.to_dict("records")


def _chunks(frame_or_frames: pd.DataFrame | Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    if isinstance(frame_or_frames, pd.DataFrame):
        for start in range(0, max(len(frame_or_frames), 1), CHUNK_ROWS):
            yield frame_or_frames.iloc[start : start + CHUNK_ROWS]
    else:
        yield from frame_or_frames


def bulk_insert(conn: Connection, table: sa.Table, chunk: pd.DataFrame) -> None:
    """Insert a chunk the fastest way the dialect offers: COPY on PostgreSQL, executemany elsewhere.

    On SQL Server the engine's fast_executemany turns executemany into bulk parameter arrays.
    """
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg2":
        buffer = io.BytesIO()
        pa_csv.write_csv(
            pa.Table.from_pandas(chunk, preserve_index=False), buffer, pa_csv.WriteOptions(include_header=False)
        )
        buffer.seek(0)
        prep = conn.dialect.identifier_preparer
        columns = ", ".join(prep.quote(c) for c in chunk.columns)
        with conn.connection.dbapi_connection.cursor() as cursor:
            cursor.copy_expert(f"COPY {prep.format_table(table)} ({columns}) FROM STDIN WITH (FORMAT csv)", buffer)
        return
    conn.execute(table.insert(), records(chunk))


def _clear_statement(conn: Connection, table: sa.Table) -> sa.Executable:
    if conn.dialect.name in ("postgresql", "mssql"):
        return sa.text(f"TRUNCATE TABLE {conn.dialect.identifier_preparer.format_table(table)}")
    return table.delete()


def _same_columns(conn: Connection, table: sa.Table) -> bool:
    existing = {c["name"] for c in sa.inspect(conn).get_columns(table.name, schema=table.schema)}
    return existing == {c.name for c in table.columns}


def _suspend_postgres_indexes(conn: Connection, table: sa.Table) -> list[str]:
    """Drop the table's primary key and plain indexes; returns the statements that rebuild them.

    Building an index once after a bulk insert is about twice as fast as maintaining
    it row by row. Definitions come from the catalog, so indexes a DBA added survive.
    """
    qualified = conn.dialect.identifier_preparer.format_table(table)
    oid = {"t": qualified}
    constraints = conn.execute(
        sa.text("SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = CAST(:t AS regclass)"),
        oid,
    ).all()
    backed = {name for name, _, _ in constraints}
    indexes = conn.execute(
        sa.text(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = CAST(:t AS regclass)"
        ),
        oid,
    ).all()
    prep = conn.dialect.identifier_preparer
    rebuild = []
    for name, kind, definition in constraints:
        if kind == "p":
            conn.execute(sa.text(f"ALTER TABLE {qualified} DROP CONSTRAINT {prep.quote(name)}"))
            rebuild.append(f"ALTER TABLE {qualified} ADD CONSTRAINT {prep.quote(name)} {definition}")
    for name, definition in indexes:
        if name not in backed:
            index = prep.quote(name) if table.schema is None else f"{prep.quote(table.schema)}.{prep.quote(name)}"
            conn.execute(sa.text(f"DROP INDEX {index}"))
            rebuild.append(definition)
    return rebuild


def replace_table(
    engine: Engine,
    name: str,
    data: pd.DataFrame | Iterable[pd.DataFrame],
    primary_key: Sequence[str] = (),
    schema: str | None = None,
    indexes: Sequence[Sequence[str]] = (),
) -> int:
    """Replace a table's contents atomically; returns the rows written.

    One transaction creates a staging table, loads the chunks into it, then swaps
    them into the target (clear, insert from staging, drop staging). Readers see the
    old rows until commit; the target is locked only for the swap at the end. A
    failure or a killed process rolls everything back, staging table included. On
    PostgreSQL the target's indexes are rebuilt once inside the swap.
    """
    chunks = _chunks(data)
    first = next(chunks, None)
    if first is None:
        raise ValueError(f"nothing to publish to {name}: no data frames given")
    target = table_for(name, first, primary_key, schema, indexes=indexes)
    unlogged = ["UNLOGGED"] if engine.dialect.name == "postgresql" else []
    staging = table_for(f"{name}__staging_{uuid.uuid4().hex[:8]}", first, (), schema, unlogged)
    rows = 0
    with engine.begin() as conn:
        staging.create(conn)
        for chunk in itertools.chain([first], chunks):
            if len(chunk):
                bulk_insert(conn, staging, chunk[first.columns.tolist()])
                rows += len(chunk)
        exists = sa.inspect(conn).has_table(name, schema=schema)
        if exists and not _same_columns(conn, target):
            target.drop(conn)
            exists = False
        if not exists:
            target.create(conn)
        else:
            conn.execute(_clear_statement(conn, target))
        rebuild = _suspend_postgres_indexes(conn, target) if conn.dialect.name == "postgresql" else []
        columns = [c.name for c in target.columns]
        conn.execute(target.insert().from_select(columns, sa.select(*[staging.c[c] for c in columns])))
        for statement in rebuild:
            conn.execute(sa.text(statement))
        staging.drop(conn)
    return rows


def replace_rows(
    engine: Engine,
    name: str,
    frame: pd.DataFrame,
    key_columns: Sequence[str],
    primary_key: Sequence[str] = (),
    schema: str | None = None,
    indexes: Sequence[Sequence[str]] = (),
) -> int:
    """Append frame, first deleting rows whose key values it carries, in one transaction."""
    if frame.empty:
        return 0
    target = table_for(name, frame, primary_key, schema, indexes=indexes)
    with engine.begin() as conn:
        if not sa.inspect(conn).has_table(name, schema=schema):
            target.create(conn)
        keys = frame[list(key_columns)].drop_duplicates()
        for key in records(keys):
            conn.execute(target.delete().where(sa.and_(*[target.c[k] == v for k, v in key.items()])))
        for chunk in _chunks(frame):
            bulk_insert(conn, target, chunk)
    return len(frame)


def delete_rows(engine: Engine, name: str, where: dict, schema: str | None = None) -> int:
    """Delete rows matching all `where` values; a missing table deletes nothing."""
    with engine.begin() as conn:
        if not sa.inspect(conn).has_table(name, schema=schema):
            return 0
        table = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=conn)
        result = conn.execute(table.delete().where(sa.and_(*[table.c[k] == v for k, v in where.items()])))
        return result.rowcount


def read_table(engine: Engine, name: str, schema: str | None = None) -> pd.DataFrame:
    """Whole table as a frame."""
    table = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=engine)
    with engine.connect() as conn:
        return pd.read_sql(sa.select(table), conn)


def read_rows(engine: Engine, name: str, where: dict, columns: Sequence[str] = (), schema: str | None = None) -> pd.DataFrame:
    """Rows of a table matching all `where` values, optionally only some columns."""
    table = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=engine)
    selected = [table.c[c] for c in columns] if columns else [table]
    query = sa.select(*selected).where(sa.and_(*[table.c[k] == v for k, v in where.items()]))
    with engine.connect() as conn:
        return pd.read_sql(query, conn)


def row_count(engine: Engine, name: str, schema: str | None = None) -> int:
    table = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=engine)
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def to_python_dates(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Turn datetime64 day columns into datetime.date so they land as DATE, not DATETIME."""
    frame = frame.copy()
    for col in columns:
        if col in frame.columns:
            frame[col] = pd.to_datetime(frame[col]).dt.date
    return frame

