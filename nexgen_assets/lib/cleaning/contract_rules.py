"""Apply the input contract to raw rows: typed accepted rows and rejected rows with a reason.

Every raw row ends up in exactly one of the two outputs, so rows read always equal
rows accepted plus rows rejected.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from nexgen_assets.lib.grain import MAX_ID_LENGTH
from nexgen_assets.lib.ingestion.contract import (
    DEFAULT_STORE_ID,
    EARLIEST_DATE,
    INVENTORY_COLUMNS,
    MAX_ABS_QUANTITY,
    MAX_UNIT_PRICE,
    SALES_COLUMNS,
)
from nexgen_assets.lib.ingestion.mapping import MAPPING_REJECT
from nexgen_assets.lib.ingestion.reader import ROW_NUMBER, SOURCE_FILE

REPLACEMENT_CHARACTER = "\ufffd"
REJECT_COLUMNS = (SOURCE_FILE, ROW_NUMBER, "reason", "record")


def _first_failure(rules: list[tuple[str, Column]]) -> Column:
    """The reason code of the first rule a row breaks, or null when it breaks none."""
    reason = F.lit(None).cast("string")
    for code, broken in reversed(rules):
        reason = F.when(broken, F.lit(code)).otherwise(reason)
    return reason


def _ensure_columns(raw: DataFrame, columns: tuple[str, ...]) -> DataFrame:
    for name in columns:
        if name not in raw.columns:
            raw = raw.withColumn(name, F.lit(None).cast("string"))
    return raw


def _extra_json(raw: DataFrame, known: tuple[str, ...]) -> Column:
    extra = [c for c in raw.columns if c not in known and c not in (SOURCE_FILE, ROW_NUMBER)]
    if not extra:
        return F.lit(None).cast("string")
    return F.to_json(F.struct(*[F.col(c) for c in extra]))


def _record_json(raw: DataFrame) -> Column:
    skip = (SOURCE_FILE, ROW_NUMBER, MAPPING_REJECT)
    return F.to_json(F.struct(*[F.col(c) for c in raw.columns if c not in skip]))


def _split(typed: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Rows without a reason are accepted (every column but reason and record); the rest are rejects."""
    accepted = typed.where(F.col("reason").isNull()).select(*[c for c in typed.columns if c not in ("reason", "record")])
    rejects = typed.where(F.col("reason").isNotNull()).select(*REJECT_COLUMNS)
    return accepted, rejects


def _bad_text(columns: list[str]) -> Column:
    """True when any text field holds bytes that were not valid UTF-8 (decoded as U+FFFD)."""
    checks = [F.coalesce(F.instr(F.col(c), REPLACEMENT_CHARACTER) > 0, F.lit(False)) for c in columns]
    out = F.lit(False)
    for check in checks:
        out = out | check
    return out


