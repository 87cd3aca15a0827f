"""Publish pandas frames to a SQL warehouse so that readers never see half a table nor wait for a load.

A full replace keeps the target table itself (its grants, indexes, triggers, dependent views
and any columns a DBA added) and only swaps its rows:

1. the chunks are loaded into a staging table, each chunk committed on its own: no long
   transaction and no lock on the target. On PostgreSQL and SQLite it is TEMPORARY, so a
   killed process leaves nothing behind (its session takes the table along). On SQL Server
   it is a plain `<table>__staging_<hex>` table in the target's schema, which a killed
   process leaves behind: local #temp tables mis-handle fast_executemany's parameter
   types and ##global ones are readable by every login on the instance;
2. new frame columns are added to the target (nullable) in a short transaction of their own;
3. one transaction takes the publish lock, deletes the target's rows and inserts the
   staged ones (INSERT ... SELECT), then commits.

Readers keep the old rows until that commit:

- PostgreSQL: under MVCC readers see the old rows until the commit. DELETE and the publish
  lock (LOCK TABLE ... IN EXCLUSIVE MODE) leave SELECT's ACCESS SHARE lock alone; TRUNCATE and
  DROP INDEX would not (ACCESS EXCLUSIVE), so indexes are kept up during the insert instead of
  rebuilt after it, and the deleted rows are left to autovacuum. A rename swap is no option:
  views, grants and indexes bind to the table's OID and would leave with the old table.
- SQL Server: readers are unblocked when the database has READ_COMMITTED_SNAPSHOT ON (see
  sql/mssql/001_star_schema.sql); without it READ COMMITTED readers wait for the swap
  transaction, though never for the load. Publishers serialise on sp_getapplock.
- SQLite: WAL journal, so readers read the last commit while a writer writes; writers
  take the single write lock at BEGIN IMMEDIATE and wait up to SQLITE_BUSY_TIMEOUT_S for it.

Schema changes are additive: a frame column the table lacks is added, a table column the
frame lacks is kept (and loaded with NULLs), and a column whose type cannot take the
frame's values raises IncompatibleColumnError instead of dropping anything.

An archive append (replace_rows) replaces the rows of the same key (e.g. forecast_run_id)
in one transaction, so re-publishing a run never doubles it. An increment bounded by a
predicate (replace_where, e.g. every day from a date on) replaces exactly the rows it selects,
under the publish lock. Rows go in by COPY on PostgreSQL and by fast_executemany on SQL
Server, in chunks; the SQL Server driver is loaded only for an mssql URL.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import itertools
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
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
SQLITE_BUSY_TIMEOUT_S = 60
_WRITES = "nexgen_writes"


class IncompatibleColumnError(ValueError):
    """A warehouse column cannot take the frame's values; the publisher never drops a table to fix it."""


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


def with_installed_driver(url: sa.engine.URL) -> sa.engine.URL:
    """`postgresql://` as every PostgreSQL user types it: the installed driver (psycopg, else psycopg2).

    SQLAlchemy picks psycopg (version 3) for a bare `postgresql://`; a machine that has only
    psycopg2 would otherwise fail with "No module named 'psycopg'".
    """
    if url.drivername != "postgresql":
        return url
    for module, driver in (("psycopg", "postgresql+psycopg"), ("psycopg2", "postgresql+psycopg2")):
        if importlib.util.find_spec(module) is not None:
            return url.set(drivername=driver)
    return url


