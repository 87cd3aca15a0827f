"""Read one landed file with Spark into an all-string frame that keeps its row numbers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from nexgen_assets.lib.ingestion.contract import (
    MAX_CHARS_PER_COLUMN,
    ROW_NUMBER,
    SOURCE_FILE,
    ContractError,
    file_format,
)
from nexgen_assets.lib.ingestion.mapping import apply_mapping, mapping_for, source_column_name

RAW_LINE = "_raw_line"
"""The raw text of a row the parser could not split into the header's fields (null for every other row)."""
BLANK = r"[\s\p{Z}\u0085\u200B-\u200D\u2060\uFEFF]"
"""Whitespace as a Java regex: ASCII, every Unicode space (no-break, figure, ideographic) and zero-width ones."""
FIELD_LIMIT_MESSAGE = "exceeds the maximum number of characters"
"""What the CSV parser (univocity) says when a field is longer than maxCharsPerColumn."""
NANOS_AS_LONG = "spark.sql.legacy.parquet.nanosAsLong"


def read_landed_file(
    spark: SparkSession,
    path: str | Path,
    required: tuple[str, ...],
    mapping_folders: tuple[str, ...] = (),
    name: str | None = None,
) -> DataFrame:
    """All columns as trimmed strings (empty -> null), plus source_file and a 1-based row_number.

    `name` is the name the file landed under when `path` is a private copy of it: it picks
    the format and the column mapping and is the `source_file` of every row. Column names
    go through `source_column_name`. A CSV or JSON row that does not split into the
    header's fields keeps its raw text in RAW_LINE. A file whose name matches a column
    mapping (user folders first, then the built-in ones) is translated to the contract
    first. Raises ContractError naming the file when it has no header, misses required
    columns, or holds a CSV field longer than MAX_CHARS_PER_COLUMN.
    """
    name = name or Path(path).name
    path = str(path)
    fmt = file_format(name)
    zones: dict[str, str | None] = {}
    if fmt in ("csv", "csv.gz"):
        frame = _read_csv(spark, path)
    elif fmt == "jsonl":
        frame = _read_jsonl(spark, path)
    else:
        frame, zones = _read_parquet(spark, path)

    parser_line = fmt != "parquet" and RAW_LINE in frame.columns
    fields = [f for f in frame.schema.fields if not (parser_line and f.name == RAW_LINE)]
    columns = [source_column_name(f.name) for f in fields]
    if len(set(columns)) != len(columns):
        raise ContractError(f"{name}: duplicate column names after normalising: {[f.name for f in fields]}")
    renamed = dict(zip((f.name for f in fields), columns, strict=True))
    frame = frame.toDF(*[renamed.get(c, c) for c in frame.columns])
    as_text = [trimmed(_as_text(F.col(c), f, zones)).alias(c) for c, f in zip(columns, fields, strict=True)]
    frame = frame.select(*as_text, *([RAW_LINE] if parser_line else []))
    mapping = mapping_for(name, [Path(m) for m in mapping_folders])
    if mapping is not None:
        frame = apply_mapping(frame, mapping, name)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        found = ", ".join(c for c in frame.columns if c != RAW_LINE) or "no columns"
        raise ContractError(f"{name}: line 1: missing required column(s) {', '.join(missing)}; found {found}")
    try:
        numbered = with_row_numbers(frame)
    except Exception as error:
        if FIELD_LIMIT_MESSAGE in str(error):
            raise ContractError(
                f"{name}: a field is longer than {MAX_CHARS_PER_COLUMN:,} characters (the reader's limit per field);"
                " the file is refused"
            ) from error
        raise
    return numbered.withColumn(SOURCE_FILE, F.lit(name))


def trimmed(column: Column) -> Column:
    """Text without leading or trailing BLANK characters (Spark's trim strips ASCII spaces only); null when empty."""
    return F.nullif(F.regexp_replace(column, f"^{BLANK}+|{BLANK}+$", ""), F.lit(""))


def _read_csv(spark: SparkSession, path: str) -> DataFrame:
    """RFC 4180 CSV (a quote inside a quoted field is doubled; a backslash is plain text), every field a string.

    The schema is the header's width plus RAW_LINE, so Spark keeps the raw text of a row with more or fewer
    fields instead of silently shifting or dropping values.
    """
    reader = (
        spark.read.option("header", True)
        .option("inferSchema", False)
        .option("mode", "PERMISSIVE")
        .option("encoding", "UTF-8")
        .option("multiLine", True)
        .option("quote", '"')
        .option("escape", '"')
        .option("maxCharsPerColumn", MAX_CHARS_PER_COLUMN)
    )
    header = reader.csv(path).columns
    if not header:
        return reader.csv(path)
    placeholders = [f"_c{i}" for i in range(len(header))]
    frame = reader.schema(_all_text(placeholders)).option("columnNameOfCorruptRecord", RAW_LINE).csv(path)
    return frame.toDF(*header, RAW_LINE)


