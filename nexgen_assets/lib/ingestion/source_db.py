"""Incremental extraction of order lines from a SQL table, by a watermark column.

A batch is the half-open range (low, high] of watermark values; high is the largest
watermark among the next `batch_rows` rows, so a batch never splits rows that share a
watermark value. Batches are named so the range can be read back from the name.
"""

from __future__ import annotations

from dataclasses import dataclass

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
        return f"{BATCH_PREFIX}{self.table}__{self.low or START}__{self.high}"

    @classmethod
    def from_key(cls, key: str) -> Batch:
        if not key.startswith(BATCH_PREFIX):
            raise ValueError(f"{key} is not a source-database batch")
        table, low, high = key[len(BATCH_PREFIX):].split("__")
        return cls(table, None if low == START else low, high)


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


def batch_statement(table: sa.Table, watermark: str, batch: Batch) -> sa.Select:
    column = table.c[watermark]
    query = sa.select(table).where(column <= _literal(column, batch.high)).order_by(column)
    if batch.low is not None:
        query = query.where(column > _literal(column, batch.low))
    return query


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


def read_batch(engine: Engine, batch: Batch, watermark: str, schema: str | None = None) -> pd.DataFrame:
    """The rows of one batch, every value as text (the same shape as a landed file)."""
    source = _table(engine, batch.table, schema)
    with engine.connect() as conn:
        frame = pd.read_sql(batch_statement(source, watermark, batch), conn)
    return frame.astype(object).where(frame.notna(), None).map(lambda v: None if v is None else _as_text(v))