def make_engine(url: str) -> Engine:
    """Engine for a warehouse URL; SQLite folders are created, SQL Server gets fast_executemany.

    Errors never carry the bound row values (`hide_parameters`), so a failed publish does
    not copy customer rows into logs.
    """
    parsed = with_installed_driver(sa.engine.make_url(url))
    kwargs: dict = {"future": True, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "mssql" and parsed.get_driver_name() == "pyodbc":
        kwargs["fast_executemany"] = True
    engine = sa.create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _sqlite_for_concurrent_publishers(engine)
    if parsed.get_backend_name() == "postgresql" and "application_name" not in parsed.query:
        _named_sessions(engine)
    return engine


def _named_sessions(engine: Engine) -> None:
    """Each PostgreSQL session says which process opened it (`nexgen pid 1234` in pg_stat_activity), so a
    DBA can tell a publish holding a lock from a Power BI refresh, and which run to look at."""

    @sa.event.listens_for(engine, "do_connect")
    def _name(_dialect, _record, _cargs, cparams):
        cparams.setdefault("application_name", f"nexgen pid {os.getpid()}")


def _sqlite_for_concurrent_publishers(engine: Engine) -> None:
    """WAL, a long busy timeout, and transactions we begin ourselves (so DDL rolls back too).

    WAL lets readers read the last commit while a publisher writes. The sqlite3 driver would
    only open a transaction before data changes, so DDL would commit on its own; SQLAlchemy's
    documented recipe hands BEGIN to us instead. Write transactions begin IMMEDIATE: taking the
    write lock up front waits out other writers (busy timeout), whereas a read transaction that
    later writes fails at once with "database is locked" if another writer committed meanwhile.
    """

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
        dbapi_connection.execute("PRAGMA journal_mode = WAL")

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITES) else "BEGIN")


@contextmanager
def _writing(conn: Connection) -> Iterator[None]:
    """A transaction that writes the warehouse (on SQLite it takes the write lock at BEGIN)."""
    conn.execution_options(**{_WRITES: True})
    try:
        with conn.begin():
            yield
    finally:
        conn.execution_options(**{_WRITES: False})


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


_FAMILY_OF_VALUES = {
    "integer": "number", "floating": "number", "mixed-integer-float": "number", "decimal": "number",
    "boolean": "boolean", "date": "date/time", "datetime": "date/time", "datetime64": "date/time",
    "string": "text",
}


def _column_family(sql: sa.types.TypeEngine) -> str | None:
    """What kind of value a warehouse column holds; None for kinds not checked (e.g. TIME, JSON)."""
    if isinstance(sql, sa.Boolean):
        return "boolean"
    if isinstance(sql, (sa.Integer, sa.Numeric)):
        return "number"
    if isinstance(sql, (sa.Date, sa.DateTime)):
        return "date/time"
    if isinstance(sql, sa.String):
        return "text"
    return None


def check_columns(table: str, existing: dict[str, sa.types.TypeEngine], frame: pd.DataFrame) -> None:
    """Refuse a frame column whose values the table's column of that name cannot hold.

    Families must match (numbers, booleans, dates/times, text); a text column takes anything, and
    a number column takes flags as 0 and 1 (a warehouse made before a flag became BIT keeps working).
    Empty, all-null and mixed frame columns, and column types outside those families, are not checked.
    """
    for column in frame.columns:
        if column not in existing or not frame[column].notna().any():
            continue
        have = _column_family(existing[column])
        given = _FAMILY_OF_VALUES.get(pd.api.types.infer_dtype(frame[column], skipna=True))
        if have in (None, "text", given) or given is None or (have, given) == ("number", "boolean"):
            continue
        raise IncompatibleColumnError(
            f"cannot publish to {table}: column {column!r} is {existing[column]} ({have}) in the warehouse, "
            f"but the data holds {given} values. Convert the column in the asset that produces it, or have the "
            f"DBA change, rename or drop the warehouse column; the publisher never drops a table."
        )


def _as_existing(frame: pd.DataFrame, existing: dict[str, sa.types.TypeEngine] | None) -> pd.DataFrame:
    """Flags bound for a number column (a table made before they became BIT) as 0 and 1."""
    flags = [
        c for c in frame.columns
        if existing and c in existing and _column_family(existing[c]) == "number" and pd.api.types.is_bool_dtype(frame[c])
    ]
    return frame.astype({c: "Int64" for c in flags}) if flags else frame


def _existing_columns(conn: Connection, name: str, schema: str | None) -> dict[str, sa.types.TypeEngine] | None:
    """The table's columns and their types, or None when there is no such table."""
    with conn.begin():
        inspector = sa.inspect(conn)
        if not inspector.has_table(name, schema=schema):
            return None
        return {c["name"]: c["type"] for c in inspector.get_columns(name, schema=schema)}


