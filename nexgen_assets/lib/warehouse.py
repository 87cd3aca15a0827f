"""Publish pandas frames to a SQL warehouse so that readers never see half a table.

Rows go in by COPY on PostgreSQL and by fast_executemany on SQL Server, in chunks.
A full replace loads a staging table first (chunk by chunk, outside the reader's
view), then swaps its rows into the target in one short transaction. An archive
append replaces the rows of the same key (e.g. forecast_run_id) in one transaction,
so re-publishing a run never doubles it. The same statements serve SQLite,
PostgreSQL and SQL Server; the SQL Server driver is loaded only for an mssql URL.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

CHUNK_ROWS = 200_000


def make_engine(url: str) -> Engine:
    """Engine for a warehouse URL; SQLite folders are created, SQL Server gets fast_executemany."""
    parsed = sa.engine.make_url(url)
    kwargs: dict = {"future": True}
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "mssql" and parsed.get_driver_name() == "pyodbc":
        kwargs["fast_executemany"] = True
    return sa.create_engine(parsed, **kwargs)


def sql_type(series: pd.Series) -> sa.types.TypeEngine:
    """Column type for a pandas column: NVARCHAR-style strings, DATE, DATETIME, BIGINT, FLOAT, BOOLEAN."""
    if pd.api.types.is_bool_dtype(series):
        return sa.Boolean()
    if pd.api.types.is_integer_dtype(series):
        return sa.BigInteger()
    if pd.api.types.is_float_dtype(series):
        return sa.Float(precision=53)
    if pd.api.types.is_datetime64_any_dtype(series):
        return sa.DateTime()
    sample = series.dropna()
    if not sample.empty and all(isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in sample.head(100)):
        return sa.Date()
    if not sample.empty and all(isinstance(v, dt.datetime) for v in sample.head(100)):
        return sa.DateTime()
    longest = int(sample.astype(str).str.len().max()) if not sample.empty else 0
    if longest > 400:
        return sa.UnicodeText()
    return sa.Unicode(64 if longest <= 64 else 400)


def table_for(
    name: str, frame: pd.DataFrame, primary_key: Sequence[str] = (), schema: str | None = None, prefixes=()
) -> sa.Table:
    """A SQLAlchemy Table matching the frame's columns, with an optional primary key."""
    columns = [
        sa.Column(col, sql_type(frame[col]), primary_key=col in primary_key, nullable=col not in primary_key)
        for col in frame.columns
    ]
    return sa.Table(name, sa.MetaData(), *columns, schema=schema, prefixes=list(prefixes))


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


def replace_table(
    engine: Engine,
    name: str,
    data: pd.DataFrame | Iterable[pd.DataFrame],
    primary_key: Sequence[str] = (),
    schema: str | None = None,
) -> int:
    """Replace a table's contents atomically; returns the rows written.

    Chunks are loaded into a staging table first. The swap (clear target, copy
    staging in, drop staging) runs in one transaction, so a reader sees the old
    rows or the new rows, never a mix; a failure before commit leaves the old rows.
    """
    chunks = _chunks(data)
    first = next(chunks, None)
    if first is None:
        raise ValueError(f"nothing to publish to {name}: no data frames given")
    target = table_for(name, first, primary_key, schema)
    unlogged = ["UNLOGGED"] if engine.dialect.name == "postgresql" else []
    staging = table_for(f"{name}__staging_{uuid.uuid4().hex[:8]}", first, (), schema, unlogged)
    rows = 0
    staging.create(engine)
    try:
        with engine.begin() as conn:
            for chunk in itertools.chain([first], chunks):
                if len(chunk):
                    bulk_insert(conn, staging, chunk[first.columns.tolist()])
                    rows += len(chunk)
        with engine.begin() as conn:
            exists = sa.inspect(conn).has_table(name, schema=schema)
            if exists and not _same_columns(conn, target):
                target.drop(conn)
                exists = False
            if not exists:
                target.create(conn)
            else:
                conn.execute(_clear_statement(conn, target))
            columns = [c.name for c in target.columns]
            conn.execute(target.insert().from_select(columns, sa.select(*[staging.c[c] for c in columns])))
            staging.drop(conn)
    except BaseException:
        staging.drop(engine, checkfirst=True)
        raise
    return rows


def replace_rows(
    engine: Engine,
    name: str,
    frame: pd.DataFrame,
    key_columns: Sequence[str],
    primary_key: Sequence[str] = (),
    schema: str | None = None,
) -> int:
    """Append frame, first deleting rows whose key values it carries, in one transaction."""
    if frame.empty:
        return 0
    target = table_for(name, frame, primary_key, schema)
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

