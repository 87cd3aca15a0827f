"""Incremental extraction of order lines from a SQL table, by a watermark column.

A batch is the half-open range (low, high] of watermark values; high is the largest
watermark among the next `batch_rows` rows, so a batch never splits rows that share a
watermark value. Batches are named so the range can be read back from the name: each
part is escaped so it never holds `__` nor starts or ends with `_`, and splits back whole.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import unquote

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

BATCH_PREFIX = "db__"
START = "start"


@dataclass(frozen=True)
class Batch:
    table: str
    low: str | None
    high: str

    @property
    def key(self) -> str:
        parts = (self.table, self.low or START, self.high)
        return BATCH_PREFIX + "__".join(_escape(p) for p in parts)

    @classmethod
    def from_key(cls, key: str) -> Batch:
        """The batch a key names; ValueError for anything that is not exactly three escaped parts."""
        parts = key[len(BATCH_PREFIX):].split("__") if key.startswith(BATCH_PREFIX) else []
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"{key!r} is not a source-database batch key")
        table, low, high = (unquote(p) for p in parts)
        return cls(table, None if parts[1] == START else low, high)


def _escape(part: str) -> str:
    """`%` and the underscores that could be read as a separator, %XX-escaped (undone by unquote)."""
    escaped = part.replace("%", "%25").replace("__", "_%5F")
    if escaped.startswith("_"):
        escaped = "%5F" + escaped[1:]
    if escaped.endswith("_"):
        escaped = escaped[:-1] + "%5F"
    return escaped


def is_batch_key(key: str) -> bool:
    return key.startswith(BATCH_PREFIX)


def _table(engine: Engine, name: str, schema: str | None) -> sa.Table:
    return sa.Table(name, sa.MetaData(), schema=schema, autoload_with=engine)


def next_high_statement(table: sa.Table, watermark: str, low: str | None, batch_rows: int) -> sa.Select:
    """SELECT MAX(w) over the next batch_rows rows after low (portable LIMIT/TOP)."""
    column = table.c[watermark]
    upcoming = sa.select(column.label("w")).order_by(column).limit(batch_rows)
    if low is not None:
        upcoming = upcoming.where(column > _literal(column, low))
    return sa.select(sa.func.max(upcoming.subquery().c.w))


def batch_statement(table: sa.Table, watermark: str, batch: Batch, overlap_seconds: int = 0) -> sa.Select:
    """Rows of (low, high]; with a time watermark the range starts `overlap_seconds` earlier.

    A row whose transaction commits after a batch was read, with a watermark older than
    that batch's high, would otherwise be skipped forever; the overlap reads it with the
    next batch. Rows read twice are counted once (see `latest_batches`).
    """
    column = table.c[watermark]
    query = sa.select(table).where(column <= _literal(column, batch.high)).order_by(column)
    if batch.low is not None:
        low = _literal(column, batch.low)
        if overlap_seconds and isinstance(low, dt.datetime):
            low -= dt.timedelta(seconds=overlap_seconds)
        query = query.where(column > low)
    return query


def batch_order(keys: list[str]) -> dict[str, int]:
    """Rank of each batch key by its high watermark (typed: number, then time, then text); later is higher."""
    def typed(key: str):
        high = Batch.from_key(key).high
        for parse in (float, pd.Timestamp):
            try:
                return (0 if parse is float else 1, parse(high), high)
            except (ValueError, TypeError):
                continue
        return (2, 0, high)

    return {key: rank for rank, key in enumerate(sorted(keys, key=typed))}


def _literal(column: sa.Column, text: str):
    """A watermark string typed like its column (timestamps and numbers compare as such)."""
    python_type = getattr(column.type, "python_type", str)
    if python_type is int:
        return int(text)
    if python_type is float:
        return float(text)
    if python_type.__name__ in ("datetime", "date"):
        return pd.Timestamp(text).to_pydatetime()
    return text


def _as_text(value) -> str:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def next_batch(engine: Engine, table: str, watermark: str, low: str | None, batch_rows: int,
               schema: str | None = None) -> Batch | None:
    """The next batch after `low`, or None when no newer rows exist."""
    source = _table(engine, table, schema)
    with engine.connect() as conn:
        high = conn.execute(next_high_statement(source, watermark, low, batch_rows)).scalar()
    return None if high is None else Batch(table, low, _as_text(high))


def read_batch(
    engine: Engine,
    batch: Batch,
    watermark: str,
    schema: str | None = None,
    overlap_seconds: int = 0,
    deleted_column: str | None = None,
) -> pd.DataFrame:
    """The rows of one batch (with the overlap before it), every value as text (the shape of a landed file).

    With `deleted_column`, that column becomes the DELETED_MARKER of each row (see mark_deleted).
    """
    source = _table(engine, batch.table, schema)
    with engine.connect() as conn:
        frame = pd.read_sql(batch_statement(source, watermark, batch, overlap_seconds), conn)
    text = frame.astype(object).where(frame.notna(), None).map(lambda v: None if v is None else _as_text(v))
    return mark_deleted(text, deleted_column, batch.table) if deleted_column else text


DELETED_MARKER = "nexgen_deleted"
"""Column of an extracted row: "1" when the source marked the order line deleted, else "0"."""
_LIVE = {"", "0", "false", "f", "no", "n"}
_DELETED = {"1", "true", "t", "yes", "y"}


def mark_deleted(rows: pd.DataFrame, column: str, table: str) -> pd.DataFrame:
    """Replace the source's soft-delete column by DELETED_MARKER.

    Null, 0/false/no mean live; 1/true/yes, or a date and time (a `deleted_at` column), mean
    deleted. Any other value is refused, naming the table, the column and the value: a flag
    that cannot be read is never guessed.
    """
    if column not in rows.columns:
        raise ValueError(f"{table}: has no column {column!r} (NEXGEN_SOURCE_DB_DELETED_COLUMN)")
    if DELETED_MARKER in rows.columns:
        raise ValueError(f"{table}: already has a column named {DELETED_MARKER!r}; rename it to pull deletes")

    def marker(value: str | None) -> str:
        text = "" if value is None else value.strip().lower()
        if text in _LIVE:
            return "0"
        if text in _DELETED:
            return "1"
        try:
            dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"{table}: {column}={value!r} is neither a yes/no flag nor a date and time; no row of the batch is read"
            ) from None
        return "1"

    return rows.drop(columns=[column]).assign(**{DELETED_MARKER: rows[column].map(marker)})