def add_column_statement(dialect: sa.Dialect, table: sa.Table, column: str) -> str:
    """ALTER TABLE adding one of `table`'s columns as nullable (SQL Server says ADD, the others ADD COLUMN)."""
    added = sa.Table(table.name, sa.MetaData(), sa.Column(column, table.c[column].type, nullable=True), schema=table.schema)
    spec = sa.schema.CreateColumn(added.c[column]).compile(dialect=dialect)
    keyword = "ADD" if dialect.name == "mssql" else "ADD COLUMN"
    return f"ALTER TABLE {dialect.identifier_preparer.format_table(table)} {keyword} {spec}"


def _add_missing_columns(conn: Connection, target: sa.Table, existing: dict | None) -> None:
    """Add the frame's new columns in a short transaction of their own, so no reader waits on a long one."""
    missing = [c.name for c in target.columns if existing is not None and c.name not in existing]
    if missing:
        with _writing(conn):
            for column in missing:
                conn.execute(sa.text(add_column_statement(conn.dialect, target, column)))


def _create_if_missing(conn: Connection, target: sa.Table) -> None:
    if not sa.inspect(conn).has_table(target.name, schema=target.schema):
        target.create(conn)


def staging_table(dialect: sa.Dialect, target: sa.Table, existing: dict | None) -> sa.Table:
    """The table the target's new rows are loaded into: TEMPORARY, or beside the target on SQL Server.

    Columns the target already has keep its types, so values are converted (or refused)
    while loading and the final INSERT ... SELECT copies like to like.
    """
    name = f"{target.name}__staging_{uuid.uuid4().hex[:8]}"
    columns = [sa.Column(c.name, (existing or {}).get(c.name, c.type)) for c in target.columns]
    if dialect.name == "mssql":
        return sa.Table(name, sa.MetaData(), *columns, schema=target.schema)
    return sa.Table(name, sa.MetaData(), *columns, prefixes=["TEMPORARY"])


_MSSQL_PUBLISH_LOCK = (
    "DECLARE @granted int; "
    "EXEC @granted = sp_getapplock @Resource = :resource, @LockMode = 'Exclusive', @LockOwner = 'Transaction', "
    "@LockTimeout = -1; "
    "IF @granted < 0 THROW 51000, 'could not take the publish lock', 1;"
)


def swap_statements(dialect: sa.Dialect, target: sa.Table, staging: sa.Table) -> list[sa.Executable]:
    """The swap transaction's statements: serialise publishers, delete the old rows, insert the staged ones.

    The publish lock is its own statement, so the DELETE starts after a concurrent
    publisher has committed and sees (and deletes) that publisher's rows too.
    """
    statements = _publish_lock(dialect, target)
    columns = [c.name for c in staging.columns]
    statements.append(target.delete())
    statements.append(target.insert().from_select(columns, sa.select(*staging.columns)))
    return statements


def _drop_staging(conn: Connection, staging: sa.Table) -> None:
    """Drop the staging table; if that fails, discard the connection, whose session ends and takes it along."""
    try:
        if conn.in_transaction():
            conn.rollback()
        with conn.begin():
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {conn.dialect.identifier_preparer.format_table(staging)}"))
    except sa.exc.DBAPIError:
        conn.invalidate()