def _read_jsonl(spark: SparkSession, path: str) -> DataFrame:
    """Every top-level value as its text: numbers as written, objects and arrays as their JSON.

    The inferred schema only names the columns; reading them as strings keeps nested keys and exact digits.
    """
    reader = spark.read.option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", RAW_LINE)
    names = [c for c in reader.option("primitivesAsString", True).json(path).columns if c != RAW_LINE]
    return reader.schema(_all_text(names)).json(path)


def _all_text(names: list[str]) -> T.StructType:
    return T.StructType([T.StructField(n, T.StringType()) for n in [*names, RAW_LINE]])


def _read_parquet(spark: SparkSession, path: str) -> tuple[DataFrame, dict[str, str | None]]:
    """The frame, and the time zone (None when naive) of each timestamp column, from the file's Arrow schema.

    Spark refuses nanosecond timestamps (what pandas writes for datetime64[ns]); they are read as their
    nanoseconds since the epoch, which `_as_text` turns back into a timestamp.
    """
    stamps = {f.name: f.type for f in pq.read_schema(path) if pa.types.is_timestamp(f.type)}
    if any(t.unit == "ns" for t in stamps.values()):
        schema = _with_conf(spark, NANOS_AS_LONG, "true", lambda: spark.read.parquet(path).schema)
        frame = spark.read.schema(schema).parquet(path)
    else:
        frame = spark.read.parquet(path)
    return frame, {n: t.tz for n, t in stamps.items()}


def _with_conf(spark: SparkSession, key: str, value: str, action: Callable[[], T.StructType]) -> T.StructType:
    """Run an eager action with a session setting changed, then put the setting back."""
    before = spark.conf.get(key, None)
    spark.conf.set(key, value)
    try:
        return action()
    finally:
        if before is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, before)


def _as_text(column: Column, field: T.StructField, zones: dict[str, str | None]) -> Column:
    """A typed Parquet/JSON value as the text a CSV of it would hold.

    Objects and arrays become JSON (a plain cast drops their keys). Timestamps become ISO 8601 local time,
    with the offset when the column has a time zone (`zones`, by column), so the sales day is the file's.
    """
    kind = field.dataType
    if isinstance(kind, (T.StructType, T.ArrayType, T.MapType)):
        return F.to_json(column)
    if isinstance(kind, T.TimestampNTZType):
        return _iso(column)
    if isinstance(kind, T.TimestampType):
        return _iso_instant(column, zones.get(field.name, "UTC"))
    if isinstance(kind, T.LongType) and field.name in zones:
        return _iso_instant(_from_nanos(column), zones[field.name])
    return column.cast("string")


def _from_nanos(column: Column) -> Column:
    """Nanoseconds since the epoch as a timestamp (to the microsecond, Spark's precision)."""
    return F.timestamp_micros(F.floor(column.cast("decimal(20,0)") / 1000).cast("long"))


def _iso_instant(instant: Column, zone: str | None) -> Column:
    """The wall-clock time in `zone` and its offset; a naive column (zone None) was stored as UTC wall time."""
    utc = F.convert_timezone(None, F.lit("UTC"), instant.cast("timestamp_ntz"))
    if zone is None:
        return _iso(utc)
    local = F.convert_timezone(None, F.lit(zone), instant.cast("timestamp_ntz"))
    minutes = F.timestamp_diff("MINUTE", utc, local)
    sign = F.when(minutes < 0, F.lit("-")).otherwise(F.lit("+"))
    offset = F.format_string("%s%02d:%02d", sign, (F.abs(minutes) / 60).cast("int"), F.abs(minutes) % 60)
    return F.concat(_iso(local), offset)


def _iso(wall: Column) -> Column:
    return F.regexp_replace(wall.cast("string"), " ", "T")


def with_row_numbers(frame: DataFrame) -> DataFrame:
    """Add the 1-based position of each row in read order, without moving data to one partition.

    monotonically_increasing_id() packs (partition, index in partition); one small
    aggregate gives each partition's offset, and the position is offset + index + 1.
    """
    tagged = frame.withColumn("_pid", F.spark_partition_id()).withColumn("_mid", F.monotonically_increasing_id())
    sizes = sorted((r["_pid"], r["n"]) for r in tagged.groupBy("_pid").agg(F.count("*").alias("n")).collect())
    offsets, running = [], 0
    for pid, size in sizes:
        offsets.extend([F.lit(pid), F.lit(running)])
        running += size
    offset = F.create_map(*offsets)[F.col("_pid")] if offsets else F.lit(0)
    index = F.col("_mid") - F.shiftleft(F.col("_pid").cast("long"), 33)
    return tagged.withColumn(ROW_NUMBER, (offset + index + 1).cast("int")).drop("_pid", "_mid")
