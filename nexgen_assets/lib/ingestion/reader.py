"""Read one landed file with Spark into an all-string frame that keeps its row numbers."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from nexgen_assets.lib.ingestion.contract import ContractError, file_format, normalise_column_name
from nexgen_assets.lib.ingestion.mapping import apply_mapping, mapping_for

SOURCE_FILE = "source_file"
ROW_NUMBER = "row_number"


def read_landed_file(
    spark: SparkSession, path: str | Path, required: tuple[str, ...], mapping_folders: tuple[str, ...] = ()
) -> DataFrame:
    """All columns as trimmed strings (empty -> null), plus source_file and a 1-based row_number.

    A file whose name matches a column mapping (user folders first, then the built-in
    ones) is translated to the contract first. Raises ContractError naming the file when
    it has no header or misses required columns.
    """
    path = str(path)
    fmt = file_format(path)
    if fmt in ("csv", "csv.gz"):
        frame = (
            spark.read.option("header", True)
            .option("inferSchema", False)
            .option("mode", "PERMISSIVE")
            .option("encoding", "UTF-8")
            .option("multiLine", True)
            .csv(path)
        )
    elif fmt == "jsonl":
        frame = spark.read.option("primitivesAsString", True).option("mode", "PERMISSIVE").json(path)
    else:
        frame = spark.read.parquet(path)

    columns = [normalise_column_name(c) for c in frame.columns]
    if len(set(columns)) != len(columns):
        raise ContractError(f"{path}: duplicate column names after normalising: {frame.columns}")
    frame = frame.toDF(*columns)
    as_text = [
        F.when(F.trim(F.col(c).cast("string")) == "", None).otherwise(F.trim(F.col(c).cast("string"))).alias(c)
        for c in columns
    ]
    frame = frame.select(*as_text)
    mapping = mapping_for(Path(path).name, [Path(m) for m in mapping_folders])
    if mapping is not None:
        frame = apply_mapping(frame, mapping, Path(path).name)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        found = ", ".join(frame.columns) if frame.columns else "no columns"
        raise ContractError(f"{path}: line 1: missing required column(s) {', '.join(missing)}; found {found}")
    return with_row_numbers(frame).withColumn(SOURCE_FILE, F.lit(Path(path).name))


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