def replace_table(
    engine: Engine,
    name: str,
    data: pd.DataFrame | Iterable[pd.DataFrame],
    primary_key: Sequence[str] = (),
    schema: str | None = None,
    indexes: Sequence[Sequence[str]] = (),
) -> int:
    """Replace a table's rows atomically, keeping the table itself; returns the rows written.

    See the module docstring for the steps and what readers see. `primary_key` and
    `indexes` shape a table created here; an existing table keeps its own. A failure
    or a killed process leaves the old rows (and any columns already added).
    """
    chunks = _chunks(data)
    first = next(chunks, None)
    if first is None:
        raise ValueError(f"nothing to publish to {name}: no data frames given")
    target = table_for(name, first, primary_key, schema, indexes=indexes)
    columns = first.columns.tolist()
    rows = 0
    with engine.connect() as conn:
        existing = _existing_columns(conn, name, schema)
        if existing is not None:
            check_columns(name, existing, first)
        staging = staging_table(conn.dialect, target, existing)
        try:
            with conn.begin():
                staging.create(conn)
            for chunk in itertools.chain([first], chunks):
                if len(chunk):
                    with conn.begin():
                        bulk_insert(conn, staging, _as_existing(chunk[columns], existing))
                    rows += len(chunk)
            _add_missing_columns(conn, target, existing)
            with _writing(conn):
                _create_if_missing(conn, target)
                for statement in swap_statements(conn.dialect, target, staging):
                    conn.execute(statement)
        finally:
            _drop_staging(conn, staging)
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
    """Append frame, first deleting rows whose key values it carries, in one transaction.

    New frame columns are added to the table first, as in replace_table.
    """
    if frame.empty:
        return 0
    with _publishing(engine, name, frame, primary_key, schema, indexes) as (conn, target, existing):
        keys = frame[list(key_columns)].drop_duplicates()
        for key in records(keys):
            conn.execute(target.delete().where(sa.and_(*[target.c[k] == v for k, v in key.items()])))
        for chunk in _chunks(frame):
            bulk_insert(conn, target, _as_existing(chunk, existing))
    return len(frame)


@contextmanager
def _publishing(
    engine: Engine, name: str, frame: pd.DataFrame, primary_key: Sequence[str], schema: str | None,
    indexes: Sequence[Sequence[str]],
) -> Iterator[tuple[Connection, sa.Table, dict[str, sa.types.TypeEngine] | None]]:
    """A write transaction on table `name`, created if missing and given frame's new columns first (a column
    whose type cannot take frame's values is refused); yields the connection, the table and its old columns."""
    target = table_for(name, frame, primary_key, schema, indexes=indexes)
    with engine.connect() as conn:
        existing = _existing_columns(conn, name, schema)
        if existing is not None:
            check_columns(name, existing, frame)
        _add_missing_columns(conn, target, existing)
        with _writing(conn):
            _create_if_missing(conn, target)
            yield conn, target, existing


def delete_rows(engine: Engine, name: str, where: dict, schema: str | None = None) -> int:
    """Delete rows matching all `where` values; a missing table deletes nothing."""
    with engine.connect() as conn, _writing(conn):
        if not sa.inspect(conn).has_table(name, schema=schema):
            return 0
        table = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=conn)
        result = conn.execute(table.delete().where(sa.and_(*[table.c[k] == v for k, v in where.items()])))
        return result.rowcount


def _publish_lock(dialect: sa.Dialect, target: sa.Table) -> list[sa.Executable]:
    """The statement serialising publishers of one table (on SQLite BEGIN IMMEDIATE does it)."""
    qualified = dialect.identifier_preparer.format_table(target)
    if dialect.name == "postgresql":
        return [sa.text(f"LOCK TABLE {qualified} IN EXCLUSIVE MODE")]
    if dialect.name == "mssql":
        return [sa.text(_MSSQL_PUBLISH_LOCK).bindparams(resource=f"nexgen publish {qualified}")]
    return []


def replace_where(
    engine: Engine,
    name: str,
    data: pd.DataFrame | Iterable[pd.DataFrame],
    scope: Callable[[sa.Table], sa.ColumnElement[bool] | None],
    primary_key: Sequence[str] = (),
    schema: str | None = None,
    indexes: Sequence[Sequence[str]] = (),
) -> tuple[int, int]:
    """Replace the rows `scope(table)` selects (every row when it gives None) by data's, in one transaction.

    For an increment bounded by a predicate (days from a date on, a few months, a few runs)
    rather than by key values: data is a frame or frames streamed in batches (the first gives
    the columns, so it may be empty); an empty increment still deletes, and a row whose key the
    scope keeps is refused by the primary key. Publishers serialise on the publish lock; new
    columns are added first, as in replace_table. Returns (rows deleted, rows written).
    """
    chunks = _chunks(data)
    first = next(chunks, None)
    if first is None:
        raise ValueError(f"nothing to publish to {name}: no data frames given")
    written = 0
    with _publishing(engine, name, first, primary_key, schema, indexes) as (conn, target, existing):
        for statement in _publish_lock(conn.dialect, target):
            conn.execute(statement)
        table = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=conn)
        where = scope(table)
        deleted = conn.execute(table.delete() if where is None else table.delete().where(where)).rowcount
        for chunk in itertools.chain([first], chunks):
            if len(chunk):
                bulk_insert(conn, target, _as_existing(chunk[first.columns.tolist()], existing))
                written += len(chunk)
    return deleted, written