def clean_sales_lines(raw: DataFrame, ingested_at: dt.datetime | None = None) -> tuple[DataFrame, DataFrame]:
    """Typed, defaulted order lines and the rows that break the contract (the README's input contract).

    `ingested_at` (default now, UTC) bounds order_ts: a sale more than a day later is rejected.
    """
    latest = (ingested_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)) + dt.timedelta(days=1)
    raw = _ensure_columns(raw, (*SALES_COLUMNS, MAPPING_REJECT))
    content = [c for c in raw.columns if c not in (SOURCE_FILE, ROW_NUMBER, MAPPING_REJECT)]
    first_copy = Window.partitionBy(*[F.coalesce(F.col(c), F.lit("\u0000")) for c in content]).orderBy(ROW_NUMBER)
    typed = raw.select(
        "*",
        F.col("order_ts").try_cast("timestamp").alias("_ts"),
        F.col("quantity").try_cast("double").alias("_quantity"),
        F.col("unit_price").try_cast("double").alias("_unit_price"),
        F.coalesce(F.col("promo"), F.lit("0")).try_cast("double").alias("_promo"),
        F.row_number().over(first_copy).alias("_copy"),
        _extra_json(raw, (*SALES_COLUMNS, MAPPING_REJECT)).alias("extra"),
        _record_json(raw).alias("record"),
    )
    rules = [
        ("excluded_by_mapping", F.col(MAPPING_REJECT).isNotNull()),
        ("missing_order_id", F.col("order_id").isNull()),
        ("missing_product_id", F.col("product_id").isNull()),
        ("unparseable_date", F.col("_ts").isNull()),
        ("bad_encoding", _bad_text(content)),
        ("future_date", F.col("_ts") > F.lit(latest)),
        ("ancient_date", F.col("_ts") < F.lit(EARLIEST_DATE)),
        ("id_too_long", _too_long(["order_id", "store_id", "product_id"])),
        ("bad_quantity", F.col("_quantity").isNull() | F.isnan("_quantity")),
        ("zero_quantity", F.col("_quantity") == 0),
        ("implausible_quantity", F.abs("_quantity") > MAX_ABS_QUANTITY),
        ("bad_price", F.col("_unit_price").isNull() | F.isnan("_unit_price")),
        ("negative_price", F.col("_unit_price") < 0),
        ("implausible_price", F.col("_unit_price") > MAX_UNIT_PRICE),
        ("bad_promo", ~F.coalesce(F.col("_promo").isin(0.0, 1.0), F.lit(False))),
        ("duplicate_line", F.col("_copy") > 1),
    ]
    typed = typed.withColumn("reason", _first_failure(rules)).select(
        F.col("order_id"),
        F.col("_ts").alias("order_ts"),
        F.coalesce(
            F.regexp_extract("order_ts", r"^(\d{4}-\d{1,2}-\d{1,2})", 1).try_cast("date"), F.to_date("_ts")
        ).alias("order_date"),
        F.coalesce(F.col("store_id"), F.lit(DEFAULT_STORE_ID)).alias("store_id"),
        F.col("product_id"),
        F.col("product_name"),
        F.col("category"),
        F.col("_quantity").alias("quantity"),
        F.col("_unit_price").alias("unit_price"),
        F.col("_promo").cast("int").alias("promo"),
        (F.col("_quantity") * F.col("_unit_price")).alias("revenue"),
        F.col("extra"),
        F.col(SOURCE_FILE),
        F.col(ROW_NUMBER),
        F.col("reason"),
        F.col("record"),
    )
    return _split(typed)


def _too_long(columns: list[str]) -> Column:
    """True where any of the id columns is longer than the warehouse stores."""
    return F.greatest(*[F.coalesce(F.length(c), F.lit(0)) for c in columns]) > MAX_ID_LENGTH


def clean_inventory_snapshots(raw: DataFrame, ingested_at: dt.datetime | None = None) -> tuple[DataFrame, DataFrame]:
    """Typed stock snapshots and the rows that cannot be used (dated before 1990 or after the day of ingestion)."""
    latest = (ingested_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)).date() + dt.timedelta(days=1)
    raw = _ensure_columns(raw, INVENTORY_COLUMNS)
    typed = raw.select(
        "*",
        F.col("snapshot_date").try_cast("date").alias("_date"),
        F.col("stock_on_hand").try_cast("double").alias("_stock"),
        F.col("lead_time_days").try_cast("double").alias("_lead"),
        _record_json(raw).alias("record"),
    )
    rules = [
        ("missing_snapshot_date", F.col("_date").isNull()),
        ("missing_store_id", F.col("store_id").isNull()),
        ("missing_product_id", F.col("product_id").isNull()),
        ("future_date", F.col("_date") > F.lit(latest)),
        ("ancient_date", F.col("_date") < F.lit(EARLIEST_DATE)),
        ("id_too_long", _too_long(["store_id", "product_id"])),
        ("bad_stock", F.col("_stock").isNull() | F.isnan("_stock") | (F.col("_stock") < 0)),
    ]
    typed = typed.withColumn("reason", _first_failure(rules)).select(
        F.col("_date").alias("snapshot_date"),
        F.col("store_id"),
        F.col("product_id"),
        F.col("_stock").alias("stock_on_hand"),
        F.col("_lead").alias("lead_time_days"),
        F.col(SOURCE_FILE),
        F.col(ROW_NUMBER),
        F.col("reason"),
        F.col("record"),
    )
    return _split(typed)


def rejects_by_reason(rejects: DataFrame) -> dict[str, int]:
    """Rejected rows per reason code."""
    return {str(r["reason"]): int(r["count"]) for r in rejects.groupBy("reason").count().collect()}