def delete_in(
    engine: Engine, names: Sequence[str], column: str, values: Sequence, schema: str | None = None, batch: int = 500
) -> dict[str, int]:
    """Delete the rows whose `column` is one of `values` from each table, in one transaction; returns rows per table.

    Missing tables are skipped; values go in IN lists of at most `batch` (every driver's parameter limit).
    """
    deleted: dict[str, int] = {}
    if not len(values):
        return deleted
    with engine.connect() as conn, _writing(conn):
        for name in names:
            if not sa.inspect(conn).has_table(name, schema=schema):
                continue
            table = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=conn)
            deleted[name] = sum(
                conn.execute(table.delete().where(table.c[column].in_(values[start : start + batch]))).rowcount
                for start in range(0, len(values), batch)
            )
    return deleted


def read_table(engine: Engine, name: str, schema: str | None = None) -> pd.DataFrame:
    """Whole table as a frame."""
    table = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=engine)
    with engine.connect() as conn:
        return pd.read_sql(sa.select(table), conn)


def arrow_type(sql_type: sa.types.TypeEngine) -> pa.DataType | None:
    """The Arrow type a warehouse column keeps in every export, empty or not; None when the SQL type is not known."""
    if isinstance(sql_type, sa.Boolean):
        return pa.bool_()
    if isinstance(sql_type, sa.Integer):
        return pa.int64()
    if isinstance(sql_type, sa.Float | sa.Numeric):
        return pa.float64()
    if isinstance(sql_type, sa.DateTime):
        return pa.timestamp("us")
    if isinstance(sql_type, sa.Date):
        return pa.date32()
    if isinstance(sql_type, sa.String):
        return pa.string()
    return None


def table_batches(
    engine: Engine, name: str, schema: str | None = None, rows: int = 100_000
) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """A table's Arrow schema (from its SQL column types) and its rows in batches, streamed from the server.

    Empty or not, a column keeps the same type, so a tool that saved the types (Power Query)
    finds them again at the next refresh. A value that does not fit its column's type raises
    (Arrow's safe casts) rather than being turned into another number.
    """
    table = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=engine)
    unknown = [f"{c.name} ({c.type})" for c in table.columns if arrow_type(c.type) is None]
    if unknown:
        raise TypeError(f"{name}: no export type for column(s) {', '.join(unknown)}")
    arrow_schema = pa.schema([pa.field(c.name, arrow_type(c.type)) for c in table.columns])

    def batches() -> Iterator[pa.RecordBatch]:
        with engine.connect() as conn:
            streamed = conn.execution_options(stream_results=True, max_row_buffer=rows)
            for chunk in pd.read_sql(sa.select(table), streamed, chunksize=rows):
                yield pa.RecordBatch.from_pandas(chunk, schema=arrow_schema, preserve_index=False)

    return arrow_schema, batches()


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


def as_flags(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """0/1 columns as nullable booleans, so they land as BIT (SQL Server) or BOOLEAN; any other value raises."""
    frame = frame.copy()
    for col in columns:
        values = frame[col]
        odd = values[values.notna() & ~values.isin([0, 1])]
        if len(odd):
            raise ValueError(f"{col}: flag values must be 0 or 1, found {odd.iloc[0]}")
        frame[col] = values.astype("boolean")
    return frame


def to_python_dates(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Turn datetime64 day columns into datetime.date so they land as DATE, not DATETIME."""
    frame = frame.copy()
    for col in columns:
        if col in frame.columns:
            frame[col] = pd.to_datetime(frame[col]).dt.date
    return frame

